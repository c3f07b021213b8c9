// Where per-account state lives. The decision core reads and writes through
// this interface; the in-memory store serves replay and tests, the RocksDB
// store with its write-back cache serves `run`.
#ifndef DEMANDCENTER_STATE_STATE_STORE_H_
#define DEMANDCENTER_STATE_STATE_STORE_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "demandcenter/v1/state.pb.h"

namespace demandcenter::state {

// Not thread safe: one store per processing thread (per partition task).
class StateStore {
 public:
  virtual ~StateStore() = default;

  // The account's state, or null when the account is new. The pointer stays
  // valid until the next Insert or Erase; changes through it must be
  // announced with MarkDirty before the next commit.
  virtual v1::AccountState* Find(const std::string& account_id) = 0;

  // Stores a new account's state and returns the stored copy.
  virtual v1::AccountState* Insert(v1::AccountState state) = 0;

  // Removes the account's state (a changelog tombstone on Kafka): Find
  // gives null until it is inserted again.
  virtual void EraseAccount(const std::string& account_id) = 0;

  // Announces a change to the account's state (write-back stores persist it
  // at the next commit; the in-memory store ignores it).
  virtual void MarkDirty(const std::string& account_id) = 0;

  // Identity resolution: "c:<contact_id>", "e:<email>", "a:<anonymous_id>"
  // -> account id. Putting "" deletes the entry: ResolveIdentity then
  // gives nullopt.
  virtual std::optional<std::string> ResolveIdentity(const std::string& key) = 0;
  virtual void PutIdentity(const std::string& key, const std::string& account_id) = 0;
  // Removes an identity entry (a changelog tombstone on Kafka).
  void DeleteIdentity(const std::string& key) { PutIdentity(key, ""); }
  // Visits every identity entry whose key starts with `prefix` (in no
  // particular order; deleted entries are not visited).
  virtual void ForEachIdentity(const std::string& prefix,
                               const std::function<void(const std::string& key, const std::string& value)>& visit) = 0;

  virtual size_t AccountCount() const = 0;

  // Visits every account, in no particular order.
  virtual void ForEachAccount(const std::function<void(const v1::AccountState&)>& visit) const = 0;
};

// Everything in memory; nothing survives the process.
class InMemoryStateStore : public StateStore {
 public:
  v1::AccountState* Find(const std::string& account_id) override;
  v1::AccountState* Insert(v1::AccountState state) override;
  void MarkDirty(const std::string& account_id) override {}
  void EraseAccount(const std::string& account_id) override { accounts_.erase(account_id); }
  std::optional<std::string> ResolveIdentity(const std::string& key) override;
  void PutIdentity(const std::string& key, const std::string& account_id) override;
  void ForEachIdentity(const std::string& prefix,
                       const std::function<void(const std::string& key, const std::string& value)>& visit) override;
  size_t AccountCount() const override { return accounts_.size(); }
  void ForEachAccount(const std::function<void(const v1::AccountState&)>& visit) const override;

 private:
  std::unordered_map<std::string, v1::AccountState> accounts_;
  std::unordered_map<std::string, std::string> identities_;
};

}  // namespace demandcenter::state

#endif  // DEMANDCENTER_STATE_STATE_STORE_H_
