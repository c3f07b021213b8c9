#include "demandcenter/metrics/metrics.h"

namespace demandcenter::metrics {
namespace {

prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

}  // namespace

Metrics::Metrics(std::set<std::string> known_types)
    : known_types_(std::move(known_types)), registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  consumed_ = &prometheus::BuildCounter()
                   .Name("demandcenter_signals_consumed_total")
                   .Help("Signals read from the signal topics, by topic and signal type")
                   .Register(r);
  rejected_ = &prometheus::BuildCounter()
                   .Name("demandcenter_dlq_records_total")
                   .Help("Input records dead-lettered, by reject reason")
                   .Register(r);
  outputs_ = &prometheus::BuildCounter()
                  .Name("demandcenter_outputs_total")
                  .Help("Output records committed, by kind (transition, nba, routing, prompt, identity_conflict)")
                  .Register(r);
  restores_ = &prometheus::BuildCounter()
                   .Name("demandcenter_state_restores_total")
                   .Help("Partition restores, by kind: tail (from the local checkpoint) or full")
                   .Register(r);
  kafka_errors_ = &prometheus::BuildCounter()
                       .Name("demandcenter_kafka_errors_total")
                       .Help("Kafka client errors seen, by kind")
                       .Register(r);
  identity_ = &prometheus::BuildCounter()
                   .Name("demandcenter_identity_events_total")
                   .Help("Identity resolution: resolved_by_link, resolved_by_domain, link_conflict (the first link "
                         "kept), blocked_identifier (a junk value ignored)")
                   .Register(r);
  duplicates_ = &prometheus::BuildCounter()
                     .Name("demandcenter_duplicate_signals_total")
                     .Help("Signals ignored because their event_id was seen within the dedup window")
                     .Register(r)
                     .Add({});
  auto counter = [&r](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(r);
  };
  timers_fired_ = counter("demandcenter_timers_fired_total",
                          "Timers fired on stream time, by kind (inactivity, sla, snooze, expiry)");
  candidates_ = counter("demandcenter_decision_candidates_total",
                        "Candidate actions of fired rules, by outcome (EMITTED, SUPPRESSED_*, HOLDOUT)");
  actions_by_rule_ = counter("demandcenter_actions_emitted_total", "Actions emitted, by rule");
  transitions_ = counter("demandcenter_stage_transitions_total", "Journey stage transitions, by transition id");
  send_time_ = counter("demandcenter_send_time_total",
                       "Sends timed by contact_policy.send_time, by choice (best_hour, explore, earliest: not enough "
                       "evidence yet; credited: a reply or accepted prompt counted for its hour)");
  policy_suppressed_ = counter("demandcenter_policy_suppressed_total",
                               "Candidates stopped by the contact policy, by policy");
  policy_scheduled_ = &counter("demandcenter_policy_scheduled_total",
                               "Actions and prompts moved to the next allowed window (business or quiet hours)")
                           ->Add({});
  auto_routing_ = counter("demandcenter_routing_auto_total", "channel: auto decisions, by branch");
  assignments_ = counter("demandcenter_assignments_total", "Owner assignments, by kind");
  sla_ = counter("demandcenter_sla_total", "SLA deadlines, by event (started, met, breached)");
  tasks_ = counter("demandcenter_tasks_total", "Open tasks closed or returned, by event (expired, cancelled, "
                                               "snooze_returned)");
  prompt_outcomes_ = counter("demandcenter_prompt_outcomes_total",
                             "Salespeople's answers to prompts, by rule, action, channel and outcome "
                             "(outcome unmatched: naming no open prompt)");
  experiments_ = counter("demandcenter_experiment_actions_total",
                         "Experiment actions by experiment, arm and event (emitted, held_out)");
  experiment_stages_ = counter("demandcenter_experiment_stage_entries_total",
                               "Stage entries of accounts after exposure to an experiment arm");
  experiment_accounts_ = counter("demandcenter_experiment_accounts_total",
                                 "Accounts exposed to an experiment arm (one of its rules qualified)");
  experiment_reached_ = counter("demandcenter_experiment_reached_accounts_total",
                                "Exposed accounts that reached a stage after exposure, each once");
  for (auto [measure, help] :
       {std::pair{"expected_wins", "Wins to expect from the accounts now in each stage (journey model)"},
        {"pipeline_value", "Opportunity amounts of the accounts in each stage, weighted by their win probability"},
        {"win_probability", "Probability of reaching the won stage from each stage (journey model, all segments)"},
        {"stage_dwell_seconds", "Mean time accounts stayed in each stage before leaving it (journey model)"}}) {
    forecast_[measure] =
        &prometheus::BuildGauge().Name(std::string("demandcenter_forecast_") + measure).Help(help).Register(r);
  }
  experiment_kpi_ = &prometheus::BuildGauge()
                         .Name("demandcenter_experiment_kpi")
                         .Help("Share of an arm's exposed accounts that reached a stage (kpi reached.<stage>), or "
                               "of its answered prompts that were accepted or completed (kpi prompts.accepted), "
                               "since this instance started; bound estimate, lower or upper (95% Wilson)")
                         .Register(r);
  experiment_kpi_difference_ = &prometheus::BuildGauge()
                                    .Name("demandcenter_experiment_kpi_difference")
                                    .Help("An arm's KPI minus the baseline arm's (the holdout, else the first arm); "
                                          "bound estimate, lower or upper (95%, Newcombe)")
                                    .Register(r);
  auto& txn = prometheus::BuildCounter()
                  .Name("demandcenter_transactions_total")
                  .Help("Kafka transactions, by outcome")
                  .Register(r);
  txn_committed_ = &txn.Add({{"outcome", "committed"}});
  txn_aborted_ = &txn.Add({{"outcome", "aborted"}});
  commit_latency_ = &prometheus::BuildHistogram()
                         .Name("demandcenter_commit_latency_seconds")
                         .Help("Time to commit one transaction (changelog, offsets, commit)")
                         .Register(r)
                         .Add({}, LatencyBuckets());
  processing_latency_ = &prometheus::BuildHistogram()
                             .Name("demandcenter_processing_latency_seconds")
                             .Help("From a signal's arrival in Kafka to its outputs being committed")
                             .Register(r)
                             .Add({}, LatencyBuckets());
  restored_records_ = &prometheus::BuildCounter()
                           .Name("demandcenter_state_restored_records_total")
                           .Help("Changelog records applied while restoring partitions")
                           .Register(r)
                           .Add({});
  state_write_errors_ = &prometheus::BuildCounter()
                             .Name("demandcenter_state_write_errors_total")
                             .Help("Local state store writes (and opens) that failed for lack of space or an I/O "
                                   "error, each retried")
                             .Register(r)
                             .Add({});
  state_writes_blocked_ = &prometheus::BuildGauge()
                               .Name("demandcenter_state_writes_blocked")
                               .Help("1 while processing waits for the local state store to accept writes")
                               .Register(r)
                               .Add({});
  assigned_partitions_ = &prometheus::BuildGauge()
                              .Name("demandcenter_assigned_partitions")
                              .Help("Partitions this instance owns")
                              .Register(r)
                              .Add({});
  read_ahead_paused_ = &prometheus::BuildGauge()
                            .Name("demandcenter_read_ahead_paused")
                            .Help("Signal topic partitions paused because their task holds as many signals as "
                                  "it may read ahead")
                            .Register(r)
                            .Add({});
  read_ahead_pauses_ = &prometheus::BuildCounter()
                            .Name("demandcenter_read_ahead_pauses_total")
                            .Help("Times a signal topic partition was paused for read-ahead")
                            .Register(r)
                            .Add({});
  ready_ = &prometheus::BuildGauge()
                .Name("demandcenter_ready")
                .Help("1 when every assigned partition is restored and processing")
                .Register(r)
                .Add({});
  cached_accounts_ = &prometheus::BuildGauge()
                          .Name("demandcenter_state_cached_accounts")
                          .Help("Accounts held in the write-back cache")
                          .Register(r)
                          .Add({});
  state_memory_ = &prometheus::BuildGauge()
                       .Name("demandcenter_state_memory_bytes")
                       .Help("Memory the local state stores share, by part: block_cache (state.block_cache_mib), "
                             "memtables (state.memtable_mib)")
                       .Register(r);
  state_bytes_ = &prometheus::BuildGauge()
                      .Name("demandcenter_state_store_bytes")
                      .Help("Approximate size of the local state stores")
                      .Register(r)
                      .Add({});
  reloads_ = &prometheus::BuildCounter()
                  .Name("demandcenter_config_reloads_total")
                  .Help("Config reloads (SIGHUP, POST /v1/reload), by result: ok, error (the rules in force stayed)")
                  .Register(r);
  reloads_->Add({{"result", "ok"}});
  reloads_->Add({{"result", "error"}});
  build_info_ = &prometheus::BuildGauge()
                     .Name("demandcenter_build_info")
                     .Help("1, labelled with the engine's version and the rules_version in force")
                     .Register(r);
  actions_by_channel_ = &prometheus::BuildCounter()
                             .Name("demandcenter_actions_by_channel_total")
                             .Help("Next best actions committed, by channel")
                             .Register(r);
  for (const char* channel :
       {"DIGITAL", "EMAIL", "INSIDE_SALES", "FIELD_SALES", "SPECIALIST", "CUSTOMER_SUCCESS", "PARTNER"}) {
    ActionsByChannel(channel);
  }
  consumer_lag_ = &prometheus::BuildGauge()
                       .Name("demandcenter_consumer_lag_records")
                       .Help("Records in the assigned signal partitions not consumed yet: the high watermark of "
                             "the last fetch minus the next offset, summed (transaction markers included)")
                       .Register(r)
                       .Add({});
  accounts_ = &prometheus::BuildGauge()
                   .Name("demandcenter_accounts")
                   .Help("Accounts of the partitions this instance owns, by journey stage")
                   .Register(r);
  auto& cache = prometheus::BuildCounter()
                    .Name("demandcenter_state_cache_lookups_total")
                    .Help("State cache lookups, by result (hit, miss)")
                    .Register(r);
  cache_hits_ = &cache.Add({{"result", "hit"}});
  cache_misses_ = &cache.Add({{"result", "miss"}});
  // Every series of a fixed label set exists from the start (zero), so
  // rate() and alerts on it work before the first event.
  for (const char* kind : {"transition", "nba", "routing", "prompt", "identity_conflict"}) Outputs(kind);
  for (const char* kind : {"tail", "full"}) Restores(kind);
  for (const char* event : {"resolved_by_link", "resolved_by_domain", "link_conflict", "blocked_identifier"}) {
    Identity(event);
  }
  for (const char* kind : {"inactivity", "sla", "snooze", "expiry"}) TimersFired(kind);
  for (const char* kind : {"authentication", "committed_offsets", "consume", "directory", "directory_record",
                           "init_transactions", "producer_fatal", "restore", "restore_watermarks", "seek",
                           "send_offsets", "commit", "pause"}) {
    KafkaErrors(kind);
  }
  for (const char* reason :
       {"EMPTY", "OVERSIZE", "BAD_JSON", "UNKNOWN_FIELD", "BAD_FRAMING", "UNDECODABLE", "MISSING_EVENT_ID",
        "MISSING_OCCURRED_AT", "BAD_TIMESTAMP", "MISSING_TYPE", "BAD_TYPE", "MISSING_IDENTITY", "FIELD_TOO_LONG",
        "UNRESOLVED_ACCOUNT", "EVENT_TIME_AHEAD", "EVENT_TIME_LATE"}) {
    Rejected(reason);
  }
}

