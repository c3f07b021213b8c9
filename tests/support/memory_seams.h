// The runner's seams in memory: a broker with topics, partitions,
// transactions and a consumer group's committed offsets; a source, a
// transactional sink and a changelog reader over it; partition stores whose
// key-value data outlives the runner (a local disk across a crash). Failures
// are injected per call. Everything is deterministic: no threads, no real
// time.
#ifndef DEMANDCENTER_TESTS_SUPPORT_MEMORY_SEAMS_H_
#define DEMANDCENTER_TESTS_SUPPORT_MEMORY_SEAMS_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "demandcenter/runner/seams.h"
#include "demandcenter/state/kv_store.h"
#include "support/manual_clock.h"
#include "support/memory_kv_store.h"

namespace demandcenter::testing {

// Topics, partitions, transactions and one consumer group's offsets.
class MemoryBroker {
 public:
  struct Message {
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
    int64_t timestamp_ms = 0;
    int64_t txn = 0;  // 0: written outside any transaction
    bool tombstone = false;  // a null value
  };

  void CreateTopic(const std::string& topic, int32_t partitions);
  int32_t Partitions(const std::string& topic) const;

  // A record written outside transactions (an ordinary producer's).
  int64_t Append(const std::string& topic, int32_t partition, Message message);

  // Transactions of the producer with `transactional_id`. Starting a
  // producer aborts its predecessor's open transaction (fencing).
  void InitProducer(const std::string& transactional_id);
  int64_t BeginTxn(const std::string& transactional_id);
  int64_t AppendInTxn(int64_t txn, const std::string& topic, int32_t partition, Message message);
  void CommitTxn(int64_t txn, const runner::Offsets& offsets);
  void AbortTxn(int64_t txn);

  // What a read_committed consumer sees of a partition from `from`: stops
  // at the first record of a transaction still open, skips aborted ones.
  // Each with its offset; the messages stay valid as long as the broker.
  std::vector<std::pair<int64_t, const Message*>> ReadCommitted(const std::string& topic, int32_t partition,
                                                                int64_t from, size_t max = SIZE_MAX) const;
  // The end of the partition (its next offset).
  int64_t EndOffset(const std::string& topic, int32_t partition) const;
  // The group's committed offset, if any.
  std::optional<int64_t> CommittedOffset(const std::string& topic, int32_t partition) const;

 private:
  enum class TxnState { kOpen, kCommitted, kAborted };
  const std::deque<Message>& Log(const std::string& topic, int32_t partition) const;

  std::map<std::string, std::vector<std::deque<Message>>> topics_;
  std::map<int64_t, TxnState> txns_;
  std::map<std::string, int64_t> open_txn_of_;  // transactional id -> open txn
  runner::Offsets group_offsets_;
  int64_t next_txn_ = 1;
};

// A call of a seam a test can make fail.
enum class SeamCall { kBegin, kFlush, kCommit, kAbort, kReset, kRewind };

// Failures to inject: the next `times` calls of a kind return `status`.
class Faults {
 public:
  void FailNext(SeamCall call, absl::Status status, int times = 1) {
    for (int i = 0; i < times; ++i) pending_[call].push_back(status);
  }
  // The injected failure for this call, or OK.
  absl::Status Take(SeamCall call);
  void Clear() { pending_.clear(); }
  int calls(SeamCall call) const {
    auto it = calls_.find(call);
    return it == calls_.end() ? 0 : it->second;
  }

 private:
  std::map<SeamCall, std::deque<absl::Status>> pending_;
  std::map<SeamCall, int> calls_;
};

// Reads every partition of the topics (all assigned to this instance), one
// record per call, partition by partition in turn. Each record handed out
// moves the clock by 1 ms; an empty poll waits out its timeout on it.
class MemorySource : public runner::Source {
 public:
  MemorySource(MemoryBroker* broker, std::vector<std::string> topics, ManualClock* clock, Faults* faults)
      : broker_(broker), topics_(std::move(topics)), clock_(clock), faults_(faults) {}

