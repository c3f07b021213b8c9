// Event-time order across a task's input partitions: Kafka Streams'
// partition group. A task reads partition p of every signal topic; each
// topic's records stay in offset order, and the task takes next the head
// with the smallest event time (ties: the topic listed first), provided no
// empty input could still hold a smaller one. `run` and `replay` both order
// their records through it, so the two agree with three signal topics.
//
// Takes: decoded records (owning their bytes), tagged with their topic's
// index; the config's signal topics. Gives: the next record to process, or
// "wait". Depends on: the Signal proto, ingest's Reject, the runtime
// config's topic names; no Kafka, no clock (the caller says which empty
// inputs may be passed over).
#ifndef DEMANDCENTER_PIPELINE_INPUT_MERGE_H_
#define DEMANDCENTER_PIPELINE_INPUT_MERGE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/config/runtime_config.h"
#include "demandcenter/ingest/decoder.h"
#include "demandcenter/pipeline/records.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::pipeline {

// The signal topics of a deployment, in config order (the merge's tie
// order), and the topic a producer writes each signal type to.
class SignalTopics {
 public:
  explicit SignalTopics(const config::KafkaTopics& topics);

  size_t size() const { return names_.size(); }
  const std::string& name(size_t index) const { return names_[index]; }
  // The index of `topic`, or nullopt when it is not a signal topic.
  std::optional<size_t> IndexOf(std::string_view topic) const;
  // Where a signal of `type` is produced: signals_by_type by the type's
  // prefix (before the first '.'), else the first topic.
  size_t IndexOfType(std::string_view type) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::pair<std::string, size_t>> by_prefix_;
};

// One buffered input record: its bytes and coordinates (for a dead letter),
// and its decoded signal or why it did not decode.
struct PendingRecord {
  OwnedRecord record;
  ingest::Reject reject;  // not ok: undecodable, dead-lettered when taken
  v1::Signal signal;      // when decoded
  int64_t event_time_ms = 0;
  // Its place in its account task's queue (identity.scope global).
  int64_t order_ms = 0;
};

// Not thread safe. Items are recycled: Take() hands out one to fill (a
// recycled item may still hold an earlier record: decoding into it clears
// its signal), Release() returns a processed one.
class InputMerge {
 public:
  explicit InputMerge(size_t topics) : queues_(topics) {}

  // An empty item to fill and Push.
  std::unique_ptr<PendingRecord> Take();
  // Appends a filled item to its topic's queue.
  void Push(size_t topic, std::unique_ptr<PendingRecord> item);

  // The topic whose head goes next, or nullopt to wait. An undecodable head
  // goes at once (it changes no state); otherwise the smallest event time
  // among the heads, if every empty topic `may_pass(topic)`.
  template <typename MayPass>
  std::optional<size_t> Next(MayPass may_pass) const;

  // Removes and returns the head of `topic`.
  std::unique_ptr<PendingRecord> Pop(size_t topic);
  void Release(std::unique_ptr<PendingRecord> item);

  bool empty(size_t topic) const { return queues_[topic].empty(); }
  size_t buffered() const { return buffered_; }
  // Drops every buffered record (after a rewind: they will be read again).
  void Clear();

 private:
  std::vector<std::deque<std::unique_ptr<PendingRecord>>> queues_;
  std::vector<std::unique_ptr<PendingRecord>> free_;
  size_t buffered_ = 0;
};

template <typename MayPass>
std::optional<size_t> InputMerge::Next(MayPass may_pass) const {
  if (buffered_ == 0) return std::nullopt;
  std::optional<size_t> best;
  for (size_t t = 0; t < queues_.size(); ++t) {
    if (queues_[t].empty()) continue;
    const PendingRecord& head = *queues_[t].front();
    if (!head.reject.ok()) return t;
    if (!best || head.event_time_ms < queues_[*best].front()->event_time_ms) best = t;
  }
  if (!best) return std::nullopt;
  for (size_t t = 0; t < queues_.size(); ++t) {
    if (queues_[t].empty() && !may_pass(t)) return std::nullopt;
  }
  return best;
}

}  // namespace demandcenter::pipeline

#endif  // DEMANDCENTER_PIPELINE_INPUT_MERGE_H_
