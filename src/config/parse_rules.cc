// The rules section's parser: each rule's condition, action and channel,
// its priority and timings, its route (owner or pool, SLA, escalation) and
// its CRM prompt template.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;

// Placeholders a prompt's templates may use.
const std::set<std::string>& PromptPlaceholders() {
  static const std::set<std::string> kNames = {
      "account_name", "account_id", "contact", "contact_title", "stage",
      "score", "committee_size", "committee_roles", "amount",
      "opportunity_stage", "type", "count", "usage_drop", "owner", "due",
      "page"};
  return kNames;
}

// Reports unclosed braces and unknown {placeholders} in a prompt template.
void CheckPlaceholders(YamlReader& reader, const YAML::Node& node, const std::string& text,
                       const std::string& what) {
  size_t pos = 0;
  while ((pos = text.find('{', pos)) != std::string::npos) {
    size_t end = text.find('}', pos);
    if (end == std::string::npos) {
      reader.Error(node, StrCat(what, ": unclosed \"{\" in template"));
      return;
    }
    std::string name = text.substr(pos + 1, end - pos - 1);
    if (!PromptPlaceholders().count(name)) {
      std::vector<std::string> known(PromptPlaceholders().begin(), PromptPlaceholders().end());
      reader.Error(node, StrCat(what, ": unknown placeholder {", name, "}", Suggest(name, known),
                                "; available: ", absl::StrJoin(known, ", ")));
    }
    pos = end + 1;
  }
}

// `channel`: a channel name, or auto.
void ParseRuleChannel(YamlReader& reader, const YAML::Node& ch, const std::string& what,
                      Rule* rule) {
  auto s = reader.String(ch, StrCat(what, ".channel"));
  if (!s) return;
  if (*s == "auto") {
    rule->channel.automatic = true;
  } else if (auto c = ParseChannel(*s)) {
    rule->channel.channel = *c;
  } else {
    std::vector<std::string> names = {"auto"};
    for (auto& channel : ChannelNames()) names.push_back(std::move(channel));
    reader.Error(ch, StrCat(what, ": unknown channel \"", *s, "\"", Suggest(*s, names),
                            "; use one of ", absl::StrJoin(names, ", ")));
  }
}

// route.escalate: next_member, manager or none, in order.
void ParseEscalation(YamlReader& reader, const YAML::Node& route, const std::string& what,
                     Route* rt) {
  YAML::Node esc = route["escalate"];
  if (!route["sla"]) {
    reader.Error(esc, StrCat(what, ".route.escalate needs an sla (the deadline that escalates)"));
  }
  for (const auto& step : reader.StringList(esc, StrCat(what, ".route.escalate"))) {
    if (step == "next_member") {
      rt->escalate.push_back(EscalationStep::kNextMember);
    } else if (step == "manager") {
      rt->escalate.push_back(EscalationStep::kManager);
    } else if (step != "none") {
      reader.Error(esc, StrCat(what, ".route.escalate: unknown step \"", step,
                               "\"; use next_member, manager, or none"));
    }
  }
}

// route: {owner, pool, sla, escalate, manager}. Sets *names_escalation when
// the route lists its escalation steps.
void ParseRoute(YamlReader& reader, const YAML::Node& route, const std::string& what,
                Rule* rule, bool* names_escalation) {
  if (!reader.ExpectMap(route, StrCat(what, ".route"),
                        {"owner", "pool", "sla", "escalate", "manager"})) {
    return;
  }
  Route rt;
  if (auto o = route["owner"]) {
    auto s = reader.String(o, StrCat(what, ".route.owner"));
    if (s && *s != "account") {
      reader.Error(o, StrCat(what, ".route.owner: only \"account\" (the CRM owner) is supported"));
    }
    rt.to_owner = true;
  }
  if (auto pool = route["pool"]) {
    if (auto s = reader.String(pool, StrCat(what, ".route.pool"))) {
      rt.pool = *s;
      reader.ReferPool(pool, *s);
    }
  }
  if (!rt.to_owner && rt.pool.empty()) {
    reader.Error(route, StrCat(what, ".route needs \"owner: account\" or \"pool\""));
  }
  if (auto sla = route["sla"]) {
    if (auto d = reader.Duration(sla, StrCat(what, ".route.sla"))) {
      rt.sla_ms = *d;
      rt.sla_days = static_cast<int32_t>(*d / kDay);
      rt.sla_open_ms = *d % kDay;
    }
  }
  if (auto m = route["manager"]) {
    if (auto s = reader.String(m, StrCat(what, ".route.manager"))) rt.manager = *s;
  }
  if (route["escalate"]) {
    ParseEscalation(reader, route, what, &rt);
    *names_escalation = true;
  }
  rule->route = rt;
}

