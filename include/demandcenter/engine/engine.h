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

#include "demandcenter/config/config.h"
#include "demandcenter/rules/rules.h"
#include "demandcenter/state/state_store.h"
#include "demandcenter/v1/action.pb.h"
#include "demandcenter/v1/journey.pb.h"
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

// The configured topic for an output kind.
const std::string& TopicFor(OutputKind kind, const config::KafkaTopics& topics);

enum class SignalOutcome {
  kApplied,     // the signal changed the account's state
  kDuplicate,   // event_id seen within the dedup window: nothing changed
  kUnresolved,  // no account id and no known contact/email/visitor: dead-letter it
};

struct EngineCounters {
  int64_t applied = 0;
  int64_t duplicates = 0;
  int64_t unresolved = 0;
  int64_t timers_fired = 0;
  int64_t outputs[kOutputKinds] = {0, 0, 0, 0};
  // Candidates by outcome (EMITTED, SUPPRESSED_*).
  std::map<std::string, int64_t> candidates;
  // Emitted actions by rule id.
  std::map<std::string, int64_t> emitted_by_rule;
  // Transitions by transition id.
  std::map<std::string, int64_t> transitions_by_id;
};

// Processes signals for the partitions one thread owns. Stream time is per
// partition: the largest event time seen on it. Inactivity timers fire, in
// (due time, account id) order, when stream time passes their due time.
// Not thread safe; `config` and `store` must outlive the engine.
class Engine {
 public:
  Engine(const config::Config& config, state::StateStore* store);

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

  // Rebuilds the timer queues from the store (after a restore).
  void RebuildTimers();

  size_t PendingTimers() const;
  const EngineCounters& counters() const { return counters_; }

 private:
  std::string ResolveAccount(const v1::Signal& signal, int32_t partition);
  void LearnIdentities(const v1::Signal& signal, int32_t partition);
  void FireDueTimers(int32_t partition, std::vector<Output>* out);
  void Schedule(v1::AccountState* account);
  void Decide(const v1::Signal& signal, const std::vector<std::string>& entered,
              v1::AccountState* account, std::vector<Output>* out);

  const config::Config& config_;
  state::StateStore* store_;
  rules::RuleIndex index_;
  std::map<int32_t, int64_t> stream_time_;
  // Per partition: (due, account id).
  std::map<int32_t, std::set<std::pair<int64_t, std::string>>> timers_;
  EngineCounters counters_;
};

}  // namespace demandcenter::engine

#endif  // DEMANDCENTER_ENGINE_ENGINE_H_
