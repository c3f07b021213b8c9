// WaitingRoom: per-identifier waiting lists in the partition's state, with an
// in-memory index of their oldest signals for expiry.
#include "demandcenter/identity/waiting_room.h"

#include <algorithm>

#include "absl/strings/ascii.h"

#include "demandcenter/common/proto_json.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::identity {
namespace {

// State keys: "<partition>/w/<identifier>".
std::string Prefix(int32_t partition) { return StrCat(partition, "/w/"); }

int64_t EventTime(const v1::WaitingSignal& w) { return ToMillis(w.signal().occurred_at()); }

// The lower-case domain of an "e:" identifier ("" for any other).
std::string DomainOf(const std::string& identifier) {
  size_t at = identifier.rfind('@');
  if (identifier.rfind("e:", 0) != 0 || at == std::string::npos) return "";
  std::string domain = absl::AsciiStrToLower(identifier.substr(at + 1));
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  return domain;
}

}  // namespace

WaitingRoom::Partition& WaitingRoom::Load(int32_t partition) {
  Partition& p = partitions_[partition];
  if (p.loaded) return p;
  p.loaded = true;
  std::string prefix = Prefix(partition);
  v1::WaitingList list;
  store_->ForEachIdentity(prefix, [&](const std::string& key, const std::string& value) {
    if (!list.ParseFromString(value) || list.signals_size() == 0) return;
    std::string identifier = key.substr(prefix.size());
    int64_t oldest = EventTime(list.signals(0));
    p.by_oldest.emplace(oldest, identifier);
    p.oldest_of[identifier] = oldest;
    p.waiting += list.signals_size();
    if (std::string domain = DomainOf(identifier); !domain.empty()) p.addresses_at[domain].insert(identifier);
  });
  return p;
}

v1::WaitingList WaitingRoom::Read(int32_t partition, const std::string& identifier) {
  v1::WaitingList list;
  auto value = store_->ResolveIdentity(StrCat(Prefix(partition), identifier));
  if (value) list.ParseFromString(*value);
  return list;
}

void WaitingRoom::Write(int32_t partition, const std::string& identifier, const v1::WaitingList& list) {
  Partition& p = partitions_[partition];
  if (auto it = p.oldest_of.find(identifier); it != p.oldest_of.end()) {
    p.by_oldest.erase({it->second, identifier});
    p.oldest_of.erase(it);
  }
  std::string domain = DomainOf(identifier);
  if (list.signals_size() == 0) {
    store_->DeleteIdentity(StrCat(Prefix(partition), identifier));
    if (auto it = p.addresses_at.find(domain); it != p.addresses_at.end()) {
      it->second.erase(identifier);
      if (it->second.empty()) p.addresses_at.erase(it);
    }
    return;
  }
  int64_t oldest = EventTime(list.signals(0));
  p.by_oldest.emplace(oldest, identifier);
  p.oldest_of[identifier] = oldest;
  if (!domain.empty()) p.addresses_at[domain].insert(identifier);
  store_->PutIdentity(StrCat(Prefix(partition), identifier), SerializeDeterministic(list));
}

std::vector<v1::WaitingSignal> WaitingRoom::Park(int32_t partition, const std::string& identifier,
                                                 v1::WaitingSignal waiting) {
  Partition& p = Load(partition);
  v1::WaitingList list = Read(partition, identifier);
  auto* signals = list.mutable_signals();
  int64_t t = EventTime(waiting);
  int at = static_cast<int>(std::upper_bound(signals->begin(), signals->end(), t,
                                              [](int64_t value, const v1::WaitingSignal& w) {
                                                return value < EventTime(w);
                                              }) -
                             signals->begin());
  *signals->Add() = std::move(waiting);
  for (int i = signals->size() - 1; i > at; --i) signals->SwapElements(i, i - 1);
  ++p.waiting;
  ++counters_.parked;
  std::vector<v1::WaitingSignal> out;
  int excess = list.signals_size() - static_cast<int>(config_.wait_max_signals);
  for (int i = 0; i < excess; ++i) out.push_back(std::move(*signals->Mutable(i)));
  if (excess > 0) signals->DeleteSubrange(0, excess);
  p.waiting -= static_cast<int64_t>(out.size());
  counters_.expired += static_cast<int64_t>(out.size());
  Write(partition, identifier, list);
  return out;
}

std::vector<v1::WaitingSignal> WaitingRoom::Take(int32_t partition, const std::string& identifier) {
  Partition& p = Load(partition);
  if (!p.oldest_of.count(identifier)) return {};
  v1::WaitingList list = Read(partition, identifier);
  std::vector<v1::WaitingSignal> out(std::make_move_iterator(list.mutable_signals()->begin()),
                                     std::make_move_iterator(list.mutable_signals()->end()));
  Write(partition, identifier, v1::WaitingList());
  p.waiting -= static_cast<int64_t>(out.size());
  return out;
}

std::vector<v1::WaitingSignal> WaitingRoom::Release(int32_t partition, const std::string& identifier) {
  std::vector<v1::WaitingSignal> out = Take(partition, identifier);
  counters_.released += static_cast<int64_t>(out.size());
  return out;
}

std::vector<v1::WaitingSignal> WaitingRoom::Expire(int32_t partition, int64_t now_ms) {
  Partition& p = Load(partition);
  std::vector<v1::WaitingSignal> out;
  int64_t cutoff = now_ms - config_.wait_max_age_ms;
  while (!p.by_oldest.empty() && p.by_oldest.begin()->first < cutoff) {
    std::string identifier = p.by_oldest.begin()->second;
    v1::WaitingList list = Read(partition, identifier);
    int n = 0;
    while (n < list.signals_size() && EventTime(list.signals(n)) < cutoff) ++n;
    for (int i = 0; i < n; ++i) out.push_back(std::move(*list.mutable_signals(i)));
    list.mutable_signals()->DeleteSubrange(0, n);
    Write(partition, identifier, list);
    p.waiting -= n;
    counters_.expired += n;
  }
  return out;
}

int64_t WaitingRoom::Erase(int32_t partition, const std::string& identifier) {
  auto gone = static_cast<int64_t>(Take(partition, identifier).size());
  counters_.erased += gone;
  return gone;
}

std::vector<std::string> WaitingRoom::AddressesAt(int32_t partition, const std::string& domain) {
  Partition& p = Load(partition);
  auto it = p.addresses_at.find(domain);
  if (it == p.addresses_at.end()) return {};
  return {it->second.begin(), it->second.end()};
}

int64_t WaitingRoom::Waiting(int32_t partition) { return Load(partition).waiting; }

}  // namespace demandcenter::identity
