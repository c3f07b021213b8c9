// The routing section's parser: the `channel: auto` model (deal
// complexity thresholds, partner territories, stage groups, specialists,
// who takes each channel, and channel affinity).
#include <string>
#include <utility>

#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

constexpr char kAuto[] = "routing.auto";

// The deal's complexity: thresholds, segments, partner territories.
void ParseComplexity(YamlReader& reader, const YAML::Node& a, AutoRoutingConfig* ar) {
  if (auto n = a["large_deal"]) {
    if (auto v = reader.Number(n, StrCat(kAuto, ".large_deal"))) ar->large_deal = *v;
  }
  if (auto n = a["large_committee"]) {
    if (auto v = reader.Integer(n, StrCat(kAuto, ".large_committee"), 1, 1000)) {
      ar->large_committee = static_cast<int32_t>(*v);
    }
  }
  if (auto n = a["many_products"]) {
    if (auto v = reader.Integer(n, StrCat(kAuto, ".many_products"), 1, 1000)) {
      ar->many_products = static_cast<int32_t>(*v);
    }
  }
  if (auto n = a["complex_segments"]) {
    ar->complex_segments = reader.StringList(n, StrCat(kAuto, ".complex_segments"));
  }
  if (auto n = a["partner_territories"]) {
    ar->partner_territories = reader.StringList(n, StrCat(kAuto, ".partner_territories"));
  }
}

// stages: {early, evaluation, late, customer, dormant}: journey stages.
void ParseStageGroups(YamlReader& reader, const YAML::Node& st, AutoRoutingConfig* ar) {
  if (!reader.ExpectMap(st, StrCat(kAuto, ".stages"),
                        {"early", "evaluation", "late", "customer", "dormant"})) {
    return;
  }
  for (auto [key, field] : {std::pair{"early", &ar->early}, {"evaluation", &ar->evaluation},
                            {"late", &ar->late}, {"customer", &ar->customer},
                            {"dormant", &ar->dormant}}) {
    if (auto n = st[key]) {
      *field = reader.StringList(n, StrCat(kAuto, ".stages.", key));
      for (const auto& stage : *field) {
        reader.ReferStage(n, stage, StrCat(kAuto, ".stages.", key));
      }
    }
  }
}

// specialists: [{when, role, pool}, ...].
void ParseSpecialists(YamlReader& reader, const YAML::Node& list, AutoRoutingConfig* ar) {
  if (!list.IsSequence()) {
    reader.Error(list, StrCat(kAuto, ".specialists must be a list of {when, role, pool}"));
    return;
  }
  for (const auto& item : list) {
    if (!reader.ExpectMap(item, StrCat(kAuto, ".specialists item"), {"when", "role", "pool"})) {
      continue;
    }
    Specialist sp;
    if (auto n = item["when"]) {
      sp.when = ParseCondition(reader, n, StrCat(kAuto, ".specialists.when"), 0);
    } else {
      reader.Error(item, StrCat(kAuto, ".specialists item needs \"when\""));
    }
    if (auto r = reader.RequiredString(item, "role", StrCat(kAuto, ".specialists item"))) {
      sp.role = *r;
    }
    if (auto n = item["pool"]) {
      if (auto s = reader.String(n, StrCat(kAuto, ".specialists.pool"))) {
        sp.pool = *s;
        reader.ReferPool(n, *s);
      }
    }
    ar->specialists.push_back(std::move(sp));
  }
}

// routes: {CHANNEL: {role, owner, pool}}.
void ParseRoutes(YamlReader& reader, const YAML::Node& routes, AutoRoutingConfig* ar) {
  if (!routes.IsMap()) {
    reader.Error(routes, StrCat(kAuto, ".routes must map channels to {role, owner, pool}"));
    return;
  }
  for (const auto& kv : routes) {
    std::string name = kv.first.Scalar();
    auto channel = ParseChannel(name);
    if (!channel) {
      reader.Error(kv.first, StrCat(kAuto, ".routes: unknown channel \"", name, "\""));
      continue;
    }
    const std::string what = StrCat(kAuto, ".routes.", name);
    if (!reader.ExpectMap(kv.second, what, {"role", "owner", "pool"})) continue;
    AutoRoute r;
    if (auto n = kv.second["role"]) {
      if (auto s = reader.String(n, StrCat(what, ".role"))) r.role = *s;
    }
    if (auto n = kv.second["owner"]) {
      auto s = reader.String(n, StrCat(what, ".owner"));
      if (s && *s != "account") {
        reader.Error(n, StrCat(what, ".owner: only \"account\" is supported"));
      }
      r.to_owner = true;
    }
    if (auto n = kv.second["pool"]) {
      if (auto s = reader.String(n, StrCat(what, ".pool"))) {
        r.pool = *s;
        reader.ReferPool(n, *s);
      }
    }
    ar->routes.emplace_back(*channel, std::move(r));
  }
}

// affinity: {person, digital, min_responses, person_share}.
void ParseAffinity(YamlReader& reader, const YAML::Node& af, AutoRoutingConfig* ar) {
  if (!reader.ExpectMap(af, StrCat(kAuto, ".affinity"),
                        {"person", "digital", "min_responses", "person_share"})) {
    return;
  }
  if (auto n = af["person"]) {
    ar->person_signals = reader.StringList(n, StrCat(kAuto, ".affinity.person"));
  }
  if (auto n = af["digital"]) {
    ar->digital_signals = reader.StringList(n, StrCat(kAuto, ".affinity.digital"));
  }
  if (auto n = af["min_responses"]) {
    if (auto v = reader.Integer(n, StrCat(kAuto, ".affinity.min_responses"), 1, 100000)) {
      ar->affinity_min_responses = static_cast<int32_t>(*v);
    }
  }
  if (auto n = af["person_share"]) {
    if (auto v = reader.Number(n, StrCat(kAuto, ".affinity.person_share"))) {
      if (*v <= 0 || *v > 1) {
        reader.Error(n, StrCat(kAuto, ".affinity.person_share is a fraction between 0 and 1"));
      } else {
        ar->person_share = *v;
      }
    }
  }
}

}  // namespace

void ParseRouting(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!reader.ExpectMap(node, "routing", {"auto"})) return;
  YAML::Node a = node["auto"];
  if (!a) return;
  if (!reader.ExpectMap(a, kAuto,
                        {"large_deal", "large_committee", "many_products", "complex_segments",
                         "partner_territories", "stages", "specialists", "routes", "affinity"})) {
    return;
  }
  auto& ar = config->routing.automatic;
  ParseComplexity(reader, a, &ar);
  if (auto st = a["stages"]) ParseStageGroups(reader, st, &ar);
  if (auto list = a["specialists"]) ParseSpecialists(reader, list, &ar);
  if (auto routes = a["routes"]) ParseRoutes(reader, routes, &ar);
  if (auto af = a["affinity"]) ParseAffinity(reader, af, &ar);
}

}  // namespace demandcenter::config::internal
