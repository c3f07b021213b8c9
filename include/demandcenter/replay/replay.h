// Running the decision core without Kafka: the TestDriver (pipe signals,
// advance stream time, read outputs — for tests) and `demandcenter replay`
// (a file of signals in, JSON lines out — for rule authors).
#ifndef DEMANDCENTER_REPLAY_REPLAY_H_
#define DEMANDCENTER_REPLAY_REPLAY_H_

#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/common/hash.h"
#include "demandcenter/config/config.h"
#include "demandcenter/engine/engine.h"
#include "demandcenter/ingest/decoder.h"
#include "demandcenter/replay/policy_audit.h"
#include "demandcenter/state/state_store.h"
#include "demandcenter/v1/routing.pb.h"

namespace demandcenter::replay {

// How signals are spread over partitions, exactly as a Kafka producer
// would: by the record key (the signal's account_id). Stream time, and so
// inactivity timers, is per partition.
struct PartitionModel {
  int32_t partitions = 1;
  Partitioner partitioner = Partitioner::kMurmur2;
};

// The partition of a signal. Records with an empty key go to a partition a
// producer would pick at random; here it is derived from the event id so
// replays stay deterministic.
int32_t PartitionOf(const v1::Signal& signal, const PartitionModel& model);

// Drives an engine over an in-memory store, one signal at a time.
class TestDriver {
 public:
  explicit TestDriver(const config::Config& config, PartitionModel model = {});

  // Processes a signal on the partition its key maps to.
  engine::SignalOutcome Pipe(const v1::Signal& signal);
  // Decodes (any supported format) and processes; a rejected input changes
  // nothing and its reject is returned.
  ingest::Reject PipeBytes(std::string_view bytes);
  // Advances stream time on a partition (default: all of them), firing timers.
  void AdvanceStreamTime(int64_t now_ms, int32_t partition = -1);
  // Applies a routing.reps record (see Engine::ApplyPoolUpdate).
  absl::Status ApplyPoolUpdate(const v1::PoolMemberUpdate& update) { return engine_.ApplyPoolUpdate(update); }

  // Outputs produced since the last call, in emission order.
  std::vector<engine::Output> ReadOutputs();
  const v1::AccountState* Account(const std::string& account_id);
  const engine::Engine& engine() const { return engine_; }

 private:
  const config::Config& config_;
  PartitionModel model_;
  state::InMemoryStateStore store_;
  engine::Engine engine_;
  std::vector<engine::Output> pending_;
};

struct ReplayOptions {
  PartitionModel partitions;
  ingest::DecodeOptions decode;
};

struct ReplaySummary {
  int64_t lines = 0;
  int64_t applied = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;
  std::map<std::string, int64_t> rejects_by_reason;
  std::map<std::string, int64_t> outputs_by_kind;
  std::map<std::string, int64_t> emitted_by_rule;
  std::map<std::string, int64_t> transitions_by_id;
  int64_t timers_fired = 0;
  int64_t pool_updates = 0;
  // The engine's counters at the end (policies, routing, SLAs, experiments).
  engine::EngineCounters counters;
  // The independent contact-policy audit of every output.
  AuditReport audit;
};

// Replays protobuf-JSON lines from `in` (blank lines ignored), writing one
// JSON line per output to `out` in emission order. A line
// {"pool_update": {...}} (v1.PoolUpdateLine) applies a routing.reps record
// at that point. Each bad line is reported to `errors` as
// "line N: CODE: message" and skipped. Every output is audited against the
// contact policy (PolicyAudit). Byte-identical output for the same input and
// config.
ReplaySummary Replay(const config::Config& config, std::istream& in, std::ostream& out,
                     std::ostream& errors, const ReplayOptions& options);

// A readable multi-line summary (for stderr), including the rules and
// transitions that never fired.
std::string FormatSummary(const ReplaySummary& summary, const config::Config& config);

}  // namespace demandcenter::replay

#endif  // DEMANDCENTER_REPLAY_REPLAY_H_
