// KafkaSource: the consumer, its rebalances and rewinds.
#include "src/kafka/kafka_source.h"

#include <algorithm>
#include <set>

#include "demandcenter/common/strings.h"

namespace demandcenter::kafka {
namespace {

// One blocking offset fetch or seek waits at most this long; the callers
// retry, and see a stop in between.
constexpr int kCallTimeoutMs = 2000;
// How long the start waits for an input topic to show in the metadata.
constexpr int64_t kTopicWaitMs = 30000;

void RebalanceTrampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                         void* opaque) {
  static_cast<KafkaSource*>(opaque)->OnRebalance(err, partitions);
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaSource>> KafkaSource::Create(const ClientSettings& settings,
                                                                 const std::vector<std::string>& topics,
                                                                 metrics::Metrics* metrics, Clock* clock) {
  std::unique_ptr<KafkaSource> source(new KafkaSource(metrics, clock));
  auto conf = NewConf(settings,
                      {{"group.id", settings.application_id},
                       {"enable.auto.commit", "false"},
                       {"enable.auto.offset.store", "false"},
                       {"isolation.level", "read_committed"},
                       {"auto.offset.reset", "earliest"},
                       {"partition.assignment.strategy", "range"},
                       {"session.timeout.ms", "10000"},
                       {"heartbeat.interval.ms", "1000"},
                       {"enable.partition.eof", "false"},
                       // A topic created after the subscription joins the
                       // assignment at the next refresh (librdkafka: 5 min).
                       {"topic.metadata.refresh.interval.ms", "10000"},
                       {"client.id", settings.member_client_id.empty() ? settings.client_id : settings.member_client_id}},
                      source.get());
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_rebalance_cb(*conf, RebalanceTrampoline);
  auto consumer = NewClient(RD_KAFKA_CONSUMER, *conf, "the Kafka consumer");
  if (!consumer.ok()) return consumer.status();
  source->consumer_ = std::move(*consumer);
  rd_kafka_poll_set_consumer(source->consumer_.get());
  source->AwaitTopics(topics);
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(source->consumer_.get(), list.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(StrCat("subscribing to the signal topics: ", rd_kafka_err2str(e)));
  }
  return source;
}

void KafkaSource::AwaitTopics(const std::vector<std::string>& topics) {
  // A subscription to a topic the consumer's metadata does not show yet
  // leaves the topic out of the group's first assignment (just created, or
  // not created yet): wait for each, a bounded while.
  int64_t deadline = clock_->NowMs() + kTopicWaitMs;
  for (const auto& topic : topics) {
    int partitions = 0;
    for (bool told = false; !clock_->Stopping(); told = true) {
      // Only a cluster that answers and does not know the topic is waited
      // for: any other error (unreachable, credentials refused) is the
      // subscription's to report.
      if (QueryTopic(consumer_.get(), topic, kCallTimeoutMs, &partitions) != RD_KAFKA_RESP_ERR_NO_ERROR ||
          partitions > 0) {
        break;
      }
      if (clock_->NowMs() >= deadline) {
        LogLine(StrCat("topic ", topic, " not found in ", kTopicWaitMs / 1000,
                       " s: it is consumed once created (deploy/kafka/create-topics.py creates every topic)"));
        break;
      }
      if (!told) LogLine(StrCat("waiting for topic ", topic));
      clock_->SleepMs(500);
    }
  }
}

KafkaSource::~KafkaSource() {
  ReleaseMessage();
  consumer_.reset();
}

void KafkaSource::ReleaseMessage() {
  if (message_ != nullptr) rd_kafka_message_destroy(message_);
  message_ = nullptr;
}

std::optional<pipeline::Record> KafkaSource::Poll(int timeout_ms) {
  ReleaseMessage();
  rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), timeout_ms);
  if (m == nullptr) return std::nullopt;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      metrics_->KafkaErrors("consume").Increment();
      LogLine(StrCat("consumer: ", rd_kafka_message_errstr(m)));
    }
    rd_kafka_message_destroy(m);
    return std::nullopt;
  }
  message_ = m;
  pipeline::Record r;
  r.value = std::string_view(m->payload ? static_cast<const char*>(m->payload) : "", m->len);
  r.key = std::string_view(m->key ? static_cast<const char*>(m->key) : "", m->key_len);
  r.topic = rd_kafka_topic_name(m->rkt);
  r.partition = m->partition;
  r.offset = m->offset;
  next_[{std::string(r.topic), r.partition}] = m->offset + 1;
  rd_kafka_timestamp_type_t type;
  r.timestamp_ms = std::max<int64_t>(0, rd_kafka_message_timestamp(m, &type));
  return r;
}

