// MemoryKvStore: a sorted map standing in for RocksDB.
#include "support/memory_kv_store.h"

namespace demandcenter::testing {

absl::StatusOr<std::optional<std::string>> MemoryKvStore::Get(std::string_view key) const {
  if (!read_error_.ok()) return read_error_;
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::Status MemoryKvStore::Write(const std::vector<state::KvWrite>& batch) {
  if (write_failures_left_ > 0) {
    --write_failures_left_;
    return write_error_;
  }
  for (const state::KvWrite& w : batch) {
    auto it = data_.find(w.key);
    if (it != data_.end()) {
      bytes_ -= it->first.size() + it->second.size();
      if (w.value.empty()) {
        data_.erase(it);
        continue;
      }
      it->second.assign(w.value);
    } else {
      if (w.value.empty()) continue;
      it = data_.emplace(std::string(w.key), std::string(w.value)).first;
    }
    bytes_ += it->first.size() + it->second.size();
  }
  return absl::OkStatus();
}

void MemoryKvStore::ForEach(std::string_view prefix,
                            const std::function<void(std::string_view key, std::string_view value)>& visit) const {
  for (auto it = data_.lower_bound(prefix); it != data_.end() && it->first.starts_with(prefix); ++it) {
    visit(it->first, it->second);
  }
}

}  // namespace demandcenter::testing
