#include "demandcenter/kafka/runner.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/ingest/decoder.h"
#include "demandcenter/pipeline/output_encoder.h"
#include "demandcenter/pipeline/pipeline.h"
#include "demandcenter/kafka/decision_metrics.h"
#include "demandcenter/state/rocksdb_kv.h"
#include "demandcenter/v1/routing.pb.h"
#include "google/protobuf/util/json_util.h"

namespace demandcenter::kafka {
namespace {

using Clock = std::chrono::steady_clock;

// A crashed instance's open transaction blocks read_committed readers of its
// partitions until the broker aborts it after this long (as in Kafka Streams).
constexpr int kTxnTimeoutMs = 10000;
constexpr size_t kRestoreBatch = 10000;

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using KafkaError = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

absl::Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(StrCat("Kafka client setting ", key, "=", value, ": ", err));
  }
  return absl::OkStatus();
}

void Log(std::string_view message) { std::cerr << "demandcenter: " << message << std::endl; }

std::string ErrorText(const rd_kafka_error_t* e) {
  return StrCat(rd_kafka_error_name(e), ": ", rd_kafka_error_string(e));
}

}  // namespace

class Runner::Impl {
 public:
  Impl(Runner* owner, const config::Config& config, RunOptions options, metrics::Metrics* metrics)
      : owner_(owner),
        config_(config),
        options_(std::move(options)),
        metrics_(metrics),
        encoder_(config.runtime.kafka.topics, config.runtime.kafka.json_topics) {
    bootstrap_ = options_.bootstrap_servers.empty() ? config_.runtime.kafka.bootstrap_servers
                                                    : options_.bootstrap_servers;
    state_dir_ = StrCat(options_.state_dir.empty() ? config_.runtime.state.dir : options_.state_dir, "/",
                        config_.runtime.application_id);
    changelog_topic_ = StrCat(config_.runtime.application_id, "-state-changelog");
  }

  ~Impl() {
    tasks_.clear();
    consumer_.reset();
    restorer_.reset();
    prober_.reset();
    directory_.reset();
    producer_.reset();
  }

  absl::Status Run(const std::atomic<bool>& stop);

  // Rebalance callback entry (called by librdkafka on the polling thread).
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  // Delivery report entry.
  void OnDelivery(const rd_kafka_message_t* m);

 private:
  struct Task {
    int32_t partition = 0;
    std::unique_ptr<state::PartitionStore> store;
    std::unique_ptr<pipeline::Pipeline> pipeline;
    state::Checkpoint checkpoint;
    // Next input offset per topic consumed in the open transaction.
    std::map<std::string, int64_t> consumed;
    // Changelog records produced in the open transaction.
    std::vector<state::ChangeRecord> pending;
    int64_t last_changelog_offset = -1;
    // Cache lookups of the store already added to the metrics.
    int64_t exported_cache_hits = 0;
    int64_t exported_cache_misses = 0;
    // The engine's counters already added to the metrics.
    outputs::DecisionCounters exported_counters;
  };

  absl::Status CreateClients();
  absl::Status CreateProducer();
  rd_kafka_conf_t* BaseConf();
  absl::Status OpenTask(int32_t partition);
  absl::Status Restore(Task& task);
  void ResetEngine(Task& task);
  void Process(rd_kafka_message_t* m);
  void Produce(const std::string& topic, int32_t partition, const std::string& key,
               const std::string& value, rd_kafka_headers_t* headers = nullptr);
  void DeadLetter(const pipeline::Record& source, const ingest::Reject& reject);
  absl::Status BeginIfNeeded();
  // Commits the open transaction. Returns a non-OK status only for errors
  // that must stop the engine; aborted transactions are rewound and retried.
  absl::Status Commit();
  absl::Status AbortAndRewind(const std::string& why);
  absl::Status RecoverProducer(const std::string& why);
  void OpenDirectory();
  // Applies routing.reps records that arrived since the last call; with
  // `until_end`, first reads the topic to its end.
  void PollDirectory(bool until_end);
  void Rewind();
  void UpdateReady();

  Runner* owner_;
  const config::Config& config_;
  RunOptions options_;
  metrics::Metrics* metrics_;
  std::string bootstrap_;
  std::string state_dir_;
  std::string changelog_topic_;
  pipeline::OutputEncoder encoder_;

