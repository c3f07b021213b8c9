// The decision core wired together: (account state, signal, config, stream
// time) -> (new state, outputs). For a signal already resolved to its
// account: dedup, scores and committee, feedback, the stage machine, rules,
// arbitration with the contact policy, routing, open tasks and their timers.
// Pure: it reads no clock and does no I/O beyond the StateStore it is given;
// time comes from the signals.
//
// Takes: decoded, valid signals with their account (identity/) and
// partition. Gives: outputs (outputs/), in emission order, and counters.
// Depends on: journey, rules, routing, timers, outputs, the StateStore
// interface; nothing of Kafka, files or RocksDB.
#ifndef DEMANDCENTER_ENGINE_ENGINE_H_
#define DEMANDCENTER_ENGINE_ENGINE_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "demandcenter/condition/condition.h"
#include "demandcenter/config/decision_config.h"
#include "demandcenter/journey/journey.h"
#include "demandcenter/outputs/counters.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/outputs/output_builder.h"
#include "demandcenter/routing/routing.h"
#include "demandcenter/rules/rules.h"
#include "demandcenter/state/state_store.h"
#include "demandcenter/timers/task_timers.h"
#include "demandcenter/timers/timers.h"
#include "demandcenter/v1/routing.pb.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::engine {

enum class SignalOutcome {
  kApplied,    // the signal changed the account's state
  kDuplicate,  // event_id seen within the dedup window: nothing changed
};

// Processes signals for the partitions one thread owns. Stream time is per
// partition: the largest event time seen on it. Timers (inactivity, SLA,
// snooze, prompt expiry) live in the accounts' state and fire, in (due time,
// account id, kind, task) order, when stream time passes their due time.
// Not thread safe; `config` and `store` must outlive the engine.
class Engine {
 public:
  Engine(const config::DecisionConfig& config, state::StateStore* store);

  // Processes one decoded, valid signal of `account_id` that arrived on
  // `partition`; appends the outputs (timer outputs first, then the
  // signal's) to *out. A signal that waited for its account (late binding)
  // is applied as the event it was, but what it sets off is decided at
  // `decide_at_ms` (when it reached its account), so no action is timed
  // in the past.
  SignalOutcome Process(const v1::Signal& signal, const std::string& account_id, int32_t partition,
                        std::vector<outputs::Output>* out, int64_t decide_at_ms = 0);

  // Moves the partition's stream time forward to `now_ms` (never back) and
  // fires every timer now due.
  void AdvanceStreamTime(int32_t partition, int64_t now_ms, std::vector<outputs::Output>* out);

  // The partition's stream time (0 before its first signal).
  int64_t StreamTime(int32_t partition) const;

  // Sets a partition's stream time without firing timers (after a restore).
  void RestoreStreamTime(int32_t partition, int64_t stream_time_ms) { stream_time_[partition] = stream_time_ms; }

  // Rebuilds the timer queues, every kind, from the store (after a restore).
  void RebuildTimers();

  // Applies one record of the routing.reps topic (pool members, weights,
  // availability) to this engine's pool directory; see
  // routing::PoolDirectory::Apply for the errors. Decisions after the call
  // use the new directory; nothing already decided changes.
  absl::Status ApplyPoolUpdate(const v1::PoolMemberUpdate& update) { return pools_.Apply(update); }

  // privacy.erase of a person (`contact_id` and/or `email`) at `account_id`:
  // their contact entry goes, along with every other contact id or address
  // it names; their share of the count series, open tasks' references to
  // them and the "why" of remembered decisions naming them are cleared. No
  // output is emitted. False when the account holds nothing of them.
  bool ErasePerson(const std::string& account_id, const std::string& contact_id, const std::string& email);
  // privacy.erase of a whole account: its state goes (its timers find
  // nothing when due). False when there was none.
  bool EraseAccount(const std::string& account_id);
  const routing::PoolDirectory& pools() const { return pools_; }

