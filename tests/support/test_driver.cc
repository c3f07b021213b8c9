// TestDriver: the pipeline over an in-memory store.
#include "support/test_driver.h"

namespace demandcenter::testing {

TestDriver::TestDriver(const config::Config& config, pipeline::PartitionModel model)
    : model_(model), pipeline_(config.decision, &store_, {{}, model}) {}

pipeline::Outcome TestDriver::Pipe(const v1::Signal& signal) {
  pipeline::Result result = pipeline_.ProcessSignal(signal, pipeline::PartitionOf(signal, model_), &pending_);
  for (auto& late : result.late_rejects) late_rejects_.push_back(std::move(late));
  last_outcome_ = result.outcome;
  return result.outcome;
}

ingest::Reject TestDriver::PipeBytes(std::string_view bytes) {
  pipeline::Record record;
  record.value = bytes;
  record.partition = pipeline::kPartitionByKey;
  pipeline::Result result = pipeline_.Process(record, &pending_);
  for (auto& late : result.late_rejects) late_rejects_.push_back(std::move(late));
  last_outcome_ = result.outcome;
  return result.reject;
}

void TestDriver::AdvanceStreamTime(int64_t now_ms, int32_t partition) {
  if (partition >= 0) {
    pipeline_.AdvanceStreamTime(partition, now_ms, &pending_);
    return;
  }
  for (int32_t p = 0; p < model_.partitions; ++p) pipeline_.AdvanceStreamTime(p, now_ms, &pending_);
}

std::vector<pipeline::LateReject> TestDriver::ReadLateRejects() {
  std::vector<pipeline::LateReject> out;
  out.swap(late_rejects_);
  return out;
}

std::vector<outputs::Output> TestDriver::ReadOutputs() {
  std::vector<outputs::Output> out;
  out.swap(pending_);
  return out;
}

}  // namespace demandcenter::testing
