// The scoring and committee sections' parsers: score decay and weights per
// signal type; the buying committee's window and the title keywords of each
// role.
#include <string>
#include <utility>
#include <vector>

#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {

void ParseScoring(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!reader.ExpectMap(node, "scoring", {"half_life", "default_weight", "weights"})) return;
  if (auto n = node["half_life"]) {
    if (auto d = reader.Duration(n, "scoring.half_life")) config->scoring.half_life_ms = *d;
  }
  if (auto n = node["default_weight"]) {
    if (auto v = reader.Number(n, "scoring.default_weight")) config->scoring.default_weight = *v;
  }
  if (auto weights = node["weights"]) {
    if (!weights.IsMap()) {
      reader.Error(weights,
                   "scoring.weights must map signal types to weights, e.g. web.pricing_view: 8");
      return;
    }
    for (const auto& kv : weights) {
      if (auto v = reader.Number(kv.second, StrCat("scoring.weights.", kv.first.Scalar()))) {
        config->scoring.weights.emplace_back(kv.first.Scalar(), *v);
      }
    }
  }
}

void ParseCommittee(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!reader.ExpectMap(node, "committee", {"window", "roles"})) return;
  if (auto n = node["window"]) {
    if (auto d = reader.Duration(n, "committee.window")) config->committee.window_ms = *d;
  }
  if (auto roles = node["roles"]) {
    if (!roles.IsMap()) {
      reader.Error(roles, "committee.roles must map a role to title keywords, e.g. finance: "
                          "[cfo, finance]");
      return;
    }
    for (const auto& kv : roles) {
      std::vector<std::string> words =
          reader.StringList(kv.second, StrCat("committee.roles.", kv.first.Scalar()));
      for (auto& w : words) w = AsciiLower(w);
      config->committee.roles.emplace_back(kv.first.Scalar(), std::move(words));
    }
  }
}

}  // namespace demandcenter::config::internal
