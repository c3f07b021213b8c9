// The engine's processing loop: partition tasks, restore, transactions,
// commit and rewind — Kafka Streams' exactly-once loop, over the seams in
// runner/seams.h, so it runs the same against Kafka (`run`, `demo`) and in
// memory (its tests).
//
// Partition number p is one task: its own partition store and pipeline, and
// partition p of the changelog topic <application_id>-state-changelog. Per
// commit interval one transaction carries the outputs, the dead letters, the
// changelog records of every changed account and the consumed offsets. Only
// after it commits is the state written to the local store, in one batch with
// the checkpoint, so a crash never forces a full restore: on assignment a task
// restores just the changelog tail after its checkpoint. An aborted
// transaction discards the uncommitted state and rewinds the source to the
// committed offsets: nothing is skipped and nothing is applied twice.
//
// Takes: Config, the seams, a Clock, Metrics. Gives: committed outputs,
// metrics, readiness. Depends on: pipeline, state, metrics; no Kafka.
#ifndef DEMANDCENTER_RUNNER_RUNNER_H_
#define DEMANDCENTER_RUNNER_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "demandcenter/common/clock.h"
#include "demandcenter/config/config.h"
#include "demandcenter/metrics/metrics.h"
#include "demandcenter/outputs/counters.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/pipeline/input_merge.h"
#include "demandcenter/pipeline/output_encoder.h"
#include "demandcenter/pipeline/stage_queues.h"
#include "demandcenter/query/census.h"
#include "demandcenter/runner/seams.h"

namespace demandcenter::runner {

class Workers;

// Everything the runner talks to. The runner owns the seams; `clock` and the
// store factory's captures must outlive it.
struct Seams {
  std::unique_ptr<Source> source;
  std::unique_ptr<Sink> sink;
  std::unique_ptr<Changelog> changelog;
  // Null: the pools are as configured, with no run-time updates.
  std::unique_ptr<Directory> directory;
  StoreFactory stores;
  Clock* clock = nullptr;
  // What the stores' shared memory holds now, in bytes, by part
  // ("block_cache", "memtables"); null when they share none.
  std::function<std::vector<std::pair<std::string, uint64_t>>()> store_memory;
};

struct RunnerOptions {
  // Names this instance in the log.
  std::string instance_id = "0";
  // Called on the processing thread with the outputs of each committed
  // transaction, in emission order (the demo prints them).
  std::function<void(const std::vector<outputs::Output>&)> on_committed;
  // The most records one Step takes of what the source holds already (no
  // wait), processed as a batch: on the worker threads when there are
  // several (kafka.processing_threads).
  int batch_records = 2000;
  // Read-ahead bound: a task holding this many signals it cannot process
  // yet (waiting in its merge for another topic, or for the identity
  // watermark) has its signal topics paused until it holds half as many.
  size_t read_ahead_records = 10000;
};

// Counters readable from any thread (for the demo's live view and tests).
struct RunnerStats {
  std::atomic<int64_t> signals{0};
  std::atomic<int64_t> rejected{0};
  std::atomic<int64_t> outputs{0};
  std::atomic<int64_t> transactions{0};
  std::atomic<int64_t> aborts{0};
};

// Not thread safe, except ready() and stats(). `config` and `metrics` must
// outlive it.
class Runner : private Source::Listener {
 public:
  Runner(const config::Config& config, Seams seams, metrics::Metrics* metrics, RunnerOptions options = {});
  ~Runner() override;

  // Runs until `stop` becomes true — then commits the open transaction and
  // leaves the group — or until a fatal error, which it returns (e.g. the
  // state cannot be written). Outages and failed transactions are retried,
  // never skipped. `stop` is watched in every phase (start-up, restore,
  // retries, back-pressure): once set, no retry waits again, a restore
  // stops between batches, and the open transaction is committed if the
  // cluster takes it at once, else aborted or left to the broker to abort.
  absl::Status Run(const std::atomic<bool>& stop);

  // The same loop one step at a time (tests): Start once, then Step (one
  // poll, the commit when due), then Stop (commit and leave).
  absl::Status Start();
  absl::Status Step();
  absl::Status Stop();

  // True when the instance has partitions and every one is restored.
  // Thread safe.
  bool ready() const { return ready_.load(); }
  const RunnerStats& stats() const { return stats_; }

  // Runs `query` on the processing thread, between two polls when no
  // transaction is open (so it sees committed state only), and waits for it.
  // Thread safe. DeadlineExceeded when the loop does not get to it within
  // `timeout_ms` (restoring, or waiting out an outage); the query is then
  // dropped, never run later.
  absl::Status Ask(const std::function<void()>& query, int64_t timeout_ms);

