// `demandcenter replay`: a file of signals in, JSON lines out, through the
// same pipeline `run` uses, with no Kafka — the rule author's test bench.
// Also the readable summary and the independent contact-policy audit of
// every output.
#ifndef DEMANDCENTER_REPLAY_REPLAY_H_
#define DEMANDCENTER_REPLAY_REPLAY_H_

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/config/config.h"
#include "demandcenter/ingest/decoder.h"
#include "demandcenter/identity/identity.h"
#include "demandcenter/identity/waiting_room.h"
#include "demandcenter/journey/journey_model.h"
#include "demandcenter/outputs/counters.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/pipeline/partitions.h"
#include "demandcenter/replay/identity_reach.h"
#include "demandcenter/replay/policy_audit.h"

namespace demandcenter::replay {

struct ReplayOptions {
  pipeline::PartitionModel partitions;
  ingest::DecodeOptions decode;
  // Called with each output, in emission order (before it is written).
  std::function<void(const outputs::Output&)> on_output;
  // false: no output line is encoded or written (`out` is left alone).
  bool write_outputs = true;
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
  // Lines the engine took: signals not rejected on arrival (applied,
  // duplicates, waiting, links, erasures) and pool updates applied.
  int64_t used = 0;
  identity::IdentityCounters identity;
  identity::WaitingCounters waiting;
  int64_t still_waiting = 0;
  // Of the signals without an account_id, the share that reached one.
  ReachReport reach;
  // The engine's counters at the end (policies, routing, SLAs, experiments).
  outputs::DecisionCounters counters;
  // The independent contact-policy audit of every output.
  AuditReport audit;
  // Accounts by stage at the end.
  std::map<std::string, int64_t> accounts_by_stage;
  // The journey model of every partition together, and the forecast it
  // gives for the accounts at the end (journey/journey_model.h).
  v1::JourneyModel journey_model;
  std::vector<journey::StageForecast> forecast;
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
