// Resolver: identifiers and domains of a partition -> account, with guard rails.
#include "demandcenter/identity/identity.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "demandcenter/common/strings.h"

namespace demandcenter::identity {
namespace {

// Identity keys are scoped to the partition: "<partition>/c:<contact id>",
// "/e:<address>", "/a:<visitor id>" and "/d:<domain>" (-> account id), and
// "/ec:<address>" (-> contact id).
std::string IdentityKey(int32_t partition, const char* kind, const std::string& value) {
  return StrCat(partition, "/", kind, value);
}

// Visits the signal's identifiers in resolution order until `visit` returns true.
template <typename Visit>
void ForEachIdentifier(const v1::Signal& signal, Visit visit) {
  for (auto [kind, value] : {std::pair<const char*, const std::string*>{"c:", &signal.contact_id()},
                             {"e:", &signal.email()},
                             {"a:", &signal.anonymous_id()}}) {
    if (!value->empty() && visit(kind, *value)) return;
  }
}

}  // namespace

IdentifierRules::IdentifierRules(const config::IdentityConfig& config) : config_(config) {
  for (const auto& value : config.blocklist) longest_blocked_ = std::max(longest_blocked_, value.size());
}

bool IdentifierRules::IsJunk(const std::string& value) const {
  // Ids are mostly longer than any blocklisted value: no lower-cased copy.
  return value.size() <= longest_blocked_ && config_.blocklist.count(absl::AsciiStrToLower(value)) > 0;
}

std::string IdentifierRules::MappableDomain(std::string_view domain) const {
  std::string d(domain);
  absl::AsciiStrToLower(&d);
  while (!d.empty() && d.back() == '.') d.pop_back();
  if (d.find('.') == std::string::npos || d.find('@') != std::string::npos || config_.free_mail.count(d) ||
      IsJunk(d)) {
    return "";
  }
  return d;
}

Resolver::Resolver(const config::IdentityConfig& config, state::StateStore* store)
    : config_(config), store_(store), rules_(config) {}

IdentityCounters& IdentityCounters::operator+=(const IdentityCounters& o) {
  by_link += o.by_link;
  by_domain += o.by_domain;
  conflicts += o.conflicts;
  blocked += o.blocked;
  erased += o.erased;
  return *this;
}

bool Resolver::Blocked(const std::string& value) {
  if (!IsJunk(value)) return false;
  ++counters_.blocked;
  return true;
}

Resolution Resolver::Resolve(const v1::Signal& signal, int32_t partition) {
  if (!signal.account_id().empty()) return {signal.account_id(), How::kCarried};
  Resolution r;
  ForEachIdentifier(signal, [&](const char* kind, const std::string& value) {
    if (Blocked(value)) return false;
    if (auto found = store_->ResolveIdentity(IdentityKey(partition, kind, value))) r = {std::move(*found), How::kLinked};
    return !r.account_id.empty();
  });
  if (r.how == How::kLinked) {
    ++counters_.by_link;
    return r;
  }
  const std::string& email = signal.email();
  size_t at = email.rfind('@');
  if (at == std::string::npos || IsJunk(email)) return r;
  std::string domain = rules_.MappableDomain(std::string_view(email).substr(at + 1));
  if (domain.empty()) return r;
  if (auto it = config_.domains.find(domain); it != config_.domains.end()) {
    r = {it->second, How::kDomain};
  } else if (auto found = store_->ResolveIdentity(IdentityKey(partition, "d:", domain))) {
    r = {std::move(*found), How::kDomain};
  } else {
    return r;
  }
  ++counters_.by_domain;
  return r;
}

void Resolver::Refuse(std::string identifier, const char* linked_to, std::string kept, const std::string& refused,
                      std::vector<Conflict>* conflicts) {
  ++counters_.conflicts;
  if (conflicts != nullptr) conflicts->push_back({std::move(identifier), linked_to, std::move(kept), refused});
}

bool Resolver::LinkFirst(int32_t partition, const char* kind, const std::string& value, const char* linked_to,
                         const std::string& to, bool moves, std::vector<Conflict>* conflicts) {
  std::string key = IdentityKey(partition, kind, value);
  auto known = store_->ResolveIdentity(key);
  if (known && *known != to && !moves) {
    // "ec:" links an address ("e:") to its contact.
    Refuse(StrCat(kind[1] == 'c' ? "e:" : kind, value), linked_to, std::move(*known), to, conflicts);
    return false;
  }
  if (!known || *known != to) store_->PutIdentity(key, to);
  return true;
}

void Resolver::Learn(const v1::Signal& signal, const Resolution& resolution, int32_t partition,
                     std::vector<std::string>* linked, std::vector<Conflict>* conflicts) {
  if (resolution.how == How::kNone) return;
  const std::string& account = resolution.account_id;
  bool crm_says = resolution.how == How::kCarried && absl::StartsWith(signal.type(), "crm.");
  // A domain names the company, not the person: it teaches the visitor id of
  // a form fill, not the address (which resolves by its domain anyway).
  bool visitor_only = resolution.how == How::kDomain;
  ForEachIdentifier(signal, [&](const char* kind, const std::string& value) {
    if (IsJunk(value) || (visitor_only && kind[0] != 'a')) return false;
    // The CRM moves a contact id; everything else keeps its first link.
    bool moves = crm_says && kind[0] == 'c';
    if (LinkFirst(partition, kind, value, "account", account, moves, conflicts) && linked != nullptr) {
      linked->push_back(StrCat(kind, value));
    }
    return false;
  });
  if (visitor_only) return;
  // An address belongs to one contact.
  const std::string& contact = signal.contact_id();
  const std::string& email = signal.email();
  if (!contact.empty() && !email.empty() && !IsJunk(contact) && !IsJunk(email)) {
    LinkFirst(partition, "ec:", email, "contact", contact, false, conflicts);
  }
  // A CRM account record names the account's domain.
  if (resolution.how == How::kCarried && signal.has_crm_activity() && !signal.crm_activity().account_domain().empty()) {
    std::string domain = rules_.MappableDomain(signal.crm_activity().account_domain());
    if (!domain.empty()) {
      bool fresh = !store_->ResolveIdentity(IdentityKey(partition, "d:", domain));
      // A new domain link releases the addresses at it that wait.
      if (LinkFirst(partition, "d:", domain, "account", account, false, conflicts) && fresh && linked != nullptr) {
        linked->push_back(StrCat("d:", domain));
      }
    }
  }
}

bool Resolver::Announce(const v1::Signal& signal, int32_t partition) {
  const std::string& account = signal.account_id();
  bool fresh = false;
  auto note = [&](const char* kind, const std::string& value, const std::string& to) {
    std::string key = IdentityKey(partition, kind, value);
    auto known = store_->ResolveIdentity(key);
    if (known && *known == to) return;
    store_->PutIdentity(key, to);
    fresh = true;
  };
  ForEachIdentifier(signal, [&](const char* kind, const std::string& value) {
    if (!IsJunk(value)) note(kind, value, account);
    return false;
  });
  const std::string& contact = signal.contact_id();
  const std::string& email = signal.email();
  if (!contact.empty() && !email.empty() && !IsJunk(contact) && !IsJunk(email)) note("ec:", email, contact);
  if (signal.has_crm_activity() && !signal.crm_activity().account_domain().empty()) {
    std::string domain = rules_.MappableDomain(signal.crm_activity().account_domain());
    if (!domain.empty()) note("d:", domain, account);
  }
  return fresh;
}

std::vector<std::string> Resolver::Erase(const v1::Signal& signal, int32_t partition) {
  std::vector<std::string> erased;
  ForEachIdentifier(signal, [&](const char* kind, const std::string& value) {
    store_->DeleteIdentity(IdentityKey(partition, kind, value));
    if (kind[0] == 'e') store_->DeleteIdentity(IdentityKey(partition, "ec:", value));
    erased.push_back(StrCat(kind, value));
    return false;
  });
  counters_.erased += static_cast<int64_t>(erased.size());
  return erased;
}

std::string Resolver::LinkedAccount(const v1::Signal& signal, int32_t partition) {
  if (!signal.account_id().empty()) return signal.account_id();
  std::string account;
  ForEachIdentifier(signal, [&](const char* kind, const std::string& value) {
    if (auto found = store_->ResolveIdentity(IdentityKey(partition, kind, value))) account = std::move(*found);
    return !account.empty();
  });
  return account;
}

int64_t Resolver::EraseLinksTo(const std::string& account_id, int32_t partition) {
  std::vector<std::string> keys;
  store_->ForEachIdentity(StrCat(partition, "/"), [&](const std::string& key, const std::string& value) {
    if (value == account_id) keys.push_back(key);
  });
  for (const auto& key : keys) store_->DeleteIdentity(key);
  counters_.erased += static_cast<int64_t>(keys.size());
  return static_cast<int64_t>(keys.size());
}

std::string Resolver::WaitKey(const v1::Signal& signal) {
  std::string key;
  ForEachIdentifier(signal, [&](const char* kind, const std::string& value) {
    if (IsJunk(value)) return false;
    key = StrCat(kind, value);
    return true;
  });
  return key;
}

}  // namespace demandcenter::identity
