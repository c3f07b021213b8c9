// The state of one partition task: a write-back cache of accounts and
// identities over a KvStore (RocksDB in `run`). Changes collect in the cache
// while a transaction is open; after the Kafka transaction that carries them
// (as changelog records) commits, they are written to the KvStore in one
// batch together with the checkpoint (changelog offset, input offsets,
// stream time). The store is therefore consistent at every instant, and
// fsync can stay off: the changelog is the durability. After a machine crash
// the store may be at an earlier checkpoint and simply restores a longer
// changelog tail.
#ifndef DEMANDCENTER_STATE_PARTITION_STORE_H_
#define DEMANDCENTER_STATE_PARTITION_STORE_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "demandcenter/state/kv_store.h"
#include "demandcenter/state/state_store.h"

namespace demandcenter::state {

// What the store has durably applied. Offsets are "next offset to read".
struct Checkpoint {
  // Next changelog offset to restore from (0 = from the beginning).
  int64_t changelog_next = 0;
  // Input topic -> next offset, for this partition.
  std::map<std::string, int64_t> input_next;
  // The partition's stream time (max event time seen), Unix ms.
  int64_t stream_time_ms = 0;
};

// One changelog record: the store key and its new value (empty = deleted).
// A changelog record; an empty value deletes the key (sent as a tombstone).
struct ChangeRecord {
  std::string key;
  std::string value;
};

// Changelog / store keys.
std::string AccountKey(const std::string& account_id);  // "a/<id>"
std::string IdentityStoreKey(const std::string& key);   // "i/<key>"
inline constexpr char kStreamTimeKey[] = "m/stream_time";

// The accounts an instance keeps in memory (state.cache_accounts), shared
// by its open partition stores: each keeps at most an equal share between
// commits. Stores register and leave as partitions are assigned and
// revoked.
class CacheBudget {
 public:
  explicit CacheBudget(size_t accounts) : accounts_(accounts) {}
  void Join() { ++stores_; }
  void Leave() { --stores_; }
  // At least 1.
  size_t PerStore() const { return std::max<size_t>(1, accounts_ / std::max(1, stores_.load())); }

 private:
  const size_t accounts_;
  std::atomic<int> stores_{0};
};

// Not thread safe: owned by the partition's task.
class PartitionStore : public StateStore {
 public:
  // `cache_accounts` bounds the clean accounts kept in memory between
  // commits (at least 1), for this store alone.
  PartitionStore(std::unique_ptr<KvStore> kv, size_t cache_accounts);
  // An equal share of `budget`, with the instance's other stores.
  PartitionStore(std::unique_ptr<KvStore> kv, std::shared_ptr<CacheBudget> budget);
  ~PartitionStore() override;

  // StateStore. Find returns cached or stored state; pointers stay valid
  // until Commit, Discard or an eviction (only at Commit).
  v1::AccountState* Find(const std::string& account_id) override;
  v1::AccountState* Insert(v1::AccountState state) override;
  void MarkDirty(const std::string& account_id) override;
  void EraseAccount(const std::string& account_id) override;
  std::optional<std::string> ResolveIdentity(const std::string& key) override;
  void PutIdentity(const std::string& key, const std::string& account_id) override;
  void ForEachIdentity(const std::string& prefix,
                       const std::function<void(const std::string& key, const std::string& value)>& visit) override;
  size_t AccountCount() const override;
  void ForEachAccount(const std::function<void(const v1::AccountState&)>& visit) const override;

  // The changes since the last Commit/Discard, as changelog records
  // (accounts serialised deterministically), stream time included.
  std::vector<ChangeRecord> PendingChanges(int64_t stream_time_ms) const;
  // Visits the accounts changed since the last Commit/Discard: their new
  // state, or null for an erased one.
  void ForEachPending(const std::function<void(const std::string& id, const v1::AccountState* state)>& visit) const;
  bool HasPendingChanges() const { return !dirty_.empty() || !dirty_identities_.empty(); }

  // The first read error since the last Commit or Discard. While it is set,
  // the pending changes may rest on a wrong read: the caller must abort its
  // transaction and Discard (Commit refuses with this error).
  const absl::Status& error() const { return error_; }

  // Writes `changes` and `checkpoint` in one batch, marks the cache clean
  // and evicts clean accounts beyond the cache size.
  absl::Status Commit(const std::vector<ChangeRecord>& changes, const Checkpoint& checkpoint);

  // After a write failed for lack of space or an I/O error: see
  // KvStore::Recover.
  absl::Status Recover() { return kv_->Recover(); }

  // Drops every uncommitted change (after an aborted transaction).
  void Discard();

  // Drops every uncommitted change and every cached account and identity:
  // the next reads come from the KvStore. Needed before a restore, when
  // another instance may have changed the partition since this store last
  // owned it.
  void ClearCache();

  // Applies restored changelog records and the new checkpoint in one batch.
  absl::Status ApplyRestored(const std::vector<ChangeRecord>& records, const Checkpoint& checkpoint);
  Checkpoint ReadCheckpoint() const;

  // Cache statistics (for metrics).
  int64_t cache_hits() const { return cache_hits_; }
  int64_t cache_misses() const { return cache_misses_; }
  size_t cached_accounts() const { return cache_.size(); }
  // Approximate stored size in bytes.
  uint64_t ApproximateSize() const { return kv_->ApproximateBytes(); }

 private:
  void Evict();

  struct Entry {
    v1::AccountState state;
    bool dirty = false;
    // Erased in the open transaction: written as a tombstone.
    bool erased = false;
  };
  // Sets the account's entry to `state` (erased or not) and marks it dirty,
  // keeping its dirty mark: an id is listed once per transaction.
  Entry& Replace(const std::string& account_id, v1::AccountState state, bool erased);
  std::unique_ptr<KvStore> kv_;
  std::shared_ptr<CacheBudget> budget_;
  std::unordered_map<std::string, Entry> cache_;
  std::vector<std::string> dirty_;  // account ids, in first-dirtied order
  std::unordered_map<std::string, std::string> identities_;  // cache
  std::vector<std::pair<std::string, std::string>> dirty_identities_;
  // Key -> its entry in dirty_identities_ (a key written twice is sent once).
  std::unordered_map<std::string, size_t> dirty_identity_slot_;
  absl::Status error_;
  int64_t cache_hits_ = 0;
  int64_t cache_misses_ = 0;
};

}  // namespace demandcenter::state

#endif  // DEMANDCENTER_STATE_PARTITION_STORE_H_
