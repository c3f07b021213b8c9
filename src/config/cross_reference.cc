// The config parser's cross-reference pass: the checks that need the
// whole file (stage, pool and committee role references, reachability,
// escalation) and the values derived from it (count series, default
// escalation steps).
#include "src/config/cross_reference.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::config::internal {
namespace {

// Roles the CRM may give a contact (contact_role), known without config.
const std::vector<std::string>& CrmRoles() {
  static const std::vector<std::string> kRoles = {"decision_maker", "champion", "technical",
                                                  "finance", "procurement", "user"};
  return kRoles;
}

// Returns false when a reference names an unknown stage.
bool CheckStageRefs(YamlReader& reader, const DecisionConfig& config) {
  bool ok = true;
  for (const auto& ref : reader.stage_refs()) {
    if (config.StageIndex(ref.name) < 0) {
      reader.Error(ref.location,
                   StrCat("unknown stage \"", ref.name, "\" in ", ref.what,
                          Suggest(ref.name, config.journey.stages),
                          "; stages are: ", absl::StrJoin(config.journey.stages, ", ")));
      ok = false;
    }
  }
  return ok;
}

// Every stage must be reachable from the initial one through transitions.
void CheckReachability(YamlReader& reader, const YAML::Node& journey,
                       const DecisionConfig& config) {
  const auto& stages = config.journey.stages;
  if (stages.empty() || config.StageIndex(config.journey.initial) < 0) return;
  std::vector<bool> reached(stages.size(), false);
  reached[config.StageIndex(config.journey.initial)] = true;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& t : config.journey.transitions) {
      int to = config.StageIndex(t.to);
      if (to < 0 || reached[to]) continue;
      bool from_reached = t.from.empty();
      for (const auto& f : t.from) {
        int fi = config.StageIndex(f);
        if (fi >= 0 && reached[fi]) from_reached = true;
      }
      if (from_reached) {
        reached[to] = true;
        changed = true;
      }
    }
  }
  YAML::Node list = journey["stages"];
  for (size_t i = 0; i < stages.size(); ++i) {
    if (!reached[i]) {
      reader.Error(list && list.IsSequence() && i < list.size() ? list[i] : journey,
                   StrCat("stage \"", stages[i],
                          "\" is unreachable: no chain of transitions leads to it "
                          "from the initial stage \"",
                          config.journey.initial, "\""));
    }
  }
}

void CheckPoolRefs(YamlReader& reader, const DecisionConfig& config) {
  for (const auto& ref : reader.pool_refs()) {
    if (config.FindPool(ref.name)) continue;
    std::vector<std::string> names;
    for (const auto& pl : config.pools) names.push_back(pl.id);
    reader.Error(ref.location,
                 StrCat("unknown pool \"", ref.name, "\"", Suggest(ref.name, names),
                        names.empty() ? "; no pools are defined"
                                      : StrCat("; pools are: ", absl::StrJoin(names, ", "))));
  }
}

void CheckRoleRefs(YamlReader& reader, const DecisionConfig& config) {
  const std::vector<std::string>& crm_roles = CrmRoles();
  for (const auto& ref : reader.role_refs()) {
    bool known = std::find(crm_roles.begin(), crm_roles.end(), ref.name) != crm_roles.end();
    for (const auto& r : config.committee.roles) known = known || r.first == ref.name;
    if (!known) {
      std::vector<std::string> names = crm_roles;
      for (const auto& r : config.committee.roles) names.push_back(r.first);
      reader.Error(ref.location,
                   StrCat("unknown committee role \"", ref.name, "\"", Suggest(ref.name, names)));
    }
  }
}

// Gives each count condition under `c` its series: one per distinct list of
// types, kept as long as its longest window.
void CollectCounts(Condition* c, std::vector<CountSeries>* series) {
  for (auto& count : c->counts) {
    std::string name = absl::StrJoin(count.types, "|");
    auto it = std::find_if(series->begin(), series->end(),
                           [&](const CountSeries& s) { return s.name == name; });
    if (it == series->end()) {
      series->push_back({count.types, name, 0});
      it = series->end() - 1;
    }
    it->keep_ms = std::max(it->keep_ms, count.within_ms);
    count.series = static_cast<int32_t>(it - series->begin());
  }
  for (auto& sub : c->any) CollectCounts(&sub, series);
  for (auto& sub : c->none) CollectCounts(&sub, series);
}

void CollectCountSeries(DecisionConfig* config) {
  for (auto& t : config->journey.transitions) CollectCounts(&t.when, &config->count_series);
  for (auto& r : config->rules) CollectCounts(&r.when, &config->count_series);
  for (auto& w : config->arbitration.context) CollectCounts(&w.when, &config->count_series);
  for (auto& sp : config->routing.automatic.specialists) {
    CollectCounts(&sp.when, &config->count_series);
  }
}

// A route with an SLA: the SLA ends before the prompt expires; the default
// escalation steps (next member for pools, then the manager if there is
// one), or checks that the named steps have someone to go to.
void CheckEscalation(YamlReader& reader, bool explicit_steps, const DecisionConfig& config,
                     Rule* rule) {
  Route& rt = *rule->route;
  if (rt.sla_ms >= rule->expires_ms) {
    reader.Error(rule->location,
                 StrCat("rule \"", rule->id, "\": route.sla (", FormatDuration(rt.sla_ms),
                        ") must be shorter than expires (", FormatDuration(rule->expires_ms),
                        "): the prompt would expire before its deadline"));
  }
  const Pool* pool = rt.pool.empty() ? nullptr : config.FindPool(rt.pool);
  bool has_manager = !rt.manager.empty() || (pool != nullptr && !pool->manager.empty());
  if (!explicit_steps) {
    if (pool != nullptr && !rt.to_owner) rt.escalate.push_back(EscalationStep::kNextMember);
    if (has_manager) rt.escalate.push_back(EscalationStep::kManager);
    return;
  }
  for (EscalationStep step : rt.escalate) {
    if (step == EscalationStep::kManager && !has_manager) {
      reader.Error(rule->location,
                   StrCat("rule \"", rule->id,
                          "\".route.escalate names manager, but neither the route "
                          "nor its pool has a manager (add manager: <id> to the pool or route)"));
      break;
    }
    if (step == EscalationStep::kNextMember && pool == nullptr) {
      reader.Error(rule->location,
                   StrCat("rule \"", rule->id,
                          "\".route.escalate names next_member, but the route "
                          "has no pool to take the next member from"));
      break;
    }
  }
}

}  // namespace

void CrossReference(YamlReader& reader, const YAML::Node& root,
                    const std::set<size_t>& explicit_escalation, DecisionConfig* config) {
  // Reachability is only meaningful once every stage reference is valid.
  if (CheckStageRefs(reader, *config)) {
    if (auto j = root["journey"]) CheckReachability(reader, j, *config);
  }
  CheckPoolRefs(reader, *config);
  CheckRoleRefs(reader, *config);
  CollectCountSeries(config);
  for (size_t i = 0; i < config->rules.size(); ++i) {
    Rule& rule = config->rules[i];
    if (!rule.route || rule.route->sla_ms == 0) continue;
    CheckEscalation(reader, explicit_escalation.count(i) > 0, *config, &rule);
  }
}

}  // namespace demandcenter::config::internal