  // Swaps in a new decision config (a reload): called inside Ask, so no
  // transaction is open; every task's pipeline is rebuilt over its
  // committed state. The runtime settings stay as they were.
  void ApplyDecisionConfig(std::shared_ptr<const config::DecisionConfig> decision);
  const config::DecisionConfig& decision() const { return decision_ ? *decision_ : config_.decision; }

  // For queries (inside Ask) and tests, on the processing thread only:
  // the account's committed state in a task of this instance (null when no
  // task has it; of several partial copies, the one with most signals), the partitions owned, a partition's stream time and what
  // the accounts add up to.
  const v1::AccountState* FindAccount(const std::string& account_id);
  std::vector<int32_t> Partitions() const;
  int64_t StreamTime(int32_t partition) const;
  // The partition's journey model (null when the partition is not here).
  const v1::JourneyModel* JourneyModelOf(int32_t partition);
  const query::Census& census() const { return census_; }

 private:
  struct Task;
  struct Lane;

  // Source::Listener.
  void OnAssigned(const std::vector<int32_t>& partitions) override;
  void OnRevoked(bool lost) override;

  absl::Status OpenTask(int32_t partition);
  absl::Status Restore(Task& task);
  // A fresh pipeline over the committed state, its input merge emptied.
  void ResetPipeline(Task& task);
  // A fresh pipeline over the committed state (the input merge kept).
  void RebuildPipeline(Task& task);
  // Buffers a polled record in its task's input merge (with several
  // processing threads, in its inbox, decoded on the task's thread).
  void Buffer(const pipeline::Record& record);
  // Decodes a signal record into the task's input merge.
  void BufferSignal(Task& task, size_t topic, std::unique_ptr<pipeline::PendingRecord> item);
  // Processes, task by task (on the processing threads), the records the
  // merge lets go (event-time order across the signal topics,
  // pipeline/input_merge.h); then, with identity.scope global, the identity
  // task. What they give goes to the sink in task order.
  absl::Status Drain();
  // One task's part of Drain, on any processing thread: its inbox, then
  // what its merge (and account queue) let go, into its lane.
  void DrainTask(Task& task, int64_t now_ms);
  // Runs `fn` for every task, on the processing threads.
  void ForTasks(const std::function<void(Task&)>& fn);
  // Hands what `lane` gathered to the open transaction (beginning one).
  absl::Status FlushLane(Lane& lane);
  // The input topic whose head `task` takes next (the merge's choice), or
  // nullopt to wait; keeps the task's waiting time for max_task_idle.
  std::optional<size_t> NextInput(Task& task, int64_t now_ms);
  // Whether `task` may go on without a record from its empty input `topic`.
  bool MayPass(Task& task, size_t topic, int64_t now_ms);
  // Logs (every 10 s) that `task` has long waited for its input `topic`.
  void ReportWait(Task& task, size_t topic, int64_t now_ms);
  // Pauses or resumes the task's signal topics; how many are paused.
  size_t BoundReadAhead(Task& task);
  void Process(Task& task, const pipeline::PendingRecord& pending, Lane& lane);
  void Send(const pipeline::OutRecord& record) { seams_.sink->Send(record); }
  static void Send(Lane& lane, pipeline::OutRecord record);
  // Encodes the outputs in `lane.scratch` and sends them.
  void SendOutputs(Lane& lane);
  absl::Status BeginIfNeeded();
  // Commits the open transaction. Returns a non-OK status only for errors
  // that must stop the engine; aborted transactions are rewound.
  absl::Status Commit();
  absl::Status CommitTransaction(const Offsets& offsets);
  absl::Status WriteStores();
  void ExportMetrics(int64_t started_ms);
  absl::Status AbortAndRewind(const std::string& why);
  absl::Status RecoverProducer(const std::string& why);
  absl::Status Rewind();
  // What a failed Flush/Commit asks for (see seams.h).
  absl::Status HandleTransactionError(const absl::Status& error, const std::string& what);
  // The end of Run once `stop` is set; `interrupted` is what the phase under
  // way returned (Cancelled: cut short by the stop).
  absl::Status StopOnSignal(const absl::Status& interrupted);
  // Calls `call` until it stops answering kUnavailable, backing off on the
  // clock; counts each retry under `what`. Once the clock is Stopping(), an
  // unavailable answer is returned as Cancelled instead of retried.
  absl::Status Retry(const std::string& what, const std::function<absl::Status()>& call);
  // Retry for the local state store (a full disk, an I/O error): each
  // failure is counted, the store (when open) is asked to Recover before
  // the next attempt, and the engine consumes nothing meanwhile.
  absl::Status RetryStore(const std::string& what, state::PartitionStore* store,
                          const std::function<absl::Status()>& call);
  void PollDirectory(bool until_end);
  // Answers the queries waiting in Ask.
  void AnswerQueries();
  // Brings the census and the demandcenter_accounts gauge up to the
  // committed state (before the stores take it).
  void CountCommitted();
  void UpdateReady();
  // The journey model's forecast gauges, from every task's model and the
  // census (at most once a second).
  void ExportLag();
  void ExportForecast();
  void ClearTransaction();

