// Resolver: identifiers of a partition -> account.
#include "demandcenter/identity/identity.h"

#include <utility>

#include "demandcenter/common/strings.h"

namespace demandcenter::identity {
namespace {

// Identity keys are scoped to the partition: "<partition>/c:<contact id>",
// "/e:<address>", "/a:<visitor id>".
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

std::string Resolver::Resolve(const v1::Signal& signal, int32_t partition) {
  if (!signal.account_id().empty()) return signal.account_id();
  std::string account;
  ForEachIdentifier(signal, [&](const char* kind, const std::string& value) {
    if (auto found = store_->ResolveIdentity(IdentityKey(partition, kind, value))) account = std::move(*found);
    return !account.empty();
  });
  return account;
}

void Resolver::Learn(const v1::Signal& signal, int32_t partition) {
  if (signal.account_id().empty()) return;
  ForEachIdentifier(signal, [&](const char* kind, const std::string& value) {
    std::string key = IdentityKey(partition, kind, value);
    auto known = store_->ResolveIdentity(key);
    if (!known || *known != signal.account_id()) store_->PutIdentity(key, signal.account_id());
    return false;
  });
}

}  // namespace demandcenter::identity
