// The C++ counterpart of Kafka Streams' TopologyTestDriver: the pipeline
// `run` and `replay` use, over an in-memory store, with no Kafka. Pipe
// signals (or raw bytes) with their event times, advance stream time, read
// the outputs in emission order.
#ifndef DEMANDCENTER_TESTS_SUPPORT_TEST_DRIVER_H_
#define DEMANDCENTER_TESTS_SUPPORT_TEST_DRIVER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "demandcenter/config/config.h"
#include "demandcenter/ingest/decoder.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/pipeline/partitions.h"
#include "demandcenter/pipeline/pipeline.h"
#include "demandcenter/state/state_store.h"
#include "demandcenter/v1/routing.pb.h"

namespace demandcenter::testing {

class TestDriver {
 public:
  // `config` must outlive the driver.
  explicit TestDriver(const config::Config& config, pipeline::PartitionModel model = {});

  // Processes a signal on the partition its key maps to.
  pipeline::Outcome Pipe(const v1::Signal& signal);
  // Decodes (any supported format) and processes; a rejected input changes
  // nothing and its reject is returned.
  ingest::Reject PipeBytes(std::string_view bytes);
  // Advances stream time on a partition (default: all of them), firing timers.
  void AdvanceStreamTime(int64_t now_ms, int32_t partition = -1);
  // Applies a routing.reps record (see Engine::ApplyPoolUpdate).
  absl::Status ApplyPoolUpdate(const v1::PoolMemberUpdate& update) {
    return pipeline_.engine().ApplyPoolUpdate(update);
  }

  // Outputs produced since the last call, in emission order.
  std::vector<outputs::Output> ReadOutputs();
  // The outcome of the last signal piped.
  pipeline::Outcome last_outcome() const { return last_outcome_; }
  // Waiting signals dead-lettered since the last call (past their bound).
  std::vector<pipeline::LateReject> ReadLateRejects();
  const v1::AccountState* Account(const std::string& account_id) { return store_.Find(account_id); }
  const engine::Engine& engine() const { return pipeline_.engine(); }

 private:
  pipeline::PartitionModel model_;
  state::InMemoryStateStore store_;
  pipeline::Pipeline pipeline_;
  std::vector<outputs::Output> pending_;
  pipeline::Outcome last_outcome_ = pipeline::Outcome::kApplied;
  std::vector<pipeline::LateReject> late_rejects_;
};

}  // namespace demandcenter::testing

#endif  // DEMANDCENTER_TESTS_SUPPORT_TEST_DRIVER_H_
