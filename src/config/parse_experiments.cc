// The experiments section's parser: which rules an experiment covers, its
// holdout share and its arms (each a share and what it changes in the
// rule: action, channel, priority, role).
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

// rules: the ids it covers; marks each rule with the experiment's index. A
// rule belongs to one experiment at most.
void ParseExperimentRules(YamlReader& reader, const YAML::Node& n, const std::string& what,
                          Experiment* e, DecisionConfig* config) {
  e->rules = reader.StringList(n, StrCat(what, ".rules"));
  for (const auto& rule_id : e->rules) {
    // The last rule with that id (ids are unique in a valid file).
    int index = -1;
    for (size_t i = 0; i < config->rules.size(); ++i) {
      if (config->rules[i].id == rule_id) index = static_cast<int>(i);
    }
    if (index < 0) {
      std::vector<std::string> names;
      for (const auto& r : config->rules) names.push_back(r.id);
      reader.Error(n, StrCat(what, ": unknown rule \"", rule_id, "\"", Suggest(rule_id, names)));
    } else if (config->rules[index].experiment >= 0) {
      reader.Error(n, StrCat(what, ": rule \"", rule_id, "\" is already in experiment \"",
                             config->experiments[config->rules[index].experiment].id, "\""));
    } else {
      config->rules[index].experiment = static_cast<int32_t>(config->experiments.size());
    }
  }
}

// An arm's channel: a channel name or auto.
void ParseArmChannel(YamlReader& reader, const YAML::Node& n, const std::string& arm_what,
                     ExperimentArm* arm) {
  auto s = reader.String(n, StrCat(arm_what, ".channel"));
  if (!s) return;
  ChannelChoice choice;
  if (*s == "auto") {
    choice.automatic = true;
    arm->channel = choice;
  } else if (auto c = ParseChannel(*s)) {
    choice.channel = *c;
    arm->channel = choice;
  } else {
    reader.Error(n, StrCat(arm_what, ": unknown channel \"", *s, "\""));
  }
}

// {id, share, action, channel, priority, role}; `arm_ids` are the ids seen
// so far in this experiment.
ExperimentArm ParseArm(YamlReader& reader, const YAML::Node& a, const std::string& what,
                       std::set<std::string>* arm_ids) {
  ExperimentArm arm;
  if (auto id = reader.RequiredString(a, "id", StrCat(what, " arm"))) {
    arm.id = *id;
    if (arm.id == "holdout") {
      reader.Error(a["id"], StrCat(what, ": \"holdout\" is reserved; use holdout: <share>"));
    }
    if (!arm_ids->insert(arm.id).second) {
      reader.Error(a["id"], StrCat(what, ": duplicate arm \"", arm.id, "\""));
    }
  }
  const std::string arm_what = StrCat(what, " arm \"", arm.id, "\"");
  if (auto n = a["share"]) {
    if (auto v = reader.Number(n, StrCat(arm_what, ".share"))) {
      if (*v <= 0) {
        reader.Error(n, StrCat(arm_what, ".share must be greater than zero"));
      } else {
        arm.share = *v;
      }
    }
  }
  if (auto n = a["action"]) {
    if (auto s = reader.String(n, StrCat(arm_what, ".action"))) arm.action = *s;
  }
  if (auto n = a["role"]) {
    if (auto s = reader.String(n, StrCat(arm_what, ".role"))) arm.role = *s;
  }
  if (auto n = a["channel"]) ParseArmChannel(reader, n, arm_what, &arm);
  if (auto n = a["priority"]) {
    if (auto v = reader.Integer(n, StrCat(arm_what, ".priority"), 0, 100)) {
      arm.priority = static_cast<int32_t>(*v);
    }
  }
  return arm;
}

void ParseArms(YamlReader& reader, const YAML::Node& arms, const std::string& what,
               Experiment* e) {
  if (!arms.IsSequence() || arms.size() == 0) {
    reader.Error(arms, StrCat(what, ".arms must be a non-empty list of {id, share, action, "
                                    "channel, priority}"));
    return;
  }
  std::set<std::string> arm_ids;
  for (const auto& a : arms) {
    if (!reader.ExpectMap(a, StrCat(what, " arm"),
                          {"id", "share", "action", "channel", "priority", "role"})) {
      continue;
    }
    e->arms.push_back(ParseArm(reader, a, what, &arm_ids));
  }
}

// One experiment; `ids` are the experiment ids seen so far.
Experiment ParseExperiment(YamlReader& reader, const YAML::Node& item,
                           std::set<std::string>* ids, DecisionConfig* config) {
  std::string what = "experiment";
  Experiment e;
  e.location = YamlReader::Loc(item);
  if (auto id = reader.RequiredString(item, "id", what)) {
    e.id = *id;
    what = StrCat("experiment \"", e.id, "\"");
    if (!ids->insert(e.id).second) {
      reader.Error(item["id"], StrCat("duplicate experiment id \"", e.id, "\""));
    }
  }
  if (auto n = item["rules"]) {
    ParseExperimentRules(reader, n, what, &e, config);
  } else {
    reader.Error(item, StrCat(what, " needs \"rules\" (the rule ids it covers)"));
  }
  if (auto n = item["holdout"]) {
    if (auto v = reader.Number(n, StrCat(what, ".holdout"))) {
      if (*v < 0 || *v >= 1) {
        reader.Error(n, StrCat(what, ".holdout is a share: at least 0 and below 1, e.g. 0.1"));
      } else {
        e.holdout = *v;
      }
    }
  }
  if (auto arms = item["arms"]) ParseArms(reader, arms, what, &e);
  if (e.holdout == 0 && e.arms.empty()) {
    reader.Error(item, StrCat(what, " needs a holdout share, arms, or both"));
  }
  return e;
}

}  // namespace

void ParseExperiments(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!node.IsSequence()) {
    reader.Error(node, "experiments must be a list of {id, rules, holdout, arms}");
    return;
  }
  std::set<std::string> ids;
  for (const auto& item : node) {
    if (!reader.ExpectMap(item, "experiment", {"id", "rules", "holdout", "arms"})) continue;
    config->experiments.push_back(ParseExperiment(reader, item, &ids, config));
  }
}

}  // namespace demandcenter::config::internal
