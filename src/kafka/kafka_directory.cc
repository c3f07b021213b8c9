// KafkaDirectory: routing.reps, read to its end at start, then followed.
#include "src/kafka/kafka_directory.h"

#include "demandcenter/common/strings.h"
#include "google/protobuf/util/json_util.h"

namespace demandcenter::kafka {
namespace {

// How long the first read to the end may take.
constexpr int64_t kReadToEndMs = 30000;

}  // namespace

std::unique_ptr<KafkaDirectory> KafkaDirectory::Open(const ClientSettings& settings, std::string topic,
                                                     rd_kafka_t* prober, metrics::Metrics* metrics, Clock* clock) {
  // Up to 10 s in steps of 1 s, so a stop is seen between them.
  int partitions = 0;
  rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
  for (int attempt = 0; attempt < 10 && e == RD_KAFKA_RESP_ERR__TIMED_OUT && !clock->Stopping(); ++attempt) {
    e = QueryTopic(prober, topic, 1000, &partitions);
  }
  if (partitions == 0) {
    LogLine(StrCat("no ", topic, " topic: pools are as configured, with no run-time updates"));
    return nullptr;
  }
  auto conf = NewConf(settings, {{"group.id", StrCat(settings.application_id, "-directory")},
                                 {"enable.auto.commit", "false"},
                                 {"isolation.level", "read_committed"},
                                 {"enable.partition.eof", "true"}});
  absl::StatusOr<KafkaPtr> consumer = conf.ok() ? NewClient(RD_KAFKA_CONSUMER, *conf, "the directory consumer")
                                                : absl::StatusOr<KafkaPtr>(conf.status());
  if (!consumer.ok()) {
    LogLine(StrCat("reading ", topic, ": ", consumer.status().message()));
    return nullptr;
  }
  std::unique_ptr<KafkaDirectory> d(new KafkaDirectory(std::move(topic), metrics, clock));
  d->consumer_ = std::move(*consumer);
  PartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), d->topic_.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(d->consumer_.get(), list.get());
  return d;
}

std::optional<v1::PoolMemberUpdate> KafkaDirectory::Parse(const rd_kafka_message_t* m) {
  std::string key = m->key ? std::string(static_cast<const char*>(m->key), m->key_len) : "";
  v1::PoolMemberUpdate update;
  bool ok = true;
  if (m->payload == nullptr || m->len == 0) {  // tombstone: "<pool>/<member>" leaves
    size_t slash = key.find('/');
    ok = slash != std::string::npos;
    if (ok) {
      update.set_pool_id(key.substr(0, slash));
      update.set_member_id(key.substr(slash + 1));
      update.set_removed(true);
    }
  } else {
    std::string value(static_cast<const char*>(m->payload), m->len);
    ok = value[0] == '{' ? google::protobuf::util::JsonStringToMessage(value, &update).ok()
                         : update.ParseFromString(value);
  }
  if (ok) return update;
  metrics_->KafkaErrors("directory_record").Increment();
  LogLine(StrCat(topic_, " record at partition ", m->partition, " offset ", m->offset,
             " is not a PoolMemberUpdate; skipped"));
  return std::nullopt;
}

std::vector<v1::PoolMemberUpdate> KafkaDirectory::Poll(bool until_end) {
  int partitions_at_end = 0;
  PartitionList assigned(nullptr);
  {
    rd_kafka_topic_partition_list_t* a = nullptr;
    rd_kafka_assignment(consumer_.get(), &a);
    assigned.reset(a);
  }
  int64_t deadline = clock_->NowMs() + kReadToEndMs;
  std::vector<v1::PoolMemberUpdate> fresh;
  while (true) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), until_end ? 200 : 0);
    if (m == nullptr) {
      if (!until_end || partitions_at_end >= assigned->cnt || clock_->NowMs() > deadline || clock_->Stopping()) break;
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++partitions_at_end;
    } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      metrics_->KafkaErrors("directory").Increment();
    } else if (auto update = Parse(m)) {
      fresh.push_back(std::move(*update));
    }
    rd_kafka_message_destroy(m);
  }
  records_ += static_cast<int64_t>(fresh.size());
  if (until_end) LogLine(StrCat("read ", records_, " pool member records from ", topic_));
  return fresh;
}

}  // namespace demandcenter::kafka
