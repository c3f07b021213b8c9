// The decision core wired together: (account state, signal, config, stream
// time) -> (new state, outputs). Pure: it reads no clock and does no I/O
// beyond the StateStore it is given; time comes from the signals.
#ifndef DEMANDCENTER_ENGINE_ENGINE_H_
#define DEMANDCENTER_ENGINE_ENGINE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "demandcenter/common/calendar.h"
#include "demandcenter/condition/condition.h"
#include "demandcenter/config/decision_config.h"
#include "demandcenter/routing/routing.h"
#include "demandcenter/rules/rules.h"
#include "demandcenter/state/state_store.h"
#include "demandcenter/timers/timers.h"
#include "demandcenter/v1/action.pb.h"
#include "demandcenter/v1/journey.pb.h"
#include "demandcenter/v1/routing.pb.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::engine {

enum class OutputKind { kTransition, kNextBestAction, kRouting, kPrompt };
inline constexpr int kOutputKinds = 4;

// "transition", "nba", "routing", "prompt".
std::string_view OutputKindName(OutputKind kind);

// One output record: its topic is chosen by kind, its key is the account.
struct Output {
  OutputKind kind;
  std::string account_id;
  std::variant<v1::StageTransition, v1::NextBestAction, v1::RoutingDecision, v1::CrmPrompt> message;

  const google::protobuf::Message& proto() const;
};

enum class SignalOutcome {
  kApplied,     // the signal changed the account's state
  kDuplicate,   // event_id seen within the dedup window: nothing changed
  kUnresolved,  // no account id and no known contact/email/visitor: dead-letter it
};

// What the engine did, for metrics and replay summaries. Keys are bounded
// by the config (rule, action, channel, policy, experiment and arm names).
struct EngineCounters {
  int64_t applied = 0;
  int64_t duplicates = 0;
  int64_t unresolved = 0;
  // Inactivity transitions fired by timers.
  int64_t timers_fired = 0;
  int64_t outputs[kOutputKinds] = {0, 0, 0, 0};
  // Candidates by outcome (EMITTED, SUPPRESSED_*, HOLDOUT).
  std::map<std::string, int64_t> candidates;
  // Emitted actions by rule id.
  std::map<std::string, int64_t> emitted_by_rule;
  // Transitions by transition id.
  std::map<std::string, int64_t> transitions_by_id;
  // Timers fired, by kind ("inactivity", "sla", "snooze", "expiry").
  std::map<std::string, int64_t> timers_by_kind;

  // Contact policy: candidates stopped, by policy ("cap.email_weekly",
  // "consent.unsubscribed", "do_not_contact"...); actions and prompts whose
  // send_at moved to the next allowed window.
  std::map<std::string, int64_t> suppressed_by_policy;
  int64_t scheduled = 0;
  // Accounts whose CRM time zone is unknown (the default zone was used).
  int64_t zone_fallbacks = 0;

  // `channel: auto` decisions by branch ("digital", "inside_sales",
  // "field_sales", "specialist", "customer_success", "partner", "email").
  std::map<std::string, int64_t> auto_branches;
  // Assignments by kind: "owner", "pool", "no_owner_pool",
  // "owner_unavailable_pool", "escalation_next_member",
  // "escalation_manager", "none".
  std::map<std::string, int64_t> assignments;

  // SLA deadlines set (first routings and escalations), met (outcome or CRM
  // activity before the deadline), breached (the deadline passed: escalated,
  // or nobody left to escalate to).
  int64_t sla_started = 0;
  int64_t sla_met = 0;
  int64_t sla_breached = 0;
  // Tasks closed by expiry / by do-not-contact; snoozed prompts returned.
  int64_t tasks_expired = 0;
  int64_t tasks_cancelled = 0;
  int64_t snoozes_returned = 0;

  // Prompt outcomes by "rule_id/action/channel/outcome" (for learning);
  // outcomes naming no open prompt.
  std::map<std::string, int64_t> outcomes;
  int64_t unmatched_outcomes = 0;

  // Experiments, by "experiment/arm": actions emitted, would-be actions
  // held out, prompt outcomes ("experiment/arm/outcome"), and stage
  // progression after exposure ("experiment/arm/stage": entries into it).
  std::map<std::string, int64_t> experiment_emitted;
  std::map<std::string, int64_t> experiment_held_out;
  std::map<std::string, int64_t> experiment_outcomes;
  std::map<std::string, int64_t> experiment_stages;
};

