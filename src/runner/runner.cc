// Runner: tasks, restore, transactions, commit, abort and rewind, over the
// seams. No Kafka, no real clock: both come in through runner/seams.h and
// common/clock.h.
#include "demandcenter/runner/runner.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "demandcenter/common/log.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/journey/journey_model.h"
#include "demandcenter/pipeline/pipeline.h"
#include "demandcenter/runner/decision_metrics.h"
#include "src/runner/task.h"
#include "src/runner/workers.h"

namespace demandcenter::runner {
namespace {

// How long one Step waits for a record.
constexpr int kPollMs = 20;
constexpr int64_t kDirectoryPollMs = 1000;
// A task waiting this long for one of its inputs says so in the log.
constexpr int64_t kWaitReportMs = 10000;
// How often the forecast gauges are worked out again (at a commit).
constexpr int64_t kForecastEveryMs = 1000;


}  // namespace


Runner::Runner(const config::Config& config, Seams seams, metrics::Metrics* metrics, RunnerOptions options)
    : config_(config),
      seams_(std::move(seams)),
      metrics_(metrics),
      options_(std::move(options)),
      encoder_(config.runtime.kafka.topics, config.runtime.kafka.json_topics),
      topics_(config.runtime.kafka.topics),
      changelog_topic_(config.runtime.ChangelogTopic()),
      census_(config.decision) {
  lane_ = std::make_unique<Lane>();
  if (config.runtime.kafka.processing_threads > 1) {
    workers_ = std::make_unique<Workers>(config.runtime.kafka.processing_threads);
  }
  metrics_->SetRulesVersion(config.decision.rules_version);
  InitStages();
  seams_.source->SetListener(this);
}

Runner::~Runner() {
  seams_.source->SetListener(nullptr);
  tasks_.clear();
  workers_.reset();
}

absl::Status Runner::Run(const std::atomic<bool>& stop) {
  seams_.clock->WatchStop(&stop);
  absl::Status s = Start();
  while (s.ok() && !stop.load()) s = Step();
  if (stop.load() && (s.ok() || s.code() == absl::StatusCode::kCancelled)) {
    s = StopOnSignal(s);
  } else if (s.ok()) {
    s = Stop();
  }
  seams_.clock->WatchStop(nullptr);  // `stop` may not outlive this call
  return s;
}

absl::Status Runner::StopOnSignal(const absl::Status& interrupted) {
  if (!interrupted.ok()) LogLine(StrCat("stopping: ", interrupted.message()));
  // Finish the open transaction if the cluster takes it at once; else leave
  // it open: it was never committed, so no read_committed consumer sees
  // it, and the broker aborts it (at the latest when the next incarnation
  // fences this one). Retries give up at once now that Stopping().
  absl::Status s = interrupted.ok() ? Commit() : absl::CancelledError("");
  if (!s.ok() && txn_open_) {
    absl::Status aborted = seams_.sink->Abort();
    LogLine(aborted.ok() ? "the open transaction was aborted"
                         : "the open transaction is left for the broker to abort");
    txn_open_ = false;
  }
  seams_.source->Close();
  LogLine("stopped on a signal");
  return absl::OkStatus();
}

absl::Status Runner::Start() {
  // A producer of our own, fencing any earlier incarnation; retried while
  // the cluster is unreachable: back-pressure, not failure.
  absl::Status s = Retry("initialising transactions", [&] { return seams_.sink->Reset(); });
  if (!s.ok()) return s;
  PollDirectory(/*until_end=*/true);
  next_directory_poll_ms_ = seams_.clock->NowMs() + kDirectoryPollMs;
  LogLine(StrCat("running: group ", config_.runtime.application_id, ", instance ", options_.instance_id));
  return absl::OkStatus();
}

absl::Status Runner::Step() {
  std::optional<pipeline::Record> record = seams_.source->Poll(kPollMs);
  if (!fatal_.ok()) return fatal_;
  if (record) Buffer(*record);
  // A batch: whatever the consumer holds already.
  for (int n = 1; record && n < options_.batch_records; ++n) {
    record = seams_.source->Poll(0);
    if (!fatal_.ok()) return fatal_;
    if (record) Buffer(*record);
  }
  absl::Status drained = Drain();
  if (!drained.ok()) return drained;
  size_t paused = 0;
  for (auto& [p, task] : tasks_) paused += BoundReadAhead(*task);
  metrics_->ReadAheadPaused().Set(static_cast<double>(paused));
  seams_.sink->Poll();
  int64_t now = seams_.clock->NowMs();
  if (now >= next_directory_poll_ms_) {
    PollDirectory(/*until_end=*/false);
    next_directory_poll_ms_ = now + kDirectoryPollMs;
    ExportLag();  // also while idle, when no commit exports it
  }
  if (!txn_open_ && StageMarksChanged()) {
    absl::Status s = BeginIfNeeded();  // a watermark to send
    if (!s.ok()) return s;
  }
  if (txn_open_ && now - txn_started_ms_ >= config_.runtime.kafka.commit_interval_ms) {
    absl::Status s = Commit();
    if (!s.ok()) return s;
  }
  UpdateReady();
  if (!txn_open_) AnswerQueries();
  return fatal_;
}

absl::Status Runner::Ask(const std::function<void()>& query, int64_t timeout_ms) {
  auto q = std::make_shared<Query>();
  q->run = &query;
  std::unique_lock<std::mutex> lock(queries_mu_);
  queries_.push_back(q);
  bool answered = queries_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return q->state == Query::kDone;
  });
  if (answered) return absl::OkStatus();
  if (q->state == Query::kRunning) {
    queries_cv_.wait(lock, [&] { return q->state == Query::kDone; });
    return absl::OkStatus();
  }
  q->state = Query::kDropped;
  return absl::DeadlineExceededError("the engine did not get to the query in time (restoring or retrying)");
}

