// Routing: the channel, role and person that take an action. Pure: the pool
// directory changes only through Apply (routing.reps records), never by
// reading anything itself.
#ifndef DEMANDCENTER_ROUTING_ROUTING_H_
#define DEMANDCENTER_ROUTING_ROUTING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "demandcenter/condition/condition.h"
#include "demandcenter/config/decision_config.h"
#include "demandcenter/v1/action.pb.h"
#include "demandcenter/v1/routing.pb.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::routing {

// True when the member takes new work at `at_ms`: not paused and not out of
// office.
bool MemberAvailable(const config::PoolMember& member, int64_t at_ms);

// The pools of the config as changed at run time by routing.reps records
// (PoolMemberUpdate, see proto/demandcenter/v1/routing.proto). Each engine
// owns one; the runtime applies every record of the compacted topic to it.
class PoolDirectory {
 public:
  explicit PoolDirectory(const config::DecisionConfig& config);

  // Applies one record: replaces the member's weight, pause flag and
  // out-of-office windows (adding the member if new), or removes it.
  // Returns InvalidArgument for a record without pool_id or member_id or
  // with a negative weight, NotFound for a pool the config does not define
  // (the record is then ignored).
  absl::Status Apply(const v1::PoolMemberUpdate& update);

  // The pool, or null.
  const config::Pool* Find(std::string_view id) const;

  // False when any pool lists `person` as paused or out of office at
  // `at_ms` (an account owner who is also a pool member, for instance).
  bool Available(std::string_view person, int64_t at_ms) const;

 private:
  std::vector<config::Pool> pools_;
};

// Stable weighted choice of a pool member for an account (weighted
// rendezvous hashing): the same account gets the same member while the pool
// is unchanged, and each member gets a share proportional to its weight.
// Ignores availability.
std::string PickPoolMember(const config::Pool& pool, std::string_view account_id);

// The same choice among the members available at `at_ms` and not in
// `exclude`: the account keeps its member while that member is available,
// and moves to its next-ranked one meanwhile. "" when nobody is left.
// `*skipped` (optional) receives the better-ranked members passed over as
// unavailable.
std::string PickAvailableMember(const config::Pool& pool, std::string_view account_id, int64_t at_ms,
                                const std::vector<std::string>& exclude,
                                std::vector<std::string>* skipped = nullptr);

// What `channel: auto` chose, and why.
struct AutoChoice {
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  // "digital", "email", "inside_sales", "field_sales", "specialist",
  // "customer_success", "partner".
  std::string branch;
  // The branch's role ("" when the config names none).
  std::string role;
  // Who takes it: the specialist's pool, or the channel's route
  // (routing.auto.routes); null for channels without a person.
  bool to_owner = false;
  std::string pool;
  bool has_route = false;
};

// The `channel: auto` model (docs/rules.md, "Channel routing"): from the
// stage group, deal complexity (amount, committee size, products, segment),
// partner territory, the account's channel affinity and, in evaluation,
// the specialist the signal calls for. Writes every input and the branch to
// *facts as auto.* entries. Uses `context`'s signal, account and committee.
AutoChoice AutoChannel(const config::DecisionConfig& config, condition::EvalContext& context,
                       condition::Facts* facts);

// Who takes a routed action.
struct Assignment {
  std::string assignee;  // empty when nobody could be chosen
  std::string pool;      // empty when it went to the account owner
  // "owner", "pool", "owner_unavailable_pool", "no_owner_pool", "none".
  std::string kind;
  // Readable, e.g. "account owner rep-ae-07", "pool sdr_team member rep-sdr-02".
  std::string reason;
  std::string manager;   // the pool's manager, for escalations
};

// Assigns to the account's CRM owner when `to_owner` and the owner is known
// and available at `at_ms`; otherwise to the best available member of
// `pool_id` (stable for the account).
Assignment Assign(const PoolDirectory& pools, bool to_owner, const std::string& pool_id,
                  const v1::AccountState& account, int64_t at_ms);

// Records a response of the account on its channel affinity counters.
void RecordAffinity(const config::DecisionConfig& config, std::string_view type, v1::AccountState* account);

}  // namespace demandcenter::routing

#endif  // DEMANDCENTER_ROUTING_ROUTING_H_