// Processes signals for the partitions one thread owns. Stream time is per
// partition: the largest event time seen on it. Timers (inactivity, SLA,
// snooze, prompt expiry) live in the accounts' state and fire, in (due time,
// account id, kind, task) order, when stream time passes their due time.
// Not thread safe; `config` and `store` must outlive the engine.
class Engine {
 public:
  Engine(const config::DecisionConfig& config, state::StateStore* store);

  // Processes one decoded, valid signal that arrived on `partition`; appends
  // the outputs (timer outputs first, then the signal's) to *out. A signal
  // without account_id is resolved through the contact ids, emails and
  // visitor ids that signals with an account_id introduced on the same
  // partition (state, identities included, lives with its partition).
  SignalOutcome Process(const v1::Signal& signal, int32_t partition, std::vector<Output>* out);

  // Moves the partition's stream time forward to `now_ms` (never back) and
  // fires every timer now due.
  void AdvanceStreamTime(int32_t partition, int64_t now_ms, std::vector<Output>* out);

  // The partition's stream time (0 before its first signal).
  int64_t StreamTime(int32_t partition) const;

  // Sets a partition's stream time without firing timers (after a restore).
  void RestoreStreamTime(int32_t partition, int64_t stream_time_ms) {
    stream_time_[partition] = stream_time_ms;
  }

  // Rebuilds the timer queues, every kind, from the store (after a restore).
  void RebuildTimers();

  // Applies one record of the routing.reps topic (pool members, weights,
  // availability) to this engine's pool directory; see
  // routing::PoolDirectory::Apply for the errors. Decisions after the call
  // use the new directory; nothing already decided changes.
  absl::Status ApplyPoolUpdate(const v1::PoolMemberUpdate& update);
  const routing::PoolDirectory& pools() const { return pools_; }

  size_t PendingTimers() const;
  const EngineCounters& counters() const { return counters_; }

 private:
  struct Resolved;

  std::string ResolveAccount(const v1::Signal& signal, int32_t partition);
  void LearnIdentities(const v1::Signal& signal, int32_t partition);
  void FireDueTimers(int32_t partition, std::vector<Output>* out);
  void FireInactivity(int64_t due, v1::AccountState* account, std::vector<Output>* out);
  void FireSla(const v1::TimerEntry& timer, v1::AccountState* account, std::vector<Output>* out);
  void FireSnooze(const v1::TimerEntry& timer, v1::AccountState* account, std::vector<Output>* out);
  void FireExpiry(const v1::TimerEntry& timer, v1::AccountState* account);
  void Schedule(v1::AccountState* account);
  void AddTimer(int64_t due, v1::TimerKind kind, const std::string& task_id, int32_t level,
                v1::AccountState* account);
  void DropTaskTimers(const std::string& task_id, v1::TimerKind kind, v1::AccountState* account);
  void CloseTask(const std::string& task_id, v1::AccountState* account);
  // Closes the task (counted as cancelled) when do-not-contact now covers it.
  bool CancelIfDoNotContact(const std::string& task_id, v1::AccountState* account);
  void MoveTimers(int32_t from, int32_t to, v1::AccountState* account);
  void ApplyFeedback(const v1::Signal& signal, v1::AccountState* account);
  void Decide(const v1::Signal& signal, const std::vector<std::string>& entered, v1::AccountState* account,
              size_t first_transition_output, std::vector<Output>* out);
  void Emit(const v1::Signal& signal, const rules::Candidate& c, const Resolved& resolved,
            const std::vector<v1::Candidate>& listed, const rules::PolicyZone& zone, condition::EvalContext& ctx,
            int32_t others, v1::AccountState* account, std::vector<Output>* out);
  void HandleOutcome(const v1::Signal& signal, v1::AccountState* account);
  rules::PolicyZone ZoneFor(const v1::AccountState& account);
  int64_t SlaDue(int64_t start_ms, const config::Route& route, const rules::PolicyZone& zone) const;
  void CountStageEntry(const std::string& to_stage, const v1::AccountState& account,
                       google::protobuf::RepeatedPtrField<v1::ExperimentArm>* arms);

  const config::DecisionConfig& config_;
  state::StateStore* store_;
  rules::RuleIndex index_;
  routing::PoolDirectory pools_;
  calendar::TimeZones zones_;
  std::map<int32_t, int64_t> stream_time_;
  std::map<int32_t, timers::TimerQueue> timers_;
  EngineCounters counters_;
};

}  // namespace demandcenter::engine

#endif  // DEMANDCENTER_ENGINE_ENGINE_H_