  KafkaPtr producer_;
  KafkaPtr consumer_;
  KafkaPtr restorer_;
  KafkaPtr prober_;
  // routing.reps, read in full: the latest record per key.
  KafkaPtr directory_;
  std::map<std::string, v1::PoolMemberUpdate> directory_records_;
  Clock::time_point next_directory_poll_;
  std::map<int32_t, std::unique_ptr<Task>> tasks_;
  PartitionList assignment_;
  bool txn_open_ = false;
  Clock::time_point txn_started_;
  rd_kafka_resp_err_t produce_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string produce_error_text_;
  absl::Status fatal_;
  std::vector<outputs::Output> txn_outputs_;
  std::vector<int64_t> txn_arrivals_ms_;
  int64_t txn_signals_ = 0;
  int64_t txn_rejected_ = 0;
  std::vector<outputs::Output> scratch_;
};

namespace {

void RebalanceTrampoline(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<Runner::Impl*>(opaque)->OnRebalance(err, partitions);
}

void DeliveryTrampoline(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
  static_cast<Runner::Impl*>(opaque)->OnDelivery(m);
}

}  // namespace

rd_kafka_conf_t* Runner::Impl::BaseConf() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  (void)Set(conf, "bootstrap.servers", bootstrap_);
  (void)Set(conf, "client.id", StrCat(config_.runtime.application_id, "-", options_.instance_id));
  for (const auto& [k, v] : options_.client_properties) {
    absl::Status s = Set(conf, k, v);
    if (!s.ok()) Log(std::string(s.message()));
  }
  rd_kafka_conf_set_opaque(conf, this);
  return conf;
}

absl::Status Runner::Impl::CreateProducer() {
  rd_kafka_conf_t* conf = BaseConf();
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"transactional.id", StrCat(config_.runtime.application_id, "-", options_.instance_id)},
           {"enable.idempotence", "true"},
           {"transaction.timeout.ms", std::to_string(kTxnTimeoutMs)},
           {"linger.ms", "5"},
           {"partitioner", "murmur2_random"},
           {"message.timeout.ms", std::to_string(kTxnTimeoutMs)}}) {
    absl::Status s = Set(conf, k, v);
    if (!s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, DeliveryTrampoline);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) return absl::InvalidArgumentError(StrCat("creating the Kafka producer: ", err));
  producer_.reset(rk);
  // Fences any earlier incarnation with the same transactional id. Retried
  // while the cluster is unreachable: back-pressure, not failure.
  for (int attempt = 0;; ++attempt) {
    KafkaError e(rd_kafka_init_transactions(producer_.get(), 30000));
    if (!e) return absl::OkStatus();
    metrics_->KafkaErrors("init_transactions").Increment();
    if (rd_kafka_error_is_fatal(e.get())) {
      return absl::UnavailableError(StrCat("initialising transactions: ", ErrorText(e.get())));
    }
    Log(StrCat("initialising transactions (will retry): ", ErrorText(e.get())));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 500 * (attempt + 1))));
  }
}

absl::Status Runner::Impl::CreateClients() {
  absl::Status s = CreateProducer();
  if (!s.ok()) return s;

  rd_kafka_conf_t* conf = BaseConf();
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"group.id", config_.runtime.application_id},
           {"enable.auto.commit", "false"},
           {"enable.auto.offset.store", "false"},
           {"isolation.level", "read_committed"},
           {"auto.offset.reset", "earliest"},
           {"partition.assignment.strategy", "range"},
           {"session.timeout.ms", "10000"},
           {"heartbeat.interval.ms", "1000"},
           {"enable.partition.eof", "false"}}) {
    s = Set(conf, k, v);
    if (!s.ok()) {
      rd_kafka_conf_destroy(conf);
      return s;
    }
  }
  rd_kafka_conf_set_rebalance_cb(conf, RebalanceTrampoline);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) return absl::InvalidArgumentError(StrCat("creating the Kafka consumer: ", err));
  consumer_.reset(rk);
  rd_kafka_poll_set_consumer(consumer_.get());

  conf = BaseConf();
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"group.id", StrCat(config_.runtime.application_id, "-restore")},
           {"enable.auto.commit", "false"},
           {"isolation.level", "read_committed"},
           {"enable.partition.eof", "true"},
           {"auto.offset.reset", "earliest"}}) {
    (void)Set(conf, k, v);
  }
  rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) return absl::InvalidArgumentError(StrCat("creating the restore consumer: ", err));
  restorer_.reset(rk);

  // Reads high watermarks (read_uncommitted: the end including pending
  // transactions) for restores.
  conf = BaseConf();
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"group.id", StrCat(config_.runtime.application_id, "-restore")},
           {"isolation.level", "read_uncommitted"}}) {
    (void)Set(conf, k, v);
  }
  rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) return absl::InvalidArgumentError(StrCat("creating the watermark client: ", err));
  prober_.reset(rk);

  PartitionList topics(rd_kafka_topic_partition_list_new(static_cast<int>(config_.runtime.kafka.topics.signals.size())));
  for (const auto& t : config_.runtime.kafka.topics.signals) {
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t e = rd_kafka_subscribe(consumer_.get(), topics.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InvalidArgumentError(StrCat("subscribing to the signal topics: ", rd_kafka_err2str(e)));
  }
  return absl::OkStatus();
}