void Runner::AnswerQueries() {
  std::unique_lock<std::mutex> lock(queries_mu_);
  while (!queries_.empty()) {
    std::shared_ptr<Query> q = std::move(queries_.front());
    queries_.pop_front();
    if (q->state == Query::kDropped) continue;
    q->state = Query::kRunning;
    lock.unlock();
    (*q->run)();
    lock.lock();
    q->state = Query::kDone;
  }
  queries_cv_.notify_all();
}

void Runner::ApplyDecisionConfig(std::shared_ptr<const config::DecisionConfig> decision) {
  decision_ = std::move(decision);
  census_.SetConfig(*decision_);
  // Records polled but not processed stay buffered: they meet the new rules.
  for (auto& [p, task] : tasks_) {
    if (task->pipeline) RebuildPipeline(*task);
  }
  metrics_->SetRulesVersion(decision_->rules_version);
  LogLine(StrCat("rules_version ", decision_->rules_version, " in force"));
}

const v1::AccountState* Runner::FindAccount(const std::string& account_id) {
  // Keyless signals resolved on another partition leave a partial copy
  // there: the copy with the most signals is the account's own.
  const v1::AccountState* found = nullptr;
  for (auto& [p, task] : tasks_) {
    const v1::AccountState* a = task->store->Find(account_id);
    if (a != nullptr && (found == nullptr || a->signals_applied() > found->signals_applied())) found = a;
  }
  return found;
}

std::vector<int32_t> Runner::Partitions() const {
  std::vector<int32_t> partitions;
  for (const auto& [p, task] : tasks_) partitions.push_back(p);
  return partitions;
}

int64_t Runner::StreamTime(int32_t partition) const {
  auto it = tasks_.find(partition);
  return it == tasks_.end() || !it->second->pipeline ? 0 : it->second->pipeline->engine().StreamTime(partition);
}

const v1::JourneyModel* Runner::JourneyModelOf(int32_t partition) {
  auto it = tasks_.find(partition);
  if (it == tasks_.end() || !it->second->pipeline) return nullptr;
  return &it->second->pipeline->engine().JourneyModelOf(partition);
}

absl::Status Runner::Stop() {
  if (!fatal_.ok()) return fatal_;
  absl::Status s = Commit();
  seams_.source->Close();
  LogLine("stopped cleanly");
  return s.ok() ? fatal_ : s;
}

