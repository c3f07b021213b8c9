// The in-memory broker and the seams over it.
#include "support/memory_seams.h"

#include <algorithm>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "support/shared_kv.h"

namespace demandcenter::testing {

// ---------------------------------------------------------------- broker

void MemoryBroker::CreateTopic(const std::string& topic, int32_t partitions) {
  topics_[topic].resize(static_cast<size_t>(partitions));
}

int32_t MemoryBroker::Partitions(const std::string& topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : static_cast<int32_t>(it->second.size());
}

const std::deque<MemoryBroker::Message>& MemoryBroker::Log(const std::string& topic, int32_t partition) const {
  return topics_.at(topic).at(static_cast<size_t>(partition));
}

int64_t MemoryBroker::Append(const std::string& topic, int32_t partition, Message message) {
  auto& log = topics_.at(topic).at(static_cast<size_t>(partition));
  message.txn = 0;
  log.push_back(std::move(message));
  return static_cast<int64_t>(log.size()) - 1;
}

void MemoryBroker::InitProducer(const std::string& transactional_id) {
  auto it = open_txn_of_.find(transactional_id);
  if (it == open_txn_of_.end()) return;
  txns_[it->second] = TxnState::kAborted;
  open_txn_of_.erase(it);
}

int64_t MemoryBroker::BeginTxn(const std::string& transactional_id) {
  int64_t txn = next_txn_++;
  txns_[txn] = TxnState::kOpen;
  open_txn_of_[transactional_id] = txn;
  return txn;
}

int64_t MemoryBroker::AppendInTxn(int64_t txn, const std::string& topic, int32_t partition, Message message) {
  auto& log = topics_.at(topic).at(static_cast<size_t>(partition));
  message.txn = txn;
  log.push_back(std::move(message));
  return static_cast<int64_t>(log.size()) - 1;
}

void MemoryBroker::CommitTxn(int64_t txn, const runner::Offsets& offsets) {
  txns_[txn] = TxnState::kCommitted;
  for (auto it = open_txn_of_.begin(); it != open_txn_of_.end();) {
    it = it->second == txn ? open_txn_of_.erase(it) : std::next(it);
  }
  for (const auto& [where, next] : offsets) group_offsets_[where] = next;
}

void MemoryBroker::AbortTxn(int64_t txn) {
  txns_[txn] = TxnState::kAborted;
  for (auto it = open_txn_of_.begin(); it != open_txn_of_.end();) {
    it = it->second == txn ? open_txn_of_.erase(it) : std::next(it);
  }
}

std::vector<std::pair<int64_t, const MemoryBroker::Message*>> MemoryBroker::ReadCommitted(
    const std::string& topic, int32_t partition, int64_t from, size_t max) const {
  std::vector<std::pair<int64_t, const Message*>> out;
  const auto& log = Log(topic, partition);
  for (int64_t offset = std::max<int64_t>(from, 0); offset < static_cast<int64_t>(log.size()) && out.size() < max;
       ++offset) {
    const Message& m = log[static_cast<size_t>(offset)];
    if (m.txn != 0) {
      TxnState state = txns_.at(m.txn);
      if (state == TxnState::kOpen) break;  // the last stable offset
      if (state == TxnState::kAborted) continue;
    }
    out.emplace_back(offset, &m);
  }
  return out;
}

int64_t MemoryBroker::EndOffset(const std::string& topic, int32_t partition) const {
  return static_cast<int64_t>(Log(topic, partition).size());
}

std::optional<int64_t> MemoryBroker::CommittedOffset(const std::string& topic, int32_t partition) const {
  auto it = group_offsets_.find({topic, partition});
  if (it == group_offsets_.end()) return std::nullopt;
  return it->second;
}

absl::Status Faults::Take(SeamCall call) {
  ++calls_[call];
  auto& queue = pending_[call];
  if (queue.empty()) return absl::OkStatus();
  absl::Status s = queue.front();
  queue.pop_front();
  return s;
}

// ---------------------------------------------------------------- source

void MemorySource::Assign() {
  std::vector<int32_t> partitions;
  for (int32_t p = 0; p < broker_->Partitions(topics_.front()); ++p) partitions.push_back(p);
  if (listener_ != nullptr) listener_->OnAssigned(partitions);
  assigned_ = true;
  positions_.clear();
  paused_.clear();
  for (const auto& t : topics_) {
    for (int32_t p : partitions) {
      if (p < broker_->Partitions(t)) positions_[{t, p}] = -1;
    }
  }
  polls_to_fetch_ = fetch_after_;
}

std::optional<pipeline::Record> MemorySource::Poll(int timeout_ms) {
  if (!assigned_) Assign();
  if (polls_to_fetch_ > 0 && --polls_to_fetch_ > 0) {
    clock_->Advance(timeout_ms);
    return std::nullopt;
  }
  for (auto& [where, position] : positions_) {
    if (position < 0) position = broker_->CommittedOffset(where.first, where.second).value_or(0);
  }
  for (size_t tried = 0; tried < positions_.size(); ++tried) {
    auto it = std::next(positions_.begin(), static_cast<long>((next_ + tried) % positions_.size()));
    if (paused_.count(it->first)) continue;
    auto records = broker_->ReadCommitted(it->first.first, it->first.second, it->second, 1);
    if (records.empty()) continue;
    next_ = (next_ + tried + 1) % positions_.size();
    auto [offset, message] = records.front();
    it->second = offset + 1;
    current_ = it->first;
    clock_->Advance(1);
    pipeline::Record r;
    r.value = message->value;
    r.key = message->key;
    r.topic = current_.first;
    r.partition = current_.second;
    r.offset = offset;
    r.timestamp_ms = message->timestamp_ms;
    return r;
  }
  clock_->Advance(timeout_ms);
  return std::nullopt;
}

bool MemorySource::Pause(const std::string& topic, int32_t partition, bool paused) {
  if (!positions_.count({topic, partition})) return false;  // not assigned
  if (!paused) {
    paused_.erase({topic, partition});
  } else if (paused_.insert({topic, partition}).second) {
    ++pauses_;
  }
  return true;
}

bool MemorySource::CaughtUp(const std::string& topic, int32_t partition) {
  auto it = positions_.find({topic, partition});
  return it != positions_.end() && it->second >= 0 && broker_->ReadCommitted(topic, partition, it->second, 1).empty();
}

absl::Status MemorySource::Rewind() {
  absl::Status s = faults_->Take(SeamCall::kRewind);
  if (!s.ok()) return s;
  for (auto& [where, position] : positions_) {
    position = broker_->CommittedOffset(where.first, where.second).value_or(0);
  }
  return absl::OkStatus();
}

void MemorySource::Rebalance(bool lost) {
  if (listener_ != nullptr) listener_->OnRevoked(lost);
  assigned_ = false;
  positions_.clear();
}

bool MemorySource::Drained() const {
  if (!assigned_) return false;
  for (const auto& [where, position] : positions_) {
    if (position < 0 || !broker_->ReadCommitted(where.first, where.second, position, 1).empty()) return false;
  }
  return true;
}

// ---------------------------------------------------------------- sink

absl::Status MemorySink::Reset() {
  absl::Status s = faults_->Take(SeamCall::kReset);
  if (!s.ok()) return s;
  broker_->InitProducer(id_);
  txn_ = 0;
  acked_.clear();
  return absl::OkStatus();
}

absl::Status MemorySink::Begin() {
  absl::Status s = faults_->Take(SeamCall::kBegin);
  if (!s.ok()) return s;
  txn_ = broker_->BeginTxn(id_);
  acked_.clear();
  return absl::OkStatus();
}

void MemorySink::Send(const pipeline::OutRecord& r) {
  int32_t partition = r.partition >= 0 ? r.partition
                                       : PartitionForKey(r.key, broker_->Partitions(r.topic), Partitioner::kMurmur2);
  MemoryBroker::Message m{r.key, r.value, r.headers, 0, 0, r.tombstone};
  int64_t offset = broker_->AppendInTxn(txn_, r.topic, partition, std::move(m));
  int64_t& last = acked_.try_emplace({r.topic, partition}, -1).first->second;
  last = std::max(last, offset);
}

int64_t MemorySink::LastOffset(const std::string& topic, int32_t partition) const {
  auto it = acked_.find({topic, partition});
  return it == acked_.end() ? -1 : it->second;
}

absl::Status MemorySink::Commit(const runner::Offsets& offsets) {
  absl::Status s = faults_->Take(SeamCall::kCommit);
  if (!s.ok()) return s;
  broker_->CommitTxn(txn_, offsets);
  txn_ = 0;
  return absl::OkStatus();
}

absl::Status MemorySink::Abort() {
  absl::Status s = faults_->Take(SeamCall::kAbort);
  if (!s.ok()) return s;
  broker_->AbortTxn(txn_);
  txn_ = 0;
  acked_.clear();
  return absl::OkStatus();
}

// ---------------------------------------------------------------- changelog

absl::StatusOr<runner::Changelog::Range> MemoryChangelog::Restore(
    int32_t partition, int64_t from, const std::function<absl::Status(Batch batch)>& apply) {
  Range range{from, broker_->EndOffset(topic_, partition), 0};
  if (range.from >= range.end) return range;
  int64_t position = from;
  for (;;) {
    auto records = broker_->ReadCommitted(topic_, partition, position, batch_);
    Batch batch;
    for (const auto& [offset, m] : records) {
      batch.records.push_back({m->key, m->value});
      position = offset + 1;
    }
    if (records.empty()) break;
    range.records += static_cast<int64_t>(batch.records.size());
    batch.next_offset = position;
    absl::Status s = apply(std::move(batch));
    if (!s.ok()) return s;
  }
  // The end, past aborted records (nothing is left open: the new producer
  // fenced its predecessor before any restore).
  Batch end;
  end.next_offset = range.end;
  absl::Status s = apply(std::move(end));
  if (!s.ok()) return s;
  return range;
}

// ---------------------------------------------------------------- stores

runner::StoreFactory MemoryDisks::Factory(size_t cache_accounts) {
  return [this, cache_accounts](int32_t partition) -> absl::StatusOr<std::unique_ptr<state::PartitionStore>> {
    ++opens_;
    if (open_failures_left_ > 0) {
      --open_failures_left_;
      return open_error_;
    }
    return std::make_unique<state::PartitionStore>(std::make_unique<SharedKv>(&disks_[partition]), cache_accounts);
  };
}

}  // namespace demandcenter::testing
