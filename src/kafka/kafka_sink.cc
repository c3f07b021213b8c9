// KafkaSink: produce, flush, commit with offsets, abort, recreate.
#include "src/kafka/kafka_sink.h"

#include "demandcenter/common/strings.h"

namespace demandcenter::kafka {
namespace {

// A crashed instance's open transaction blocks read_committed readers of its
// partitions until the broker aborts it after this long (as in Kafka Streams).
constexpr int kTxnTimeoutMs = 10000;
// One blocking transactional call waits at most this long; a timeout is
// retriable (the call resumes where it was), so the runner's retry loop
// repeats it, and sees a stop in between.
constexpr int kCallTimeoutMs = 2000;

void DeliveryTrampoline(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
  static_cast<KafkaSink*>(opaque)->OnDelivery(m);
}

void ErrorTrampoline(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  static_cast<KafkaSink*>(opaque)->OnError(static_cast<rd_kafka_resp_err_t>(err), reason);
}

}  // namespace

KafkaSink::~KafkaSink() = default;

absl::Status KafkaSink::CreateProducer() {
  auto conf = NewConf(settings_,
                      {{"transactional.id", settings_.client_id},
                       {"enable.idempotence", "true"},
                       {"transaction.timeout.ms", std::to_string(kTxnTimeoutMs)},
                       {"linger.ms", "5"},
                       {"partitioner", "murmur2_random"},
                       {"message.timeout.ms", std::to_string(kTxnTimeoutMs)}},
                      this);
  if (!conf.ok()) return conf.status();
  rd_kafka_conf_set_dr_msg_cb(*conf, DeliveryTrampoline);
  rd_kafka_conf_set_error_cb(*conf, ErrorTrampoline);
  auto producer = NewClient(RD_KAFKA_PRODUCER, *conf, "the Kafka producer");
  if (!producer.ok()) return producer.status();
  producer_ = std::move(*producer);
  initialised_ = false;
  auth_failure_.clear();
  return absl::OkStatus();
}

void KafkaSink::OnError(rd_kafka_resp_err_t err, const char* reason) {
  // What librdkafka logs itself when there is no error callback.
  std::string text = WithoutSecrets(reason != nullptr ? reason : "", settings_.security);
  LogLine(StrCat("producer: ", rd_kafka_err2name(err), ": ", text));
  if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
    metrics_->KafkaErrors("authentication").Increment();
    if (auth_failure_.empty()) auth_failure_ = text;
  }
}

absl::Status KafkaSink::Authentication() {
  if (auth_failure_.empty()) return absl::OkStatus();
  return absl::UnauthenticatedError(AuthenticationFailure(settings_, auth_failure_));
}

absl::Status KafkaSink::Reset() {
  // A new producer, unless the last one only failed to initialise (a
  // retriable error: try again on the same one).
  if (!producer_ || initialised_) {
    producer_.reset();
    absl::Status s = CreateProducer();
    if (!s.ok()) return s;
  }
  produce_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  produce_error_text_.clear();
  acked_.clear();
  // Fences any earlier incarnation with the same transactional id.
  KafkaError e(rd_kafka_init_transactions(producer_.get(), kCallTimeoutMs));
  if (!e) {
    initialised_ = true;
    return absl::OkStatus();
  }
  metrics_->KafkaErrors("init_transactions").Increment();
  // Refused credentials are not waited out: the engine stops with them.
  rd_kafka_poll(producer_.get(), 0);
  if (absl::Status auth = Authentication(); !auth.ok()) return auth;
  std::string text = StrCat("initialising transactions: ", ErrorText(e.get()));
  // Back-pressure while the cluster is unreachable; a fatal error stops.
  return rd_kafka_error_is_fatal(e.get()) ? absl::InternalError(text) : absl::UnavailableError(text);
}

absl::Status KafkaSink::Begin() {
  acked_.clear();
  offsets_sent_ = false;
  KafkaError e(rd_kafka_begin_transaction(producer_.get()));
  if (e) return absl::InternalError(ErrorText(e.get()));
  return absl::OkStatus();
}

void KafkaSink::Send(const pipeline::OutRecord& r) {
  rd_kafka_headers_t* headers = nullptr;
  if (!r.headers.empty()) {
    headers = rd_kafka_headers_new(r.headers.size());
    for (const auto& [name, value] : r.headers) {
      rd_kafka_header_add(headers, name.c_str(), -1, value.data(), static_cast<ssize_t>(value.size()));
    }
  }
  int32_t partition = r.partition < 0 ? RD_KAFKA_PARTITION_UA : r.partition;
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(r.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(r.key.data(), r.key.size()), RD_KAFKA_V_VALUE(r.tombstone ? nullptr : const_cast<char*>(r.value.data()), r.tombstone ? 0 : r.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer_.get(), 10);  // back-pressure: wait for deliveries
      continue;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
      if (produce_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
        produce_error_ = e;
        produce_error_text_ = StrCat("producing to ", r.topic, ": ", rd_kafka_err2str(e));
      }
    }
    return;
  }
}

