// The Sink on Kafka: a transactional, idempotent producer whose offset
// commits are fenced by the consumer group's generation (KIP-447).
#ifndef DEMANDCENTER_SRC_KAFKA_KAFKA_SINK_H_
#define DEMANDCENTER_SRC_KAFKA_KAFKA_SINK_H_

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "demandcenter/common/clock.h"
#include "demandcenter/metrics/metrics.h"
#include "demandcenter/runner/seams.h"
#include "src/kafka/client.h"

namespace demandcenter::kafka {

class KafkaSink : public runner::Sink {
 public:
  // The producer is created by the first Reset. `consumer` (the source's),
  // `metrics` and `clock` must outlive the sink.
  KafkaSink(ClientSettings settings, rd_kafka_t* consumer, metrics::Metrics* metrics, Clock* clock)
      : settings_(std::move(settings)), consumer_(consumer), metrics_(metrics), clock_(clock) {}
  ~KafkaSink() override;

  absl::Status Begin() override;
  void Send(const pipeline::OutRecord& record) override;
  void Poll() override;
  absl::Status Flush() override;
  int64_t LastOffset(const std::string& topic, int32_t partition) const override;
  absl::Status Commit(const runner::Offsets& offsets) override;
  absl::Status Abort() override;
  absl::Status Reset() override;

  // Delivery report entry.
  void OnDelivery(const rd_kafka_message_t* m);
  // Error callback entry: logged; credentials a broker refused are kept.
  void OnError(rd_kafka_resp_err_t err, const char* reason);

 private:
  absl::Status CreateProducer();
  absl::Status SendOffsets(const runner::Offsets& offsets);
  // The status for a failed transactional call (see runner/seams.h).
  absl::Status TransactionError(const rd_kafka_error_t* e, std::string_view what, std::string_view metric);
  // kUnauthenticated once a broker refused the credentials (served by the
  // last poll), else OK. Nothing retries it: the engine stops with it.
  absl::Status Authentication();

  ClientSettings settings_;
  rd_kafka_t* consumer_;
  metrics::Metrics* metrics_;
  Clock* clock_;
  KafkaPtr producer_;
  bool initialised_ = false;
  bool offsets_sent_ = false;
  rd_kafka_resp_err_t produce_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string produce_error_text_;
  // What the broker said when it refused the credentials; empty while none
  // did.
  std::string auth_failure_;
  // Highest acknowledged offset per (topic, partition) in this transaction.
  std::map<std::pair<std::string, int32_t>, int64_t> acked_;
};

}  // namespace demandcenter::kafka

#endif  // DEMANDCENTER_SRC_KAFKA_KAFKA_SINK_H_
