#include "demandcenter/state/state_store.h"

namespace demandcenter::state {

v1::AccountState* InMemoryStateStore::Find(const std::string& account_id) {
  auto it = accounts_.find(account_id);
  return it == accounts_.end() ? nullptr : &it->second;
}

v1::AccountState* InMemoryStateStore::Insert(v1::AccountState state) {
  std::string id = state.account_id();
  auto [it, inserted] = accounts_.insert_or_assign(std::move(id), std::move(state));
  return &it->second;
}

std::optional<std::string> InMemoryStateStore::ResolveIdentity(const std::string& key) {
  auto it = identities_.find(key);
  if (it == identities_.end()) return std::nullopt;
  return it->second;
}

void InMemoryStateStore::PutIdentity(const std::string& key, const std::string& account_id) {
  if (account_id.empty()) {
    identities_.erase(key);
  } else {
    identities_[key] = account_id;
  }
}

void InMemoryStateStore::ForEachIdentity(
    const std::string& prefix, const std::function<void(const std::string& key, const std::string& value)>& visit) {
  for (const auto& [key, value] : identities_) {
    if (key.compare(0, prefix.size(), prefix) == 0) visit(key, value);
  }
}

void InMemoryStateStore::ForEachAccount(
    const std::function<void(const v1::AccountState&)>& visit) const {
  for (const auto& [id, state] : accounts_) visit(state);
}

}  // namespace demandcenter::state
