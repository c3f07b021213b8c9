// The identity section: the blocklist of junk identifiers, e-mail domains
// that map to an account, and the free-mail providers that never do.
#include <string>

#include "absl/strings/ascii.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

// A list of values, lower-cased, replacing *into.
void ParseLowerSet(YamlReader& reader, const YAML::Node& n, const std::string& what, std::set<std::string>* into) {
  std::vector<std::string> values = reader.StringList(n, what);
  into->clear();
  for (auto& v : values) into->insert(absl::AsciiStrToLower(v));
}

}  // namespace

void ParseIdentity(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!reader.ExpectMap(node, "identity", {"blocklist", "domains", "free_mail", "scope", "wait"})) return;
  IdentityConfig& identity = config->identity;
  if (auto n = node["scope"]) {
    if (auto scope = reader.String(n, "identity.scope")) {
      if (*scope == "global" || *scope == "partition") {
        identity.global = *scope == "global";
      } else {
        reader.Error(n, StrCat("identity.scope: '", *scope, "' is neither partition nor global"));
      }
    }
  }
  if (auto w = node["wait"]) {
    if (reader.ExpectMap(w, "identity.wait", {"max_signals", "max_age"})) {
      if (auto n = w["max_signals"]) {
        if (auto v = reader.Integer(n, "identity.wait.max_signals", 0, 100000)) identity.wait_max_signals = *v;
      }
      if (auto n = w["max_age"]) {
        if (auto d = reader.Duration(n, "identity.wait.max_age")) identity.wait_max_age_ms = *d;
      }
    }
  }
  if (auto n = node["blocklist"]) {
    ParseLowerSet(reader, n, "identity.blocklist", &identity.blocklist);
    identity.blocklist.insert("");  // an empty identifier is never one
  }
  if (auto n = node["free_mail"]) ParseLowerSet(reader, n, "identity.free_mail", &identity.free_mail);
  if (auto n = node["domains"]) {
    if (!n.IsMap()) {
      reader.Error(n, "identity.domains must be a map of e-mail domain to account id, e.g. {acme.com: acct-42}");
      return;
    }
    for (const auto& entry : n) {
      std::string domain = absl::AsciiStrToLower(entry.first.as<std::string>());
      auto account = reader.String(entry.second, StrCat("identity.domains.", domain));
      if (!account) continue;
      if (account->empty()) {
        reader.Error(entry.second, StrCat("identity.domains.", domain, ": the account id is empty"));
      } else if (domain.find('@') != std::string::npos || domain.find('.') == std::string::npos) {
        reader.Error(entry.first, StrCat("identity.domains: '", domain, "' is not an e-mail domain (write acme.com)"));
      } else if (identity.free_mail.count(domain)) {
        reader.Error(entry.first, StrCat("identity.domains: '", domain,
                                         "' is a free-mail provider (identity.free_mail); its addresses are people's own"));
      } else {
        identity.domains[domain] = *account;
      }
    }
  }
}

void ParseEventTime(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!reader.ExpectMap(node, "event_time", {"max_ahead", "max_late"})) return;
  EventTimeConfig& t = config->event_time;
  if (auto n = node["max_ahead"]) {
    if (auto d = reader.Duration(n, "event_time.max_ahead")) t.max_ahead_ms = *d;
  }
  if (auto n = node["max_late"]) {
    if (auto d = reader.Duration(n, "event_time.max_late")) {
      if (*d > config->dedup_window_ms) {
        reader.Error(n, StrCat("event_time.max_late (", FormatDuration(*d), ") is longer than state.dedup_window (",
                               FormatDuration(config->dedup_window_ms),
                               "): a re-sent signal older than the window would count twice"));
      } else {
        t.max_late_ms = *d;
      }
    }
  }
}

}  // namespace demandcenter::config::internal