void Runner::Impl::OnDelivery(const rd_kafka_message_t* m) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (produce_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
      produce_error_ = m->err;
      produce_error_text_ = rd_kafka_err2str(m->err);
    }
    return;
  }
  if (changelog_topic_ == rd_kafka_topic_name(m->rkt)) {
    auto it = tasks_.find(m->partition);
    if (it != tasks_.end()) it->second->last_changelog_offset = std::max(it->second->last_changelog_offset, m->offset);
  }
}

void Runner::Impl::OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Wait until no transaction of a previous owner is pending on these
    // partitions: with read_committed the committed-offset fetch asks for
    // stable offsets (KIP-447), so after it returns the changelog holds
    // every committed change and nothing of an aborted one.
    {
      PartitionList probe(rd_kafka_topic_partition_list_copy(partitions));
      for (int attempt = 0;; ++attempt) {
        rd_kafka_resp_err_t e = rd_kafka_committed(consumer_.get(), probe.get(), 30000);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        metrics_->KafkaErrors("committed_offsets").Increment();
        Log(StrCat("fetching committed offsets (will retry): ", rd_kafka_err2str(e)));
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 500 * (attempt + 1))));
      }
    }
    std::set<int32_t> numbers;
    for (int i = 0; i < partitions->cnt; ++i) numbers.insert(partitions->elems[i].partition);
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      it = numbers.count(it->first) ? std::next(it) : tasks_.erase(it);
    }
    for (int32_t p : numbers) {
      absl::Status s = OpenTask(p);
      if (!s.ok() && fatal_.ok()) fatal_ = s;
    }
    rd_kafka_assign(consumer_.get(), partitions);
    assignment_.reset(rd_kafka_topic_partition_list_copy(partitions));
    metrics_->AssignedPartitions().Set(static_cast<double>(numbers.size()));
    std::string list;
    for (int32_t p : numbers) list += StrCat(list.empty() ? "" : ",", p);
    Log(StrCat("assigned ", partitions->cnt, " topic partitions (tasks ", list, ")"));
  } else {
    if (rd_kafka_assignment_lost(consumer_.get())) {
      // Another member may own these partitions already: what we did since
      // the last commit must not be committed (it would be fenced anyway).
      if (txn_open_) {
        absl::Status s = AbortAndRewind("partitions lost (session timed out)");
        if (!s.ok() && fatal_.ok()) fatal_ = s;
      }
    } else if (txn_open_) {
      // Revocation: finish the open transaction so the next owner starts
      // from exactly what we committed.
      absl::Status s = Commit();
      if (!s.ok() && fatal_.ok()) fatal_ = s;
    }
    rd_kafka_assign(consumer_.get(), nullptr);
    assignment_.reset();
    metrics_->AssignedPartitions().Set(0);
    Log(StrCat("revoked ", partitions->cnt, " topic partitions"));
  }
  UpdateReady();
}

void Runner::Impl::UpdateReady() {
  bool ready = assignment_ != nullptr && !tasks_.empty();
  owner_->ready_.store(ready);
  metrics_->Ready().Set(ready ? 1 : 0);
}

absl::Status Runner::Impl::OpenTask(int32_t partition) {
  auto& slot = tasks_[partition];
  if (!slot) {
    auto task = std::make_unique<Task>();
    task->partition = partition;
    auto store = state::OpenRocksDbPartitionStore(StrCat(state_dir_, "/", options_.instance_id, "/p", partition),
                                                static_cast<size_t>(config_.runtime.state.cache_accounts));
    if (!store.ok()) {
      tasks_.erase(partition);
      return store.status();
    }
    task->store = std::move(*store);
    slot = std::move(task);
  }
  owner_->ready_.store(false);
  metrics_->Ready().Set(0);
  return Restore(*slot);
}