void KafkaSink::Poll() { rd_kafka_poll(producer_.get(), 0); }

void KafkaSink::OnDelivery(const rd_kafka_message_t* m) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (produce_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
      produce_error_ = m->err;
      produce_error_text_ = rd_kafka_err2str(m->err);
    }
    return;
  }
  int64_t& last = acked_.try_emplace({rd_kafka_topic_name(m->rkt), m->partition}, -1).first->second;
  last = std::max(last, m->offset);
}

int64_t KafkaSink::LastOffset(const std::string& topic, int32_t partition) const {
  auto it = acked_.find({topic, partition});
  return it == acked_.end() ? -1 : it->second;
}

absl::Status KafkaSink::Flush() {
  // Wait for the delivery reports, but not once a send or a delivery has
  // failed: the transaction can then only be aborted (abort_transaction
  // purges what is left), and a message it can no longer deliver — one for
  // a topic librdkafka has lost the partitions of, say — would hold the
  // engine here for the whole timeout.
  int64_t deadline = clock_->NowMs() + kTxnTimeoutMs;
  while (produce_error_ == RD_KAFKA_RESP_ERR_NO_ERROR && auth_failure_.empty() &&
         rd_kafka_outq_len(producer_.get()) > 0 && clock_->NowMs() < deadline && !clock_->Stopping()) {
    rd_kafka_flush(producer_.get(), 100);
  }
  if (absl::Status auth = Authentication(); !auth.ok()) return auth;
  if (produce_error_ != RD_KAFKA_RESP_ERR_NO_ERROR) return absl::AbortedError(produce_error_text_);
  return absl::OkStatus();
}

absl::Status KafkaSink::TransactionError(const rd_kafka_error_t* e, std::string_view what, std::string_view metric) {
  metrics_->KafkaErrors(metric).Increment();
  std::string text = StrCat(what, ErrorText(e));
  if (rd_kafka_error_is_fatal(e)) return absl::FailedPreconditionError(text);
  if (rd_kafka_error_is_retriable(e)) return absl::UnavailableError(text);
  return absl::AbortedError(text);
}

absl::Status KafkaSink::SendOffsets(const runner::Offsets& offsets) {
  if (offsets_sent_ || offsets.empty()) return absl::OkStatus();
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [where, next] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), where.first.c_str(), where.second)->offset = next;
  }
  rd_kafka_consumer_group_metadata_t* meta = rd_kafka_consumer_group_metadata(consumer_);
  // Up to the transaction timeout in calls of kCallTimeoutMs (a retriable
  // error resumes the same request), so a stop is seen in between.
  int64_t deadline = clock_->NowMs() + kTxnTimeoutMs;
  KafkaError e(rd_kafka_send_offsets_to_transaction(producer_.get(), list.get(), meta, kCallTimeoutMs));
  while (e && rd_kafka_error_is_retriable(e.get()) && clock_->NowMs() < deadline && !clock_->Stopping()) {
    clock_->SleepMs(50);
    e.reset(rd_kafka_send_offsets_to_transaction(producer_.get(), list.get(), meta, kCallTimeoutMs));
  }
  rd_kafka_consumer_group_metadata_destroy(meta);
  if (!e) {
    offsets_sent_ = true;
    return absl::OkStatus();
  }
  absl::Status s = TransactionError(e.get(), "sending offsets: ", "send_offsets");
  // Only a commit is retried as such; a failed offset send aborts.
  return s.code() == absl::StatusCode::kUnavailable ? absl::AbortedError(s.message()) : s;
}

absl::Status KafkaSink::Commit(const runner::Offsets& offsets) {
  absl::Status s = SendOffsets(offsets);
  if (!s.ok()) return s;
  KafkaError e(rd_kafka_commit_transaction(producer_.get(), kCallTimeoutMs));
  if (!e) return absl::OkStatus();
  rd_kafka_poll(producer_.get(), 0);
  if (absl::Status auth = Authentication(); !auth.ok()) return auth;
  return TransactionError(e.get(), "", "commit");
}

absl::Status KafkaSink::Abort() {
  KafkaError e(rd_kafka_abort_transaction(producer_.get(), kCallTimeoutMs));
  if (e) {
    std::string text = ErrorText(e.get());
    return rd_kafka_error_is_fatal(e.get()) ? absl::FailedPreconditionError(text) : absl::UnavailableError(text);
  }
  produce_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  produce_error_text_.clear();
  acked_.clear();
  return absl::OkStatus();
}

}  // namespace demandcenter::kafka
