// The sla and feedback sections' parsers: which CRM signals meet a routed
// action's deadline and whether deadlines count business time; how long a
// dismissed prompt keeps its action away.
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {

void ParseSla(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!reader.ExpectMap(node, "sla", {"met_by", "business_time"})) return;
  if (auto n = node["met_by"]) config->sla.met_by = reader.StringList(n, "sla.met_by");
  if (auto n = node["business_time"]) {
    if (auto b = reader.Bool(n, "sla.business_time")) config->sla.business_time = *b;
  }
}

void ParseFeedback(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!reader.ExpectMap(node, "feedback", {"dismissed_cooldown"})) return;
  if (auto n = node["dismissed_cooldown"]) {
    if (auto d = reader.Duration(n, "feedback.dismissed_cooldown")) {
      config->feedback.dismissed_cooldown_ms = *d;
    }
  }
}

}  // namespace demandcenter::config::internal