void Runner::OnAssigned(const std::vector<int32_t>& partitions) {
  std::set<int32_t> numbers(partitions.begin(), partitions.end());
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (numbers.count(it->first)) {
      it->second->paused.clear();  // a new assignment starts unpaused
      ++it;
    } else {
      census_.Drop(it->first);
      it = tasks_.erase(it);
    }
  }
  for (int32_t p : numbers) {
    absl::Status s = OpenTask(p);
    if (!s.ok() && fatal_.ok()) fatal_ = s;
  }
  assigned_ = true;
  metrics_->AssignedPartitions().Set(static_cast<double>(numbers.size()));
  LogLine(StrCat("assigned tasks ", absl::StrJoin(numbers, ",")));
  UpdateReady();
}

void Runner::OnRevoked(bool lost) {
  if (lost) {
    // Another member may own these partitions already: what we did since
    // the last commit must not be committed (it would be fenced anyway).
    if (txn_open_) {
      absl::Status s = AbortAndRewind("partitions lost (session timed out)");
      if (!s.ok() && fatal_.ok()) fatal_ = s;
    }
  } else if (txn_open_) {
    // Revocation: finish the open transaction so the next owner starts
    // from exactly what we committed.
    absl::Status s = Commit();
    if (!s.ok() && fatal_.ok()) fatal_ = s;
  }
  assigned_ = false;
  metrics_->AssignedPartitions().Set(0);
  LogLine(lost ? "partitions lost" : "partitions revoked");
  UpdateReady();
}

void Runner::UpdateReady() {
  bool ready = assigned_ && !tasks_.empty();
  ready_.store(ready);
  metrics_->Ready().Set(ready ? 1 : 0);
}

absl::Status Runner::OpenTask(int32_t partition) {
  auto& slot = tasks_[partition];
  if (!slot) {
    auto task = std::make_unique<Task>();
    task->partition = partition;
    task->merge = std::make_unique<pipeline::InputMerge>(topics_.size());
    std::unique_ptr<state::PartitionStore> store;
    absl::Status opened = RetryStore(StrCat("opening the state store of partition ", partition), nullptr, [&] {
      auto s = seams_.stores(partition);
      if (s.ok()) store = std::move(*s);
      return s.status();
    });
    if (!opened.ok()) {
      tasks_.erase(partition);
      return opened;
    }
    task->store = std::move(store);
    slot = std::move(task);
  }
  ready_.store(false);
  metrics_->Ready().Set(0);
  return Restore(*slot);
}

absl::Status Runner::Restore(Task& task) {
  // Another instance may have owned the partition since this store last
  // did: nothing cached may outlive the restore.
  task.store->ClearCache();
  task.checkpoint = task.store->ReadCheckpoint();
  state::Checkpoint cp = task.checkpoint;
  bool full = cp.changelog_next == 0;
  auto range = seams_.changelog->Restore(task.partition, cp.changelog_next, [&](Changelog::Batch batch) {
    // Each batch is stored with its checkpoint: a restore stopped here goes
    // on from it next time.
    if (seams_.clock->Stopping()) return absl::CancelledError(StrCat("restoring partition ", task.partition, " stopped"));
    for (const auto& r : batch.records) {
      int64_t stream_time = 0;
      if (r.key == state::kStreamTimeKey && absl::SimpleAtoi(r.value, &stream_time)) {
        cp.stream_time_ms = std::max(cp.stream_time_ms, stream_time);
      }
    }
    cp.changelog_next = batch.next_offset;
    absl::Status s = RetryStore(StrCat("restoring the state of partition ", task.partition), task.store.get(),
                                [&] { return task.store->ApplyRestored(batch.records, cp); });
    if (s.ok()) metrics_->RestoredRecords().Increment(static_cast<double>(batch.records.size()));
    return s;
  });
  if (!range.ok()) return range.status();
  if (range->from < range->end) task.checkpoint = cp;
  metrics_->Restores(full ? "full" : "tail").Increment();
  LogLine(StrCat("partition ", task.partition, ": restored ", range->records, " changelog records (",
             full ? "full" : "tail", " restore from offset ", range->from, ", end ", range->end, ")"));
  ResetPipeline(task);
  census_.Load(task.partition, *task.store);
  return absl::OkStatus();
}

