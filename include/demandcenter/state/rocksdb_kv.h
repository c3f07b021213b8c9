// RocksDB under a partition's state: the KvStore `run` uses. The WAL is
// written without fsync, so a killed process loses nothing; a machine crash
// may lose the latest batches, which leaves the store at an earlier,
// consistent checkpoint (state/partition_store.h).
#ifndef DEMANDCENTER_STATE_ROCKSDB_KV_H_
#define DEMANDCENTER_STATE_ROCKSDB_KV_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "demandcenter/state/kv_store.h"
#include "demandcenter/state/partition_store.h"

namespace demandcenter::state {

// The memory an instance's stores share, whatever their number: one block
// cache (data, index and filter blocks) and one budget for the memtables,
// so RSS is bounded by the account cache plus these two. Opaque; made by
// NewRocksDbMemory.
class RocksDbMemory;
std::shared_ptr<RocksDbMemory> NewRocksDbMemory(uint64_t block_cache_bytes, uint64_t memtable_bytes);

// What the shared stores hold now, in bytes.
struct RocksDbMemoryUsage {
  uint64_t block_cache = 0;
  uint64_t memtables = 0;
};
RocksDbMemoryUsage UsageOf(const RocksDbMemory& memory);

// Opens (creating if needed) a RocksDB database in `dir`. Errors:
// Unavailable when the directory cannot be created or opened, or when its
// disk has less than `min_free_bytes` free; FailedPrecondition when another
// process holds it.
//
// The same floor is checked before every write, which then fails as
// Unavailable: the engine waits for space instead of letting RocksDB meet
// a full disk (Debian's RocksDB asserts on some write-error paths, and a
// store that met one must be resumed).
//
// `memory`: shared with the instance's other stores; null: RocksDB's own
// defaults for this store alone.
absl::StatusOr<std::unique_ptr<KvStore>> OpenRocksDb(const std::string& dir, uint64_t min_free_bytes = 0,
                                                     const std::shared_ptr<RocksDbMemory>& memory = nullptr);

// A partition store on RocksDB in `dir` (see PartitionStore).
absl::StatusOr<std::unique_ptr<PartitionStore>> OpenRocksDbPartitionStore(
    const std::string& dir, size_t cache_accounts, uint64_t min_free_bytes = 0,
    const std::shared_ptr<RocksDbMemory>& memory = nullptr);
// The same, its cache a share of the instance's `budget`.
absl::StatusOr<std::unique_ptr<PartitionStore>> OpenRocksDbPartitionStore(
    const std::string& dir, std::shared_ptr<CacheBudget> budget, uint64_t min_free_bytes,
    const std::shared_ptr<RocksDbMemory>& memory);

}  // namespace demandcenter::state

#endif  // DEMANDCENTER_STATE_ROCKSDB_KV_H_
