// The order of a task's inputs when identity is global (identity.scope:
// global), so that every task takes its inputs in one order that depends on
// the data alone, however the records were fetched — and replay, which
// models the same queues, writes what `run` commits.
//
// Three kinds of task input, each with an order time (StageRecord.order_ms):
// - a task's own signals, split as they leave its input merge (their event
//   time, never less than the one split before);
// - the identity task's inputs, from every task: taken in (order time,
//   event id, kind) order once every producer's watermark is past them;
// - the signals the identity task resolved to an account: merged with the
//   account task's own signals, its own first at equal times, once the
//   identity task's watermark says nothing earlier can come.
//
// Takes: split signals, StageRecords (inputs, resolved signals,
// watermarks). Gives: the next input to process, or "wait"; the watermarks
// to send. Depends on: the topology proto, the input merge's PendingRecord.
#ifndef DEMANDCENTER_PIPELINE_STAGE_QUEUES_H_
#define DEMANDCENTER_PIPELINE_STAGE_QUEUES_H_

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "demandcenter/pipeline/input_merge.h"
#include "demandcenter/v1/topology.pb.h"

namespace demandcenter::pipeline {

// A watermark past every time: the producer's inputs are all read.
inline constexpr int64_t kAllRead = std::numeric_limits<int64_t>::max();

// A StageRecord and where it was read (its offset in its internal topic;
// -1 in replay).
struct Staged {
  v1::StageRecord record;
  int64_t offset = -1;
  // The marks in force when it was read: what a restart from its offset
  // may assume (a later mark is read again after it).
  std::vector<int64_t> marks_before;
};

// The identity task's inputs from every producer. Not thread safe.
class IdentityQueue {
 public:
  explicit IdentityQueue(int32_t producers) : marks_(static_cast<size_t>(producers), 0) {}

  // An identity input or a watermark (which sets its producer's mark; an
  // input raises it to its own time).
  void Push(v1::StageRecord record, int64_t offset = -1);
  // The next input, or nullopt while some producer could still send an
  // earlier one.
  std::optional<Staged> Pop();
  // The identity task's clock for waiting signals: how far every producer
  // still sending has come (never back; a producer that has read all its
  // input does not move it).
  int64_t Clock();
  // The smallest offset of an input still buffered (-1: none).
  int64_t FirstOffset() const;
  // A producer's mark (0: none yet); SetMarks restores them.
  const std::vector<int64_t>& marks() const { return marks_; }
  // The marks to keep with a commit whose input offset is FirstOffset():
  // those in force when that input was read (the current ones when none
  // is buffered).
  std::vector<int64_t> MarksAtFirstOffset() const;
  void SetMarks(std::vector<int64_t> marks);
  // The identity task's watermark once Pop has nothing left: it will send
  // nothing earlier.
  int64_t Watermark() const;
  size_t buffered() const { return queue_.size(); }
  void Clear();

 private:
  // (order time, event id, kind, arrival): arrival only splits records
  // alike in all the rest.
  using Key = std::tuple<int64_t, std::string, int, uint64_t>;
  std::vector<int64_t> marks_;
  std::map<Key, Staged> queue_;
  uint64_t arrivals_ = 0;
  int64_t clock_ = 0;
};

// An account task's own split signals and the signals the identity task
// resolved to it. Not thread safe.
class AccountQueue {
 public:
  // A signal of the task's own, in its queue at `order_ms` (non-decreasing;
  // also set as item->order_ms).
  void PushOwn(std::unique_ptr<PendingRecord> item, int64_t order_ms);
  // A resolved signal or the identity task's watermark.
  void PushResolved(v1::StageRecord record, int64_t offset = -1);
  int64_t identity_mark() const { return identity_mark_; }
  // The identity task's mark to keep with a commit whose input offset is
  // FirstResolvedOffset(): the one in force when that record was read.
  int64_t IdentityMarkAtFirstOffset() const {
    return resolved_.empty() ? identity_mark_ : resolved_.front().marks_before.front();
  }
  void SetIdentityMark(int64_t order_ms) { identity_mark_ = order_ms; }
  // Every own signal still to come will be split at `order_ms` or later
  // (kAllRead: none will come).
  void SetOwnMark(int64_t order_ms) { own_mark_ = order_ms; }
  int64_t own_mark() const { return own_mark_; }

  enum class Next { kWait, kOwn, kResolved };
  Next Peek() const;
  std::unique_ptr<PendingRecord> PopOwn();
  Staged PopResolved();
  // Where the buffered inputs were read: per topic, the smallest offset of
  // an own signal; the smallest of a resolved one (-1: none).
  std::map<std::string, int64_t> FirstOwnOffsets() const;
  int64_t FirstResolvedOffset() const { return resolved_.empty() ? -1 : resolved_.front().offset; }

  size_t buffered() const { return own_.size() + resolved_.size(); }
  size_t own_buffered() const { return own_.size(); }
  // Drops what is buffered and the marks (after a rewind).
  void Clear();

 private:
  struct Own {
    std::unique_ptr<PendingRecord> item;
    int64_t order_ms;
  };
  std::deque<Own> own_;
  std::deque<Staged> resolved_;
  int64_t own_mark_ = std::numeric_limits<int64_t>::min();
  int64_t identity_mark_ = std::numeric_limits<int64_t>::min();
};

}  // namespace demandcenter::pipeline

#endif  // DEMANDCENTER_PIPELINE_STAGE_QUEUES_H_
