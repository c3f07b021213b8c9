// Identity: which account a signal belongs to. A signal that carries an
// account_id names it, and teaches the resolver its contact id, e-mail
// address and visitor id; a signal without one is resolved through those.
// Identities are scoped to the partition: state, identities included, lives
// with its partition, in replay as on Kafka.
//
// Takes: a decoded signal and its partition. Gives: the account id, or ""
// when none is known. Depends on: the StateStore (identities persist with
// the partition's state and its changelog).
#ifndef DEMANDCENTER_IDENTITY_IDENTITY_H_
#define DEMANDCENTER_IDENTITY_IDENTITY_H_

#include <cstdint>
#include <string>

#include "demandcenter/state/state_store.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::identity {

// Not thread safe; `store` must outlive the resolver.
class Resolver {
 public:
  explicit Resolver(state::StateStore* store) : store_(store) {}

  // The signal's account_id, else the account its contact id, e-mail
  // address or visitor id (in that order) belongs to on `partition`; ""
  // when none is known.
  std::string Resolve(const v1::Signal& signal, int32_t partition);

  // Records the identifiers of a signal that carries an account_id (others
  // teach nothing).
  void Learn(const v1::Signal& signal, int32_t partition);

 private:
  state::StateStore* store_;
};

}  // namespace demandcenter::identity

#endif  // DEMANDCENTER_IDENTITY_IDENTITY_H_
