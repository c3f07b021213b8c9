// The arbitration section's parser: how many actions an account may get at
// once, the propensity priors per action, channel and stage, and the
// context weights that multiply a candidate's score.
#include <string>
#include <utility>

#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

// propensity: [{action, channel, stage, value}, ...].
void ParsePropensity(YamlReader& reader, const YAML::Node& list, ArbitrationConfig* arb) {
  if (!list.IsSequence()) {
    reader.Error(list, "arbitration.propensity must be a list of {action, channel, stage, value}");
    return;
  }
  for (const auto& item : list) {
    const std::string what = "arbitration.propensity item";
    if (!reader.ExpectMap(item, what, {"action", "channel", "stage", "value"})) continue;
    Propensity prior;
    if (auto n = item["action"]) prior.actions = reader.StringList(n, StrCat(what, ".action"));
    if (auto n = item["channel"]) {
      prior.channels = reader.Channels(n, StrCat(what, ".channel"), false);
    }
    if (auto n = item["stage"]) {
      prior.stages = reader.StringList(n, StrCat(what, ".stage"));
      for (const auto& st : prior.stages) reader.ReferStage(n, st, StrCat(what, ".stage"));
    }
    if (auto n = item["value"]) {
      if (auto v = reader.Number(n, StrCat(what, ".value"))) {
        if (*v <= 0) {
          reader.Error(n, StrCat(what, ".value must be greater than zero"));
        } else {
          prior.value = *v;
        }
      }
    } else {
      reader.Error(item, StrCat(what, " needs \"value\" (e.g. 0.6)"));
    }
    arb->propensity.push_back(std::move(prior));
  }
}

// context: [{id, when, channel, action, weight}, ...].
void ParseContextWeights(YamlReader& reader, const YAML::Node& list, ArbitrationConfig* arb) {
  if (!list.IsSequence()) {
    reader.Error(list, "arbitration.context must be a list of {id, when, weight}");
    return;
  }
  for (const auto& item : list) {
    std::string what = "arbitration.context item";
    if (!reader.ExpectMap(item, what, {"id", "when", "channel", "action", "weight"})) continue;
    ContextWeight w;
    if (auto id = reader.RequiredString(item, "id", what)) {
      w.id = *id;
      what = StrCat("context weight \"", w.id, "\"");
    }
    if (auto n = item["when"]) {
      w.when = ParseCondition(reader, n, StrCat(what, ".when"), 0);
    } else {
      reader.Error(item, StrCat(what, " needs \"when\""));
    }
    if (auto n = item["channel"]) w.channels = reader.Channels(n, StrCat(what, ".channel"), false);
    if (auto n = item["action"]) w.actions = reader.StringList(n, StrCat(what, ".action"));
    if (auto n = item["weight"]) {
      if (auto v = reader.Number(n, StrCat(what, ".weight"))) {
        if (*v <= 0) {
          reader.Error(n, StrCat(what, ".weight must be greater than zero"));
        } else {
          w.weight = *v;
        }
      }
    } else {
      reader.Error(item, StrCat(what, " needs \"weight\" (e.g. 1.2)"));
    }
    arb->context.push_back(std::move(w));
  }
}

// learning: {prior_weight, exploration_floor, window}; present = on.
void ParseLearning(YamlReader& reader, const YAML::Node& node, LearningConfig* learning) {
  if (!reader.ExpectMap(node, "arbitration.learning", {"prior_weight", "exploration_floor", "window"})) return;
  learning->enabled = true;
  if (auto n = node["prior_weight"]) {
    if (auto v = reader.Number(n, "arbitration.learning.prior_weight")) {
      if (*v < 1 || *v > 100000) {
        reader.Error(n, "arbitration.learning.prior_weight is how many outcomes the prior counts for: 1 to 100000");
      } else {
        learning->prior_weight = *v;
      }
    }
  }
  if (auto n = node["exploration_floor"]) {
    if (auto v = reader.Number(n, "arbitration.learning.exploration_floor")) {
      if (*v < 0 || *v >= 1) {
        reader.Error(n, "arbitration.learning.exploration_floor is a propensity: at least 0 and below 1, e.g. 0.02");
      } else {
        learning->exploration_floor = *v;
      }
    }
  }
  if (auto n = node["window"]) {
    // Duration refuses 0 and less.
    if (auto d = reader.Duration(n, "arbitration.learning.window")) learning->window_ms = *d;
  }
}

}  // namespace

void ParseArbitration(YamlReader& reader, const YAML::Node& a, DecisionConfig* config) {
  if (!reader.ExpectMap(a, "arbitration",
                        {"max_actions", "propensity", "default_propensity", "context", "learning"})) {
    return;
  }
  auto& arb = config->arbitration;
  if (auto n = a["max_actions"]) {
    if (auto v = reader.Integer(n, "arbitration.max_actions", 1, 20)) {
      arb.max_actions = static_cast<int32_t>(*v);
    }
  }
  if (auto n = a["default_propensity"]) {
    if (auto v = reader.Number(n, "arbitration.default_propensity")) {
      if (*v <= 0) {
        reader.Error(n, "arbitration.default_propensity must be greater than zero");
      } else {
        arb.default_propensity = *v;
      }
    }
  }
  if (auto list = a["propensity"]) ParsePropensity(reader, list, &arb);
  if (auto list = a["context"]) ParseContextWeights(reader, list, &arb);
  if (auto n = a["learning"]) ParseLearning(reader, n, &arb.learning);
}

}  // namespace demandcenter::config::internal
