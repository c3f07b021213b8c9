// Identity: which account a signal belongs to. A signal that carries an
// account_id names it; one without is resolved through its contact id,
// e-mail address or visitor id, linked to an account by an earlier signal,
// else through its address's domain: identity.domains, then the domain a CRM
// account record gave (crm_activity.account_domain); never a free-mail
// provider's. Every resolved signal links its identifiers to its account (by
// a domain, only its visitor id), so a form fill (visitor id + address)
// teaches the visitor id; an
// identity.link signal does nothing else.
//
// Guard rails: junk values (identity.blocklist: "null", "anonymous", "0",
// test addresses...) never resolve or link anything. A visitor id, address
// or domain linked to one account stays with it, and an address stays with
// its first contact: a signal tying one to another is a conflict, returned
// (for identity.conflicts) and counted, and the first link stands. A contact
// id moves when a CRM record puts it on another account (the CRM says who
// works where). Identities are scoped by the `partition` argument: a
// partition's own (identity.scope partition), or the identity task's
// (identity.scope global, pipeline::kIdentityScope); either way they live in
// the StateStore given, in replay as on Kafka.
//
// Takes: a decoded signal and its partition. Gives: the account id and how
// it was found, or none; the links a resolved signal makes and the conflicts
// it raises. Depends on: the identity config, the StateStore (identities
// persist with the partition's state and its changelog).
#ifndef DEMANDCENTER_IDENTITY_IDENTITY_H_
#define DEMANDCENTER_IDENTITY_IDENTITY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/state/state_store.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::identity {

enum class How {
  kNone,     // not resolved
  kCarried,  // the signal's own account_id
  kLinked,   // a contact id, address or visitor id linked earlier
  kDomain,   // the address's domain (identity.domains or a CRM account's)
};

struct Resolution {
  std::string account_id;  // "" when kNone
  How how = How::kNone;
};

// A link refused because its identifier already belongs elsewhere.
struct Conflict {
  std::string identifier;  // "a:<visitor id>", "e:<address>", "c:<contact id>", "d:<domain>"
  std::string linked_to;   // "account", or "contact" (an address's contact)
  std::string kept;        // the id it stays linked to (the first link)
  std::string refused;     // the id the signal tied it to
};

// What resolution did, for the metrics and replay's summary.
struct IdentityCounters {
  int64_t by_link = 0;
  int64_t by_domain = 0;
  int64_t conflicts = 0;  // links refused: the identifier belongs to another account
  int64_t blocked = 0;    // junk identifier values ignored
  int64_t erased = 0;     // identifiers whose links privacy.erase removed

  IdentityCounters& operator+=(const IdentityCounters& o);
};

// Which identifier values and domains identity may use: junk values
// (identity.blocklist, compared lower-case) never, and an e-mail domain only
// when it may map to an account. `config` must outlive it.
class IdentifierRules {
 public:
  explicit IdentifierRules(const config::IdentityConfig& config);
  bool IsJunk(const std::string& value) const;
  // The lower-cased domain of an address or CRM domain that may map to an
  // account: "" for junk, free-mail providers and what is not a domain.
  std::string MappableDomain(std::string_view domain) const;

 private:
  const config::IdentityConfig& config_;
  size_t longest_blocked_ = 0;
};

// Not thread safe; `config` and `store` must outlive the resolver.
class Resolver {
 public:
  Resolver(const config::IdentityConfig& config, state::StateStore* store);

  // The signal's account_id, else the account its contact id, address or
  // visitor id (in that order) is linked to on `partition`, else its
  // address's domain's.
  Resolution Resolve(const v1::Signal& signal, int32_t partition);

  // Links the identifiers of a signal resolved to `resolution` (of one
  // resolved by its domain, only the visitor id), and a CRM account's
  // domain. Appends to
  // *linked (when not null) the identifiers ("c:…", "e:…", "a:…") now
  // linked to its account, and a domain ("d:…") linked for the first time,
  // for late binding, and to *conflicts (when not null) the links it
  // refused.
  void Learn(const v1::Signal& signal, const Resolution& resolution, int32_t partition,
             std::vector<std::string>* linked = nullptr, std::vector<Conflict>* conflicts = nullptr);

  // With identity.scope global, a partition's table is only what its task
  // has told the identity task: records the links a signal carrying its
  // account_id teaches (as Learn would, with no conflict judged) and says
  // whether any was new, i.e. worth sending on.
  bool Announce(const v1::Signal& signal, int32_t partition);

  // privacy.erase: removes the links of the identifiers the signal names
  // (its contact id, address and visitor id: what they resolve to, and the
  // address's contact) on `partition`. Returns those identifiers ("c:…",
  // "e:…", "a:…"), whose waiting signals go too.
  std::vector<std::string> Erase(const v1::Signal& signal, int32_t partition);
  // The account the signal's account_id, contact or address is linked to
  // (no domain, nothing counted), "" when none: whom an erasure concerns.
  std::string LinkedAccount(const v1::Signal& signal, int32_t partition);
  // privacy.erase of a whole account: every link on `partition` to it
  // goes (visitor ids, addresses, contacts and domains). Returns how many.
  int64_t EraseLinksTo(const std::string& account_id, int32_t partition);

  // The identifier an unresolved signal waits under: its first usable one
  // ("c:…", "e:…", "a:…"), or "" when it has none (junk values only).
  std::string WaitKey(const v1::Signal& signal);

  const IdentityCounters& counters() const { return counters_; }

 private:
  bool IsJunk(const std::string& value) const { return rules_.IsJunk(value); }
  // Links `kind`+`value` to `to` unless it is linked to another id and does
  // not move (`moves`): then the link is refused. True when linked.
  bool LinkFirst(int32_t partition, const char* kind, const std::string& value, const char* linked_to,
                 const std::string& to, bool moves, std::vector<Conflict>* conflicts);
  // Records a refused link.
  void Refuse(std::string identifier, const char* linked_to, std::string kept, const std::string& refused,
              std::vector<Conflict>* conflicts);
  // IsJunk, counted.
  bool Blocked(const std::string& value);

  const config::IdentityConfig& config_;
  state::StateStore* store_;
  IdentifierRules rules_;
  IdentityCounters counters_;
};

}  // namespace demandcenter::identity

#endif  // DEMANDCENTER_IDENTITY_IDENTITY_H_
