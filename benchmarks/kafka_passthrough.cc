// The baseline for the engine's Kafka throughput: a plain consume ->
// transactional produce passthrough with the same commit model as
// `demandcenter run` (one transaction per 100 ms carrying the produced
// records and the consumed offsets), and no decisions. Run against the same
// broker and input as the engine, it gives the ratio reported in
// docs/performance.md (benchmarks/kafka_e2e.sh).
//
//   kafka_passthrough BOOTSTRAP INPUT_TOPIC[,INPUT_TOPIC...] OUTPUT_TOPIC GROUP EXPECTED_RECORDS
//
// EXPECTED_RECORDS 0: on until SIGTERM (benchmarks/contenders.py paces its
// input to measure latency).
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

volatile std::sig_atomic_t stopping = 0;

void Check(rd_kafka_error_t* e, const char* what) {
  if (e != nullptr) {
    std::fprintf(stderr, "%s: %s\n", what, rd_kafka_error_string(e));
    std::exit(1);
  }
}

rd_kafka_conf_t* Conf(const char* bootstrap, std::initializer_list<std::pair<const char*, const char*>> kv) {
  char err[512];
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err));
  for (auto [k, v] : kv) {
    if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "%s\n", err);
      std::exit(2);
    }
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP INPUT_TOPIC[,INPUT_TOPIC...] OUTPUT_TOPIC GROUP EXPECTED_RECORDS\n",
                 argv[0]);
    return 2;
  }
  const char* bootstrap = argv[1];
  std::string inputs = argv[2];
  std::string output = argv[3];
  long expected = std::atol(argv[5]);
  std::signal(SIGTERM, [](int) { stopping = 1; });
  std::signal(SIGINT, [](int) { stopping = 1; });
  char err[512];
  rd_kafka_t* producer = rd_kafka_new(
      RD_KAFKA_PRODUCER,
      Conf(bootstrap, {{"transactional.id", (std::string(argv[4]) + "-passthrough").c_str()},
                       {"linger.ms", "5"},
                       {"partitioner", "murmur2_random"},
                       {"transaction.timeout.ms", "10000"},
                       {"message.timeout.ms", "10000"}}),
      err, sizeof(err));
  rd_kafka_t* consumer = rd_kafka_new(
      RD_KAFKA_CONSUMER,
      Conf(bootstrap, {{"group.id", argv[4]},
                       {"enable.auto.commit", "false"},
                       {"isolation.level", "read_committed"},
                       {"auto.offset.reset", "earliest"},
                       {"partition.assignment.strategy", "range"}}),
      err, sizeof(err));
  if (producer == nullptr || consumer == nullptr) {
    std::fprintf(stderr, "creating clients: %s\n", err);
    return 1;
  }
  rd_kafka_poll_set_consumer(consumer);
  Check(rd_kafka_init_transactions(producer, 30000), "init_transactions");
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(3);
  for (size_t from = 0; from <= inputs.size();) {
    size_t comma = inputs.find(',', from);
    if (comma == std::string::npos) comma = inputs.size();
    rd_kafka_topic_partition_list_add(topics, inputs.substr(from, comma - from).c_str(), RD_KAFKA_PARTITION_UA);
    from = comma + 1;
  }
  rd_kafka_subscribe(consumer, topics);
  rd_kafka_topic_partition_list_destroy(topics);

  using Clock = std::chrono::steady_clock;
  long done = 0;
  bool open = false;
  auto started = Clock::now(), txn_started = started;
  bool first = true;
  while (expected > 0 ? done < expected : !stopping) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 20);
    if (m != nullptr && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (first) {
        started = Clock::now();
        first = false;
      }
      if (!open) {
        Check(rd_kafka_begin_transaction(producer), "begin_transaction");
        open = true;
        txn_started = Clock::now();
      }
      while (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(output.c_str()), RD_KAFKA_V_KEY(m->key, m->key_len),
                               RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer, 10);
      }
      ++done;
    }
    if (m != nullptr) rd_kafka_message_destroy(m);
    rd_kafka_poll(producer, 0);
    bool last = expected > 0 ? done >= expected : stopping != 0;
    if (open && (Clock::now() - txn_started >= std::chrono::milliseconds(100) || last)) {
      rd_kafka_topic_partition_list_t* positions = nullptr;
      rd_kafka_assignment(consumer, &positions);
      rd_kafka_position(consumer, positions);
      rd_kafka_consumer_group_metadata_t* meta = rd_kafka_consumer_group_metadata(consumer);
      Check(rd_kafka_send_offsets_to_transaction(producer, positions, meta, 30000), "send_offsets");
      rd_kafka_consumer_group_metadata_destroy(meta);
      rd_kafka_topic_partition_list_destroy(positions);
      Check(rd_kafka_commit_transaction(producer, 30000), "commit_transaction");
      open = false;
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("passthrough: %ld records in %.2f s: %.0f records/s\n", done, seconds, done / seconds);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  rd_kafka_destroy(producer);
  return 0;
}