prometheus::Counter& Metrics::SignalsConsumed(const std::string& topic, std::string_view type) {
  std::string label(type);
  if (!known_types_.count(label)) label = "other";
  return consumed_->Add({{"topic", topic}, {"type", label}});
}

prometheus::Counter& Metrics::Rejected(std::string_view reason) {
  return rejected_->Add({{"reason", std::string(reason)}});
}

prometheus::Counter& Metrics::Outputs(std::string_view kind) {
  return outputs_->Add({{"kind", std::string(kind)}});
}

prometheus::Counter& Metrics::ActionsByChannel(std::string_view channel) {
  return actions_by_channel_->Add({{"channel", std::string(channel)}});
}

prometheus::Counter& Metrics::Restores(std::string_view kind) {
  return restores_->Add({{"kind", std::string(kind)}});
}

prometheus::Counter& Metrics::Identity(std::string_view event) {
  return identity_->Add({{"event", std::string(event)}});
}

prometheus::Counter& Metrics::ConfigReloads(std::string_view result) {
  return reloads_->Add({{"result", std::string(result)}});
}

void Metrics::SetRulesVersion(const std::string& rules_version) {
  std::lock_guard<std::mutex> lock(build_info_mu_);
  if (build_info_now_ != nullptr) build_info_->Remove(build_info_now_);
  build_info_now_ = &build_info_->Add({{"version", DEMANDCENTER_VERSION}, {"rules_version", rules_version}});
  build_info_now_->Set(1);
}

