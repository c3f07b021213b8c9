// The journey section's parser: the stages, the initial stage, the chain
// limit and the transitions with their guards or inactivity timers.
#include <algorithm>
#include <map>
#include <string>
#include <utility>

#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

void ParseStages(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  YAML::Node stages = node["stages"];
  if (!stages || !stages.IsSequence() || stages.size() == 0) {
    reader.Error(stages ? stages : node, "journey.stages must be a non-empty list of stage names");
    return;
  }
  for (const auto& s : stages) {
    auto name = reader.String(s, "journey.stages item");
    if (name && !reader.IsSafeId(s, *name, "stage name")) continue;
    if (!name) continue;
    if (config->StageIndex(*name) >= 0) {
      reader.Error(s, StrCat("stage \"", *name, "\" is listed twice in journey.stages"));
      continue;
    }
    config->journey.stages.push_back(*name);
  }
}

// One transition; `ids` maps the ids seen so far to where they were written.
Transition ParseTransition(YamlReader& reader, const YAML::Node& t,
                           std::map<std::string, SourceLocation>* ids) {
  std::string what = "transition";
  Transition tr;
  tr.location = YamlReader::Loc(t);
  if (auto id = reader.RequiredString(t, "id", what)) {
    tr.id = *id;
    what = StrCat("transition \"", tr.id, "\"");
    auto [it, inserted] = ids->emplace(tr.id, YamlReader::Loc(t["id"]));
    if (!inserted) {
      reader.Error(t["id"], StrCat("duplicate transition id \"", tr.id,
                                   "\" (first defined at line ", it->second.line, ")"));
    }
  }
  if (auto from = t["from"]) {
    tr.from = reader.StringList(from, StrCat(what, ".from"));
    for (const auto& s : tr.from) reader.ReferStage(from, s, StrCat(what, ".from"));
  }
  if (auto to = reader.RequiredString(t, "to", what)) {
    tr.to = *to;
    reader.ReferStage(t["to"], *to, StrCat(what, ".to"));
  }
  if (auto n = t["inactive_for"]) {
    if (auto d = reader.Duration(n, StrCat(what, ".inactive_for"))) tr.inactive_for_ms = *d;
  }
  if (auto when = t["when"]) {
    tr.when = ParseCondition(reader, when, StrCat(what, ".when"), 0);
  } else if (!t["inactive_for"]) {
    reader.Error(t, StrCat(what, " needs \"when\" (its guard) or \"inactive_for\""));
  }
  return tr;
}

// `outlook: {won, min_exits}`; won defaults to a stage named "customer".
void ParseOutlook(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  JourneyConfig& j = config->journey;
  if (std::find(j.stages.begin(), j.stages.end(), "customer") != j.stages.end()) j.won_stage = "customer";
  if (!node) return;
  if (!reader.ExpectMap(node, "journey.outlook", {"won", "min_exits"})) return;
  if (auto won = node["won"]) {
    if (auto s = reader.String(won, "journey.outlook.won")) {
      j.won_stage = *s;
      reader.ReferStage(won, *s, "journey.outlook.won");
    }
  }
  if (auto n = node["min_exits"]) {
    if (auto v = reader.Integer(n, "journey.outlook.min_exits", 1, 1000000)) j.outlook_min_exits = static_cast<int32_t>(*v);
  }
}

}  // namespace

void ParseJourney(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!reader.ExpectMap(node, "journey", {"stages", "initial", "transitions", "max_chain", "outlook"})) {
    return;
  }
  ParseStages(reader, node, config);
  if (auto initial = node["initial"]) {
    if (auto s = reader.String(initial, "journey.initial")) {
      config->journey.initial = *s;
      reader.ReferStage(initial, *s, "journey.initial");
    }
  } else if (!config->journey.stages.empty()) {
    config->journey.initial = config->journey.stages.front();
  }
  config->journey.max_chain = static_cast<int32_t>(config->journey.stages.size());
  if (auto n = node["max_chain"]) {
    if (auto v = reader.Integer(n, "journey.max_chain", 1, 100)) {
      config->journey.max_chain = static_cast<int32_t>(*v);
    }
  }
  ParseOutlook(reader, node["outlook"], config);
  YAML::Node transitions = node["transitions"];
  if (!transitions) return;
  if (!transitions.IsSequence()) {
    reader.Error(transitions, "journey.transitions must be a list");
    return;
  }
  std::map<std::string, SourceLocation> ids;
  for (const auto& t : transitions) {
    if (!reader.ExpectMap(t, "transition", {"id", "from", "to", "when", "inactive_for"})) continue;
    config->journey.transitions.push_back(ParseTransition(reader, t, &ids));
  }
}

}  // namespace demandcenter::config::internal
