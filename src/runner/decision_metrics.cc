#include "demandcenter/runner/decision_metrics.h"

#include "demandcenter/outputs/experiment_kpis.h"

#include <map>
#include <tuple>
#include <utility>
#include <string>
#include <vector>

namespace demandcenter::runner {
namespace {

using CountMap = std::map<std::string, int64_t>;

void AddDelta(int64_t now, int64_t before, prometheus::Counter& counter) {
  if (now > before) counter.Increment(static_cast<double>(now - before));
}

// Calls add(key, delta) for every key whose count grew.
template <typename Add>
void EachDelta(const CountMap& now, const CountMap& before, Add add) {
  for (const auto& [key, value] : now) {
    auto it = before.find(key);
    int64_t delta = value - (it == before.end() ? 0 : it->second);
    if (delta > 0) add(key, static_cast<double>(delta));
  }
}

// "a/b/c" into `n` parts split at the last n-1 slashes; the first part
// keeps any other '/' (ids from the config never contain one, but no part of
// a key is ever dropped).
std::vector<std::string> SplitKey(const std::string& key, size_t n) {
  std::vector<std::string> parts(n);
  std::string rest = key;
  for (size_t i = n - 1; i > 0; --i) {
    size_t slash = rest.rfind('/');
    if (slash == std::string::npos) break;
    parts[i] = rest.substr(slash + 1);
    rest.resize(slash);
  }
  parts[0] = std::move(rest);
  return parts;
}

}  // namespace

void ExportDecisionCounters(const outputs::DecisionCounters& now, outputs::DecisionCounters* exported,
                            metrics::Metrics* m, outputs::DecisionCounters* totals) {
  const outputs::DecisionCounters& before = *exported;
  if (totals != nullptr) {
    for (auto [field] : {std::tuple{&outputs::DecisionCounters::experiment_exposed},
                         {&outputs::DecisionCounters::experiment_reached},
                         {&outputs::DecisionCounters::experiment_outcomes}}) {
      EachDelta(now.*field, before.*field, [&](const std::string& k, double d) {
        (totals->*field)[k] += static_cast<int64_t>(d);
      });
    }
  }
  EachDelta(now.timers_by_kind, before.timers_by_kind,
            [&](const std::string& k, double d) { m->TimersFired(k).Increment(d); });
  EachDelta(now.candidates, before.candidates, [&](const std::string& k, double d) { m->Candidates(k).Increment(d); });
  EachDelta(now.emitted_by_rule, before.emitted_by_rule,
            [&](const std::string& k, double d) { m->ActionsByRule(k).Increment(d); });
  EachDelta(now.transitions_by_id, before.transitions_by_id,
            [&](const std::string& k, double d) { m->Transitions(k).Increment(d); });
  EachDelta(now.suppressed_by_policy, before.suppressed_by_policy,
            [&](const std::string& k, double d) { m->PolicySuppressed(k).Increment(d); });
  AddDelta(now.scheduled, before.scheduled, m->PolicyScheduled());
  EachDelta(now.send_time, before.send_time, [&](const std::string& k, double d) { m->SendTime(k).Increment(d); });
  AddDelta(now.send_time_credited, before.send_time_credited, m->SendTime("credited"));
  EachDelta(now.auto_branches, before.auto_branches,
            [&](const std::string& k, double d) { m->AutoRouting(k).Increment(d); });
  EachDelta(now.assignments, before.assignments,
            [&](const std::string& k, double d) { m->Assignments(k).Increment(d); });
  AddDelta(now.sla_started, before.sla_started, m->Sla("started"));
  AddDelta(now.sla_met, before.sla_met, m->Sla("met"));
  AddDelta(now.sla_breached, before.sla_breached, m->Sla("breached"));
  AddDelta(now.tasks_expired, before.tasks_expired, m->Tasks("expired"));
  AddDelta(now.tasks_cancelled, before.tasks_cancelled, m->Tasks("cancelled"));
  AddDelta(now.snoozes_returned, before.snoozes_returned, m->Tasks("snooze_returned"));
  EachDelta(now.outcomes, before.outcomes, [&](const std::string& k, double d) {
    std::vector<std::string> p = SplitKey(k, 4);  // rule/action/channel/outcome
    m->PromptOutcomes({{"rule", p[0]}, {"action", p[1]}, {"channel", p[2]}, {"outcome", p[3]}}).Increment(d);
  });
  AddDelta(now.unmatched_outcomes, before.unmatched_outcomes,
           m->PromptOutcomes({{"rule", ""}, {"action", ""}, {"channel", ""}, {"outcome", "unmatched"}}));
  auto arm_event = [&](const std::string& event) {
    return [&m, event](const std::string& k, double d) {
      std::vector<std::string> p = SplitKey(k, 2);  // experiment/arm
      m->Experiments({{"experiment", p[0]}, {"arm", p[1]}, {"event", event}}).Increment(d);
    };
  };
  EachDelta(now.experiment_emitted, before.experiment_emitted, arm_event("emitted"));
  EachDelta(now.experiment_held_out, before.experiment_held_out, arm_event("held_out"));
  EachDelta(now.experiment_outcomes, before.experiment_outcomes, [&](const std::string& k, double d) {
    std::vector<std::string> p = SplitKey(k, 3);  // experiment/arm/outcome
    m->Experiments({{"experiment", p[0]}, {"arm", p[1]}, {"event", p[2]}}).Increment(d);
  });
  EachDelta(now.experiment_stages, before.experiment_stages, [&](const std::string& k, double d) {
    std::vector<std::string> p = SplitKey(k, 3);  // experiment/arm/stage
    m->ExperimentStages({{"experiment", p[0]}, {"arm", p[1]}, {"stage", p[2]}}).Increment(d);
  });
  EachDelta(now.experiment_exposed, before.experiment_exposed, [&](const std::string& k, double d) {
    std::vector<std::string> p = SplitKey(k, 2);  // experiment/arm
    m->ExperimentAccounts({{"experiment", p[0]}, {"arm", p[1]}}).Increment(d);
  });
  EachDelta(now.experiment_reached, before.experiment_reached, [&](const std::string& k, double d) {
    std::vector<std::string> p = SplitKey(k, 3);  // experiment/arm/stage
    m->ExperimentReached({{"experiment", p[0]}, {"arm", p[1]}, {"stage", p[2]}}).Increment(d);
  });
  *exported = now;
}

void ExportExperimentKpis(const config::DecisionConfig& config, const outputs::DecisionCounters& totals,
                          metrics::Metrics* m) {
  for (const auto& report : outputs::ExperimentKpis(config, totals)) {
    for (const auto& arm : report.arms) {
      for (const auto& kpi : arm.kpis) {
        if (kpi.share.trials == 0) continue;
        prometheus::Labels labels = {{"experiment", report.experiment}, {"arm", arm.arm}, {"kpi", kpi.kpi}};
        for (auto [bound, value] : {std::pair{"estimate", kpi.share.estimate},
                                    {"lower", kpi.share.lower}, {"upper", kpi.share.upper}}) {
          labels["bound"] = bound;
          m->ExperimentKpi(labels).Set(value);
        }
        if (!kpi.compared) continue;
        for (auto [bound, value] : {std::pair{"estimate", kpi.versus.estimate},
                                    {"lower", kpi.versus.lower}, {"upper", kpi.versus.upper}}) {
          labels["bound"] = bound;
          m->ExperimentKpiDifference(labels).Set(value);
        }
      }
    }
  }
}

void ExportIdentityCounters(const identity::IdentityCounters& now, identity::IdentityCounters* exported,
                            metrics::Metrics* metrics) {
  for (auto [event, field] : {std::pair{"resolved_by_link", &identity::IdentityCounters::by_link},
                              {"resolved_by_domain", &identity::IdentityCounters::by_domain},
                              {"link_conflict", &identity::IdentityCounters::conflicts},
                              {"blocked_identifier", &identity::IdentityCounters::blocked},
                              {"erased_identifier", &identity::IdentityCounters::erased}}) {
    int64_t delta = now.*field - exported->*field;
    if (delta > 0) metrics->Identity(event).Increment(static_cast<double>(delta));
  }
  *exported = now;
}

}  // namespace demandcenter::runner
