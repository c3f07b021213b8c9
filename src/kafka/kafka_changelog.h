// The Changelog on Kafka: partition p of <application_id>-state-changelog,
// read with a consumer of its own up to the high watermark.
#ifndef DEMANDCENTER_SRC_KAFKA_KAFKA_CHANGELOG_H_
#define DEMANDCENTER_SRC_KAFKA_KAFKA_CHANGELOG_H_

#include <memory>
#include <string>

#include "demandcenter/common/clock.h"
#include "demandcenter/metrics/metrics.h"
#include "demandcenter/runner/seams.h"
#include "src/kafka/client.h"

namespace demandcenter::kafka {

class KafkaChangelog : public runner::Changelog {
 public:
  // `metrics` and `clock` must outlive it.
  static absl::StatusOr<std::unique_ptr<KafkaChangelog>> Create(const ClientSettings& settings, std::string topic,
                                                                metrics::Metrics* metrics, Clock* clock);

  absl::StatusOr<Range> Restore(int32_t partition, int64_t from,
                                const std::function<absl::Status(Batch batch)>& apply) override;

  // Reads high watermarks (read_uncommitted: the end including pending
  // transactions); the directory uses it for metadata too.
  rd_kafka_t* prober() const { return prober_.get(); }

 private:
  KafkaChangelog(std::string topic, metrics::Metrics* metrics, Clock* clock)
      : topic_(std::move(topic)), metrics_(metrics), clock_(clock) {}
  absl::StatusOr<std::pair<int64_t, int64_t>> Watermarks(int32_t partition);
  // The restorer's position in `partition` (past aborted records and
  // transaction markers), or -1.
  int64_t Position(int32_t partition);
  // One ListOffsets answer for `partition`: `which` is RD_KAFKA_OFFSET_BEGINNING
  // or RD_KAFKA_OFFSET_END; within 2 s.
  rd_kafka_resp_err_t ListOffset(int32_t partition, int64_t which, int64_t* offset);
  // Asks the cluster for the changelog's current leaders.
  void RefreshLeaders();

  std::string topic_;
  metrics::Metrics* metrics_;
  Clock* clock_;
  KafkaPtr restorer_;
  KafkaPtr prober_;
};

}  // namespace demandcenter::kafka

#endif  // DEMANDCENTER_SRC_KAFKA_KAFKA_CHANGELOG_H_