void Runner::ResetPipeline(Task& task) {
  RebuildPipeline(task);
  LoadProgress(task);
  task.consumed.clear();
  task.pending.clear();
  // Read again from the committed offsets.
  task.inbox.clear();
  task.merge->Clear();
  task.waiting_since_ms = -1;
}

void Runner::RebuildPipeline(Task& task) {
  task.pipeline = std::make_unique<pipeline::Pipeline>(decision(), task.store.get());
  task.exported_counters = outputs::DecisionCounters{};
  task.exported_identity = identity::IdentityCounters{};
  engine::Engine& engine = task.pipeline->engine();
  for (const auto& [key, update] : directory_records_) (void)engine.ApplyPoolUpdate(update);
  engine.RestoreStreamTime(task.partition, task.checkpoint.stream_time_ms);
  engine.RebuildTimers();
}

void Runner::PollDirectory(bool until_end) {
  if (!seams_.directory) return;
  std::vector<v1::PoolMemberUpdate> fresh = seams_.directory->Poll(until_end);
  for (const auto& update : fresh) {
    directory_records_[StrCat(update.pool_id(), "/", update.member_id())] = update;
    for (auto& [p, task] : tasks_) {
      if (!task->pipeline) continue;
      absl::Status st = task->pipeline->engine().ApplyPoolUpdate(update);
      if (!st.ok() && p == tasks_.begin()->first) LogLine(std::string(st.message()));
    }
  }
}

void Runner::Buffer(const pipeline::Record& record) {
  auto it = tasks_.find(record.partition);
  if (it == tasks_.end()) return;  // not ours any more (a rebalance is under way)
  Task& task = *it->second;
  std::optional<size_t> topic = topics_.IndexOf(record.topic);
  if (!topic) {
    if (global_) BufferStage(task, record);
    return;  // else the source reads only the signal topics
  }
  std::unique_ptr<pipeline::PendingRecord> item = task.merge->Take();
  item->record.Assign(record);
  if (workers_) {
    task.inbox.emplace_back(*topic, std::move(item));
  } else {
    BufferSignal(task, *topic, std::move(item));
  }
}

void Runner::BufferSignal(Task& task, size_t topic, std::unique_ptr<pipeline::PendingRecord> item) {
  item->reject = task.pipeline->Decode(item->record.value, &item->signal);
  if (item->reject.ok()) item->reject = task.pipeline->CheckAhead(item->signal, item->record.timestamp_ms);
  if (item->reject.ok()) item->event_time_ms = ToMillis(item->signal.occurred_at());
  task.merge->Push(topic, std::move(item));
}

absl::Status Runner::Drain() {
  int64_t now = seams_.clock->NowMs();
  if (global_) DeadLetterBadStageRecords();
  absl::Status s = FlushLane(*lane_);
  if (!s.ok()) return s;
  ForTasks([&](Task& task) { DrainTask(task, now); });
  for (auto& [p, task] : tasks_) {
    s = FlushLane(task->lane);
    if (!s.ok()) return s;
  }
  if (!global_) return absl::OkStatus();
  DrainIdentity();
  return FlushLane(*lane_);
}

void Runner::DrainTask(Task& task, int64_t now_ms) {
  for (auto& [topic, item] : task.inbox) BufferSignal(task, topic, std::move(item));
  task.inbox.clear();
  if (global_) return DrainTaskStages(task, now_ms);
  pipeline::InputMerge& merge = *task.merge;
  while (merge.buffered() > 0) {
    std::optional<size_t> next = NextInput(task, now_ms);
    if (!next) break;
    std::unique_ptr<pipeline::PendingRecord> item = merge.Pop(*next);
    Process(task, *item, task.lane);
    merge.Release(std::move(item));
  }
}

void Runner::ForTasks(const std::function<void(Task&)>& fn) {
  if (!workers_) {
    for (auto& [p, task] : tasks_) fn(*task);
    return;
  }
  std::vector<Task*> order;
  order.reserve(tasks_.size());
  for (auto& [p, task] : tasks_) order.push_back(task.get());
  workers_->ForEach(order.size(), [&](size_t i) { fn(*order[i]); });
}