void Runner::Impl::ResetEngine(Task& task) {
  task.pipeline = std::make_unique<pipeline::Pipeline>(config_.decision, task.store.get());
  task.exported_counters = outputs::DecisionCounters{};
  for (const auto& [key, update] : directory_records_) (void)task.pipeline->engine().ApplyPoolUpdate(update);
  task.pipeline->engine().RestoreStreamTime(task.partition, task.checkpoint.stream_time_ms);
  task.pipeline->engine().RebuildTimers();
  task.consumed.clear();
  task.pending.clear();
}

void Runner::Impl::OpenDirectory() {
  const std::string& topic = config_.runtime.kafka.topics.reps;
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(prober_.get(), topic.c_str(), nullptr);
  rd_kafka_resp_err_t e = rd_kafka_metadata(prober_.get(), 0, rkt, &md, 10000);
  rd_kafka_topic_destroy(rkt);
  int partitions = 0;
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    partitions = md->topics[0].partition_cnt;
  }
  if (md != nullptr) rd_kafka_metadata_destroy(md);
  if (partitions == 0) {
    Log(StrCat("no ", topic, " topic: pools are as configured, with no run-time updates"));
    return;
  }
  rd_kafka_conf_t* conf = BaseConf();
  char err[512];
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"group.id", StrCat(config_.runtime.application_id, "-directory")},
           {"enable.auto.commit", "false"},
           {"isolation.level", "read_committed"},
           {"enable.partition.eof", "true"}}) {
    (void)Set(conf, k, v);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) {
    Log(StrCat("reading ", topic, ": ", err));
    return;
  }
  directory_.reset(rk);
  PartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(directory_.get(), list.get());
  PollDirectory(/*until_end=*/true);
  Log(StrCat("read ", directory_records_.size(), " pool member records from ", topic));
}

void Runner::Impl::PollDirectory(bool until_end) {
  if (!directory_) return;
  const std::string& topic = config_.runtime.kafka.topics.reps;
  int partitions_at_end = 0;
  PartitionList assigned(nullptr);
  {
    rd_kafka_topic_partition_list_t* a = nullptr;
    rd_kafka_assignment(directory_.get(), &a);
    assigned.reset(a);
  }
  auto deadline = Clock::now() + std::chrono::seconds(30);
  std::vector<v1::PoolMemberUpdate> fresh;
  while (true) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(directory_.get(), until_end ? 200 : 0);
    if (m == nullptr) {
      if (!until_end || partitions_at_end >= assigned->cnt || Clock::now() > deadline) break;
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++partitions_at_end;
    } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      metrics_->KafkaErrors("directory").Increment();
    } else {
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
      if (!ok) {
        metrics_->KafkaErrors("directory_record").Increment();
        Log(StrCat(topic, " record at partition ", m->partition, " offset ", m->offset,
                   " is not a PoolMemberUpdate; skipped"));
      } else {
        directory_records_[StrCat(update.pool_id(), "/", update.member_id())] = update;
        fresh.push_back(update);
      }
    }
    rd_kafka_message_destroy(m);
  }
  for (const auto& update : fresh) {
    for (auto& [p, task] : tasks_) {
      if (!task->pipeline) continue;
      absl::Status st = task->pipeline->engine().ApplyPoolUpdate(update);
      if (!st.ok() && p == tasks_.begin()->first) Log(std::string(st.message()));
    }
  }
}

