// Experiment KPIs with confidence: per experiment and arm, the share of
// exposed accounts that reached each stage afterwards (wins are the share
// that reached the winning stage, e.g. customer) and the share of the arm's
// prompts that were accepted or completed, each with a 95% Wilson score
// interval; and each arm against the experiment's baseline (the holdout, or
// else its first arm) as a difference in percentage points with Newcombe's
// hybrid score interval. So a champion/challenger reads without a
// spreadsheet: "significant" when the difference's interval excludes 0.
//
// Takes: the decision counters (outputs/counters.h) and the config's
// experiments and stages. Gives: rows for replay's summary and the metrics.
// Depends on: nothing else; pure arithmetic.
#ifndef DEMANDCENTER_OUTPUTS_EXPERIMENT_KPIS_H_
#define DEMANDCENTER_OUTPUTS_EXPERIMENT_KPIS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/outputs/counters.h"

namespace demandcenter::outputs {

// A share x/n with its 95% interval (0..1); all 0 when n is 0.
struct Share {
  int64_t hits = 0;
  int64_t trials = 0;
  double estimate = 0;
  double lower = 0;
  double upper = 0;
};
Share WilsonShare(int64_t hits, int64_t trials);

// An arm's share minus the baseline's, with its 95% interval (Newcombe's
// hybrid score method from the two Wilson intervals).
struct Difference {
  double estimate = 0;
  double lower = 0;
  double upper = 0;
  bool significant() const { return lower > 0 || upper < 0; }
};
Difference DifferenceOf(const Share& arm, const Share& baseline);

// One KPI of one arm: "reached <stage>" or "accepted prompts".
struct ArmKpi {
  std::string kpi;  // "reached.evaluating", "prompts.accepted"
  Share share;
  // Against the baseline arm; absent for the baseline itself.
  bool compared = false;
  Difference versus;
};

struct ArmReport {
  std::string arm;
  int64_t exposed = 0;  // accounts
  std::vector<ArmKpi> kpis;
};

struct ExperimentReport {
  std::string experiment;
  std::string baseline;  // the arm the others are compared with
  std::vector<ArmReport> arms;
};

// The arms of an experiment in report order: "holdout" (when it has a
// holdout share), then its arms ("treatment" when it names none).
std::vector<std::string> ArmNames(const config::Experiment& experiment);

// Every experiment of `config`; per arm, reach of every stage some arm
// reached (journey order), then accepted prompts (accepted or completed,
// of those accepted, completed, dismissed or expired) when any was answered.
std::vector<ExperimentReport> ExperimentKpis(const config::DecisionConfig& config, const DecisionCounters& counters);

// "17.5% [15.4%, 19.8%]".
std::string FormatShare(const Share& share);
// "+2.1 pts [-1.0, +5.3]".
std::string FormatDifference(const Difference& d);

}  // namespace demandcenter::outputs

#endif  // DEMANDCENTER_OUTPUTS_EXPERIMENT_KPIS_H_