absl::Status Runner::FlushLane(Lane& lane) {
  if (!lane.touched) return absl::OkStatus();
  absl::Status s = BeginIfNeeded();
  if (!s.ok()) return s;
  for (const auto& r : lane.sends) seams_.sink->Send(r);
  for (auto& o : lane.outputs) txn_outputs_.push_back(std::move(o));
  txn_arrivals_ms_.insert(txn_arrivals_ms_.end(), lane.arrivals_ms.begin(), lane.arrivals_ms.end());
  txn_signals_ += lane.signals;
  txn_rejected_ += lane.rejected;
  for (const auto& [reason, n] : lane.dead_letters) txn_dead_letters_[reason] += n;
  lane.sends.clear();
  lane.outputs.clear();
  lane.arrivals_ms.clear();
  lane.dead_letters.clear();
  lane.signals = lane.rejected = 0;
  lane.touched = false;
  return absl::OkStatus();
}

void Runner::Send(Lane& lane, pipeline::OutRecord record) { lane.sends.push_back(std::move(record)); }

void Runner::SendOutputs(Lane& lane) {
  for (auto& o : lane.scratch) {
    Send(lane, encoder_.Encode(o));
    lane.outputs.push_back(std::move(o));
  }
}

std::optional<size_t> Runner::NextInput(Task& task, int64_t now_ms) {
  bool passed_empty = false;
  std::optional<size_t> blocked_by;
  std::optional<size_t> next = task.merge->Next([&](size_t t) {
    passed_empty = true;
    bool pass = MayPass(task, t, now_ms);
    if (!pass) blocked_by = t;
    return pass;
  });
  if (!next) {
    if (task.waiting_since_ms < 0) task.waiting_since_ms = now_ms;
    if (blocked_by) ReportWait(task, *blocked_by, now_ms);
  } else if (!passed_empty) {
    task.waiting_since_ms = -1;
  }
  return next;
}

void Runner::ReportWait(Task& task, size_t topic, int64_t now_ms) {
  if (now_ms - task.waiting_since_ms < kWaitReportMs || now_ms < task.next_wait_report_ms) return;
  task.next_wait_report_ms = now_ms + kWaitReportMs;
  bool caught_up = seams_.source->CaughtUp(topics_.name(topic), task.partition);
  LogLine(StrCat("partition ", task.partition, ": ", task.merge->buffered(), " records wait for ",
                 topics_.name(topic), " since ", (now_ms - task.waiting_since_ms) / 1000, " s (",
                 caught_up ? "caught up; max_task_idle" : "records on the broker not fetched yet", ")"));
}

size_t Runner::BoundReadAhead(Task& task) {
  // What the task holds and cannot process yet: signals its merge keeps
  // for another topic's, and (identity.scope global) own signals waiting
  // for the identity watermark. Never paused: a topic the merge waits for
  // (its records would never come). Resolved signals wait for own ones,
  // so they are not counted (pausing for them could wait forever).
  pipeline::InputMerge& merge = *task.merge;
  size_t held = merge.buffered() + (task.accounts ? task.accounts->own_buffered() : 0);
  size_t limit = options_.read_ahead_records;
  if (task.paused.empty()) task.paused.assign(topics_.size(), false);
  size_t paused = 0;
  for (size_t t = 0; t < topics_.size(); ++t) {
    bool waited_for = merge.empty(t) && merge.buffered() > 0;
    bool pause = !waited_for && (held >= limit || (task.paused[t] && held > limit / 2));
    if (pause != task.paused[t] && seams_.source->Pause(topics_.name(t), task.partition, pause)) {
      task.paused[t] = pause;
      if (pause) metrics_->ReadAheadPauses().Increment();
    }
    paused += task.paused[t] ? 1 : 0;
  }
  return paused;
}

bool Runner::MayPass(Task& task, size_t topic, int64_t now_ms) {
  int64_t idle = config_.runtime.kafka.max_task_idle_ms;
  if (idle < 0) return true;
  if (!seams_.source->CaughtUp(topics_.name(topic), task.partition)) return false;
  return idle == 0 || (task.waiting_since_ms >= 0 && now_ms - task.waiting_since_ms >= idle);
}

