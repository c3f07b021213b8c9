// The engine's Prometheus metrics: one registry, passed in (no global), with
// the `demandcenter_` prefix, base units and bounded label sets.
#ifndef DEMANDCENTER_METRICS_METRICS_H_
#define DEMANDCENTER_METRICS_METRICS_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace demandcenter::metrics {

// Thread safe (prometheus-cpp metrics are atomic).
class Metrics {
 public:
  // `known_types`: signal types reported by name; any other type is
  // reported as "other", so the label set stays bounded.
  explicit Metrics(std::set<std::string> known_types);

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  prometheus::Counter& SignalsConsumed(const std::string& topic, std::string_view type);
  prometheus::Counter& Rejected(std::string_view reason);  // also counted as DLQ'd
  prometheus::Counter& Duplicates() { return *duplicates_; }
  // Identity resolution: resolved_by_link, resolved_by_domain, link_conflict
  // (first link kept), blocked_identifier.
  prometheus::Counter& Identity(std::string_view event);
  prometheus::Counter& Outputs(std::string_view kind);
  // Committed next best actions by channel (DIGITAL, EMAIL, INSIDE_SALES...).
  prometheus::Counter& ActionsByChannel(std::string_view channel);
  // Timers fired, by kind: inactivity, sla, snooze, expiry.
  prometheus::Counter& TimersFired(const std::string& kind);
  prometheus::Counter& TransactionsCommitted() { return *txn_committed_; }
  prometheus::Counter& TransactionsAborted() { return *txn_aborted_; }
  prometheus::Histogram& CommitLatency() { return *commit_latency_; }
  prometheus::Histogram& ProcessingLatency() { return *processing_latency_; }
  prometheus::Counter& RestoredRecords() { return *restored_records_; }
  prometheus::Counter& StateWriteErrors() { return *state_write_errors_; }
  prometheus::Gauge& StateWritesBlocked() { return *state_writes_blocked_; }
  prometheus::Counter& Restores(std::string_view kind);  // "tail" or "full"
  prometheus::Gauge& AssignedPartitions() { return *assigned_partitions_; }
  prometheus::Gauge& ReadAheadPaused() { return *read_ahead_paused_; }
  prometheus::Counter& ReadAheadPauses() { return *read_ahead_pauses_; }
  prometheus::Gauge& Ready() { return *ready_; }
  prometheus::Gauge& ConsumerLag() { return *consumer_lag_; }
  prometheus::Gauge& CachedAccounts() { return *cached_accounts_; }
  prometheus::Gauge& StateBytes() { return *state_bytes_; }
  // demandcenter_state_memory_bytes{part}: the stores' shared memory.
  prometheus::Gauge& StateMemory(const std::string& part) { return state_memory_->Add({{"part", part}}); }
  // Accounts of the partitions this instance owns, by journey stage.
  prometheus::Gauge& Accounts(const std::string& stage);
  prometheus::Counter& CacheHits() { return *cache_hits_; }
  prometheus::Counter& CacheMisses() { return *cache_misses_; }
  prometheus::Counter& KafkaErrors(std::string_view kind);
  // Config reloads, by result: ok, error.
  prometheus::Counter& ConfigReloads(std::string_view result);
  // demandcenter_build_info{version, rules_version} 1: the rules in force.
  void SetRulesVersion(const std::string& rules_version);