  size_t PendingTimers() const { return timers_.size(); }
  // Writes the partition models (journey, propensities) changed since the
  // last call to the store: the runner calls it before it collects a
  // transaction's changes. (They change with most signals; writing them
  // once per transaction, not once per change, keeps them cheap.)
  void FlushModels();
  // The partition's learned propensities (rules/propensity_model.h).
  const v1::PropensityModel& PropensityModelOf(int32_t partition) { return Propensities(partition); }
  // The partition's journey model (journey/journey_model.h): every stage
  // exit its accounts made, kept in the partition's state.
  const v1::JourneyModel& JourneyModelOf(int32_t partition) { return JourneyModel(partition); }
  // The journey model a store holds for `partition` (`inspect`, on a
  // stopped instance's store).
  static v1::JourneyModel StoredJourneyModel(state::StateStore* store, int32_t partition);
  const outputs::DecisionCounters& counters() const { return counters_; }

 private:
  struct Routed;
  struct Decision;

  void FireDueTimers(int32_t partition, std::vector<outputs::Output>* out);
  void FireInactivity(int64_t due, v1::AccountState* account, std::vector<outputs::Output>* out);
  void Schedule(v1::AccountState* account);
  v1::AccountState* AccountFor(const std::string& account_id, int32_t partition, int64_t now);
  // Counts the stage entry per experiment arm; returns the account's arms.
  std::vector<v1::ExperimentArm> CountStageEntry(const std::string& to_stage, v1::AccountState* account);
  // Learning (arbitration.learning): a trial for each emitted candidate;
  // successes for the open trials a signal or its transitions vouch for.
  void RecordTrials(const std::vector<rules::Candidate>& candidates, int64_t now, v1::AccountState* account);
  void CreditSuccesses(const v1::Signal& signal, const std::vector<journey::FiredTransition>& fired,
                       v1::AccountState* account);
  void CreditPrompt(const v1::OpenTask& task, int64_t now, v1::AccountState* account);
  // The partition's models, read from the store on first use; a change
  // goes to dirty_models_.
  v1::JourneyModel& JourneyModel(int32_t partition);
  v1::PropensityModel& Propensities(int32_t partition);
  // Adds a new account to its partition's journey model.
  void LearnEntry(const v1::AccountState& account);
  // Adds the account's exit from `from` to its partition's journey model.
  void LearnExit(const std::string& from, const std::string& to, int64_t dwell_ms, const v1::AccountState& account);

  // decide.cc: rules -> candidates -> routing -> arbitration -> outputs.
  // Decides at `now`: the signal's event time, or later for a signal that
  // waited for its account (Process's decide_at_ms).
  void Decide(const v1::Signal& signal, int64_t now, const std::vector<std::string>& entered,
              v1::AccountState* account, size_t first_transition_output, std::vector<outputs::Output>* out);
  std::vector<Routed> RouteCandidates(condition::EvalContext& ctx, std::vector<rules::Candidate>* candidates);
  std::vector<v1::Candidate> ListCandidates(const std::vector<rules::Candidate>& candidates, int64_t now,
                                            v1::AccountState* account);
  void Emit(const Decision& decision, const rules::Candidate& c, const Routed& routed, v1::AccountState* account,
            std::vector<outputs::Output>* out);

  // feedback.cc: prompt outcomes, CRM activity that meets SLAs,
  // do-not-contact.
  void ApplyFeedback(const v1::Signal& signal, v1::AccountState* account);
  void HandleOutcome(const v1::Signal& signal, v1::AccountState* account);

  const config::DecisionConfig& config_;
  state::StateStore* store_;
  rules::RuleIndex index_;
  routing::PoolDirectory pools_;
  outputs::DecisionCounters counters_;
  outputs::OutputBuilder builder_;
  timers::TimerIndex timers_;
  timers::TaskTimers tasks_;
  std::map<int32_t, int64_t> stream_time_;
  // Journey models by partition, read from the store on first use.
  std::map<int32_t, v1::JourneyModel> models_;
  std::map<int32_t, v1::PropensityModel> propensities_;
  // Partitions whose models changed since FlushModels.
  std::set<int32_t> dirty_models_;
};

}  // namespace demandcenter::engine

#endif  // DEMANDCENTER_ENGINE_ENGINE_H_
