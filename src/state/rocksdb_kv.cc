// The RocksDB KvStore; rocksdb::Status is translated to absl::Status here and
// nowhere else.
#include "demandcenter/state/rocksdb_kv.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <vector>

#include "absl/strings/match.h"
#include "demandcenter/common/strings.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "rocksdb/write_buffer_manager.h"

namespace demandcenter::state {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = what.empty() ? s.ToString() : StrCat(what, ": ", s.ToString());
  // Another process holding the store's lock file (".../LOCK: Resource
  // temporarily unavailable") is a mistake to report, not a condition to
  // wait out.
  if (s.IsIOError() && absl::StrContains(s.ToString(), "/LOCK")) {
    return absl::FailedPreconditionError(StrCat(message, " (is another instance using this state directory?)"));
  }
  if (s.IsIOError() || s.IsNoSpace()) return absl::UnavailableError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// Unavailable when the disk under `dir` (or its nearest existing parent)
// has less than `min_free_bytes` free for this user.
absl::Status CheckFreeSpace(const std::string& dir, uint64_t min_free_bytes) {
  if (min_free_bytes == 0) return absl::OkStatus();
  std::filesystem::path at(dir);
  std::error_code ec;
  while (!std::filesystem::exists(at, ec) && at.has_parent_path() && at != at.parent_path()) at = at.parent_path();
  struct statvfs fs;
  if (statvfs(at.c_str(), &fs) != 0) return absl::OkStatus();  // unknown: let the write tell
  uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (free_bytes >= min_free_bytes) return absl::OkStatus();
  return absl::UnavailableError(StrCat("the state directory's disk (", at.string(), ") has ", free_bytes >> 20,
                                       " MiB free, less than state.min_free_mib (", min_free_bytes >> 20, ")"));
}

}  // namespace

// The memory the stores of one process share: one block cache and one
// memtable budget. Over the budget, the store being written flushes its own
// memtable (RocksDB's WriteBufferManager), and if the stores together are
// still over it, every store is flushed before the write returns: a bound,
// not a target. RocksDB's own stall (allow_stall) would wait for the other
// stores' flushes, which RocksDB starts only on their own writes: with one
// thread writing the stores in turn it waited forever (RocksDB issue 11780).
class RocksDbMemory {
 public:
  RocksDbMemory(uint64_t block_cache_bytes, uint64_t memtable_bytes)
      : block_cache(rocksdb::NewLRUCache(block_cache_bytes)),
        // Not charged to the block cache: the two bounds stay apart.
        write_buffers(std::make_shared<rocksdb::WriteBufferManager>(memtable_bytes, nullptr, /*allow_stall=*/false)),
        memtable_bytes(memtable_bytes) {}

