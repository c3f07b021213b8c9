// The Directory on Kafka: the compacted routing.reps topic, read in full
// from the beginning by a consumer of its own (no group offsets), then
// followed. Each record is a PoolMemberUpdate (binary or JSON) keyed
// "<pool>/<member>"; an empty value (tombstone) removes the member.
#ifndef DEMANDCENTER_SRC_KAFKA_KAFKA_DIRECTORY_H_
#define DEMANDCENTER_SRC_KAFKA_KAFKA_DIRECTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "demandcenter/common/clock.h"
#include "demandcenter/metrics/metrics.h"
#include "demandcenter/runner/seams.h"
#include "src/kafka/client.h"

namespace demandcenter::kafka {

class KafkaDirectory : public runner::Directory {
 public:
  // Null (and a log line) when the topic does not exist: the pools are then
  // as configured. `prober` answers the metadata request; it, `metrics` and
  // `clock` must outlive the directory.
  static std::unique_ptr<KafkaDirectory> Open(const ClientSettings& settings, std::string topic, rd_kafka_t* prober,
                                              metrics::Metrics* metrics, Clock* clock);

  std::vector<v1::PoolMemberUpdate> Poll(bool until_end) override;

 private:
  KafkaDirectory(std::string topic, metrics::Metrics* metrics, Clock* clock)
      : topic_(std::move(topic)), metrics_(metrics), clock_(clock) {}
  // The update a record carries, or null when it is not one.
  std::optional<v1::PoolMemberUpdate> Parse(const rd_kafka_message_t* m);

  std::string topic_;
  metrics::Metrics* metrics_;
  Clock* clock_;
  KafkaPtr consumer_;
  int64_t records_ = 0;
};

}  // namespace demandcenter::kafka

#endif  // DEMANDCENTER_SRC_KAFKA_KAFKA_DIRECTORY_H_