prometheus::Gauge& Metrics::Accounts(const std::string& stage) { return accounts_->Add({{"stage", stage}}); }

prometheus::Counter& Metrics::KafkaErrors(std::string_view kind) {
  return kafka_errors_->Add({{"kind", std::string(kind)}});
}

}  // namespace demandcenter::metrics

namespace demandcenter::metrics {

prometheus::Counter& Metrics::TimersFired(const std::string& kind) { return timers_fired_->Add({{"kind", kind}}); }
prometheus::Counter& Metrics::Candidates(const std::string& outcome) {
  return candidates_->Add({{"outcome", outcome}});
}
prometheus::Counter& Metrics::ActionsByRule(const std::string& rule) { return actions_by_rule_->Add({{"rule", rule}}); }
prometheus::Counter& Metrics::Transitions(const std::string& transition) {
  return transitions_->Add({{"transition", transition}});
}
prometheus::Counter& Metrics::PolicySuppressed(const std::string& policy) {
  return policy_suppressed_->Add({{"policy", policy}});
}
prometheus::Counter& Metrics::SendTime(const std::string& choice) { return send_time_->Add({{"choice", choice}}); }
prometheus::Counter& Metrics::AutoRouting(const std::string& branch) { return auto_routing_->Add({{"branch", branch}}); }
prometheus::Counter& Metrics::Assignments(const std::string& kind) { return assignments_->Add({{"kind", kind}}); }
prometheus::Counter& Metrics::Sla(const std::string& event) { return sla_->Add({{"event", event}}); }
prometheus::Counter& Metrics::Tasks(const std::string& event) { return tasks_->Add({{"event", event}}); }
prometheus::Counter& Metrics::PromptOutcomes(const prometheus::Labels& labels) { return prompt_outcomes_->Add(labels); }
prometheus::Counter& Metrics::Experiments(const prometheus::Labels& labels) { return experiments_->Add(labels); }
prometheus::Counter& Metrics::ExperimentAccounts(const prometheus::Labels& labels) {
  return experiment_accounts_->Add(labels);
}
prometheus::Counter& Metrics::ExperimentReached(const prometheus::Labels& labels) {
  return experiment_reached_->Add(labels);
}
prometheus::Gauge& Metrics::Forecast(std::string_view measure, const std::string& stage) {
  return forecast_.find(measure)->second->Add({{"stage", stage}});
}
prometheus::Gauge& Metrics::ExperimentKpi(const prometheus::Labels& labels) { return experiment_kpi_->Add(labels); }
prometheus::Gauge& Metrics::ExperimentKpiDifference(const prometheus::Labels& labels) {
  return experiment_kpi_difference_->Add(labels);
}
prometheus::Counter& Metrics::ExperimentStages(const prometheus::Labels& labels) {
  return experiment_stages_->Add(labels);
}

}  // namespace demandcenter::metrics
