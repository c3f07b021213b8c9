#include "demandcenter/state/rocksdb_store.h"

#include <algorithm>
#include <filesystem>

#include "demandcenter/common/strings.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace demandcenter::state {
namespace {

constexpr char kAccountPrefix[] = "a/";
constexpr char kIdentityPrefix[] = "i/";
constexpr char kChangelogNextKey[] = "m/changelog_next";
constexpr char kInputPrefix[] = "m/input/";

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = StrCat(what, ": ", s.ToString());
  if (s.IsIOError() || s.IsNoSpace()) return absl::UnavailableError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

std::string Serialize(const v1::AccountState& state) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  state.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

int64_t ParseInt(const std::string& s) { return s.empty() ? 0 : std::stoll(s); }

}  // namespace

std::string AccountKey(const std::string& account_id) { return StrCat(kAccountPrefix, account_id); }
std::string IdentityStoreKey(const std::string& key) { return StrCat(kIdentityPrefix, key); }

absl::StatusOr<std::unique_ptr<RocksDbStateStore>> RocksDbStateStore::Open(const std::string& dir,
                                                                           size_t cache_accounts) {
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
  return std::unique_ptr<RocksDbStateStore>(
      new RocksDbStateStore(std::unique_ptr<rocksdb::DB>(raw), cache_accounts));
}

RocksDbStateStore::RocksDbStateStore(std::unique_ptr<rocksdb::DB> db, size_t cache_accounts)
    : db_(std::move(db)), cache_accounts_(std::max<size_t>(cache_accounts, 1)) {}

RocksDbStateStore::~RocksDbStateStore() = default;

v1::AccountState* RocksDbStateStore::Find(const std::string& account_id) {
  auto it = cache_.find(account_id);
  if (it != cache_.end()) {
    ++cache_hits_;
    return &it->second.state;
  }
  ++cache_misses_;
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), AccountKey(account_id), &value);
  if (s.IsNotFound()) return nullptr;
  if (!s.ok()) {
    // The caller will treat the account as new; the error makes the open
    // transaction abort before anything built on that is committed.
    if (error_.ok()) error_ = FromRocks(s, StrCat("reading account ", account_id));
    return nullptr;
  }
  Entry entry;
  if (!entry.state.ParseFromString(value)) {
    if (error_.ok()) error_ = absl::DataLossError(StrCat("stored state of account ", account_id, " does not parse"));
    return nullptr;
  }
  return &cache_.emplace(account_id, std::move(entry)).first->second.state;
}

v1::AccountState* RocksDbStateStore::Insert(v1::AccountState state) {
  std::string id = state.account_id();
  auto [it, inserted] = cache_.insert_or_assign(id, Entry{std::move(state), false});
  MarkDirty(id);
  return &it->second.state;
}

void RocksDbStateStore::MarkDirty(const std::string& account_id) {
  auto it = cache_.find(account_id);
  if (it == cache_.end() || it->second.dirty) return;
  it->second.dirty = true;
  dirty_.push_back(account_id);
}

std::optional<std::string> RocksDbStateStore::ResolveIdentity(const std::string& key) {
  auto it = identities_.find(key);
  if (it != identities_.end()) return it->second;
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), IdentityStoreKey(key), &value);
  if (!s.ok()) {
    if (!s.IsNotFound() && error_.ok()) error_ = FromRocks(s, "reading an identity");
    return std::nullopt;
  }
  identities_.emplace(key, value);
  return value;
}

void RocksDbStateStore::PutIdentity(const std::string& key, const std::string& account_id) {
  identities_[key] = account_id;
  dirty_identities_.emplace_back(key, account_id);
}

size_t RocksDbStateStore::AccountCount() const {
  uint64_t keys = 0;
  db_->GetIntProperty("rocksdb.estimate-num-keys", &keys);
  return static_cast<size_t>(keys);
}

uint64_t RocksDbStateStore::ApproximateSize() const {
  uint64_t sst = 0, mem = 0;
  db_->GetIntProperty("rocksdb.total-sst-files-size", &sst);
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  return sst + mem;
}