void Runner::Process(Task& task, const pipeline::PendingRecord& pending, Lane& lane) {
  const pipeline::OwnedRecord& record = pending.record;
  task.consumed[record.topic] = record.offset + 1;
  lane.touched = true;
  if (record.timestamp_ms > 0) lane.arrivals_ms.push_back(record.timestamp_ms);
  ++lane.signals;
  lane.scratch.clear();
  pipeline::Result result;
  pipeline::Record source = record.View();
  if (pending.reject.ok()) {
    result = global_ ? task.pipeline->ProcessOwn(pending.signal, task.partition, &lane.scratch)
                     : task.pipeline->ProcessSignal(pending.signal, task.partition, &lane.scratch, &source);
    metrics_->SignalsConsumed(record.topic, pending.signal.type()).Increment();
  } else {
    result.outcome = pipeline::Outcome::kRejected;
    result.reject = pending.reject;
  }
  if (result.outcome == pipeline::Outcome::kRejected) {
    SendDeadLetter(lane, pipeline::DeadLetter(source, result.reject, config_.runtime.kafka.topics.dlq), result.reject);
  } else if (result.outcome == pipeline::Outcome::kDuplicate) {
    metrics_->Duplicates().Increment();
  }
  for (const auto& late : result.late_rejects) {
    SendDeadLetter(lane, pipeline::DeadLetter(late, config_.runtime.kafka.topics.dlq), late.reject);
  }
  SendOutputs(lane);
}

absl::Status Runner::BeginIfNeeded() {
  if (txn_open_) return absl::OkStatus();
  absl::Status s = seams_.sink->Begin();
  if (!s.ok()) return absl::InternalError(StrCat("beginning a transaction: ", s.message()));
  txn_open_ = true;
  txn_started_ms_ = seams_.clock->NowMs();
  return absl::OkStatus();
}

absl::Status Runner::Retry(const std::string& what, const std::function<absl::Status()>& call) {
  for (int attempt = 0;; ++attempt) {
    absl::Status s = call();
    if (s.code() != absl::StatusCode::kUnavailable) return s;
    if (seams_.clock->Stopping()) return absl::CancelledError(StrCat(what, ": ", s.message(), "; not retried (stopping)"));
    LogLine(StrCat(what, " (will retry): ", s.message()));
    seams_.clock->SleepMs(std::min<int64_t>(5000, 200 * (attempt + 1)));
  }
}

absl::Status Runner::RetryStore(const std::string& what, state::PartitionStore* store,
                                const std::function<absl::Status()>& call) {
  // Stores are written on several threads: blocked while any one is.
  bool failed = false, blocked = false;
  absl::Status s = Retry(what, [&] {
    if (failed && store) (void)store->Recover();  // the next call tells whether it worked
    absl::Status attempt = call();
    failed = attempt.code() == absl::StatusCode::kUnavailable;
    if (failed) {
      metrics_->StateWriteErrors().Increment();
      if (!blocked) ++blocked_stores_;
      blocked = true;
      metrics_->StateWritesBlocked().Set(1);
    }
    return attempt;
  });
  if (blocked) metrics_->StateWritesBlocked().Set(static_cast<double>(--blocked_stores_ > 0));
  return s;
}

absl::Status Runner::HandleTransactionError(const absl::Status& error, const std::string& what) {
  std::string why = StrCat(what, error.message());
  if (error.code() == absl::StatusCode::kAborted) return AbortAndRewind(why);
  if (error.code() == absl::StatusCode::kFailedPrecondition) return RecoverProducer(why);
  return absl::Status(error.code(), why);
}

