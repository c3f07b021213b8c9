// Prometheus metrics of the decisions: the engine's counters, exported only
// for committed work.
#ifndef DEMANDCENTER_RUNNER_DECISION_METRICS_H_
#define DEMANDCENTER_RUNNER_DECISION_METRICS_H_

#include "demandcenter/identity/identity.h"
#include "demandcenter/metrics/metrics.h"
#include "demandcenter/outputs/counters.h"

namespace demandcenter::runner {

// Adds to `metrics` what the engine counted since `exported`, then copies
// `now` into `exported`. Called after a transaction commits: the work of an
// aborted transaction was done by an engine that is then discarded (with
// its counters), so it is never counted, and the metrics agree with the
// committed outputs.
void ExportDecisionCounters(const outputs::DecisionCounters& now, outputs::DecisionCounters* exported,
                            metrics::Metrics* metrics);

// The same for identity resolution's counters.
void ExportIdentityCounters(const identity::IdentityCounters& now, identity::IdentityCounters* exported,
                            metrics::Metrics* metrics);

}  // namespace demandcenter::runner

#endif  // DEMANDCENTER_RUNNER_DECISION_METRICS_H_
