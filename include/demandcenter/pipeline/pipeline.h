// The pipeline: one input record in, outputs or a reject out. It owns every
// step between a source and a sink — decode, validate, resolve the account,
// dedup and the decision core — and says, once for every caller, why a
// record is rejected. `run` (per partition task), `replay`, `demo` and the
// tests all drive it; none of them repeats a step.
//
// Takes: Records (bytes, key, source topic/partition/offset, timestamp).
// Gives: outputs in emission order (timer outputs first, identity conflicts
// after the signal's decisions), or a reject (code and message) for the
// caller's dead-letter path. Depends on: ingest,
// identity, engine, the StateStore interface; nothing of Kafka or files.
#ifndef DEMANDCENTER_PIPELINE_PIPELINE_H_
#define DEMANDCENTER_PIPELINE_PIPELINE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/engine/engine.h"
#include "demandcenter/identity/identity.h"
#include "demandcenter/identity/waiting_room.h"
#include "demandcenter/ingest/decoder.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/pipeline/partitions.h"
#include "demandcenter/pipeline/records.h"
#include "demandcenter/state/state_store.h"
#include "demandcenter/v1/signal.pb.h"
#include "demandcenter/v1/topology.pb.h"

namespace demandcenter::pipeline {

enum class Outcome {
  kApplied,    // the signal changed its account's state
  kDuplicate,  // its event_id was seen within the dedup window: ignored
  kRejected,   // not decodable, not valid, or no account: dead-letter it
  kWaiting,    // no account yet: it waits for its identifier to be linked
};

// A record to dead-letter that is not the one just processed: a waiting
// signal past its bound (identity.wait).
struct LateReject {
  v1::WaitingSignal waiting;
  ingest::Reject reject;
};

struct Result {
  Outcome outcome = Outcome::kApplied;
  // Why, when rejected.
  ingest::Reject reject;
  // The decoded signal, or null when the bytes did not decode. Valid until
  // the next call.
  const v1::Signal* signal = nullptr;
  // The source offsets of the waiting signals this one released to their
  // account (their outputs are in *out after its own).
  std::vector<int64_t> released;
  // ... and their event ids.
  std::vector<std::string> released_event_ids;
  // Waiting signals past their bound, to dead-letter as well.
  std::vector<LateReject> late_rejects;
};

// A dead letter for a rejected record: the original key and bytes, with the
// reject code and message and the source topic/partition/offset in headers
// (error.code, error.message, source.topic, source.partition, source.offset).
OutRecord DeadLetter(const Record& source, const ingest::Reject& reject, const std::string& dlq_topic);
OutRecord DeadLetter(const LateReject& late, const std::string& dlq_topic);

// Record::partition for a source that is not partitioned (a replay file):
// the pipeline places the record as a producer would, by the decoded
// signal's key (Options::partitions).
inline constexpr int32_t kPartitionByKey = -1;

// Where the identity task keeps its table and its waiting signals
// (identity.scope global): keys "-1/…", apart from any partition's.
inline constexpr int32_t kIdentityScope = -1;

// Not thread safe: one per processing thread (a partition task, a replay).
// `config` and `store` must outlive it.
class Pipeline {
 public:
  struct Options {
    ingest::DecodeOptions decode;
    // Where records with kPartitionByKey go.
    PartitionModel partitions;
  };
  Pipeline(const config::DecisionConfig& config, state::StateStore* store, Options options = {});

  // A privacy.erase signal removes the links of the identifiers it names and
  // the signals waiting for them (Resolver::Erase), and nothing else, at any
  // event time. Any other signal's event time must lie within
  // event_time.max_ahead after its record's timestamp and event_time.max_late
  // before its partition's stream time, else it is rejected
  // (EVENT_TIME_AHEAD, EVENT_TIME_LATE) and moves no clock.
  //
  // Decodes, validates and processes one record on record.partition (or
  // the partition its key maps to); appends its outputs to *out.
  Result Process(const Record& record, std::vector<outputs::Output>* out);

  // Decodes and validates `bytes` into *signal; ok() when accepted.
  ingest::Reject Decode(std::string_view bytes, v1::Signal* signal) const;
  // EVENT_TIME_AHEAD when `signal`'s event time is more than
  // event_time.max_ahead after its record's timestamp (0: none, believed).
  // It needs no state, so a task checks it before its input merge, where a
  // head from year 9999 would hold back its topic for good.
  ingest::Reject CheckAhead(const v1::Signal& signal, int64_t record_ms) const;
  // EVENT_TIME_LATE when it is more than event_time.max_late before the
  // partition's stream time.
  ingest::Reject CheckLate(const v1::Signal& signal, int32_t partition) const;
  // The same against `stream_ms`, `whose` stream time ("the identity
  // task's").
  ingest::Reject CheckLate(const v1::Signal& signal, int64_t stream_ms, std::string_view whose) const;
  // The partition a kPartitionByKey record of `signal` goes to.
  int32_t PartitionOf(const v1::Signal& signal) const { return pipeline::PartitionOf(signal, options_.partitions); }

