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
                  .Help("Output records committed, by kind (transition, nba, routing, prompt)")
                  .Register(r);
  restores_ = &prometheus::BuildCounter()
                   .Name("demandcenter_state_restores_total")
                   .Help("Partition restores, by kind: tail (from the local checkpoint) or full")
                   .Register(r);
  kafka_errors_ = &prometheus::BuildCounter()
                       .Name("demandcenter_kafka_errors_total")
                       .Help("Kafka client errors seen, by kind")
                       .Register(r);
  duplicates_ = &prometheus::BuildCounter()
                     .Name("demandcenter_duplicate_signals_total")
                     .Help("Signals ignored because their event_id was seen within the dedup window")
                     .Register(r)
                     .Add({});
  timers_fired_ = &prometheus::BuildCounter()
                       .Name("demandcenter_timers_fired_total")
                       .Help("Inactivity timers that fired")
                       .Register(r)
                       .Add({});
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
  assigned_partitions_ = &prometheus::BuildGauge()
                              .Name("demandcenter_assigned_partitions")
                              .Help("Partitions this instance owns")
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
  state_bytes_ = &prometheus::BuildGauge()
                      .Name("demandcenter_state_store_bytes")
                      .Help("Approximate size of the local state stores")
                      .Register(r)
                      .Add({});
  auto& cache = prometheus::BuildCounter()
                    .Name("demandcenter_state_cache_lookups_total")
                    .Help("State cache lookups, by result (hit, miss)")
                    .Register(r);
  cache_hits_ = &cache.Add({{"result", "hit"}});
  cache_misses_ = &cache.Add({{"result", "miss"}});
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

prometheus::Counter& Metrics::Restores(std::string_view kind) {
  return restores_->Add({{"kind", std::string(kind)}});
}

prometheus::Counter& Metrics::KafkaErrors(std::string_view kind) {
  return kafka_errors_->Add({{"kind", std::string(kind)}});
}

}  // namespace demandcenter::metrics