absl::Status Runner::Impl::Restore(Task& task) {
  // Another instance may have owned the partition since this store last
  // did: nothing cached may outlive the restore.
  task.store->ClearCache();
  task.checkpoint = task.store->ReadCheckpoint();
  // The end to reach is the high watermark (read_uncommitted), not the last
  // stable offset: a previous owner that died inside a transaction leaves it
  // pending until the broker completes it (a commit already requested) or
  // aborts it (after the transaction timeout). Reading past it only once it
  // is resolved keeps the restored state and the committed offsets in step.
  int64_t low = 0, high = 0;
  for (int attempt = 0;; ++attempt) {
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
        prober_.get(), changelog_topic_.c_str(), task.partition, &low, &high, 10000);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    metrics_->KafkaErrors("restore_watermarks").Increment();
    if (e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return absl::FailedPreconditionError(StrCat("changelog topic ", changelog_topic_, " has no partition ",
                                                  task.partition, ": create it with as many partitions as the "
                                                  "signal topics (deploy/local/kafka.sh topics)"));
    }
    Log(StrCat("reading changelog watermarks (will retry): ", rd_kafka_err2str(e)));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 500 * (attempt + 1))));
  }
  int64_t from = std::max(task.checkpoint.changelog_next, low);
  bool full = task.checkpoint.changelog_next == 0;
  int64_t applied = 0;
  if (from < high) {
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), changelog_topic_.c_str(), task.partition)->offset = from;
    rd_kafka_assign(restorer_.get(), list.get());
    std::vector<state::ChangeRecord> batch;
    state::Checkpoint cp = task.checkpoint;
    int64_t position = from;
    auto waiting_since = Clock::now();
    auto next_note = waiting_since + std::chrono::seconds(5);
    while (position < high) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(restorer_.get(), 200);
      if (m != nullptr) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          std::string key(static_cast<const char*>(m->key), m->key_len);
          std::string value(static_cast<const char*>(m->payload), m->len);
          if (key == state::kStreamTimeKey) cp.stream_time_ms = std::max<int64_t>(cp.stream_time_ms, std::stoll(value));
          batch.push_back({std::move(key), std::move(value)});
        } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          metrics_->KafkaErrors("restore").Increment();
          Log(StrCat("restoring partition ", task.partition, ": ", rd_kafka_message_errstr(m)));
        }
        rd_kafka_message_destroy(m);
      }
      // The position also moves over aborted records and transaction markers.
      PartitionList pos(rd_kafka_topic_partition_list_new(1));
      rd_kafka_topic_partition_list_add(pos.get(), changelog_topic_.c_str(), task.partition);
      rd_kafka_position(restorer_.get(), pos.get());
      if (pos->elems[0].offset >= 0) position = pos->elems[0].offset;
      if (position < high && Clock::now() >= next_note) {
        Log(StrCat("partition ", task.partition, ": restore waits at changelog offset ", position,
                   " for a transaction of a previous owner to complete (end ", high, ")"));
        next_note += std::chrono::seconds(5);
      }
      if (batch.size() >= kRestoreBatch || (position >= high && !batch.empty())) {
        cp.changelog_next = position;
        absl::Status s = task.store->ApplyRestored(batch, cp);
        if (!s.ok()) {
          rd_kafka_assign(restorer_.get(), nullptr);
          return s;
        }
        applied += static_cast<int64_t>(batch.size());
        metrics_->RestoredRecords().Increment(static_cast<double>(batch.size()));
        batch.clear();
      }
    }
    rd_kafka_assign(restorer_.get(), nullptr);
    cp.changelog_next = position;
    task.checkpoint = cp;
    absl::Status s = task.store->ApplyRestored({}, task.checkpoint);
    if (!s.ok()) return s;
  }
  metrics_->Restores(full ? "full" : "tail").Increment();
  Log(StrCat("partition ", task.partition, ": restored ", applied, " changelog records (", full ? "full" : "tail",
             " restore from offset ", from, ", end ", high, ")"));
  ResetEngine(task);
  return absl::OkStatus();
}

void Runner::Impl::Produce(const std::string& topic, int32_t partition, const std::string& key,
                           const std::string& value, rd_kafka_headers_t* headers) {
  for (;;) {
    rd_kafka_resp_err_t e;
    if (headers != nullptr) {
      e = rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    } else {
      e = rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    }
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer_.get(), 10);  // back-pressure: wait for deliveries
      continue;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (headers != nullptr) rd_kafka_headers_destroy(headers);
      if (produce_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
        produce_error_ = e;
        produce_error_text_ = StrCat("producing to ", topic, ": ", rd_kafka_err2str(e));
      }
    }
    return;
  }
}

void Runner::Impl::DeadLetter(const pipeline::Record& source, const ingest::Reject& reject) {
  pipeline::OutRecord r = pipeline::DeadLetter(source, reject, config_.runtime.kafka.topics.dlq);
  rd_kafka_headers_t* h = rd_kafka_headers_new(r.headers.size());
  for (const auto& [name, value] : r.headers) {
    rd_kafka_header_add(h, name.c_str(), -1, value.data(), static_cast<ssize_t>(value.size()));
  }
  Produce(r.topic, RD_KAFKA_PARTITION_UA, r.key, r.value, h);
  metrics_->Rejected(ingest::RejectCodeName(reject.code)).Increment();
  ++txn_rejected_;
}