  void Add(rocksdb::DB* db) {
    std::lock_guard<std::mutex> lock(mu_);
    dbs_.push_back(db);
  }
  void Remove(rocksdb::DB* db) {
    std::lock_guard<std::mutex> lock(mu_);
    dbs_.erase(std::remove(dbs_.begin(), dbs_.end(), db), dbs_.end());
  }
  // Flushes every store while the stores together are over the budget.
  absl::Status Bound() {
    if (write_buffers->memory_usage() < memtable_bytes) return absl::OkStatus();
    std::lock_guard<std::mutex> lock(mu_);
    if (write_buffers->memory_usage() < memtable_bytes) return absl::OkStatus();  // another thread did
    rocksdb::FlushOptions start;
    start.wait = false;
    for (rocksdb::DB* db : dbs_) db->Flush(start).PermitUncheckedError();  // in parallel
    rocksdb::FlushOptions wait;
    wait.allow_write_stall = true;
    for (rocksdb::DB* db : dbs_) {
      if (absl::Status s = FromRocks(db->Flush(wait), "flushing a state store over the memtable budget"); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  std::shared_ptr<rocksdb::Cache> block_cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
  uint64_t memtable_bytes;

 private:
  std::mutex mu_;
  std::vector<rocksdb::DB*> dbs_;
};

namespace {

class RocksDbKv : public KvStore {
 public:
  RocksDbKv(std::unique_ptr<rocksdb::DB> db, std::string dir, uint64_t min_free_bytes,
            std::shared_ptr<RocksDbMemory> memory)
      : db_(std::move(db)), dir_(std::move(dir)), min_free_bytes_(min_free_bytes), memory_(std::move(memory)) {
    if (memory_ != nullptr) memory_->Add(db_.get());
  }
  ~RocksDbKv() override {
    if (memory_ != nullptr) memory_->Remove(db_.get());
  }

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, "");
    return std::optional<std::string>(std::move(value));
  }

  absl::Status Write(const std::vector<KvWrite>& batch) override {
    if (absl::Status space = CheckFreeSpace(dir_, min_free_bytes_); !space.ok()) return space;
    rocksdb::WriteBatch wb;
    for (const KvWrite& w : batch) {
      if (w.value.empty()) {
        wb.Delete(ToSlice(w.key));
      } else {
        wb.Put(ToSlice(w.key), ToSlice(w.value));
      }
    }
    // The WAL is written but never fsynced: a killed process loses nothing
    // (the OS has the data), a machine crash may lose the latest batches —
    // which leaves the store at an earlier checkpoint, consistent because
    // state and checkpoint share each batch, and the changelog tail
    // restores the rest.
    rocksdb::WriteOptions options;
    options.sync = false;
    if (absl::Status s = FromRocks(db_->Write(options, &wb), ""); !s.ok()) return s;
    return memory_ != nullptr ? memory_->Bound() : absl::OkStatus();
  }

  void ForEach(std::string_view prefix,
               const std::function<void(std::string_view key, std::string_view value)>& visit) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(ToSlice(prefix)); it->Valid() && it->key().starts_with(ToSlice(prefix)); it->Next()) {
      visit(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()));
    }
  }

  absl::Status Recover() override { return FromRocks(db_->Resume(), "resuming the state store"); }

  uint64_t ApproximateBytes() const override {
    uint64_t sst = 0, mem = 0;
    db_->GetIntProperty("rocksdb.total-sst-files-size", &sst);
    db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
    return sst + mem;
  }

  uint64_t ApproximateKeys() const override {
    uint64_t keys = 0;
    db_->GetIntProperty("rocksdb.estimate-num-keys", &keys);
    return keys;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::string dir_;
  uint64_t min_free_bytes_;
  std::shared_ptr<RocksDbMemory> memory_;
};

}  // namespace

std::shared_ptr<RocksDbMemory> NewRocksDbMemory(uint64_t block_cache_bytes, uint64_t memtable_bytes) {
  return std::make_shared<RocksDbMemory>(block_cache_bytes, memtable_bytes);
}

RocksDbMemoryUsage UsageOf(const RocksDbMemory& memory) {
  return {memory.block_cache->GetUsage(), memory.write_buffers->memory_usage()};
}

absl::StatusOr<std::unique_ptr<KvStore>> OpenRocksDb(const std::string& dir, uint64_t min_free_bytes,
                                                     const std::shared_ptr<RocksDbMemory>& memory) {
  if (absl::Status space = CheckFreeSpace(dir, min_free_bytes); !space.ok()) return space;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(StrCat("cannot create state directory ", dir, ": ", ec.message()));
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  options.OptimizeLevelStyleCompaction(64 << 20);
  options.max_open_files = 256;
  if (memory != nullptr) {
    // Index and filter blocks live in the shared cache too (else they grow
    // with the data, outside any bound); a bloom filter spares a disk read
    // for an account the store has never seen.
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = memory->block_cache;
    table.cache_index_and_filter_blocks = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    options.write_buffer_manager = memory->write_buffers;
    // A store's memtable is at most a quarter of the whole budget.
    options.write_buffer_size = std::max<size_t>(memory->memtable_bytes / 4, 1 << 20);
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return FromRocks(s, StrCat("opening state store ", dir));
  return std::unique_ptr<KvStore>(new RocksDbKv(std::unique_ptr<rocksdb::DB>(raw), dir, min_free_bytes, memory));
}

absl::StatusOr<std::unique_ptr<PartitionStore>> OpenRocksDbPartitionStore(
    const std::string& dir, size_t cache_accounts, uint64_t min_free_bytes,
    const std::shared_ptr<RocksDbMemory>& memory) {
  return OpenRocksDbPartitionStore(dir, std::make_shared<CacheBudget>(cache_accounts), min_free_bytes, memory);
}

absl::StatusOr<std::unique_ptr<PartitionStore>> OpenRocksDbPartitionStore(
    const std::string& dir, std::shared_ptr<CacheBudget> budget, uint64_t min_free_bytes,
    const std::shared_ptr<RocksDbMemory>& memory) {
  auto kv = OpenRocksDb(dir, min_free_bytes, memory);
  if (!kv.ok()) return kv.status();
  return std::make_unique<PartitionStore>(std::move(*kv), std::move(budget));
}

}  // namespace demandcenter::state