void RocksDbStateStore::ForEachAccount(
    const std::function<void(const v1::AccountState&)>& visit) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  v1::AccountState state;
  for (it->Seek(kAccountPrefix); it->Valid() && it->key().starts_with(kAccountPrefix); it->Next()) {
    std::string id = it->key().ToString().substr(2);
    if (cache_.count(id)) continue;
    if (state.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) visit(state);
  }
  for (const auto& [id, entry] : cache_) visit(entry.state);
}

std::vector<ChangeRecord> RocksDbStateStore::PendingChanges(int64_t stream_time_ms) const {
  std::vector<ChangeRecord> records;
  records.reserve(dirty_.size() + dirty_identities_.size() + 1);
  for (const auto& [key, account] : dirty_identities_) records.push_back({IdentityStoreKey(key), account});
  for (const auto& id : dirty_) {
    auto it = cache_.find(id);
    if (it != cache_.end()) records.push_back({AccountKey(id), Serialize(it->second.state)});
  }
  records.push_back({kStreamTimeKey, std::to_string(stream_time_ms)});
  return records;
}

absl::Status RocksDbStateStore::Commit(const std::vector<ChangeRecord>& changes,
                                       const Checkpoint& checkpoint) {
  if (!error_.ok()) return error_;
  absl::Status status = ApplyRestored(changes, checkpoint);
  if (!status.ok()) return status;
  for (const auto& id : dirty_) {
    auto it = cache_.find(id);
    if (it != cache_.end()) it->second.dirty = false;
  }
  dirty_.clear();
  dirty_identities_.clear();
  Evict();
  return absl::OkStatus();
}

void RocksDbStateStore::Discard() {
  // Uncommitted account states and identities are simply forgotten; the
  // next Find reads the committed value from RocksDB.
  for (const auto& id : dirty_) cache_.erase(id);
  for (const auto& [key, account] : dirty_identities_) identities_.erase(key);
  dirty_.clear();
  dirty_identities_.clear();
  error_ = absl::OkStatus();
}

void RocksDbStateStore::ClearCache() {
  Discard();
  cache_.clear();
  identities_.clear();
}

absl::Status RocksDbStateStore::ApplyRestored(const std::vector<ChangeRecord>& records,
                                              const Checkpoint& checkpoint) {
  rocksdb::WriteBatch batch;
  for (const auto& r : records) {
    if (r.value.empty()) {
      batch.Delete(r.key);
    } else {
      batch.Put(r.key, r.value);
    }
  }
  batch.Put(kChangelogNextKey, std::to_string(checkpoint.changelog_next));
  batch.Put(kStreamTimeKey, std::to_string(checkpoint.stream_time_ms));
  for (const auto& [topic, next] : checkpoint.input_next) {
    batch.Put(StrCat(kInputPrefix, topic), std::to_string(next));
  }
  // The WAL is written but never fsynced: a killed process loses nothing
  // (the OS has the data), a machine crash may lose the latest batches —
  // which leaves the store at an earlier checkpoint, consistent because state
  // and checkpoint share each batch, and the changelog tail restores the rest.
  rocksdb::WriteOptions options;
  options.sync = false;
  return FromRocks(db_->Write(options, &batch), "writing state");
}

Checkpoint RocksDbStateStore::ReadCheckpoint() const {
  Checkpoint cp;
  std::string value;
  if (db_->Get(rocksdb::ReadOptions(), kChangelogNextKey, &value).ok()) cp.changelog_next = ParseInt(value);
  if (db_->Get(rocksdb::ReadOptions(), kStreamTimeKey, &value).ok()) cp.stream_time_ms = ParseInt(value);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(kInputPrefix); it->Valid() && it->key().starts_with(kInputPrefix); it->Next()) {
    cp.input_next[it->key().ToString().substr(sizeof(kInputPrefix) - 1)] = ParseInt(it->value().ToString());
  }
  return cp;
}

void RocksDbStateStore::Evict() {
  if (cache_.size() <= cache_accounts_) return;
  // Every entry is clean here (Commit just wrote them); drop the excess.
  size_t excess = cache_.size() - cache_accounts_;
  for (auto it = cache_.begin(); it != cache_.end() && excess > 0;) {
    it = cache_.erase(it);
    --excess;
  }
  if (identities_.size() > cache_accounts_ * 4) identities_.clear();
}

}  // namespace demandcenter::state