void Runner::Impl::Process(rd_kafka_message_t* m) {
  auto it = tasks_.find(m->partition);
  if (it == tasks_.end()) return;  // not ours any more (a rebalance is under way)
  Task& task = *it->second;
  std::string topic = rd_kafka_topic_name(m->rkt);
  task.consumed[topic] = m->offset + 1;
  rd_kafka_timestamp_type_t ts_type;
  int64_t ts = rd_kafka_message_timestamp(m, &ts_type);
  if (ts > 0) txn_arrivals_ms_.push_back(ts);
  ++txn_signals_;

  pipeline::Record record;
  record.value = std::string_view(m->payload ? static_cast<const char*>(m->payload) : "", m->len);
  record.key = std::string_view(m->key ? static_cast<const char*>(m->key) : "", m->key_len);
  record.topic = topic;
  record.partition = m->partition;
  record.offset = m->offset;
  record.timestamp_ms = ts;
  scratch_.clear();
  pipeline::Result result = task.pipeline->Process(record, &scratch_);
  if (result.signal != nullptr) metrics_->SignalsConsumed(topic, result.signal->type()).Increment();
  if (result.outcome == pipeline::Outcome::kRejected) {
    DeadLetter(record, result.reject);
  } else if (result.outcome == pipeline::Outcome::kDuplicate) {
    metrics_->Duplicates().Increment();
  }
  for (auto& o : scratch_) {
    pipeline::OutRecord r = encoder_.Encode(o);
    Produce(r.topic, RD_KAFKA_PARTITION_UA, r.key, r.value);
    txn_outputs_.push_back(std::move(o));
  }
}

absl::Status Runner::Impl::BeginIfNeeded() {
  if (txn_open_) return absl::OkStatus();
  KafkaError e(rd_kafka_begin_transaction(producer_.get()));
  if (e) return absl::InternalError(StrCat("beginning a transaction: ", ErrorText(e.get())));
  txn_open_ = true;
  txn_started_ = Clock::now();
  return absl::OkStatus();
}

