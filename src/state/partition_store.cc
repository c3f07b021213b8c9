// PartitionStore: the write-back cache of accounts and identities over a
// KvStore, and the checkpoint written with every batch.
#include "demandcenter/state/partition_store.h"

#include <algorithm>

#include "demandcenter/common/proto_json.h"
#include "demandcenter/common/strings.h"

namespace demandcenter::state {
namespace {

constexpr char kAccountPrefix[] = "a/";
constexpr char kIdentityPrefix[] = "i/";
constexpr char kChangelogNextKey[] = "m/changelog_next";
constexpr char kInputPrefix[] = "m/input/";

int64_t ParseInt(std::string_view s) { return s.empty() ? 0 : std::stoll(std::string(s)); }

}  // namespace

std::string AccountKey(const std::string& account_id) { return StrCat(kAccountPrefix, account_id); }
std::string IdentityStoreKey(const std::string& key) { return StrCat(kIdentityPrefix, key); }

PartitionStore::PartitionStore(std::unique_ptr<KvStore> kv, size_t cache_accounts)
    : PartitionStore(std::move(kv), std::make_shared<CacheBudget>(cache_accounts)) {}

PartitionStore::PartitionStore(std::unique_ptr<KvStore> kv, std::shared_ptr<CacheBudget> budget)
    : kv_(std::move(kv)), budget_(std::move(budget)) {
  budget_->Join();
}

PartitionStore::~PartitionStore() { budget_->Leave(); }

v1::AccountState* PartitionStore::Find(const std::string& account_id) {
  auto it = cache_.find(account_id);
  if (it != cache_.end()) {
    ++cache_hits_;
    return it->second.erased ? nullptr : &it->second.state;
  }
  ++cache_misses_;
  auto value = kv_->Get(AccountKey(account_id));
  if (!value.ok()) {
    // The caller will treat the account as new; the error makes the open
    // transaction abort before anything built on that is committed.
    if (error_.ok()) error_ = absl::Status(value.status().code(), StrCat("reading account ", account_id, ": ",
                                                                          value.status().message()));
    return nullptr;
  }
  if (!value->has_value()) return nullptr;
  Entry entry;
  if (!entry.state.ParseFromString(**value)) {
    if (error_.ok()) error_ = absl::DataLossError(StrCat("stored state of account ", account_id, " does not parse"));
    return nullptr;
  }
  return &cache_.emplace(account_id, std::move(entry)).first->second.state;
}

PartitionStore::Entry& PartitionStore::Replace(const std::string& account_id, v1::AccountState state, bool erased) {
  Entry& entry = cache_[account_id];
  entry.state = std::move(state);
  entry.erased = erased;
  MarkDirty(account_id);
  return entry;
}

v1::AccountState* PartitionStore::Insert(v1::AccountState state) {
  std::string id = state.account_id();
  return &Replace(id, std::move(state), /*erased=*/false).state;
}

void PartitionStore::EraseAccount(const std::string& account_id) { Replace(account_id, {}, /*erased=*/true); }

void PartitionStore::MarkDirty(const std::string& account_id) {
  auto it = cache_.find(account_id);
  if (it == cache_.end() || it->second.dirty) return;
  it->second.dirty = true;
  dirty_.push_back(account_id);
}

std::optional<std::string> PartitionStore::ResolveIdentity(const std::string& key) {
  auto it = identities_.find(key);
  if (it != identities_.end()) return it->second.empty() ? std::nullopt : std::optional<std::string>(it->second);
  auto value = kv_->Get(IdentityStoreKey(key));
  if (!value.ok()) {
    if (error_.ok()) {
      error_ = absl::Status(value.status().code(), StrCat("reading an identity: ", value.status().message()));
    }
    return std::nullopt;
  }
  if (!value->has_value()) return std::nullopt;
  identities_.emplace(key, **value);
  return *value;
}

void PartitionStore::PutIdentity(const std::string& key, const std::string& account_id) {
  identities_[key] = account_id;
  auto [slot, fresh] = dirty_identity_slot_.emplace(key, dirty_identities_.size());
  if (fresh) {
    dirty_identities_.emplace_back(key, account_id);
  } else {
    dirty_identities_[slot->second].second = account_id;
  }
}

void PartitionStore::ForEachIdentity(
    const std::string& prefix, const std::function<void(const std::string& key, const std::string& value)>& visit) {
  // The cache holds every uncommitted value and some committed ones; the
  // KvStore the rest.
  std::string store_prefix = IdentityStoreKey(prefix);
  kv_->ForEach(store_prefix, [&](std::string_view key, std::string_view value) {
    std::string identity(key.substr(sizeof(kIdentityPrefix) - 1));
    if (!identities_.count(identity)) visit(identity, std::string(value));
  });
  for (const auto& [key, value] : identities_) {
    if (!value.empty() && key.compare(0, prefix.size(), prefix) == 0) visit(key, value);
  }
}

size_t PartitionStore::AccountCount() const { return static_cast<size_t>(kv_->ApproximateKeys()); }

void PartitionStore::ForEachAccount(const std::function<void(const v1::AccountState&)>& visit) const {
  v1::AccountState state;
  kv_->ForEach(kAccountPrefix, [&](std::string_view key, std::string_view value) {
    if (cache_.count(std::string(key.substr(sizeof(kAccountPrefix) - 1)))) return;
    if (state.ParseFromArray(value.data(), static_cast<int>(value.size()))) visit(state);
  });
  for (const auto& [id, entry] : cache_) {
    if (!entry.erased) visit(entry.state);
  }
}

void PartitionStore::ForEachPending(
    const std::function<void(const std::string& id, const v1::AccountState* state)>& visit) const {
  for (const auto& id : dirty_) {
    auto it = cache_.find(id);
    if (it != cache_.end()) visit(id, it->second.erased ? nullptr : &it->second.state);
  }
}

std::vector<ChangeRecord> PartitionStore::PendingChanges(int64_t stream_time_ms) const {
  std::vector<ChangeRecord> records;
  records.reserve(dirty_.size() + dirty_identities_.size() + 1);
  for (const auto& [key, account] : dirty_identities_) records.push_back({IdentityStoreKey(key), account});
  for (const auto& id : dirty_) {
    auto it = cache_.find(id);
    if (it == cache_.end()) continue;
    records.push_back({AccountKey(id), it->second.erased ? std::string() : SerializeDeterministic(it->second.state)});
  }
  records.push_back({kStreamTimeKey, std::to_string(stream_time_ms)});
  return records;
}

absl::Status PartitionStore::Commit(const std::vector<ChangeRecord>& changes, const Checkpoint& checkpoint) {
  if (!error_.ok()) return error_;
  absl::Status status = ApplyRestored(changes, checkpoint);
  if (!status.ok()) return status;
  for (const auto& id : dirty_) {
    auto it = cache_.find(id);
    if (it == cache_.end()) continue;
    if (it->second.erased) {
      cache_.erase(it);  // the store has the tombstone now
    } else {
      it->second.dirty = false;
    }
  }
  dirty_.clear();
  dirty_identities_.clear();
  dirty_identity_slot_.clear();
  Evict();
  return absl::OkStatus();
}

void PartitionStore::Discard() {
  // Uncommitted account states and identities are simply forgotten; the
  // next Find reads the committed value from the KvStore.
  for (const auto& id : dirty_) cache_.erase(id);
  for (const auto& [key, account] : dirty_identities_) identities_.erase(key);
  dirty_.clear();
  dirty_identities_.clear();
  dirty_identity_slot_.clear();
  error_ = absl::OkStatus();
}

void PartitionStore::ClearCache() {
  Discard();
  cache_.clear();
  identities_.clear();
}

absl::Status PartitionStore::ApplyRestored(const std::vector<ChangeRecord>& records, const Checkpoint& checkpoint) {
  std::vector<KvWrite> batch;
  batch.reserve(records.size() + checkpoint.input_next.size() + 2);
  for (const auto& r : records) batch.push_back({r.key, r.value});
  // The checkpoint's values outlive the batch: they are kept here.
  std::vector<std::pair<std::string, std::string>> meta;
  meta.reserve(checkpoint.input_next.size() + 2);
  meta.emplace_back(kChangelogNextKey, std::to_string(checkpoint.changelog_next));
  meta.emplace_back(kStreamTimeKey, std::to_string(checkpoint.stream_time_ms));
  for (const auto& [topic, next] : checkpoint.input_next) meta.emplace_back(StrCat(kInputPrefix, topic), std::to_string(next));
  for (const auto& [key, value] : meta) batch.push_back({key, value});
  absl::Status s = kv_->Write(batch);
  if (!s.ok()) return absl::Status(s.code(), StrCat("writing state: ", s.message()));
  return s;
}

Checkpoint PartitionStore::ReadCheckpoint() const {
  Checkpoint cp;
  auto read = [&](std::string_view key) -> int64_t {
    auto v = kv_->Get(key);
    return v.ok() && v->has_value() ? ParseInt(**v) : 0;
  };
  cp.changelog_next = read(kChangelogNextKey);
  cp.stream_time_ms = read(kStreamTimeKey);
  kv_->ForEach(kInputPrefix, [&](std::string_view key, std::string_view value) {
    cp.input_next[std::string(key.substr(sizeof(kInputPrefix) - 1))] = ParseInt(value);
  });
  return cp;
}

void PartitionStore::Evict() {
  const size_t share = budget_->PerStore();
  if (identities_.size() > share * 4) identities_.clear();
  if (cache_.size() <= share) return;
  // Every entry is clean here (Commit just wrote them); drop the excess.
  size_t excess = cache_.size() - share;
  for (auto it = cache_.begin(); it != cache_.end() && excess > 0;) {
    it = cache_.erase(it);
    --excess;
  }
}

}  // namespace demandcenter::state
