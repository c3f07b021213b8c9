// IdentityQueue and AccountQueue: inputs in an order the data alone sets.
#include "demandcenter/pipeline/stage_queues.h"

#include <algorithm>
#include <utility>

namespace demandcenter::pipeline {

void IdentityQueue::Push(v1::StageRecord record, int64_t offset) {
  size_t producer = static_cast<size_t>(record.producer());
  if (producer >= marks_.size()) marks_.resize(producer + 1, 0);
  if (record.has_watermark()) {
    marks_[producer] = record.order_ms();
    return;
  }
  std::vector<int64_t> before = marks_;
  marks_[producer] = std::max(marks_[producer], record.order_ms());
  const v1::IdentityInput& input = record.identity();
  Key key{record.order_ms(), input.signal().signal().event_id(), static_cast<int>(input.kind()), arrivals_++};
  queue_.emplace(std::move(key), Staged{std::move(record), offset, std::move(before)});
}

int64_t IdentityQueue::Watermark() const {
  return marks_.empty() ? 0 : *std::min_element(marks_.begin(), marks_.end());
}

std::optional<Staged> IdentityQueue::Pop() {
  if (queue_.empty() || std::get<0>(queue_.begin()->first) >= Watermark()) return std::nullopt;
  auto node = queue_.extract(queue_.begin());
  return std::move(node.mapped());
}

int64_t IdentityQueue::Clock() {
  int64_t least = kAllRead;
  for (int64_t mark : marks_) {
    if (mark != kAllRead) least = std::min(least, mark);
  }
  if (least != kAllRead) clock_ = std::max(clock_, least);
  return clock_;
}

int64_t IdentityQueue::FirstOffset() const {
  int64_t first = -1;
  for (const auto& [key, staged] : queue_) {
    if (first < 0 || staged.offset < first) first = staged.offset;
  }
  return first;
}

std::vector<int64_t> IdentityQueue::MarksAtFirstOffset() const {
  const Staged* first = nullptr;
  for (const auto& [key, staged] : queue_) {
    if (first == nullptr || staged.offset < first->offset) first = &staged;
  }
  return first == nullptr ? marks_ : first->marks_before;
}

void IdentityQueue::SetMarks(std::vector<int64_t> marks) {
  marks.resize(std::max(marks.size(), marks_.size()), 0);
  marks_ = std::move(marks);
}

void IdentityQueue::Clear() {
  std::fill(marks_.begin(), marks_.end(), 0);
  queue_.clear();
}

void AccountQueue::PushOwn(std::unique_ptr<PendingRecord> item, int64_t order_ms) {
  item->order_ms = order_ms;
  own_.push_back({std::move(item), order_ms});
}

void AccountQueue::PushResolved(v1::StageRecord record, int64_t offset) {
  if (record.has_watermark()) {
    identity_mark_ = record.order_ms();
    return;
  }
  int64_t before = identity_mark_;
  identity_mark_ = std::max(identity_mark_, record.order_ms());
  resolved_.push_back({std::move(record), offset, {before}});
}

AccountQueue::Next AccountQueue::Peek() const {
  if (!own_.empty()) {
    int64_t own = own_.front().order_ms;
    // Resolved signals at the same time come after the task's own.
    if (!resolved_.empty() && resolved_.front().record.order_ms() < own) return Next::kResolved;
    // Nothing earlier may still come from the identity task.
    return identity_mark_ >= own || !resolved_.empty() ? Next::kOwn : Next::kWait;
  }
  if (!resolved_.empty() && resolved_.front().record.order_ms() < own_mark_) return Next::kResolved;
  return Next::kWait;
}

std::unique_ptr<PendingRecord> AccountQueue::PopOwn() {
  std::unique_ptr<PendingRecord> item = std::move(own_.front().item);
  own_.pop_front();
  return item;
}

std::map<std::string, int64_t> AccountQueue::FirstOwnOffsets() const {
  std::map<std::string, int64_t> first;
  for (const auto& own : own_) first.emplace(own.item->record.topic, own.item->record.offset);
  return first;
}

Staged AccountQueue::PopResolved() {
  Staged r = std::move(resolved_.front());
  resolved_.pop_front();
  return r;
}

void AccountQueue::Clear() {
  own_.clear();
  resolved_.clear();
  own_mark_ = std::numeric_limits<int64_t>::min();
  identity_mark_ = std::numeric_limits<int64_t>::min();
}

}  // namespace demandcenter::pipeline