void KafkaSource::OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Wait until no transaction of a previous owner is pending on these
    // partitions: with read_committed the committed-offset fetch asks for
    // stable offsets (KIP-447), so after it returns the changelog holds
    // every committed change and nothing of an aborted one.
    PartitionList probe(rd_kafka_topic_partition_list_copy(partitions));
    for (int attempt = 0;; ++attempt) {
      rd_kafka_resp_err_t e = rd_kafka_committed(consumer_.get(), probe.get(), kCallTimeoutMs);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (clock_->Stopping()) {
        LogLine("stopping: the assignment is not taken up");
        return;
      }
      metrics_->KafkaErrors("committed_offsets").Increment();
      LogLine(StrCat("fetching committed offsets (will retry): ", rd_kafka_err2str(e)));
      clock_->SleepMs(std::min(5000, 500 * (attempt + 1)));
    }
    std::set<int32_t> numbers;
    for (int i = 0; i < partitions->cnt; ++i) numbers.insert(partitions->elems[i].partition);
    if (listener_ != nullptr) listener_->OnAssigned(std::vector<int32_t>(numbers.begin(), numbers.end()));
    rd_kafka_assign(consumer_.get(), partitions);
    // librdkafka keeps a partition paused across a rebalance (one paused
    // for read-ahead would never be read again): a new assignment starts
    // unpaused, as the runner expects.
    rd_kafka_resume_partitions(consumer_.get(), partitions);
    assignment_.reset(rd_kafka_topic_partition_list_copy(partitions));
    next_.clear();
    ResumeAt(probe.get());
    LogLine(StrCat("assigned ", partitions->cnt, " topic partitions"));
  } else {
    if (listener_ != nullptr) listener_->OnRevoked(rd_kafka_assignment_lost(consumer_.get()));
    rd_kafka_assign(consumer_.get(), nullptr);
    assignment_.reset();
    next_.clear();
    LogLine(StrCat("revoked ", partitions->cnt, " topic partitions"));
  }
}

absl::Status KafkaSource::Rewind() {
  // Every partition goes back to the group's committed (transactional)
  // offset by a seek, which also drops prefetched data. Not by assigning the
  // same partitions again: librdkafka 2.0.2 then stops partitions whose
  // previous stop may still be pending, and aborts on an assertion
  // (rd_kafka_assignment_partition_stopped: rktp_started; seen after a
  // session timeout during a broker restart).
  if (!assignment_) return absl::OkStatus();
  PartitionList committed(rd_kafka_topic_partition_list_copy(assignment_.get()));
  rd_kafka_resp_err_t e = rd_kafka_committed(consumer_.get(), committed.get(), kCallTimeoutMs);
  for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < committed->cnt; ++i) e = committed->elems[i].err;
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    metrics_->KafkaErrors("committed_offsets").Increment();
    return absl::UnavailableError(StrCat("fetching committed offsets: ", rd_kafka_err2str(e)));
  }
  for (int i = 0; i < committed->cnt; ++i) {
    // Nothing committed yet: from the start, as auto.offset.reset says.
    if (committed->elems[i].offset < 0) committed->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  ResumeAt(committed.get());
  KafkaError seek(rd_kafka_seek_partitions(consumer_.get(), committed.get(), kCallTimeoutMs));
  bool failed = static_cast<bool>(seek);
  for (int i = 0; i < committed->cnt; ++i) failed = failed || committed->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
  if (!failed) return absl::OkStatus();
  // A partition that could not be sought must not continue past what was
  // discarded: assign again from the committed offsets after all.
  metrics_->KafkaErrors("seek").Increment();
  LogLine(StrCat("rewinding: seek failed (", seek ? ErrorText(seek.get()) : "per partition", "); assigning again"));
  for (int i = 0; i < committed->cnt; ++i) committed->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_assign(consumer_.get(), committed.get());
  return absl::OkStatus();
}

