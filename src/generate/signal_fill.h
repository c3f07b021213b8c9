// The field filling of the generator: turns an account's next event (a
// Spec from the account model) into a demandcenter.v1.Signal with its ids,
// names, web visit, e-mail engagement, CRM activity or product usage.
// Filling also moves the account on where the event changes it (an
// opportunity opens, a contact reaches the CRM, an address bounces).
// Private to src/generate.
#ifndef DEMANDCENTER_SRC_GENERATE_SIGNAL_FILL_H_
#define DEMANDCENTER_SRC_GENERATE_SIGNAL_FILL_H_

#include <cstdint>
#include <string>

#include "demandcenter/generate/generator.h"
#include "demandcenter/v1/signal.pb.h"
#include "src/generate/account_model.h"

namespace demandcenter::generate {

class SignalFiller {
 public:
  explicit SignalFiller(const GeneratorOptions& options);

  // Fills signal() with event `spec` of account `index` (`a`) at `at_ms`,
  // and gives it the next event id.
  void Fill(int32_t index, Account& a, const Spec& spec, int64_t at_ms);

  // The signal the last Fill made.
  const v1::Signal& signal() const { return signal_; }

  // The next event id of the stream ("evt-" and 16 hex digits).
  std::string NextEventId() { return EventIdOf(next_seq_++); }

  // "acct-000001" for index 0.
  std::string AccountId(int32_t index) const;

 private:
  void FillWeb(int32_t index, Account& a, const Spec& spec, int64_t at_ms);
  void FillEmail(int32_t index, Account& a, const Spec& spec, int64_t at_ms);
  void FillCrm(int32_t index, Account& a, const Spec& spec, int64_t at_ms);
  void FillUsage(Account& a, const Spec& spec);

  std::string EventIdOf(uint64_t seq) const;
  std::string AnonymousId(int32_t index) const;
  std::string ContactId(int32_t index, int contact) const;
  std::string Email(int32_t index, const Account& a, int contact) const;
  std::string CompanyName(int32_t index) const;
  std::string Domain(int32_t index, const Account& a) const;
  const Title& ContactTitle(int32_t index, int contact) const;
  std::string OwnerId(int owner) const;
  std::string OpportunityId(int32_t index, const Account& a) const;
  uint64_t Hash(int32_t index, uint64_t salt) const { return AccountHash(o_.seed, index, salt); }

  const GeneratorOptions& o_;
  uint64_t id_key_;
  uint64_t next_seq_ = 0;
  v1::Signal signal_;
};

}  // namespace demandcenter::generate

#endif  // DEMANDCENTER_SRC_GENERATE_SIGNAL_FILL_H_