absl::Status Runner::Impl::Commit() {
  if (!txn_open_) return absl::OkStatus();
  auto started = Clock::now();
  // State first: every changed account of every task, as changelog records.
  for (auto& [p, task] : tasks_) {
    if (!task->store->error().ok()) return AbortAndRewind(std::string(task->store->error().message()));
    if (task->consumed.empty() && !task->store->HasPendingChanges()) continue;
    task->pending = task->store->PendingChanges(task->pipeline->engine().StreamTime(p));
    for (const auto& r : task->pending) Produce(changelog_topic_, p, r.key, r.value);
  }
  // Wait for the delivery reports, but not once a send or a delivery has
  // failed: the transaction can then only be aborted (abort_transaction
  // purges what is left), and a message it can no longer deliver — one for
  // a topic librdkafka has lost the partitions of, say — would hold the
  // engine here for the whole timeout.
  for (auto deadline = Clock::now() + std::chrono::milliseconds(kTxnTimeoutMs);
       produce_error_ == RD_KAFKA_RESP_ERR_NO_ERROR && rd_kafka_outq_len(producer_.get()) > 0 &&
       Clock::now() < deadline;) {
    rd_kafka_flush(producer_.get(), 100);
  }
  if (produce_error_ != RD_KAFKA_RESP_ERR_NO_ERROR) return AbortAndRewind(produce_error_text_);

  PartitionList offsets(rd_kafka_topic_partition_list_new(16));
  for (auto& [p, task] : tasks_) {
    for (const auto& [topic, next] : task->consumed) {
      rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), p)->offset = next;
    }
  }
  if (offsets->cnt > 0) {
    rd_kafka_consumer_group_metadata_t* meta = rd_kafka_consumer_group_metadata(consumer_.get());
    KafkaError e(rd_kafka_send_offsets_to_transaction(producer_.get(), offsets.get(), meta, kTxnTimeoutMs));
    rd_kafka_consumer_group_metadata_destroy(meta);
    if (e) {
      metrics_->KafkaErrors("send_offsets").Increment();
      if (rd_kafka_error_is_fatal(e.get())) {
        return RecoverProducer(StrCat("sending offsets: ", ErrorText(e.get())));
      }
      return AbortAndRewind(StrCat("sending offsets: ", ErrorText(e.get())));
    }
  }
  for (int attempt = 0;; ++attempt) {
    KafkaError e(rd_kafka_commit_transaction(producer_.get(), kTxnTimeoutMs));
    if (!e) break;
    metrics_->KafkaErrors("commit").Increment();
    if (rd_kafka_error_is_retriable(e.get())) {
      Log(StrCat("committing (will retry): ", ErrorText(e.get())));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 200 * (attempt + 1))));
      continue;
    }
    if (rd_kafka_error_is_fatal(e.get())) {
      return RecoverProducer(StrCat("committing: ", ErrorText(e.get())));
    }
    return AbortAndRewind(StrCat("committing: ", ErrorText(e.get())));
  }
  txn_open_ = false;
  // Committed: now the local stores, each in one batch with its checkpoint.
  for (auto& [p, task] : tasks_) {
    if (task->pending.empty() && task->consumed.empty()) continue;
    state::Checkpoint cp = task->checkpoint;
    if (task->last_changelog_offset >= 0) cp.changelog_next = task->last_changelog_offset + 1;
    for (const auto& [topic, next] : task->consumed) cp.input_next[topic] = next;
    cp.stream_time_ms = task->pipeline->engine().StreamTime(p);
    absl::Status s = task->store->Commit(task->pending, cp);
    if (!s.ok()) return absl::UnavailableError(StrCat("writing the state of partition ", p, ": ", s.message()));
    task->checkpoint = cp;
    task->pending.clear();
    task->consumed.clear();
  }
  double cached = 0, bytes = 0;
  for (const auto& [p, task] : tasks_) {
    cached += static_cast<double>(task->store->cached_accounts());
    bytes += static_cast<double>(task->store->ApproximateSize());
    int64_t hits = task->store->cache_hits(), misses = task->store->cache_misses();
    metrics_->CacheHits().Increment(static_cast<double>(std::max<int64_t>(0, hits - task->exported_cache_hits)));
    metrics_->CacheMisses().Increment(static_cast<double>(std::max<int64_t>(0, misses - task->exported_cache_misses)));
    task->exported_cache_hits = hits;
    task->exported_cache_misses = misses;
    ExportDecisionCounters(task->pipeline->engine().counters(), &task->exported_counters, metrics_);
  }
  metrics_->CachedAccounts().Set(cached);
  metrics_->StateBytes().Set(bytes);
  auto now = Clock::now();
  metrics_->TransactionsCommitted().Increment();
  metrics_->CommitLatency().Observe(std::chrono::duration<double>(now - started).count());
  int64_t wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
  for (int64_t arrival : txn_arrivals_ms_) {
    metrics_->ProcessingLatency().Observe(static_cast<double>(std::max<int64_t>(0, wall_ms - arrival)) / 1000.0);
  }
  for (const auto& o : txn_outputs_) metrics_->Outputs(outputs::OutputKindName(o.kind)).Increment();
  owner_->stats_.signals += txn_signals_;
  owner_->stats_.rejected += txn_rejected_;
  owner_->stats_.outputs += static_cast<int64_t>(txn_outputs_.size());
  owner_->stats_.transactions += 1;
  if (options_.on_committed && !txn_outputs_.empty()) options_.on_committed(txn_outputs_);
  txn_outputs_.clear();
  txn_arrivals_ms_.clear();
  txn_signals_ = txn_rejected_ = 0;
  return absl::OkStatus();
}

absl::Status Runner::Impl::AbortAndRewind(const std::string& why) {
  Log(StrCat("aborting the transaction and rewinding to the last commit: ", why));
  metrics_->TransactionsAborted().Increment();
  owner_->stats_.aborts += 1;
  for (int attempt = 0;; ++attempt) {
    KafkaError e(rd_kafka_abort_transaction(producer_.get(), kTxnTimeoutMs));
    if (!e) break;
    if (rd_kafka_error_is_fatal(e.get())) return RecoverProducer(StrCat("aborting: ", ErrorText(e.get())));
    Log(StrCat("aborting (will retry): ", ErrorText(e.get())));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 200 * (attempt + 1))));
  }
  txn_open_ = false;
  Rewind();
  return absl::OkStatus();
}

