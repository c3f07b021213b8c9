// The RocksDB KvStore; rocksdb::Status is translated to absl::Status here and
// nowhere else.
#include "demandcenter/state/rocksdb_kv.h"

#include <filesystem>

#include "demandcenter/common/strings.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace demandcenter::state {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = what.empty() ? s.ToString() : StrCat(what, ": ", s.ToString());
  if (s.IsIOError() || s.IsNoSpace()) return absl::UnavailableError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

class RocksDbKv : public KvStore {
 public:
  explicit RocksDbKv(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}

  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) const override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, "");
    return std::optional<std::string>(std::move(value));
  }

  absl::Status Write(const std::vector<KvWrite>& batch) override {
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
    return FromRocks(db_->Write(options, &wb), "");
  }

  void ForEach(std::string_view prefix,
               const std::function<void(std::string_view key, std::string_view value)>& visit) const override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(ToSlice(prefix)); it->Valid() && it->key().starts_with(ToSlice(prefix)); it->Next()) {
      visit(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()));
    }
  }

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
};

}  // namespace

absl::StatusOr<std::unique_ptr<KvStore>> OpenRocksDb(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(StrCat("cannot create state directory ", dir, ": ", ec.message()));
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  options.OptimizeLevelStyleCompaction(64 << 20);
  options.max_open_files = 256;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) return FromRocks(s, StrCat("opening state store ", dir));
  return std::unique_ptr<KvStore>(new RocksDbKv(std::unique_ptr<rocksdb::DB>(raw)));
}

absl::StatusOr<std::unique_ptr<PartitionStore>> OpenRocksDbPartitionStore(const std::string& dir,
                                                                         size_t cache_accounts) {
  auto kv = OpenRocksDb(dir);
  if (!kv.ok()) return kv.status();
  return std::make_unique<PartitionStore>(std::move(*kv), cache_accounts);
}

}  // namespace demandcenter::state
