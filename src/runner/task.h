// A partition task of the runner: its store, pipeline, input merge and
// what it has done in the open transaction. Private to src/runner.
#ifndef DEMANDCENTER_SRC_RUNNER_TASK_H_
#define DEMANDCENTER_SRC_RUNNER_TASK_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "demandcenter/outputs/counters.h"
#include "demandcenter/pipeline/input_merge.h"
#include "demandcenter/pipeline/pipeline.h"
#include "demandcenter/pipeline/stage_queues.h"
#include "demandcenter/runner/runner.h"
#include "demandcenter/state/partition_store.h"
#include "demandcenter/v1/topology.pb.h"

namespace demandcenter::runner {

// What processing gives the open transaction, gathered on the thread that
// processes (a task's, or the runner's for the identity task) and handed to
// the sink, in order, on the runner's thread (Runner::FlushLane).
struct Runner::Lane {
  std::vector<pipeline::OutRecord> sends;
  std::vector<outputs::Output> outputs;
  std::vector<int64_t> arrivals_ms;
  int64_t signals = 0;
  int64_t rejected = 0;
  std::map<std::string, int64_t> dead_letters;
  // Something was processed: the transaction must be open to carry it.
  bool touched = false;
  // The outputs of the record in hand.
  std::vector<outputs::Output> scratch;
};

struct Runner::Task {
  int32_t partition = 0;
  std::unique_ptr<state::PartitionStore> store;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  // Records polled but not yet processed, per signal topic.
  std::unique_ptr<pipeline::InputMerge> merge;
  // With several processing threads: signal records polled, to be decoded
  // into the merge on the task's thread (by signal topic index).
  std::vector<std::pair<size_t, std::unique_ptr<pipeline::PendingRecord>>> inbox;
  Lane lane;
  // Per signal topic index: paused at the source (read-ahead bound).
  std::vector<bool> paused;
  // When the task began to wait for an empty input (-1: not waiting).
  int64_t waiting_since_ms = -1;
  int64_t next_wait_report_ms = 0;
  state::Checkpoint checkpoint;
  // Next input offset per topic consumed in the open transaction.
  std::map<std::string, int64_t> consumed;
  // Changelog records produced in the open transaction.
  std::vector<state::ChangeRecord> pending;
  int64_t last_changelog_offset = -1;
  // What the metrics have already been given.
  int64_t exported_cache_hits = 0;
  int64_t exported_cache_misses = 0;
  outputs::DecisionCounters exported_counters;
  identity::IdentityCounters exported_identity;

  // identity.scope global (runner/stages.cc).
  // Split signals for this task's account, and the signals the identity
  // task resolved to it, in the order they go.
  std::unique_ptr<pipeline::AccountQueue> accounts;
  // How far it has split; its clocks (kept with its state).
  v1::TaskProgress progress;
  // Per signal topic, the offset after the last record split since the
  // task was (re)started: a commit never goes past what was read again.
  std::map<std::string, int64_t> split_since_start;
  std::string saved_progress;
  // The order time of the last own signal queued.
  int64_t own_queued_ms = 0;
  // The next offset of account-repartition to read (-1: none read).
  int64_t account_read_next = -1;
  // The split watermark last sent to the identity task.
  int64_t sent_split_mark = 0;
  // Since when its input merge has been empty (-1: it is not).
  int64_t empty_since_ms = -1;
};

}  // namespace demandcenter::runner

#endif  // DEMANDCENTER_SRC_RUNNER_TASK_H_
