// KafkaChangelog against librdkafka's mock cluster: a restore whose
// changelog leader takes its connections but does not answer (a frozen
// broker) keeps retrying within its own timeouts, counts each attempt, and
// ends as soon as the engine stops.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "demandcenter/common/clock.h"
#include "demandcenter/metrics/metrics.h"
#include "gtest/gtest.h"
#include "src/kafka/kafka_changelog.h"

namespace demandcenter::kafka {
namespace {

using namespace std::chrono_literals;

constexpr char kTopic[] = "frozen-state-changelog";
constexpr int32_t kFrozenBroker = 2;

TEST(KafkaChangelogMockTest, AFrozenLeaderNeitherHangsTheRestoreNorOutlivesAStop) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  rd_kafka_t* host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(host, nullptr) << err;
  rd_kafka_mock_cluster_t* mock = rd_kafka_mock_cluster_new(host, 3);
  ASSERT_NE(mock, nullptr);
  ASSERT_EQ(rd_kafka_mock_topic_create(mock, kTopic, 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(rd_kafka_mock_partition_set_leader(mock, kTopic, 0, kFrozenBroker), RD_KAFKA_RESP_ERR_NO_ERROR);
  // Every answer of the leader comes a minute late: what a SIGSTOPped
  // broker looks like to a client whose request timeout is longer.
  ASSERT_EQ(rd_kafka_mock_broker_set_rtt(mock, kFrozenBroker, 60000), RD_KAFKA_RESP_ERR_NO_ERROR);

  metrics::Metrics metrics({});
  SystemClock clock;
  std::atomic<bool> stop{false};
  clock.WatchStop(&stop);
  ClientSettings settings{rd_kafka_mock_cluster_bootstraps(mock), "frozen-0", "frozen", {}};
  {
    auto changelog = KafkaChangelog::Create(settings, kTopic, &metrics, &clock);
    ASSERT_TRUE(changelog.ok()) << changelog.status();
    prometheus::Counter& attempts = metrics.KafkaErrors("restore_watermarks");
    // The stop comes once two attempts have timed out: with librdkafka's
    // query_watermark_offsets the first one never returned.
    std::atomic<bool> restored{false};
    std::thread stopper([&] {
      auto deadline = std::chrono::steady_clock::now() + 50s;
      while (attempts.Value() < 2 && !restored && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
      }
      stop = true;
    });
    auto range = (*changelog)->Restore(0, 0, [](runner::Changelog::Batch) { return absl::OkStatus(); });
    restored = true;
    stopper.join();
    EXPECT_GE(attempts.Value(), 2) << "each attempt should time out and be counted";
    EXPECT_EQ(range.status().code(), absl::StatusCode::kCancelled) << range.status();
  }
  clock.WatchStop(nullptr);
  rd_kafka_mock_cluster_destroy(mock);
  rd_kafka_destroy(host);
}

}  // namespace
}  // namespace demandcenter::kafka