absl::Status Runner::Impl::RecoverProducer(const std::string& why) {
  // A fatal producer error — typically the coordinator aborted our
  // transaction and bumped the epoch while the broker was unreachable past
  // the transaction timeout. Nothing of the open transaction is committed:
  // start a new producer (init_transactions fences the old epoch) and rewind.
  Log(StrCat("producer failed fatally (", why, "); recreating it and rewinding to the last commit"));
  metrics_->KafkaErrors("producer_fatal").Increment();
  metrics_->TransactionsAborted().Increment();
  owner_->stats_.aborts += 1;
  txn_open_ = false;
  producer_.reset();
  absl::Status s = CreateProducer();
  if (!s.ok()) return s;
  Rewind();
  return absl::OkStatus();
}

void Runner::Impl::Rewind() {
  produce_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  produce_error_text_.clear();
  txn_outputs_.clear();
  txn_arrivals_ms_.clear();
  txn_signals_ = txn_rejected_ = 0;
  for (auto& [p, task] : tasks_) {
    task->store->Discard();
    task->last_changelog_offset = -1;
    ResetEngine(*task);
  }
  // Every partition goes back to the group's committed (transactional)
  // offset by a seek, which also drops prefetched data. Not by assigning the
  // same partitions again: librdkafka 2.0.2 then stops partitions whose
  // previous stop may still be pending, and aborts on an assertion
  // (rd_kafka_assignment_partition_stopped: rktp_started; seen after a
  // session timeout during a broker restart).
  if (!assignment_) return;
  PartitionList committed(rd_kafka_topic_partition_list_copy(assignment_.get()));
  for (int attempt = 0;; ++attempt) {
    rd_kafka_resp_err_t e = rd_kafka_committed(consumer_.get(), committed.get(), 30000);
    for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < committed->cnt; ++i) e = committed->elems[i].err;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    metrics_->KafkaErrors("committed_offsets").Increment();
    Log(StrCat("rewinding: fetching committed offsets (will retry): ", rd_kafka_err2str(e)));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 500 * (attempt + 1))));
  }
  for (int i = 0; i < committed->cnt; ++i) {
    // Nothing committed yet: from the start, as auto.offset.reset says.
    if (committed->elems[i].offset < 0) committed->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  KafkaError e(rd_kafka_seek_partitions(consumer_.get(), committed.get(), 30000));
  bool failed = static_cast<bool>(e);
  for (int i = 0; i < committed->cnt; ++i) failed = failed || committed->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
  if (!failed) return;
  // A partition that could not be sought must not continue past what was
  // discarded: assign again from the committed offsets after all.
  metrics_->KafkaErrors("seek").Increment();
  Log(StrCat("rewinding: seek failed (", e ? ErrorText(e.get()) : "per partition", "); assigning again"));
  for (int i = 0; i < committed->cnt; ++i) committed->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_assign(consumer_.get(), committed.get());
}

absl::Status Runner::Impl::Run(const std::atomic<bool>& stop) {
  absl::Status s = CreateClients();
  if (!s.ok()) return s;
  OpenDirectory();
  Log(StrCat("running: group ", config_.runtime.application_id, ", instance ", options_.instance_id, ", brokers ",
             bootstrap_, ", state ", state_dir_));
  auto interval = std::chrono::milliseconds(config_.runtime.kafka.commit_interval_ms);
  while (!stop.load() && fatal_.ok()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 20);
    if (!fatal_.ok()) {
      if (m) rd_kafka_message_destroy(m);
      break;
    }
    if (m != nullptr) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        s = BeginIfNeeded();
        if (!s.ok()) {
          rd_kafka_message_destroy(m);
          return s;
        }
        Process(m);
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        metrics_->KafkaErrors("consume").Increment();
        Log(StrCat("consumer: ", rd_kafka_message_errstr(m)));
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_poll(producer_.get(), 0);
    if (Clock::now() >= next_directory_poll_) {
      PollDirectory(/*until_end=*/false);
      next_directory_poll_ = Clock::now() + std::chrono::seconds(1);
    }
    if (txn_open_ && Clock::now() - txn_started_ >= interval) {
      s = Commit();
      if (!s.ok()) return s;
    }
    UpdateReady();
  }
  if (!fatal_.ok()) return fatal_;
  s = Commit();
  rd_kafka_consumer_close(consumer_.get());
  Log("stopped cleanly");
  return s.ok() ? fatal_ : s;
}

Runner::Runner(const config::Config& config, RunOptions options, metrics::Metrics* metrics)
    : impl_(std::make_unique<Impl>(this, config, std::move(options), metrics)) {}

Runner::~Runner() = default;

absl::Status Runner::Run(const std::atomic<bool>& stop) { return impl_->Run(stop); }

}  // namespace demandcenter::kafka