  // identity.scope global: the two-stage topology (runner/stages.cc).
  void InitStages();
  // A fresh account queue; the task's progress (and, for partition 0, the
  // identity task's) read from its committed state.
  void LoadProgress(Task& task);
  // A record of an internal topic, for its task or the identity task.
  void BufferStage(Task& task, const pipeline::Record& record);
  // One task's part of Drain: splits, processes own and resolved signals.
  void DrainTaskStages(Task& task, int64_t now_ms);
  // Dead-letters the internal records that are not stage records.
  void DeadLetterBadStageRecords();
  // The identity task's part of Drain.
  void DrainIdentity();
  void Split(Task& task, std::unique_ptr<pipeline::PendingRecord> item, Lane& lane);
  // Whether the task's signal inputs are all read (its split watermark then
  // says so).
  bool SplitIdle(Task& task, int64_t now_ms);
  int64_t SplitMark(Task& task);
  void ProcessResolved(Task& task, const pipeline::Staged& staged, Lane& lane);
  void Identify(Task& host, const pipeline::Staged& input, Lane& lane);
  // Sends a dead letter and counts it under its reason.
  void SendDeadLetter(Lane& lane, pipeline::OutRecord dead_letter, const ingest::Reject& reject);
  // True when a watermark is due, or an internal record's offset, that no
  // transaction is open to carry.
  bool StageMarksChanged();
  // At a commit: watermarks, offsets and progress.
  void CommitStages();

  const config::Config& config_;
  Seams seams_;
  metrics::Metrics* metrics_;
  RunnerOptions options_;
  pipeline::OutputEncoder encoder_;
  pipeline::SignalTopics topics_;
  std::string changelog_topic_;

  std::map<int32_t, std::unique_ptr<Task>> tasks_;
  // kafka.processing_threads beyond the runner's own (null: none).
  std::unique_ptr<Workers> workers_;
  // What the runner's thread gathers (the identity task, bad stage records).
  std::unique_ptr<Lane> lane_;
  // Stores whose writes wait (RetryStore), across the processing threads.
  std::atomic<int> blocked_stores_{0};
  // identity.scope global.
  bool global_ = false;
  std::string identity_topic_;
  std::string account_topic_;
  // The identity task, when this instance owns partition 0: its queue, the
  // offsets it processed beyond its committed one, the next offset to read
  // and the watermark it last sent.
  std::unique_ptr<pipeline::IdentityQueue> identity_queue_;
  std::set<int64_t> identity_done_;
  int64_t identity_read_next_ = -1;
  int64_t identity_sent_mark_ = 0;
  // An internal record was read since the last commit.
  bool stage_read_ = false;
  // Internal records that are not stage records, to dead-letter.
  std::vector<pipeline::OwnedRecord> bad_stage_records_;
  bool assigned_ = false;
  // routing.reps, the latest record per "<pool>/<member>".
  std::map<std::string, v1::PoolMemberUpdate> directory_records_;
  int64_t next_directory_poll_ms_ = 0;
  bool txn_open_ = false;
  int64_t txn_started_ms_ = 0;
  absl::Status fatal_;
  std::vector<outputs::Output> txn_outputs_;
  std::vector<int64_t> txn_arrivals_ms_;
  int64_t txn_signals_ = 0;
  int64_t txn_rejected_ = 0;
  std::map<std::string, int64_t> txn_dead_letters_;
  std::atomic<bool> ready_{false};
  RunnerStats stats_;
  query::Census census_;
  // The experiments' committed counts since start, for the KPI gauges.
  outputs::DecisionCounters experiment_totals_;
  int64_t next_forecast_ms_ = 0;
  // Set by a reload; null: the config's own.
  std::shared_ptr<const config::DecisionConfig> decision_;

  struct Query {
    const std::function<void()>* run;
    enum { kWaiting, kRunning, kDone, kDropped } state = kWaiting;
  };
  std::mutex queries_mu_;
  std::condition_variable queries_cv_;
  std::deque<std::shared_ptr<Query>> queries_;
};

}  // namespace demandcenter::runner

#endif  // DEMANDCENTER_RUNNER_RUNNER_H_