// prompt: {title, why, suggested_action}; a prompt needs a route.
void ParsePrompt(YamlReader& reader, const YAML::Node& prompt, const std::string& what,
                 Rule* rule) {
  if (!reader.ExpectMap(prompt, StrCat(what, ".prompt"), {"title", "why", "suggested_action"})) {
    return;
  }
  PromptTemplate t;
  if (auto s = reader.RequiredString(prompt, "title", StrCat(what, ".prompt"))) t.title = *s;
  if (auto n = prompt["why"]) {
    if (auto s = reader.String(n, StrCat(what, ".prompt.why"))) t.why = *s;
  }
  if (auto n = prompt["suggested_action"]) {
    if (auto s = reader.String(n, StrCat(what, ".prompt.suggested_action"))) {
      t.suggested_action = *s;
    }
  }
  CheckPlaceholders(reader, prompt["title"], t.title, StrCat(what, ".prompt.title"));
  if (prompt["why"]) CheckPlaceholders(reader, prompt["why"], t.why, StrCat(what, ".prompt.why"));
  rule->prompt = t;
  if (!rule->route) {
    reader.Error(prompt, StrCat(what, " has a prompt but no route: a prompt needs a salesperson "
                                      "(add route: {owner: account} or route: {pool: ...})"));
  }
}

// The scalar settings: role, priority, cooldown, expires, reason.
void ParseRuleSettings(YamlReader& reader, const YAML::Node& r, const std::string& what,
                       Rule* rule) {
  if (auto role = r["role"]) {
    if (auto s = reader.String(role, StrCat(what, ".role"))) rule->role = *s;
  }
  if (auto n = r["priority"]) {
    if (auto v = reader.Integer(n, StrCat(what, ".priority"), 0, 100)) {
      rule->priority = static_cast<int32_t>(*v);
    }
  }
  if (auto n = r["cooldown"]) {
    if (auto d = reader.Duration(n, StrCat(what, ".cooldown"))) rule->cooldown_ms = *d;
  }
  if (auto n = r["expires"]) {
    if (auto d = reader.Duration(n, StrCat(what, ".expires"))) rule->expires_ms = *d;
  }
  if (auto n = r["reason"]) {
    if (auto s = reader.String(n, StrCat(what, ".reason"))) rule->reason = *s;
  }
}

// One rule; `ids` maps the ids seen so far to where they were written.
Rule ParseRule(YamlReader& reader, const YAML::Node& r, std::map<std::string, SourceLocation>* ids,
               bool* names_escalation) {
  std::string what = "rule";
  Rule rule;
  rule.location = YamlReader::Loc(r);
  if (auto id = reader.RequiredString(r, "id", what)) {
    rule.id = *id;
    what = StrCat("rule \"", rule.id, "\"");
    auto [it, inserted] = ids->emplace(rule.id, YamlReader::Loc(r["id"]));
    if (!inserted) {
      reader.Error(r["id"], StrCat("duplicate rule id \"", rule.id, "\" (first defined at line ",
                                   it->second.line, ")"));
    }
  }
  if (auto when = r["when"]) {
    rule.when = ParseCondition(reader, when, StrCat(what, ".when"), 0);
  } else {
    reader.Error(r, StrCat(what, " needs \"when\" (the condition that triggers it)"));
  }
  if (auto action = reader.RequiredString(r, "action", what)) rule.action = *action;
  if (auto ch = r["channel"]) {
    ParseRuleChannel(reader, ch, what, &rule);
  } else {
    reader.Error(r, StrCat(what, " needs \"channel\" (e.g. INSIDE_SALES, or auto)"));
  }
  ParseRuleSettings(reader, r, what, &rule);
  if (auto route = r["route"]) ParseRoute(reader, route, what, &rule, names_escalation);
  if (auto prompt = r["prompt"]) ParsePrompt(reader, prompt, what, &rule);
  return rule;
}

}  // namespace

void ParseRules(YamlReader& reader, const YAML::Node& node, DecisionConfig* config,
                std::set<size_t>* explicit_escalation) {
  if (!node.IsSequence()) {
    reader.Error(node, "rules must be a list");
    return;
  }
  std::map<std::string, SourceLocation> ids;
  for (const auto& r : node) {
    if (!reader.ExpectMap(r, "rule", {"id", "when", "action", "channel", "role", "priority",
                                      "cooldown", "expires", "reason", "route", "prompt"})) {
      continue;
    }
    bool names_escalation = false;
    Rule rule = ParseRule(reader, r, &ids, &names_escalation);
    if (names_escalation) explicit_escalation->insert(config->rules.size());
    config->rules.push_back(std::move(rule));
  }
}

}  // namespace demandcenter::config::internal
