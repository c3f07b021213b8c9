// KafkaChangelog: restore a partition's changelog to its end.
#include "src/kafka/kafka_changelog.h"

#include <algorithm>

#include "demandcenter/common/strings.h"

namespace demandcenter::kafka {
namespace {

constexpr size_t kRestoreBatch = 10000;
constexpr int64_t kWaitNoteMs = 5000;

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaChangelog>> KafkaChangelog::Create(const ClientSettings& settings,
                                                                       std::string topic, metrics::Metrics* metrics,
                                                                       Clock* clock) {
  std::unique_ptr<KafkaChangelog> c(new KafkaChangelog(std::move(topic), metrics, clock));
  std::string group = StrCat(settings.application_id, "-restore");
  auto conf = NewConf(settings, {{"group.id", group},
                                 {"enable.auto.commit", "false"},
                                 {"isolation.level", "read_committed"},
                                 {"enable.partition.eof", "true"},
                                 // The end of a partition is known by an
                                 // empty fetch, which the broker would hold
                                 // for fetch.wait.max.ms (500 ms by default)
                                 // for each partition restored.
                                 {"fetch.wait.max.ms", "10"},
                                 {"auto.offset.reset", "earliest"}});
  if (!conf.ok()) return conf.status();
  auto restorer = NewClient(RD_KAFKA_CONSUMER, *conf, "the restore consumer");
  if (!restorer.ok()) return restorer.status();
  c->restorer_ = std::move(*restorer);
  conf = NewConf(settings, {{"group.id", group}, {"isolation.level", "read_uncommitted"}});
  if (!conf.ok()) return conf.status();
  auto prober = NewClient(RD_KAFKA_CONSUMER, *conf, "the watermark client");
  if (!prober.ok()) return prober.status();
  c->prober_ = std::move(*prober);
  return c;
}

absl::StatusOr<std::pair<int64_t, int64_t>> KafkaChangelog::Watermarks(int32_t partition) {
  // The end to reach is the high watermark (read_uncommitted), not the last
  // stable offset: a previous owner that died inside a transaction leaves it
  // pending until the broker completes it (a commit already requested) or
  // aborts it (after the transaction timeout). Reading past it only once it
  // is resolved keeps the restored state and the committed offsets in step.
  int64_t low = 0, high = 0;
  for (int attempt = 0;; ++attempt) {
    rd_kafka_resp_err_t e = ListOffset(partition, RD_KAFKA_OFFSET_BEGINNING, &low);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) e = ListOffset(partition, RD_KAFKA_OFFSET_END, &high);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return std::make_pair(low, high);
    metrics_->KafkaErrors("restore_watermarks").Increment();
    if (e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return absl::FailedPreconditionError(StrCat("changelog topic ", topic_, " has no partition ", partition,
                                                  ": create it with as many partitions as the signal topics "
                                                  "(deploy/local/kafka.sh topics)"));
    }
    if (clock_->Stopping()) {
      return absl::CancelledError(StrCat("reading changelog watermarks: ", rd_kafka_err2str(e), "; stopping"));
    }
    LogLine(StrCat("reading changelog watermarks (will retry): ", rd_kafka_err2str(e)));
    RefreshLeaders();
    clock_->SleepMs(std::min(5000, 500 * (attempt + 1)));
  }
}

rd_kafka_resp_err_t KafkaChangelog::ListOffset(int32_t partition, int64_t which, int64_t* offset) {
  // offsets_for_times, not query_watermark_offsets: in librdkafka 2.0.2 the
  // latter ignores its timeout and waits forever for a leader that does not
  // answer (a frozen broker; fixed in 2.3.0). With the special timestamps
  // BEGINNING and END it answers the log start and, for this
  // read_uncommitted client, the high watermark.
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition)->offset = which;
  rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(prober_.get(), list.get(), 2000);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) e = list->elems[0].err;
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) *offset = list->elems[0].offset;
  return e;
}

void KafkaChangelog::RefreshLeaders() {
  // A leader that stopped answering may have been replaced already; the
  // client would learn it only at its next periodic refresh.
  int partitions = 0;
  (void)QueryTopic(prober_.get(), topic_, 2000, &partitions);
}

int64_t KafkaChangelog::Position(int32_t partition) {
  PartitionList pos(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(pos.get(), topic_.c_str(), partition);
  rd_kafka_position(restorer_.get(), pos.get());
  return pos->elems[0].offset;
}

absl::StatusOr<runner::Changelog::Range> KafkaChangelog::Restore(
    int32_t partition, int64_t from, const std::function<absl::Status(Batch batch)>& apply) {
  auto marks = Watermarks(partition);
  if (!marks.ok()) return marks.status();
  auto [low, high] = *marks;
  Range range{std::max(from, low), high, 0};
  if (range.from >= high) return range;
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), partition)->offset = range.from;
  rd_kafka_assign(restorer_.get(), list.get());
  Batch batch;
  int64_t position = range.from;
  int64_t next_note = clock_->NowMs() + kWaitNoteMs;
  absl::Status status;
  while (position < high && status.ok()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(restorer_.get(), 200);
    if (m != nullptr) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        // A tombstone (null value) restores as "": a deleted key.
        batch.records.push_back({std::string(static_cast<const char*>(m->key), m->key_len),
                                 m->payload == nullptr ? std::string()
                                                       : std::string(static_cast<const char*>(m->payload), m->len)});
        position = std::max(position, m->offset + 1);
      } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        position = std::max(position, m->offset);  // where the partition ends now
      } else {
        metrics_->KafkaErrors("restore").Increment();
        LogLine(StrCat("restoring partition ", partition, ": ", rd_kafka_message_errstr(m)));
      }
      rd_kafka_message_destroy(m);
    } else if (int64_t p = Position(partition); p >= 0) {
      // Nothing came: the position may still have moved over aborted
      // records and transaction markers.
      position = std::max(position, p);
    }
    if (position < high && clock_->NowMs() >= next_note) {
      LogLine(StrCat("partition ", partition, ": restore waits at changelog offset ", position,
                 " for a transaction of a previous owner to complete (end ", high, ")"));
      next_note += kWaitNoteMs;
    }
    if (batch.records.size() >= kRestoreBatch || (position >= high && !batch.records.empty())) {
      range.records += static_cast<int64_t>(batch.records.size());
      batch.next_offset = position;
      status = apply(std::move(batch));
      batch = Batch{};
    }
  }
  rd_kafka_assign(restorer_.get(), nullptr);
  if (!status.ok()) return status;
  // The end, past any trailing aborted records and markers.
  batch.next_offset = position;
  status = apply(std::move(batch));
  if (!status.ok()) return status;
  return range;
}

}  // namespace demandcenter::kafka