  // Decisions of committed transactions. Label values are ids from the
  // config (rules, transitions, policies, experiments, arms, stages) or fixed
  // sets, so every label set stays bounded.
  prometheus::Counter& Candidates(const std::string& outcome);
  prometheus::Counter& ActionsByRule(const std::string& rule);
  prometheus::Counter& Transitions(const std::string& transition);
  prometheus::Counter& PolicySuppressed(const std::string& policy);
  prometheus::Counter& PolicyScheduled() { return *policy_scheduled_; }
  prometheus::Counter& SendTime(const std::string& choice);  // best_hour, explore, earliest, credited
  prometheus::Counter& AutoRouting(const std::string& branch);
  prometheus::Counter& Assignments(const std::string& kind);
  prometheus::Counter& Sla(const std::string& event);     // started, met, breached
  prometheus::Counter& Tasks(const std::string& event);   // expired, cancelled, snooze_returned
  prometheus::Counter& PromptOutcomes(const prometheus::Labels& labels);  // rule, action, channel, outcome
  prometheus::Counter& Experiments(const prometheus::Labels& labels);     // experiment, arm, event
  prometheus::Counter& ExperimentStages(const prometheus::Labels& labels);  // experiment, arm, stage
  prometheus::Counter& ExperimentAccounts(const prometheus::Labels& labels);  // experiment, arm
  prometheus::Counter& ExperimentReached(const prometheus::Labels& labels);   // experiment, arm, stage
  // The journey model's forecast by stage (journey/journey_model.h):
  // measure is expected_wins, pipeline_value, win_probability or
  // stage_dwell_seconds (demandcenter_forecast_<measure>{stage}).
  prometheus::Gauge& Forecast(std::string_view measure, const std::string& stage);
  // Experiment KPIs with 95% intervals: experiment, arm, kpi, bound.
  prometheus::Gauge& ExperimentKpi(const prometheus::Labels& labels);
  prometheus::Gauge& ExperimentKpiDifference(const prometheus::Labels& labels);

 private:
  std::set<std::string> known_types_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* consumed_;
  prometheus::Family<prometheus::Counter>* rejected_;
  prometheus::Family<prometheus::Counter>* outputs_;
  prometheus::Family<prometheus::Counter>* actions_by_channel_;
  prometheus::Family<prometheus::Counter>* restores_;
  prometheus::Family<prometheus::Counter>* identity_ = nullptr;
  prometheus::Family<prometheus::Counter>* kafka_errors_;
  prometheus::Family<prometheus::Gauge>* accounts_;
  prometheus::Family<prometheus::Counter>* reloads_;
  prometheus::Family<prometheus::Gauge>* build_info_;
  prometheus::Gauge* build_info_now_ = nullptr;
  std::mutex build_info_mu_;
  prometheus::Family<prometheus::Counter>* timers_fired_;
  prometheus::Family<prometheus::Counter>* candidates_;
  prometheus::Family<prometheus::Counter>* actions_by_rule_;
  prometheus::Family<prometheus::Counter>* transitions_;
  prometheus::Family<prometheus::Counter>* policy_suppressed_;
  prometheus::Family<prometheus::Counter>* send_time_;
  prometheus::Family<prometheus::Counter>* auto_routing_;
  prometheus::Family<prometheus::Counter>* assignments_;
  prometheus::Family<prometheus::Counter>* sla_;
  prometheus::Family<prometheus::Counter>* tasks_;
  prometheus::Family<prometheus::Counter>* prompt_outcomes_;
  prometheus::Family<prometheus::Counter>* experiments_;
  prometheus::Family<prometheus::Counter>* experiment_stages_;
  prometheus::Family<prometheus::Counter>* experiment_accounts_;
  prometheus::Family<prometheus::Counter>* experiment_reached_;
  prometheus::Family<prometheus::Gauge>* experiment_kpi_;
  prometheus::Family<prometheus::Gauge>* state_memory_;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*, std::less<>> forecast_;
  prometheus::Family<prometheus::Gauge>* experiment_kpi_difference_;
  prometheus::Counter* policy_scheduled_;
  prometheus::Counter* duplicates_;
  prometheus::Counter* txn_committed_;
  prometheus::Counter* txn_aborted_;
  prometheus::Histogram* commit_latency_;
  prometheus::Histogram* processing_latency_;
  prometheus::Counter* restored_records_;
  prometheus::Counter* state_write_errors_;
  prometheus::Gauge* state_writes_blocked_;
  prometheus::Gauge* assigned_partitions_;
  prometheus::Gauge* read_ahead_paused_;
  prometheus::Counter* read_ahead_pauses_;
  prometheus::Gauge* ready_;
  prometheus::Gauge* consumer_lag_;
  prometheus::Gauge* cached_accounts_;
  prometheus::Gauge* state_bytes_;
  prometheus::Counter* cache_hits_;
  prometheus::Counter* cache_misses_;
};

}  // namespace demandcenter::metrics

#endif  // DEMANDCENTER_METRICS_METRICS_H_
