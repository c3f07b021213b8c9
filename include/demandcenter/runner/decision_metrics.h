// Prometheus metrics of the decisions: the engine's counters, exported only
// for committed work.
#ifndef DEMANDCENTER_RUNNER_DECISION_METRICS_H_
#define DEMANDCENTER_RUNNER_DECISION_METRICS_H_

#include "demandcenter/config/decision_config.h"
#include "demandcenter/identity/identity.h"
#include "demandcenter/metrics/metrics.h"
#include "demandcenter/outputs/counters.h"

namespace demandcenter::runner {

// Adds to `metrics` what the engine counted since `exported`, then copies
// `now` into `exported`. Called after a transaction commits: the work of an
// aborted transaction was done by an engine that is then discarded (with
// its counters), so it is never counted, and the metrics agree with the
// committed outputs.
// `totals` (may be null) gathers the experiments' exposed, reached and
// outcome counts across tasks and engine rebuilds, for the KPIs below.
void ExportDecisionCounters(const outputs::DecisionCounters& now, outputs::DecisionCounters* exported,
                            metrics::Metrics* metrics, outputs::DecisionCounters* totals = nullptr);

// Sets the experiment KPI gauges (outputs/experiment_kpis.h) from `totals`:
// demandcenter_experiment_kpi{experiment, arm, kpi, bound} and
// demandcenter_experiment_kpi_difference (against the baseline arm), bound
// one of estimate, lower, upper (95%).
void ExportExperimentKpis(const config::DecisionConfig& config, const outputs::DecisionCounters& totals,
                          metrics::Metrics* metrics);

// The same for identity resolution's counters.
void ExportIdentityCounters(const identity::IdentityCounters& now, identity::IdentityCounters* exported,
                            metrics::Metrics* metrics);

}  // namespace demandcenter::runner

#endif  // DEMANDCENTER_RUNNER_DECISION_METRICS_H_
