// InputMerge: per-topic queues, the smallest event time first.
#include "demandcenter/pipeline/input_merge.h"

#include <utility>

namespace demandcenter::pipeline {

SignalTopics::SignalTopics(const config::KafkaTopics& topics) : names_(topics.signals) {
  for (const auto& [prefix, topic] : topics.signals_by_type) {
    if (auto index = IndexOf(topic)) by_prefix_.emplace_back(prefix, *index);
  }
}

std::optional<size_t> SignalTopics::IndexOf(std::string_view topic) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == topic) return i;
  }
  return std::nullopt;
}

size_t SignalTopics::IndexOfType(std::string_view type) const {
  std::string_view prefix = type.substr(0, type.find('.'));
  for (const auto& [p, index] : by_prefix_) {
    if (p == prefix) return index;
  }
  return 0;
}

std::unique_ptr<PendingRecord> InputMerge::Take() {
  if (free_.empty()) return std::make_unique<PendingRecord>();
  std::unique_ptr<PendingRecord> item = std::move(free_.back());
  free_.pop_back();
  return item;
}

void InputMerge::Push(size_t topic, std::unique_ptr<PendingRecord> item) {
  queues_[topic].push_back(std::move(item));
  ++buffered_;
}

std::unique_ptr<PendingRecord> InputMerge::Pop(size_t topic) {
  std::unique_ptr<PendingRecord> item = std::move(queues_[topic].front());
  queues_[topic].pop_front();
  --buffered_;
  return item;
}

void InputMerge::Release(std::unique_ptr<PendingRecord> item) {
  // Kept as it is, allocated fields and all: DecodeSignal clears the signal
  // before it fills it, so clearing here too would do the work twice.
  item->reject = {};
  if (free_.size() < 1024) free_.push_back(std::move(item));
}

void InputMerge::Clear() {
  for (auto& q : queues_) {
    for (auto& item : q) {
      item->signal.Clear();
      Release(std::move(item));
    }
    q.clear();
  }
  buffered_ = 0;
}

}  // namespace demandcenter::pipeline
