// The engine's Prometheus metrics: one registry, passed in (no global), with
// the `demandcenter_` prefix, base units and bounded label sets.
#ifndef DEMANDCENTER_METRICS_METRICS_H_
#define DEMANDCENTER_METRICS_METRICS_H_

#include <memory>
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
  prometheus::Counter& Outputs(std::string_view kind);
  prometheus::Counter& TimersFired() { return *timers_fired_; }
  prometheus::Counter& TransactionsCommitted() { return *txn_committed_; }
  prometheus::Counter& TransactionsAborted() { return *txn_aborted_; }
  prometheus::Histogram& CommitLatency() { return *commit_latency_; }
  prometheus::Histogram& ProcessingLatency() { return *processing_latency_; }
  prometheus::Counter& RestoredRecords() { return *restored_records_; }
  prometheus::Counter& Restores(std::string_view kind);  // "tail" or "full"
  prometheus::Gauge& AssignedPartitions() { return *assigned_partitions_; }
  prometheus::Gauge& Ready() { return *ready_; }
  prometheus::Gauge& CachedAccounts() { return *cached_accounts_; }
  prometheus::Gauge& StateBytes() { return *state_bytes_; }
  prometheus::Counter& CacheHits() { return *cache_hits_; }
  prometheus::Counter& CacheMisses() { return *cache_misses_; }
  prometheus::Counter& KafkaErrors(std::string_view kind);

 private:
  std::set<std::string> known_types_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* consumed_;
  prometheus::Family<prometheus::Counter>* rejected_;
  prometheus::Family<prometheus::Counter>* outputs_;
  prometheus::Family<prometheus::Counter>* restores_;
  prometheus::Family<prometheus::Counter>* kafka_errors_;
  prometheus::Counter* duplicates_;
  prometheus::Counter* timers_fired_;
  prometheus::Counter* txn_committed_;
  prometheus::Counter* txn_aborted_;
  prometheus::Histogram* commit_latency_;
  prometheus::Histogram* processing_latency_;
  prometheus::Counter* restored_records_;
  prometheus::Gauge* assigned_partitions_;
  prometheus::Gauge* ready_;
  prometheus::Gauge* cached_accounts_;
  prometheus::Gauge* state_bytes_;
  prometheus::Counter* cache_hits_;
  prometheus::Counter* cache_misses_;
};

}  // namespace demandcenter::metrics

#endif  // DEMANDCENTER_METRICS_METRICS_H_
