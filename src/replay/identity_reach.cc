// IdentityReach: a union-find over the stream's identifiers and accounts.
#include "demandcenter/replay/identity_reach.h"

#include "demandcenter/ingest/decoder.h"

namespace demandcenter::replay {

IdentityReach::IdentityReach(const config::IdentityConfig& config) : rules_(config) {
  for (const auto& [domain, account] : config.domains) Union(Node("d:" + domain), Node("A:" + account));
}

int32_t IdentityReach::Node(const std::string& name) {
  auto [it, added] = nodes_.try_emplace(name, static_cast<int32_t>(parent_.size()));
  if (added) {
    parent_.push_back(it->second);
    has_account_.push_back(name[0] == 'A');
  }
  return it->second;
}

int32_t IdentityReach::Find(int32_t node) {
  while (parent_[node] != node) {
    parent_[node] = parent_[parent_[node]];
    node = parent_[node];
  }
  return node;
}

void IdentityReach::Union(int32_t a, int32_t b) {
  a = Find(a);
  b = Find(b);
  if (a == b) return;
  parent_[b] = a;
  has_account_[a] = has_account_[a] || has_account_[b];
}

bool IdentityReach::Usable(const std::string& value) const { return !value.empty() && !rules_.IsJunk(value); }

std::string IdentityReach::Domain(const std::string& address) const {
  size_t at = address.rfind('@');
  return at == std::string::npos ? "" : rules_.MappableDomain(std::string_view(address).substr(at + 1));
}

void IdentityReach::OnSignal(int64_t line, const v1::Signal& signal) {
  if (signal.type() == ingest::kPrivacyEraseType) return;  // links nothing, reaches no account
  std::vector<int32_t> ids;
  if (!signal.account_id().empty()) ids.push_back(Node("A:" + signal.account_id()));
  if (Usable(signal.contact_id())) ids.push_back(Node("c:" + signal.contact_id()));
  if (Usable(signal.email())) {
    ids.push_back(Node("e:" + signal.email()));
    // An address's domain names an account only where a CRM account record
    // or identity.domains says so (Finish): not because a colleague's
    // address came with an account_id.
    if (std::string d = Domain(signal.email()); !d.empty()) address_domains_.emplace(ids.back(), Node("d:" + d));
  }
  if (Usable(signal.anonymous_id())) ids.push_back(Node("a:" + signal.anonymous_id()));
  if (!signal.account_id().empty() && signal.has_crm_activity() && !signal.crm_activity().account_domain().empty()) {
    std::string d = rules_.MappableDomain(signal.crm_activity().account_domain());
    if (!d.empty()) Union(ids.front(), Node("d:" + d));
  }
  for (size_t i = 1; i < ids.size(); ++i) Union(ids[0], ids[i]);
  // identity.link signals only link: they are not signals to reach an account.
  if (signal.account_id().empty() && !ids.empty() && signal.type() != ingest::kIdentityLinkType) {
    pending_[line] = {ids[0], kPending};
  }
}

void IdentityReach::Settle(int64_t line, State state) {
  auto it = pending_.find(line);
  if (it != pending_.end() && it->second.state == kPending) it->second.state = state;
}

ReachReport IdentityReach::Finish() {
  for (const auto& [address, domain] : address_domains_) {
    if (has_account_[Find(domain)]) has_account_[Find(address)] = true;
  }
  ReachReport r;
  for (const auto& [line, t] : pending_) {
    bool linkable = has_account_[Find(t.node)];
    ++r.identity_only;
    r.linkable += linkable;
    r.reached += t.state == kReached;
    r.linkable_reached += linkable && t.state == kReached;
    r.dead_lettered += t.state == kDead;
    r.still_waiting += t.state == kPending;
  }
  return r;
}

}  // namespace demandcenter::replay