void KafkaSource::ResumeAt(const rd_kafka_topic_partition_list_t* list) {
  for (int i = 0; i < list->cnt; ++i) {
    next_[{list->elems[i].topic, list->elems[i].partition}] = list->elems[i].offset;
  }
}

bool KafkaSource::Pause(const std::string& topic, int32_t partition, bool paused) {
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  rd_kafka_resp_err_t e = paused ? rd_kafka_pause_partitions(consumer_.get(), list.get())
                                 : rd_kafka_resume_partitions(consumer_.get(), list.get());
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) e = list->elems[0].err;
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
  // Not fatal: the runner asks again at its next step.
  metrics_->KafkaErrors("pause").Increment();
  LogLine(StrCat(paused ? "pausing " : "resuming ", topic, " partition ", partition, ": ", rd_kafka_err2str(e)));
  return false;
}

bool KafkaSource::CaughtUp(const std::string& topic, int32_t partition) {
  int64_t low = 0, high = 0;
  // The watermarks of the last fetch response (no request is made).
  if (rd_kafka_get_watermark_offsets(consumer_.get(), topic.c_str(), partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return false;  // nothing fetched yet
  }
  auto it = next_.find({topic, partition});
  int64_t next = it == next_.end() || it->second < 0 ? low : it->second;
  if (next >= high) return true;
  // Transaction markers take offsets no record is handed out for; the
  // consumer's position steps past them.
  PartitionList position(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(position.get(), topic.c_str(), partition);
  if (rd_kafka_position(consumer_.get(), position.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  return position->elems[0].offset >= high;
}

int64_t KafkaSource::Lag() {
  if (!assignment_) return -1;
  // The consumer's positions step past transaction markers, which take
  // offsets no record is handed out for (the last one of a partition
  // would otherwise count as lag forever).
  PartitionList positions(rd_kafka_topic_partition_list_copy(assignment_.get()));
  bool have_positions = rd_kafka_position(consumer_.get(), positions.get()) == RD_KAFKA_RESP_ERR_NO_ERROR;
  int64_t lag = 0;
  for (int i = 0; i < assignment_->cnt; ++i) {
    const auto& tp = assignment_->elems[i];
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(consumer_.get(), tp.topic, tp.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      continue;  // nothing fetched yet
    }
    auto it = next_.find({tp.topic, tp.partition});
    int64_t next = it == next_.end() || it->second < 0 ? low : it->second;
    if (have_positions) next = std::max(next, positions->elems[i].offset);
    lag += std::max<int64_t>(0, high - next);
  }
  return lag;
}

int32_t KafkaSource::PartitionCount(const std::string& topic) {
  if (auto it = partition_counts_.find(topic); it != partition_counts_.end()) return it->second;
  int count = 0;
  if (QueryTopic(consumer_.get(), topic, kCallTimeoutMs, &count) != RD_KAFKA_RESP_ERR_NO_ERROR || count <= 0) {
    return -1;
  }
  partition_counts_[topic] = count;
  return count;
}

void KafkaSource::Close() {
  ReleaseMessage();
  rd_kafka_consumer_close(consumer_.get());
}

}  // namespace demandcenter::kafka