absl::Status Runner::Commit() {
  if (!txn_open_) return absl::OkStatus();
  int64_t started = seams_.clock->NowMs();
  if (global_) CommitStages();
  // State first: every changed account of every task, as changelog records
  // (serialised on the processing threads).
  for (auto& [p, task] : tasks_) {
    if (!task->store->error().ok()) return AbortAndRewind(std::string(task->store->error().message()));
  }
  ForTasks([&](Task& task) {
    task.pipeline->engine().FlushModels();
    if (task.consumed.empty() && !task.store->HasPendingChanges()) return;
    task.pending = task.store->PendingChanges(task.pipeline->engine().StreamTime(task.partition));
  });
  for (auto& [p, task] : tasks_) {
    // A deleted key ("") goes as a tombstone, so compaction forgets it.
    for (const auto& r : task->pending) Send({changelog_topic_, p, r.key, r.value, {}, r.value.empty()});
  }
  absl::Status s = seams_.sink->Flush();
  if (!s.ok()) return HandleTransactionError(s, "");
  for (auto& [p, task] : tasks_) {
    task->last_changelog_offset = std::max(task->last_changelog_offset, seams_.sink->LastOffset(changelog_topic_, p));
  }
  Offsets offsets;
  for (auto& [p, task] : tasks_) {
    for (const auto& [topic, next] : task->consumed) offsets[{topic, p}] = next;
  }
  s = Retry("committing", [&] { return seams_.sink->Commit(offsets); });
  if (!s.ok()) return HandleTransactionError(s, "committing: ");
  txn_open_ = false;
  s = WriteStores();
  if (!s.ok()) return s;
  ExportMetrics(started);
  return absl::OkStatus();
}

void Runner::CountCommitted() {
  for (auto& [p, task] : tasks_) {
    task->store->ForEachPending([&](const std::string& id, const v1::AccountState* a) {
      if (a != nullptr) {
        census_.Update(p, *a);
      } else {
        census_.Remove(p, id);
      }
    });
  }
  census_.Committed(txn_outputs_, txn_signals_, txn_dead_letters_, seams_.clock->WallMs());
  for (const auto& [stage, n] : census_.StageCounts()) metrics_->Accounts(stage).Set(static_cast<double>(n));
}

absl::Status Runner::WriteStores() {
  // Committed: now the local stores, each in one batch with its checkpoint
  // (on the processing threads).
  CountCommitted();
  std::map<int32_t, absl::Status> failed;
  std::mutex failed_mu;
  ForTasks([&](Task& task) {
    if (task.pending.empty() && task.consumed.empty()) return;
    state::Checkpoint cp = task.checkpoint;
    if (task.last_changelog_offset >= 0) cp.changelog_next = task.last_changelog_offset + 1;
    for (const auto& [topic, next] : task.consumed) cp.input_next[topic] = next;
    cp.stream_time_ms = task.pipeline->engine().StreamTime(task.partition);
    // The transaction is committed: the store must follow, however long a
    // full disk takes to clear. A stop meanwhile leaves the store behind
    // its changelog, which the next restore's tail makes up.
    absl::Status s = RetryStore(StrCat("writing the state of partition ", task.partition), task.store.get(),
                                [&] { return task.store->Commit(task.pending, cp); });
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(failed_mu);
      failed.emplace(task.partition, s);
      return;
    }
    task.checkpoint = cp;
    task.pending.clear();
    task.consumed.clear();
  });
  if (failed.empty()) return absl::OkStatus();
  const auto& [p, s] = *failed.begin();
  return absl::Status(s.code(), StrCat("writing the state of partition ", p, ": ", s.message()));
}

void Runner::ExportMetrics(int64_t started_ms) {
  double cached = 0, bytes = 0;
  for (auto& [p, task] : tasks_) {
    const state::PartitionStore& store = *task->store;
    cached += static_cast<double>(store.cached_accounts());
    bytes += static_cast<double>(store.ApproximateSize());
    metrics_->CacheHits().Increment(static_cast<double>(std::max<int64_t>(0, store.cache_hits() - task->exported_cache_hits)));
    metrics_->CacheMisses().Increment(
        static_cast<double>(std::max<int64_t>(0, store.cache_misses() - task->exported_cache_misses)));
    task->exported_cache_hits = store.cache_hits();
    task->exported_cache_misses = store.cache_misses();
    ExportDecisionCounters(task->pipeline->engine().counters(), &task->exported_counters, metrics_,
                           &experiment_totals_);
    ExportIdentityCounters(task->pipeline->identity_counters(), &task->exported_identity, metrics_);
  }
  ExportExperimentKpis(decision(), experiment_totals_, metrics_);
  ExportForecast();
  metrics_->CachedAccounts().Set(cached);
  ExportLag();
  metrics_->StateBytes().Set(bytes);
  if (seams_.store_memory) {
    for (const auto& [part, n] : seams_.store_memory()) metrics_->StateMemory(part).Set(static_cast<double>(n));
  }
  metrics_->TransactionsCommitted().Increment();
  metrics_->CommitLatency().Observe(static_cast<double>(seams_.clock->NowMs() - started_ms) / 1000.0);
  int64_t wall_ms = seams_.clock->WallMs();
  for (int64_t arrival : txn_arrivals_ms_) {
    metrics_->ProcessingLatency().Observe(static_cast<double>(std::max<int64_t>(0, wall_ms - arrival)) / 1000.0);
  }
  for (const auto& o : txn_outputs_) {
    metrics_->Outputs(outputs::OutputKindName(o.kind)).Increment();
    if (const auto* nba = std::get_if<v1::NextBestAction>(&o.message)) {
      metrics_->ActionsByChannel(v1::Channel_Name(nba->channel())).Increment();
    }
  }
  stats_.signals += txn_signals_;
  stats_.rejected += txn_rejected_;
  stats_.outputs += static_cast<int64_t>(txn_outputs_.size());
  stats_.transactions += 1;
  if (options_.on_committed && !txn_outputs_.empty()) options_.on_committed(txn_outputs_);
  ClearTransaction();
}

