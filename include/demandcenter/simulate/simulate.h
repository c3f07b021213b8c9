// `demandcenter simulate`: what a config change would do before it is rolled
// out. One file of signals is replayed under the config in force (the
// baseline) and under a candidate, side by side, through the same pipeline
// as replay and run; the report holds both counts of what a reviewer weighs:
// actions by rule and channel, contact-policy suppressions, routing load per
// pool and per person, the stage funnel at the end, transitions and outputs.
//
// Takes: two validated configs, the input file, the partition model.
// Gives: a v1.SimulationReport; a table for people (FormatTable), and
// protobuf-JSON for tools (common/proto_json.h).
// May depend on: replay (each side is a replay), outputs, config.
#ifndef DEMANDCENTER_SIMULATE_SIMULATE_H_
#define DEMANDCENTER_SIMULATE_SIMULATE_H_

#include <string>

#include "absl/status/statusor.h"
#include "demandcenter/config/config.h"
#include "demandcenter/ingest/decoder.h"
#include "demandcenter/pipeline/partitions.h"
#include "demandcenter/v1/simulate.pb.h"

namespace demandcenter::simulate {

struct SimulateOptions {
  pipeline::PartitionModel partitions;
  ingest::DecodeOptions decode;
  // Shown in the report.
  std::string baseline_name;
  std::string candidate_name;
};

// Replays `input_path` under both configs at once (one thread each; the
// file is read once per side). Errors: NotFound when the file cannot be
// opened.
absl::StatusOr<v1::SimulationReport> Simulate(const config::Config& baseline, const config::Config& candidate,
                                              const std::string& input_path, const SimulateOptions& options);

// The report as a table: one section per list, a row per key with both
// counts and the change ("=" when equal), and how many rows differ.
std::string FormatTable(const v1::SimulationReport& report);

}  // namespace demandcenter::simulate

#endif  // DEMANDCENTER_SIMULATE_SIMULATE_H_
