// Experiment KPIs: Wilson score intervals per arm, Newcombe's hybrid score
// interval for an arm against the baseline.
#include "demandcenter/outputs/experiment_kpis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "demandcenter/common/strings.h"

namespace demandcenter::outputs {
namespace {

constexpr double kZ = 1.959963984540054;  // the normal quantile for 95%

int64_t CountOf(const std::map<std::string, int64_t>& counts, const std::string& key) {
  auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}

// A difference of two shares in percentage points, signed: "+2.1".
std::string Points(double fraction) {
  char text[32];
  std::snprintf(text, sizeof(text), "%+.1f", 100.0 * fraction);
  return text;
}

}  // namespace

Share WilsonShare(int64_t hits, int64_t trials) {
  Share s;
  s.hits = hits;
  s.trials = trials;
  if (trials <= 0) return s;
  double n = static_cast<double>(trials);
  double p = static_cast<double>(hits) / n;
  double z2 = kZ * kZ;
  double denominator = 1 + z2 / n;
  double centre = (p + z2 / (2 * n)) / denominator;
  double half = kZ * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator;
  s.estimate = p;
  s.lower = std::max(0.0, centre - half);
  s.upper = std::min(1.0, centre + half);
  return s;
}

Difference DifferenceOf(const Share& arm, const Share& baseline) {
  Difference d;
  d.estimate = arm.estimate - baseline.estimate;
  d.lower = d.estimate - std::sqrt(std::pow(arm.estimate - arm.lower, 2) + std::pow(baseline.upper - baseline.estimate, 2));
  d.upper = d.estimate + std::sqrt(std::pow(arm.upper - arm.estimate, 2) + std::pow(baseline.estimate - baseline.lower, 2));
  return d;
}

std::vector<std::string> ArmNames(const config::Experiment& experiment) {
  std::vector<std::string> names;
  if (experiment.holdout > 0) names.push_back("holdout");
  for (const auto& arm : experiment.arms) names.push_back(arm.id);
  if (experiment.arms.empty()) names.push_back("treatment");
  return names;
}

std::vector<ExperimentReport> ExperimentKpis(const config::DecisionConfig& config, const DecisionCounters& c) {
  std::vector<ExperimentReport> reports;
  for (const auto& experiment : config.experiments) {
    ExperimentReport report;
    report.experiment = experiment.id;
    std::vector<std::string> arms = ArmNames(experiment);
    report.baseline = arms.front();
    // The KPIs: stages some arm reached, then accepted prompts.
    std::vector<std::string> stages;
    for (const auto& stage : config.journey.stages) {
      for (const auto& arm : arms) {
        if (CountOf(c.experiment_reached, StrCat(experiment.id, "/", arm, "/", stage)) > 0) {
          stages.push_back(stage);
          break;
        }
      }
    }
    // Accepted prompts per arm, reported when any arm's prompt was answered.
    std::vector<Share> prompts;
    bool any_prompt = false;
    for (const auto& arm : arms) {
      auto n = [&](const char* outcome) { return CountOf(c.experiment_outcomes, StrCat(experiment.id, "/", arm, "/", outcome)); };
      int64_t yes = n("accepted") + n("completed");
      prompts.push_back(WilsonShare(yes, yes + n("dismissed") + n("expired")));
      any_prompt = any_prompt || prompts.back().trials > 0;
    }
    for (size_t a = 0; a < arms.size(); ++a) {
      const std::string& arm = arms[a];
      ArmReport r;
      r.arm = arm;
      r.exposed = CountOf(c.experiment_exposed, StrCat(experiment.id, "/", arm));
      for (const auto& stage : stages) {
        int64_t reached = CountOf(c.experiment_reached, StrCat(experiment.id, "/", arm, "/", stage));
        r.kpis.push_back({StrCat("reached.", stage), WilsonShare(reached, r.exposed)});
      }
      if (any_prompt) r.kpis.push_back({"prompts.accepted", prompts[a]});
      report.arms.push_back(std::move(r));
    }
    const ArmReport& base = report.arms.front();
    for (size_t a = 1; a < report.arms.size(); ++a) {
      for (size_t k = 0; k < report.arms[a].kpis.size(); ++k) {
        ArmKpi& kpi = report.arms[a].kpis[k];
        const Share& b = base.kpis[k].share;
        if (kpi.share.trials == 0 || b.trials == 0) continue;
        kpi.compared = true;
        kpi.versus = DifferenceOf(kpi.share, b);
      }
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

std::string FormatShare(const Share& s) {
  if (s.trials == 0) return "-";
  return StrCat(FormatPercent(s.estimate, 1), " [", FormatPercent(s.lower, 1), ", ", FormatPercent(s.upper, 1), "]");
}

std::string FormatDifference(const Difference& d) {
  return StrCat(Points(d.estimate), " pts [", Points(d.lower), ", ", Points(d.upper), "]");
}

}  // namespace demandcenter::outputs