void Runner::ExportLag() {
  if (int64_t lag = seams_.source->Lag(); lag >= 0) metrics_->ConsumerLag().Set(static_cast<double>(lag));
}

void Runner::ExportForecast() {
  int64_t now = seams_.clock->NowMs();
  if (now < next_forecast_ms_) return;
  next_forecast_ms_ = now + kForecastEveryMs;
  v1::JourneyModel model;
  for (auto& [p, task] : tasks_) journey::MergeModel(task->pipeline->engine().JourneyModelOf(p), &model);
  for (const auto& f : journey::Forecast(decision().journey, model, census_.BySegmentAndStage())) {
    metrics_->Forecast("expected_wins", f.stage).Set(f.expected_wins);
    metrics_->Forecast("pipeline_value", f.stage).Set(f.pipeline_value);
    metrics_->Forecast("win_probability", f.stage).Set(f.win_probability);
    metrics_->Forecast("stage_dwell_seconds", f.stage).Set(static_cast<double>(f.typical_dwell_seconds));
  }
}

void Runner::ClearTransaction() {
  txn_outputs_.clear();
  txn_arrivals_ms_.clear();
  txn_dead_letters_.clear();
  txn_signals_ = txn_rejected_ = 0;
}

absl::Status Runner::AbortAndRewind(const std::string& why) {
  LogLine(StrCat("aborting the transaction and rewinding to the last commit: ", why));
  metrics_->TransactionsAborted().Increment();
  stats_.aborts += 1;
  absl::Status s = Retry("aborting", [&] { return seams_.sink->Abort(); });
  if (s.code() == absl::StatusCode::kFailedPrecondition) return RecoverProducer(StrCat("aborting: ", s.message()));
  if (!s.ok()) return s;
  txn_open_ = false;
  return Rewind();
}

absl::Status Runner::RecoverProducer(const std::string& why) {
  // A fatal producer error — typically the coordinator aborted our
  // transaction and bumped the epoch while the broker was unreachable past
  // the transaction timeout. Nothing of the open transaction is committed:
  // start a new producer (which fences the old epoch) and rewind.
  LogLine(StrCat("producer failed fatally (", why, "); recreating it and rewinding to the last commit"));
  metrics_->KafkaErrors("producer_fatal").Increment();
  metrics_->TransactionsAborted().Increment();
  stats_.aborts += 1;
  txn_open_ = false;
  absl::Status s = Retry("recreating the producer", [&] { return seams_.sink->Reset(); });
  if (!s.ok()) return s;
  return Rewind();
}

absl::Status Runner::Rewind() {
  ClearTransaction();
  bad_stage_records_.clear();  // read again from the committed offsets
  for (auto& [p, task] : tasks_) {
    task->store->Discard();
    task->last_changelog_offset = -1;
    ResetPipeline(*task);
  }
  if (!assigned_) return absl::OkStatus();
  return Retry("rewinding to the committed offsets", [&] { return seams_.source->Rewind(); });
}

}  // namespace demandcenter::runner