  // The same for a signal already decoded, validated and checked against
  // its record's timestamp (CheckAhead, which run and replay apply before
  // their input merge); `source` (may be null) is its record, kept should
  // the signal wait for its account. With identity.scope global the hops
  // are taken at once, in this call (run and replay drive them instead
  // through Split, Identify, ApplyResolved and ProcessOwn).
  Result ProcessSignal(const v1::Signal& signal, int32_t partition, std::vector<outputs::Output>* out,
                       const Record* source = nullptr);

  // identity.scope global. A task reads a signal twice: first Split, as it
  // arrives, says where it goes — its own account (ProcessSignal, in the
  // order the task's inputs merge to), and/or the identity task (*to_identity
  // filled: a signal without an account_id, the links one with it teaches
  // that this partition had not sent yet, an erasure).
  struct Route {
    bool account = false;
    bool identity = false;
  };
  Route Split(const v1::Signal& signal, int32_t partition, const Record* source, v1::IdentityInput* to_identity);
  // Whether Split sends `signal` to its own account (no state read: a task
  // reading a signal again after a rewind asks this instead of splitting).
  static bool GoesToOwnAccount(const v1::Signal& signal);
  // The identity task, at `order_ms` (its inputs' event-time order): links,
  // resolves, parks, releases and erases over the one table of identities
  // (kept under kIdentityScope, in whichever store it is given). Appends
  // the signals it resolved, for their accounts' tasks, to *resolved, and
  // refused links to *out. Result: kRejected for a signal without an
  // account that cannot wait; late_rejects as in Process.
  Result Identify(const v1::IdentityInput& input, int64_t order_ms, std::vector<v1::ResolvedSignal>* resolved,
                  std::vector<outputs::Output>* out);
  // An account's task: a signal the identity task resolved to it, scored as
  // the event it was.
  Result ApplyResolved(const v1::ResolvedSignal& resolved, int32_t partition, std::vector<outputs::Output>* out);
  // The identity task's clock moves to `now_ms` (never back): what has
  // waited past identity.wait.max_age goes to result->late_rejects.
  void AdvanceIdentity(int64_t now_ms, Result* result);
  // An account's task: a signal Split sent to its own account.
  Result ProcessOwn(const v1::Signal& signal, int32_t partition, std::vector<outputs::Output>* out);

  // Signals waiting for their identifier on `partition` (kIdentityScope:
  // at the identity task).
  int64_t Waiting(int32_t partition) { return waiting_.Waiting(partition); }
  const identity::WaitingCounters& waiting_counters() const { return waiting_.counters(); }

  // Moves a partition's stream time forward, firing the timers now due.
  void AdvanceStreamTime(int32_t partition, int64_t now_ms, std::vector<outputs::Output>* out) {
    engine_.AdvanceStreamTime(partition, now_ms, out);
  }

  const identity::IdentityCounters& identity_counters() const { return identities_.counters(); }
  engine::Engine& engine() { return engine_; }
  const engine::Engine& engine() const { return engine_; }

 private:
  const config::DecisionConfig& config_;
  Options options_;
  // Processes a resolved signal for its account (identity.link signals
  // skip the core), then learns its links (a duplicate teaches nothing new)
  // and reports the conflicts they raise as outputs.
  Outcome Apply(const v1::Signal& signal, const identity::Resolution& resolution, int32_t partition,
                std::vector<std::string>* linked, std::vector<outputs::Output>* out, int64_t decide_at_ms = 0);
  // Parks an unresolved signal; false when it cannot wait.
  bool Park(v1::WaitingSignal waiting, int32_t partition, Result* result);
  // Hands the signals waiting under `linked` (and under what they link in
  // turn; under a domain's addresses for a domain) to `resolve` (which
  // appends what each links), in event-time order.
  using Resolve = std::function<void(const v1::WaitingSignal&, identity::How, std::vector<std::string>* linked)>;
  void Release(std::vector<std::string> linked, int32_t partition, const Resolve& resolve, Result* result);
  void Expire(int32_t partition, int64_t now_ms, Result* result);
  // ProcessSignal with identity.scope global, for a caller that drives no
  // topology (a scenario, a test): Split, then at once the identity task
  // and the account's task.
  Result ProcessLocally(const v1::Signal& signal, int32_t partition, std::vector<outputs::Output>* out,
                        const Record* source);
  // The identity task's clock: the latest order_ms it was given.
  int64_t IdentityTime(int64_t order_ms);

  state::StateStore* identities_store_;
  identity::Resolver identities_;
  identity::WaitingRoom waiting_;
  engine::Engine engine_;
  v1::Signal signal_;
  int64_t identity_time_ms_ = -1;  // -1: not read from the store yet
};

}  // namespace demandcenter::pipeline

#endif  // DEMANDCENTER_PIPELINE_PIPELINE_H_