  void SetListener(Listener* listener) override { listener_ = listener; }
  std::optional<pipeline::Record> Poll(int timeout_ms) override;
  bool CaughtUp(const std::string& topic, int32_t partition) override;
  bool Pause(const std::string& topic, int32_t partition, bool paused) override;
  absl::Status Rewind() override;
  int32_t PartitionCount(const std::string& topic) override { return broker_->Partitions(topic); }
  void Close() override { closed_ = true; }

  // The group takes the partitions away (lost: without a chance to
  // commit); the next Poll assigns them again.
  void Rebalance(bool lost);
  // Every record up to the end of every partition has been handed out.
  bool Drained() const;
  bool closed() const { return closed_; }
  // How many times a partition was paused; how many are paused now.
  int pauses() const { return pauses_; }
  size_t paused_now() const { return paused_.size(); }
  // Looks the committed offsets up only at the `polls`-th poll after an
  // assignment, as a Kafka consumer fetches them in the background: a
  // commit made meanwhile moves where it starts reading.
  void FetchPositionsAfter(int polls) { fetch_after_ = polls; }

 private:
  void Assign();

  MemoryBroker* broker_;
  std::vector<std::string> topics_;
  ManualClock* clock_;
  Faults* faults_;
  Listener* listener_ = nullptr;
  bool assigned_ = false;
  bool closed_ = false;
  std::map<std::pair<std::string, int32_t>, int64_t> positions_;  // -1: not known yet
  int fetch_after_ = 0;
  int polls_to_fetch_ = 0;
  size_t next_ = 0;  // round-robin cursor over positions_
  std::set<std::pair<std::string, int32_t>> paused_;
  int pauses_ = 0;
  std::pair<std::string, int32_t> current_;
};

// A transactional producer with the id `transactional_id`. Records without
// a partition go where the key's murmur2 hash maps, like a Kafka producer.
class MemorySink : public runner::Sink {
 public:
  MemorySink(MemoryBroker* broker, std::string transactional_id, Faults* faults)
      : broker_(broker), id_(std::move(transactional_id)), faults_(faults) {}

  absl::Status Begin() override;
  void Send(const pipeline::OutRecord& record) override;
  void Poll() override {}
  absl::Status Flush() override { return faults_->Take(SeamCall::kFlush); }
  int64_t LastOffset(const std::string& topic, int32_t partition) const override;
  absl::Status Commit(const runner::Offsets& offsets) override;
  absl::Status Abort() override;
  absl::Status Reset() override;

 private:
  MemoryBroker* broker_;
  std::string id_;
  Faults* faults_;
  int64_t txn_ = 0;
  std::map<std::pair<std::string, int32_t>, int64_t> acked_;
};

// A changelog topic of the broker, read in batches of `batch` records.
class MemoryChangelog : public runner::Changelog {
 public:
  MemoryChangelog(const MemoryBroker* broker, std::string topic, size_t batch = 100)
      : broker_(broker), topic_(std::move(topic)), batch_(batch) {}
  absl::StatusOr<Range> Restore(int32_t partition, int64_t from,
                                const std::function<absl::Status(Batch batch)>& apply) override;

 private:
  const MemoryBroker* broker_;
  std::string topic_;
  size_t batch_;
};

// Local disks: one MemoryKvStore per partition, kept across runners.
class MemoryDisks {
 public:
  runner::StoreFactory Factory(size_t cache_accounts = 1000);
  MemoryKvStore& Disk(int32_t partition) { return disks_[partition]; }
  // A machine that lost its disks: the next stores start empty.
  void Wipe() { disks_.clear(); }
  // Makes the next `times` opens of a store fail with `error` (a full disk).
  void FailOpens(absl::Status error, int times) {
    open_error_ = std::move(error);
    open_failures_left_ = times;
  }
  int opens() const { return opens_; }

 private:
  std::map<int32_t, MemoryKvStore> disks_;
  absl::Status open_error_;
  int open_failures_left_ = 0;
  int opens_ = 0;
};

}  // namespace demandcenter::testing

#endif  // DEMANDCENTER_TESTS_SUPPORT_MEMORY_SEAMS_H_
