// Runner, identity.scope global: the two-stage topology of run. A task
// splits each of its signals as it leaves the input merge; keyless signals,
// new links and erasures go to the identity task through
// <application_id>-identity-repartition (one partition: the instance that
// owns partition 0 hosts the identity task); the identity task sends each
// resolved signal to its account's task through
// <application_id>-account-repartition. Watermarks, sent at each commit,
// let every task take its inputs in the order the data sets
// (pipeline/stage_queues.h), which replay models.
//
// Exactly once: a task commits a signal topic's offset up to its first own
// signal not yet processed, and keeps in its state how far it has split
// (TaskProgress), so a signal read again after a rewind is not sent on
// twice. The identity task takes its input out of offset order: it commits
// the offset of its first input not yet processed and keeps the offsets it
// processed beyond it (IdentityProgress).
#include <algorithm>
#include <limits>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/log.h"
#include "demandcenter/common/proto_json.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/pipeline/pipeline.h"
#include "demandcenter/runner/runner.h"
#include "src/runner/task.h"

namespace demandcenter::runner {
namespace {

constexpr int64_t kNoMark = std::numeric_limits<int64_t>::min();

std::string ProgressKey(int32_t partition) { return StrCat(partition, "/~progress"); }

// A mark kept with a commit, as a restart may assume it. "Every input read"
// held for the session that saw it: signals may have come since, so a
// restart assumes nothing and waits for the producer's next mark.
int64_t Restored(int64_t mark) { return mark == pipeline::kAllRead ? 0 : mark; }

// Whether a signal split earlier went to its own account's task (a
// rejected one is dead-lettered there).
bool WentToAccount(const pipeline::PendingRecord& item) {
  return !item.reject.ok() || pipeline::Pipeline::GoesToOwnAccount(item.signal);
}

}  // namespace

void Runner::InitStages() {
  global_ = decision().identity.global;
  identity_topic_ = config_.runtime.IdentityTopic();
  account_topic_ = config_.runtime.AccountTopic();
}

void Runner::LoadProgress(Task& task) {
  task.accounts = std::make_unique<pipeline::AccountQueue>();
  task.progress.Clear();
  task.saved_progress.clear();
  task.split_since_start.clear();
  task.account_read_next = -1;
  task.sent_split_mark = kNoMark;
  task.empty_since_ms = -1;
  if (!global_) return;
  if (auto stored = task.store->ResolveIdentity(ProgressKey(task.partition))) {
    task.progress.ParseFromString(*stored);
    task.saved_progress = *stored;
  }
  task.own_queued_ms = task.progress.own_ms();
  task.accounts->SetOwnMark(task.own_queued_ms);
  task.accounts->SetIdentityMark(Restored(task.progress.identity_mark()));
  if (task.partition != 0) return;
  // The identity task lives with partition 0.
  int32_t producers = seams_.source->PartitionCount(topics_.name(0));
  identity_queue_ = std::make_unique<pipeline::IdentityQueue>(std::max(1, producers));
  identity_done_.clear();
  identity_read_next_ = -1;
  identity_sent_mark_ = kNoMark;
  v1::IdentityProgress progress;
  if (auto stored = task.store->ResolveIdentity(ProgressKey(pipeline::kIdentityScope))) {
    progress.ParseFromString(*stored);
  }
  std::vector<int64_t> marks;
  for (int64_t m : progress.marks()) marks.push_back(Restored(m));
  identity_queue_->SetMarks(std::move(marks));
  identity_done_.insert(progress.done().begin(), progress.done().end());
}

void Runner::BufferStage(Task& task, const pipeline::Record& record) {
  // Even a watermark moves an offset the next commit must carry.
  stage_read_ = true;
  v1::StageRecord staged;
  if (!staged.ParseFromArray(record.value.data(), static_cast<int>(record.value.size())) ||
      (!staged.has_identity() && !staged.has_resolved() && !staged.has_watermark())) {
    // Only the engine writes these topics: a record it cannot read is a
    // stranger's (or a bug), and goes to the dead-letter topic.
    LogLine(StrCat(record.topic, " partition ", record.partition, " offset ", record.offset,
                   ": not a stage record; dead-lettered"));
    bad_stage_records_.emplace_back().Assign(record);
    if (record.topic == account_topic_) task.account_read_next = record.offset + 1;
    if (record.topic == identity_topic_) {
      identity_read_next_ = record.offset + 1;
      identity_done_.insert(record.offset);
    }
    return;
  }
  if (record.topic == account_topic_) {
    task.accounts->PushResolved(std::move(staged), record.offset);
    task.account_read_next = record.offset + 1;
    return;
  }
  if (!identity_queue_ || task.partition != 0) return;
  identity_read_next_ = record.offset + 1;
  if (identity_done_.count(record.offset)) return;  // processed before a rewind
  identity_queue_->Push(std::move(staged), record.offset);
}

bool Runner::SplitIdle(Task& task, int64_t now_ms) {
  if (task.merge->buffered() > 0) {
    task.empty_since_ms = -1;
    return false;
  }
  if (task.empty_since_ms < 0) task.empty_since_ms = now_ms;
  int64_t idle = config_.runtime.kafka.max_task_idle_ms;
  for (size_t t = 0; t < topics_.size(); ++t) {
    if (idle < 0) continue;
    if (!seams_.source->CaughtUp(topics_.name(t), task.partition)) return false;
    if (idle > 0 && now_ms - task.empty_since_ms < idle) return false;
  }
  return true;
}

void Runner::DeadLetterBadStageRecords() {
  for (const auto& bad : bad_stage_records_) {
    ingest::Reject reject{ingest::RejectCode::kUndecodable, "not a stage record of the engine's internal topics"};
    SendDeadLetter(*lane_, pipeline::DeadLetter(bad.View(), reject, config_.runtime.kafka.topics.dlq), reject);
  }
  bad_stage_records_.clear();
}

void Runner::DrainTaskStages(Task& task, int64_t now_ms) {
  // Split whatever the merge lets go: splitting waits for no other task.
  pipeline::InputMerge& merge = *task.merge;
  while (merge.buffered() > 0) {
    std::optional<size_t> next = NextInput(task, now_ms);
    if (!next) break;
    Split(task, merge.Pop(*next), task.lane);
  }
  bool idle = SplitIdle(task, now_ms);
  task.accounts->SetOwnMark(idle ? pipeline::kAllRead : task.own_queued_ms);
  pipeline::AccountQueue& queue = *task.accounts;
  for (auto next = queue.Peek(); next != pipeline::AccountQueue::Next::kWait; next = queue.Peek()) {
    if (next == pipeline::AccountQueue::Next::kOwn) {
      std::unique_ptr<pipeline::PendingRecord> item = queue.PopOwn();
      task.progress.set_own_ms(item->order_ms);
      Process(task, *item, task.lane);
      task.merge->Release(std::move(item));
    } else {
      ProcessResolved(task, queue.PopResolved(), task.lane);
    }
  }
  // What a restart from the committed offset may assume.
  task.progress.set_identity_mark(queue.IdentityMarkAtFirstOffset());
}

void Runner::DrainIdentity() {
  if (!identity_queue_ || !tasks_.count(0)) return;
  while (auto input = identity_queue_->Pop()) Identify(*tasks_[0], *input, *lane_);
  // Waiting signals expire as every task's clock moves on.
  pipeline::Result expired;
  tasks_[0]->pipeline->AdvanceIdentity(identity_queue_->Clock(), &expired);
  for (const auto& late : expired.late_rejects) {
    SendDeadLetter(*lane_, pipeline::DeadLetter(late, config_.runtime.kafka.topics.dlq), late.reject);
  }
}

void Runner::Split(Task& task, std::unique_ptr<pipeline::PendingRecord> item, Lane& lane) {
  v1::TaskProgress& progress = task.progress;
  const pipeline::OwnedRecord& record = item->record;
  auto next = progress.split_next().find(record.topic);
  bool done = next != progress.split_next().end() && record.offset < next->second;
  bool to_account = WentToAccount(*item);
  lane.touched = true;
  task.split_since_start[record.topic] = record.offset + 1;
  if (!done) {
    (*progress.mutable_split_next())[record.topic] = record.offset + 1;
    if (item->reject.ok()) {
      progress.set_split_ms(std::max(progress.split_ms(), item->event_time_ms));
      pipeline::Record source = record.View();
      v1::StageRecord to;
      pipeline::Pipeline::Route route = task.pipeline->Split(item->signal, task.partition, &source, to.mutable_identity());
      to_account = route.account;
      if (route.identity) {
        to.set_producer(task.partition);
        to.set_order_ms(progress.split_ms());
        Send(lane, {identity_topic_, 0, std::to_string(task.partition), to.SerializeAsString(), {}});
      }
    }
  }
  if (!to_account) {
    // Sent on to the identity task only: this task is done with it.
    if (!done) {
      ++lane.signals;
      if (item->reject.ok()) metrics_->SignalsConsumed(record.topic, item->signal.type()).Increment();
    }
    task.merge->Release(std::move(item));
    return;
  }
  if (item->reject.ok()) task.own_queued_ms = std::max(task.own_queued_ms, item->event_time_ms);
  task.accounts->PushOwn(std::move(item), task.own_queued_ms);
}

void Runner::ProcessResolved(Task& task, const pipeline::Staged& staged, Lane& lane) {
  const v1::ResolvedSignal& resolved = staged.record.resolved();
  lane.touched = true;
  lane.scratch.clear();
  pipeline::Result result = task.pipeline->ApplyResolved(resolved, task.partition, &lane.scratch);
  if (result.outcome == pipeline::Outcome::kDuplicate) metrics_->Duplicates().Increment();
  SendOutputs(lane);
}

void Runner::Identify(Task& host, const pipeline::Staged& input, Lane& lane) {
  lane.touched = true;
  lane.scratch.clear();
  std::vector<v1::ResolvedSignal> resolved;
  pipeline::Result result =
      host.pipeline->Identify(input.record.identity(), input.record.order_ms(), &resolved, &lane.scratch);
  identity_done_.insert(input.offset);
  const std::string& dlq = config_.runtime.kafka.topics.dlq;
  if (result.outcome == pipeline::Outcome::kRejected) {
    pipeline::LateReject rejected{input.record.identity().signal(), result.reject};
    SendDeadLetter(lane, pipeline::DeadLetter(rejected, dlq), result.reject);
  }
  for (const auto& late : result.late_rejects) {
    SendDeadLetter(lane, pipeline::DeadLetter(late, dlq), late.reject);
  }
  for (auto& r : resolved) {
    v1::StageRecord to;
    to.set_producer(pipeline::kIdentityScope);
    to.set_order_ms(input.record.order_ms());
    std::string key = r.account_id();
    *to.mutable_resolved() = std::move(r);
    // By key, where a producer keyed by account puts the account's signals.
    Send(lane, {account_topic_, -1, std::move(key), to.SerializeAsString(), {}});
  }
  SendOutputs(lane);
}

void Runner::SendDeadLetter(Lane& lane, pipeline::OutRecord dead_letter, const ingest::Reject& reject) {
  Send(lane, std::move(dead_letter));
  metrics_->Rejected(ingest::RejectCodeName(reject.code)).Increment();
  ++lane.dead_letters[std::string(ingest::RejectCodeName(reject.code))];
  ++lane.rejected;
  lane.touched = true;
}

bool Runner::StageMarksChanged() {
  if (!global_) return false;
  if (stage_read_) return true;
  for (auto& [p, task] : tasks_) {
    if (SplitMark(*task) != task->sent_split_mark) return true;
  }
  return identity_queue_ && tasks_.count(0) && identity_queue_->Watermark() != identity_sent_mark_;
}

int64_t Runner::SplitMark(Task& task) {
  return task.accounts->own_mark() == pipeline::kAllRead ? pipeline::kAllRead : task.progress.split_ms();
}

void Runner::CommitStages() {
  stage_read_ = false;
  for (auto& [p, task] : tasks_) {
    int64_t mark = SplitMark(*task);
    if (mark != task->sent_split_mark) {
      v1::StageRecord m;
      m.set_producer(p);
      m.set_order_ms(mark);
      m.set_watermark(true);
      Send({identity_topic_, 0, std::to_string(p), m.SerializeAsString(), {}});
      task->sent_split_mark = mark;
    }
    // Offsets: a signal topic up to its first own signal not processed yet,
    // and never past what was split since the start. After a restart the
    // records from the committed offset to split_next are read again (own
    // signals among them still to be processed): until one is, the
    // committed offset stays where it was.
    std::map<std::string, int64_t> first_own = task->accounts->FirstOwnOffsets();
    for (const auto& [topic, next] : task->split_since_start) {
      auto it = first_own.find(topic);
      task->consumed[topic] = it == first_own.end() ? next : it->second;
    }
    int64_t first_resolved = task->accounts->FirstResolvedOffset();
    if (first_resolved >= 0 || task->account_read_next >= 0) {
      task->consumed[account_topic_] = first_resolved >= 0 ? first_resolved : task->account_read_next;
    }
    std::string progress = task->progress.SerializeAsString();
    if (progress != task->saved_progress) {
      task->store->PutIdentity(ProgressKey(p), progress);
      task->saved_progress = std::move(progress);
    }
  }
  auto host = tasks_.find(0);
  if (!identity_queue_ || host == tasks_.end()) return;
  int64_t mark = identity_queue_->Watermark();
  if (mark != identity_sent_mark_) {
    v1::StageRecord m;
    m.set_producer(pipeline::kIdentityScope);
    m.set_order_ms(mark);
    m.set_watermark(true);
    std::string value = m.SerializeAsString();
    int32_t partitions = seams_.source->PartitionCount(account_topic_);
    for (int32_t q = 0; q < partitions; ++q) Send({account_topic_, q, "", value, {}});
    identity_sent_mark_ = mark;
  }
  int64_t first = identity_queue_->FirstOffset();
  if (first < 0) first = identity_read_next_;
  v1::IdentityProgress progress;
  for (int64_t m : identity_queue_->MarksAtFirstOffset()) progress.add_marks(m);
  for (auto it = identity_done_.begin(); it != identity_done_.end();) {
    if (first >= 0 && *it < first) {
      it = identity_done_.erase(it);
    } else {
      progress.add_done(*it++);
    }
  }
  if (first >= 0) host->second->consumed[identity_topic_] = first;
  host->second->store->PutIdentity(ProgressKey(pipeline::kIdentityScope), progress.SerializeAsString());
}

}  // namespace demandcenter::runner
