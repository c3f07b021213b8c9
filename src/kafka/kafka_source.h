// The Source on Kafka: one consumer in the group <application_id>, subscribed
// to the signal topics with the range assignor (so an instance owns the same
// partition number of every signal topic), read_committed, offsets committed
// only through the sink's transactions (KIP-447).
#ifndef DEMANDCENTER_SRC_KAFKA_KAFKA_SOURCE_H_
#define DEMANDCENTER_SRC_KAFKA_KAFKA_SOURCE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "demandcenter/common/clock.h"
#include "demandcenter/metrics/metrics.h"
#include "demandcenter/runner/seams.h"
#include "src/kafka/client.h"

namespace demandcenter::kafka {

class KafkaSource : public runner::Source {
 public:
  // `metrics` and `clock` must outlive the source.
  static absl::StatusOr<std::unique_ptr<KafkaSource>> Create(const ClientSettings& settings,
                                                             const std::vector<std::string>& topics,
                                                             metrics::Metrics* metrics, Clock* clock);
  ~KafkaSource() override;

  void SetListener(Listener* listener) override { listener_ = listener; }
  std::optional<pipeline::Record> Poll(int timeout_ms) override;
  bool CaughtUp(const std::string& topic, int32_t partition) override;
  // librdkafka drops what it fetched of a paused partition and fetches
  // again from the next offset not handed out when it resumes.
  bool Pause(const std::string& topic, int32_t partition, bool paused) override;
  absl::Status Rewind() override;
  void Close() override;
  // High watermark of the last fetch minus the next offset, summed over the
  // assigned partitions (transaction markers count as records).
  int64_t Lag() override;
  // From the cluster's metadata (asked once per topic).
  int32_t PartitionCount(const std::string& topic) override;

  // The consumer, whose group metadata fences the sink's offset commits.
  rd_kafka_t* consumer() const { return consumer_.get(); }

  // Rebalance callback entry (librdkafka calls it from inside Poll).
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);

 private:
  KafkaSource(metrics::Metrics* metrics, Clock* clock) : metrics_(metrics), clock_(clock) {}
  void ReleaseMessage();
  // Remembers where each partition of `list` resumes (its committed
  // offsets; negative: from the start).
  void ResumeAt(const rd_kafka_topic_partition_list_t* list);
  void AwaitTopics(const std::vector<std::string>& topics);

  metrics::Metrics* metrics_;
  Clock* clock_;
  KafkaPtr consumer_;
  Listener* listener_ = nullptr;
  PartitionList assignment_;
  // Per (topic, partition): the offset after the last record handed out, or
  // where it resumes; negative when unknown (from the start).
  std::map<std::pair<std::string, int32_t>, int64_t> next_;
  std::map<std::string, int32_t> partition_counts_;
  // The record handed out by the last Poll.
  rd_kafka_message_t* message_ = nullptr;
};

}  // namespace demandcenter::kafka

#endif  // DEMANDCENTER_SRC_KAFKA_KAFKA_SOURCE_H_
