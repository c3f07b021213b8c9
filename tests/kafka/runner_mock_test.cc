// kafka::Runner (`demandcenter run`) against librdkafka's mock cluster, under
// the failures the mock can inject: abortable and fatal transactional errors,
// brokers going down and coming back, coordinators moving.
//
// What these tests can and cannot show (librdkafka 2.0.2's mock):
//  - EndTxn writes no control markers, so read_committed readers also see
//    the records of aborted transactions; and TxnOffsetCommit is answered
//    but stores nothing, so the group never has committed offsets. Exactly
//    once, as Kafka readers see it, is therefore not observable here (the
//    real-broker integration tests check it). These tests assert that
//    nothing is lost, that the runner survives and keeps committing, and
//    that Run() ends OK. Even the runner's own committed stream is not
//    held to exactly once: on the mock its exactness would rest on event_id
//    de-duplication (next point), not on the transactional offsets the
//    guarantee is built on, so the tests only log how many outputs it has
//    beyond the reference.
//  - Because no offset is ever stored, every rewind (after an aborted
//    transaction or a recreated producer) restarts each partition at
//    auto.offset.reset=earliest, not at the last committed transaction. The
//    committed state then sees every earlier signal a second time. Only the
//    engine's event_id de-duplication makes those re-reads harmless, and it
//    remembers an account's event_ids for state.dedup_window (7 days in
//    deploy/config/demandcenter.yaml) before its latest signal. So the
//    input here spans 3 days of event time: every re-read signal is a
//    recognised duplicate and changes nothing. With a longer span (say the
//    generator's default 180 days), signals older than the window would be
//    applied twice after a rewind — scores, counts and contact caps change —
//    and later decisions could differ from the reference, so "nothing lost"
//    would not hold on the mock even though the runner is right on a real
//    broker (there the rewind goes to the committed offsets). Measured with
//    days = 180: after the first abort (or recreated producer) one stage
//    transition of the reference was never committed, in both tests that
//    inject errors.
//  - Partition logs are capped (5 MB / 100000 message sets per partition);
//    the input and outputs here stay far below.
//
// The reference is the engine run by the replay library (TestDriver) over
// the same records, partitioned the same way (murmur2 of the account id, as
// `replay --partitions` models a murmur2_random producer). Outputs are
// compared by their deterministic ids, collected through
// RunOptions::on_committed: what the runner reports as committed.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/config/config.h"
#include "demandcenter/pipeline/partitions.h"
#include "demandcenter/generate/generator.h"
#include "demandcenter/ingest/decoder.h"
#include "demandcenter/kafka/runner.h"
#include "demandcenter/metrics/metrics.h"
#include "support/test_driver.h"
#include "gtest/gtest.h"

namespace demandcenter::kafka {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Kafka protocol request types (librdkafka does not install its
// rdkafka_protocol.h).
constexpr int16_t kApiProduce = 0;
constexpr int16_t kApiAddOffsetsToTxn = 25;
constexpr int16_t kApiEndTxn = 26;
constexpr int16_t kApiTxnOffsetCommit = 28;

constexpr int32_t kPartitions = 5;
constexpr int32_t kAccounts = 300;
constexpr int64_t kSignals = 3000;
constexpr int kChunks = 4;

// Layout of the 3-broker mock cluster: broker 1 leads every partition of the
// signal topic, so the test's producer talks to broker 1 alone; brokers 2 and
// 3 lead the output, DLQ and changelog partitions (even ones on 2, odd ones on
// 3), and broker 3 is the group and transaction coordinator unless a test
// moves them. An error pushed onto broker 2's or 3's Produce stack therefore
// reaches the runner's producer and nobody else.
constexpr int32_t kInputBroker = 1;
constexpr int32_t kCoordinator = 3;
int32_t OutputLeader(int32_t partition) { return partition % 2 == 0 ? 2 : 3; }

constexpr char kSignalTopic[] = "signals";
constexpr char kApplicationId[] = "runner-mock-test";
// The runner's transactional id: <application_id>-<instance_id>.
constexpr char kTransactionalId[] = "runner-mock-test-0";

// Generous: only reached when something is wrong.
constexpr auto kWait = 30s;

// The default config with one signal topic (one topic keeps each partition in
// the order the reference engine sees it) and identity scoped to the
// partition.
const config::Config& TestConfig() {
  static const config::Config* config = [] {
    config::ParseResult r = config::LoadConfig("deploy/config/demandcenter.yaml");
    if (!r.errors.empty() || !r.config) {
      ADD_FAILURE() << "deploy/config/demandcenter.yaml: "
                    << (r.errors.empty() ? "no config" : r.errors[0].ToString());
      return new config::Config();
    }
    auto* c = new config::Config(*r.config);
    c->runtime.application_id = kApplicationId;
    c->runtime.kafka.topics.signals = {kSignalTopic};
    // One stage: the adapters' failure paths, not the identity topology
    // (tests/runner/event_time_order_test.cc, tests/integration).
    c->decision.identity.global = false;
    return c;
  }();
  return *config;
}

std::string OutputId(const outputs::Output& o) {
  std::string id;
  switch (o.kind) {
    case outputs::OutputKind::kTransition:
      id = std::get<v1::StageTransition>(o.message).transition_id();
      break;
    case outputs::OutputKind::kNextBestAction:
      id = std::get<v1::NextBestAction>(o.message).action_id();
      break;
    case outputs::OutputKind::kRouting:
      id = std::get<v1::RoutingDecision>(o.message).routing_id();
      break;
    case outputs::OutputKind::kPrompt:
      id = std::get<v1::CrmPrompt>(o.message).prompt_id();
      break;
    case outputs::OutputKind::kIdentityConflict:
      id = std::get<v1::IdentityConflict>(o.message).conflict_id();
      break;
  }
  return StrCat(outputs::OutputKindName(o.kind), "/", id);
}

using IdCounts = std::map<std::string, int>;

struct Record {
  std::string key;     // empty: no account id
  std::string value;
  int32_t partition;   // where replay's partition model puts it
};

// The generated input and what the reference engine makes of it.
struct Input {
  std::vector<Record> records;
  // Chunk c is records [chunk_begin[c], chunk_begin[c + 1]).
  std::vector<size_t> chunk_begin;
  // Output ids of the records of chunks 0..c (cumulative), with counts.
  std::vector<IdCounts> expected_through;
  // Every output id per account, in emission order.
  std::map<std::string, std::vector<std::string>> expected_by_account;
};

const Input& TestInput() {
  static const Input* input = [] {
    auto* in = new Input();
    generate::GeneratorOptions g;
    g.accounts = kAccounts;
    g.signals = kSignals;
    g.seed = 20260105;
    g.malformed_share = 0.005;  // a few dead letters too
    g.days = 3;                 // inside the 7-day dedup window: see the top
    absl::Status s = generate::Generate(
        g,
        [&](const generate::GeneratedRecord& r) {
          v1::Signal signal;
          bool decodes = ingest::DecodeSignal(r.value, ingest::DecodeOptions{}, &signal).ok();
          int32_t partition = 0;  // harness.py: undecodable, keyless -> 0
          if (!r.key.empty()) {
            partition = PartitionForKey(r.key, kPartitions, Partitioner::kMurmur2);
          } else if (decodes) {
            partition = pipeline::PartitionOf(signal, {kPartitions, Partitioner::kMurmur2});
          }
          in->records.push_back({r.key, r.value, partition});
        },
        nullptr);
    EXPECT_TRUE(s.ok()) << s;
    for (int c = 0; c <= kChunks; ++c) in->chunk_begin.push_back(in->records.size() * c / kChunks);

    testing::TestDriver driver(TestConfig(), {kPartitions, Partitioner::kMurmur2});
    IdCounts ids;
    for (int c = 0; c < kChunks; ++c) {
      for (size_t i = in->chunk_begin[c]; i < in->chunk_begin[c + 1]; ++i) {
        (void)driver.PipeBytes(in->records[i].value);
        for (const auto& o : driver.ReadOutputs()) {
          std::string id = OutputId(o);
          ++ids[id];
          in->expected_by_account[o.account_id].push_back(id);
        }
      }
      in->expected_through.push_back(ids);
    }
    return in;
  }();
  return *input;
}

// Ids of `expected` that `got` lacks (counts ignored: at least once).
std::vector<std::string> Missing(const IdCounts& expected, const IdCounts& got) {
  std::vector<std::string> missing;
  for (const auto& [id, n] : expected) {
    if (!got.count(id)) missing.push_back(id);
  }
  return missing;
}

std::string Head(const std::vector<std::string>& ids, size_t n = 10) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < n; ++i) out += StrCat(i ? ", " : "", ids[i]);
  if (ids.size() > n) out += StrCat(", ... (", ids.size(), " in all)");
  return out;
}

// Polls `done` every 20 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Sum of a counter family's values, optionally only of the series with
// label `label`=`value`.
double CounterSum(const metrics::Metrics& m, const std::string& name, const std::string& label = "",
                  const std::string& value = "") {
  double sum = 0;
  for (const auto& family : m.registry()->Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      bool match = label.empty();
      for (const auto& l : metric.label) match = match || (l.name == label && l.value == value);
      if (match) sum += metric.counter.value;
    }
  }
  return sum;
}

// A mock cluster of 3 brokers with the test's topics, laid out as above.
class MockCluster {
 public:
  MockCluster() {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (host_ == nullptr) {
      ADD_FAILURE() << "mock cluster host: " << err;
      return;
    }
    mock_ = rd_kafka_mock_cluster_new(host_, 3);
    if (mock_ == nullptr) {
      ADD_FAILURE() << "rd_kafka_mock_cluster_new failed";
      return;
    }
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(mock_);
    const config::KafkaTopics& t = TestConfig().runtime.kafka.topics;
    Create(kSignalTopic, [](int32_t) { return kInputBroker; });
    for (const std::string& topic : {t.dlq, t.nba, t.routing, t.prompts, t.transitions, t.identity_conflicts,
                                     StrCat(kApplicationId, "-state-changelog")}) {
      Create(topic, OutputLeader);
    }
    SetCoordinators(kCoordinator, kCoordinator);
  }

  ~MockCluster() {
    if (mock_ != nullptr) rd_kafka_mock_cluster_destroy(mock_);
    if (host_ != nullptr) rd_kafka_destroy(host_);
  }

  rd_kafka_mock_cluster_t* get() const { return mock_; }
  const std::string& bootstrap() const { return bootstrap_; }

  void SetCoordinators(int32_t transaction, int32_t group) {
    EXPECT_EQ(Op(rd_kafka_mock_coordinator_set(mock_, "transaction", kTransactionalId, transaction)),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    EXPECT_EQ(Op(rd_kafka_mock_coordinator_set(mock_, "group", kApplicationId, group)), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // -1: every broker.
  void BrokerDown(int32_t broker) {
    EXPECT_EQ(Op(rd_kafka_mock_broker_set_down(mock_, broker)), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  void BrokerUp(int32_t broker) {
    EXPECT_EQ(Op(rd_kafka_mock_broker_set_up(mock_, broker)), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // Makes the next request of type `api` that broker `broker` receives fail
  // with `error`.
  void PushError(int32_t broker, int16_t api, rd_kafka_resp_err_t error) {
    ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(mock_, broker, api, 1, error, 0),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // Injected errors of type `api` not yet delivered by broker `broker`.
  size_t PendingErrors(int32_t broker, int16_t api) const {
    size_t n = 0;
    EXPECT_EQ(rd_kafka_mock_broker_error_stack_cnt(mock_, broker, api, &n), RD_KAFKA_RESP_ERR_NO_ERROR);
    return n;
  }

 private:
  void Create(const std::string& topic, int32_t (*leader)(int32_t)) {
    ASSERT_EQ(Op(rd_kafka_mock_topic_create(mock_, topic.c_str(), kPartitions, 1)), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int32_t p = 0; p < kPartitions; ++p) {
      ASSERT_EQ(Op(rd_kafka_mock_partition_set_leader(mock_, topic.c_str(), p, leader(p))),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
  }

  // The mock's commands are ops served by its thread. In librdkafka 2.0.2 a
  // command issued right after the previous one was served can lose its
  // wake-up (the thread drains the wake-up pipe after serving the queue) and
  // then waits for the thread's next 1 s poll timeout: 35 set-up commands
  // took 10 s. A pause of 2 ms after each one lets the thread drain the pipe
  // first. A workaround for latency, not synchronisation: the command has
  // completed when the call returns.
  static rd_kafka_resp_err_t Op(rd_kafka_resp_err_t result) {
    std::this_thread::sleep_for(2ms);
    return result;
  }

  rd_kafka_t* host_ = nullptr;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
  std::string bootstrap_;
};

// Short reconnect back-off for every client: after a broker comes back they
// reconnect within half a second instead of librdkafka's up to 10 s.
const std::vector<std::pair<std::string, std::string>> kClientProperties = {
    {"reconnect.backoff.ms", "50"}, {"reconnect.backoff.max.ms", "500"}};

// Produces records the way tests/integration/harness.py does: keyed by
// account with partitioner murmur2_random; keyless records to the partition
// replay's model gives them.
class InputProducer {
 public:
  explicit InputProducer(const std::string& bootstrap) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
             {"bootstrap.servers", bootstrap}, {"partitioner", "murmur2_random"},
             {"enable.idempotence", "true"},   {"linger.ms", "5"}}) {
      EXPECT_EQ(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)), RD_KAFKA_CONF_OK) << err;
    }
    for (const auto& [k, v] : kClientProperties) rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err));
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
      auto* self = static_cast<InputProducer*>(opaque);
      const Record& r = TestInput().records[reinterpret_cast<uintptr_t>(m->_private)];
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->errors_.push_back(rd_kafka_err2str(m->err));
      } else if (m->partition != r.partition) {
        self->errors_.push_back(StrCat("key ", r.key, " went to partition ", m->partition, ", the reference put it on ",
                                       r.partition));
      }
    });
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    EXPECT_NE(producer_, nullptr) << err;
  }
  ~InputProducer() {
    if (producer_ != nullptr) rd_kafka_destroy(producer_);
  }

  // Produces chunk `c` of the input and waits until it is delivered.
  void ProduceChunk(int c) {
    const Input& input = TestInput();
    for (size_t i = input.chunk_begin[c]; i < input.chunk_begin[c + 1]; ++i) {
      const Record& r = input.records[i];
      for (;;) {
        rd_kafka_resp_err_t e =
            r.key.empty()
                ? rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(kSignalTopic), RD_KAFKA_V_PARTITION(r.partition),
                                    RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(i)), RD_KAFKA_V_END)
                : rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(kSignalTopic),
                                    RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                                    RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(i)), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(producer_, 10);
          continue;
        }
        ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
        break;
      }
      rd_kafka_poll(producer_, 0);
    }
    ASSERT_EQ(rd_kafka_flush(producer_, 30000), RD_KAFKA_RESP_ERR_NO_ERROR) << "input not delivered";
    ASSERT_TRUE(errors_.empty()) << errors_.size() << " delivery problems, first: " << errors_[0];
  }

 private:
  rd_kafka_t* producer_ = nullptr;
  std::vector<std::string> errors_;  // delivery callbacks run inside poll/flush
};

class RunnerMockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(TestInput().records.empty());
    ASSERT_GT(TestInput().expected_through.back().size(), 100u) << "the input should lead to decisions";
    std::string pattern = (std::filesystem::temp_directory_path() / "dc-runner-mock-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    state_dir_ = pattern;
    cluster_ = std::make_unique<MockCluster>();
    ASSERT_FALSE(HasFailure()) << "the mock cluster could not be set up";
    producer_ = std::make_unique<InputProducer>(cluster_->bootstrap());
  }

  void TearDown() override {
    if (cluster_ && cluster_->get() != nullptr) cluster_->BrokerUp(-1);
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
    runner_.reset();  // the runner's clients go before the cluster
    producer_.reset();
    cluster_.reset();
    std::error_code ec;
    std::filesystem::remove_all(state_dir_, ec);
  }

  void StartRunner() {
    RunOptions options;
    options.bootstrap_servers = cluster_->bootstrap();
    options.state_dir = state_dir_;
    options.client_properties = kClientProperties;
    options.on_committed = [this](const std::vector<outputs::Output>& outputs) {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& o : outputs) {
        std::string id = OutputId(o);
        ++committed_[id];
        committed_by_account_[o.account_id].push_back(id);
      }
    };
    runner_ = std::make_unique<Runner>(TestConfig(), options, &metrics_);
    thread_ = std::thread([this] {
      status_ = runner_->Run(stop_);
      finished_ = true;
    });
  }

  // Stops the runner and returns what Run() returned.
  absl::Status StopRunner() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return status_;
  }

  IdCounts Committed() {
    std::lock_guard<std::mutex> lock(mu_);
    return committed_;
  }

  // Waits until `done` holds; false on the deadline, or at once when Run()
  // returned without being asked to (a fatal error).
  bool Until(const std::function<bool()>& done) {
    return WaitFor([&] { return done() || finished_.load(); }, kWait) && done();
  }

  // Why a wait failed: the runner's counters, and its status if it ended.
  std::string Why() {
    std::string why = Stats();
    if (finished_.load()) why += StrCat("; Run() returned early: ", status_.ToString());
    return why;
  }

  // Waits until every output the reference derives from chunks 0..c has
  // been committed; fails with the missing ids otherwise.
  void WaitForChunkCommitted(int c) {
    const IdCounts& expected = TestInput().expected_through[c];
    bool ok = Until([&] { return Missing(expected, Committed()).empty(); });
    std::vector<std::string> missing = Missing(expected, Committed());
    ASSERT_TRUE(ok) << "outputs of chunks 0.." << c << " not committed within " << kWait.count()
                    << " s: " << missing.size() << " of " << expected.size() << " missing: " << Head(missing)
                    << " (" << Why() << ")";
  }

  std::string Stats() {
    const runner::RunnerStats& s = runner_->stats();
    return StrCat("signals ", s.signals.load(), ", outputs ", s.outputs.load(), ", transactions ",
                  s.transactions.load(), ", aborts ", s.aborts.load(), ", duplicates ",
                  static_cast<int64_t>(CounterSum(metrics_, "demandcenter_duplicate_signals_total")));
  }

  // The scenario's end: every reference output committed, Run() OK, and a
  // summary of what the failure cost (for the log only: see the top for why
  // exactly-once is not asserted here).
  void FinishAndCheckNothingLost() {
    ASSERT_NO_FATAL_FAILURE(WaitForChunkCommitted(kChunks - 1));
    absl::Status s = StopRunner();
    EXPECT_TRUE(s.ok()) << s;
    const IdCounts& expected = TestInput().expected_through.back();
    IdCounts got = Committed();
    EXPECT_EQ(Missing(expected, got), std::vector<std::string>{});
    int64_t extra = 0;
    for (const auto& [id, n] : got) extra += n - (expected.count(id) ? expected.at(id) : 0);
    std::cerr << "runner_mock_test: " << Stats() << "; " << got.size() << " distinct output ids committed, "
              << expected.size() << " expected, " << extra << " more outputs than the reference\n";
  }

  // Produces chunk 0 and waits until the runner has committed all of it (no
  // failure yet: every signal is counted once).
  void StartWithFirstChunk() {
    ASSERT_NO_FATAL_FAILURE(producer_->ProduceChunk(0));
    StartRunner();
    size_t n = TestInput().chunk_begin[1];
    ASSERT_TRUE(Until([&] { return runner_->stats().signals.load() >= static_cast<int64_t>(n); }))
        << "the runner did not commit the first " << n << " signals: " << Why();
    ASSERT_NO_FATAL_FAILURE(WaitForChunkCommitted(0));
  }

  struct Injection {
    int32_t broker;
    int16_t api;
    rd_kafka_resp_err_t error;
  };

  // For each chunk after the first, with injections[c - 1]: pushes the
  // error, produces the chunk, waits until the runner has been served the
  // error and `recovered(c)` holds (`what` says what that means), then until
  // the chunk's outputs are committed.
  void InjectOnePerChunk(const std::vector<Injection>& injections, const std::function<bool(int)>& recovered,
                         const char* what) {
    ASSERT_EQ(injections.size(), static_cast<size_t>(kChunks - 1));
    for (int c = 1; c < kChunks; ++c) {
      const Injection& in = injections[c - 1];
      SCOPED_TRACE(StrCat("chunk ", c, ": ", rd_kafka_err2name(in.error), " on request type ", in.api,
                          " at broker ", in.broker));
      ASSERT_NO_FATAL_FAILURE(cluster_->PushError(in.broker, in.api, in.error));
      ASSERT_NO_FATAL_FAILURE(producer_->ProduceChunk(c));
      ASSERT_TRUE(Until([&] { return cluster_->PendingErrors(in.broker, in.api) == 0; }))
          << "the runner never sent the request the error waits for: " << Why();
      ASSERT_TRUE(Until([&] { return recovered(c); })) << what << ": " << Why();
      ASSERT_NO_FATAL_FAILURE(WaitForChunkCommitted(c));
    }
  }

  double SignalsProcessed() { return CounterSum(metrics_, "demandcenter_signals_consumed_total"); }
  double ProducerFatal() { return CounterSum(metrics_, "demandcenter_kafka_errors_total", "kind", "producer_fatal"); }

  std::string state_dir_;
  std::unique_ptr<MockCluster> cluster_;
  std::unique_ptr<InputProducer> producer_;
  metrics::Metrics metrics_{std::set<std::string>{}};
  std::unique_ptr<Runner> runner_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  absl::Status status_;  // written by the runner thread before finished_
  std::mutex mu_;
  IdCounts committed_;
  std::map<std::string, std::vector<std::string>> committed_by_account_;
};

// No failure: the whole input in, every signal committed exactly once (no
// rewind happened), and the committed outputs are the reference's, in the
// same order per account.
TEST_F(RunnerMockTest, BaselineCommitsWhatReplayComputes) {
  for (int c = 0; c < kChunks; ++c) ASSERT_NO_FATAL_FAILURE(producer_->ProduceChunk(c));
  StartRunner();
  const auto total = static_cast<int64_t>(TestInput().records.size());
  // Without rewinds `signals` counts each committed input record once.
  ASSERT_TRUE(Until([&] { return runner_->stats().signals.load() >= total; }))
      << "the runner did not consume the input: " << Why();
  absl::Status s = StopRunner();
  ASSERT_TRUE(s.ok()) << s;

  const runner::RunnerStats& stats = runner_->stats();
  EXPECT_EQ(stats.signals.load(), total);
  EXPECT_EQ(stats.aborts.load(), 0);
  EXPECT_GT(stats.rejected.load(), 0) << "the malformed records are dead-lettered";
  const IdCounts& expected = TestInput().expected_through.back();
  IdCounts got = Committed();
  EXPECT_EQ(Missing(expected, got), std::vector<std::string>{});
  EXPECT_EQ(got, expected);
  int64_t expected_outputs = 0;
  for (const auto& [id, n] : expected) expected_outputs += n;
  EXPECT_EQ(stats.outputs.load(), expected_outputs);
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_TRUE(committed_by_account_ == TestInput().expected_by_account)
      << "per-account output order differs from the reference";
}

// Abortable (non-fatal) transactional errors, one per chunk, each after the
// runner has committed earlier chunks: AddOffsetsToTxn and TxnOffsetCommit
// refused (send_offsets_to_transaction fails), then a Produce request of the
// runner's refused (a delivery fails, the transaction must be aborted). Each
// time the runner aborts, rewinds and carries on. Aborts are counted with >=:
// after TOPIC_AUTHORIZATION_FAILED librdkafka drops the topic's partitions
// until its next metadata refresh and then needs an epoch bump for the
// skipped sequence numbers, so that one injected error usually costs the
// runner two or three aborted transactions before one commits.
TEST_F(RunnerMockTest, AbortableErrorsAbortRewindAndContinue) {
  StartWithFirstChunk();
  ASSERT_EQ(runner_->stats().aborts.load(), 0);
  ASSERT_NO_FATAL_FAILURE(InjectOnePerChunk(
      {{kCoordinator, kApiAddOffsetsToTxn, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED},
       {kCoordinator, kApiTxnOffsetCommit, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION},
       {OutputLeader(0), kApiProduce, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED}},
      [&](int c) { return runner_->stats().aborts.load() >= c; }, "no abort after the injected error"));
  FinishAndCheckNothingLost();
  EXPECT_GE(runner_->stats().aborts.load(), 3);
  EXPECT_EQ(ProducerFatal(), 0) << "abortable errors must not cost the producer";
}

// Fatal errors, one per chunk: EndTxn (the commit) answered PRODUCER_FENCED,
// AddOffsetsToTxn answered INVALID_PRODUCER_EPOCH, and a Produce request
// answered INVALID_PRODUCER_EPOCH (librdkafka: fenced by a newer instance).
// Each time the producer is unusable; the runner recreates it
// (RecoverProducer: init_transactions again), rewinds and carries on.
TEST_F(RunnerMockTest, FencedProducerIsRecreated) {
  StartWithFirstChunk();
  ASSERT_NO_FATAL_FAILURE(InjectOnePerChunk(
      {{kCoordinator, kApiEndTxn, RD_KAFKA_RESP_ERR_PRODUCER_FENCED},
       {kCoordinator, kApiAddOffsetsToTxn, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH},
       {OutputLeader(1), kApiProduce, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH}},
      [&](int c) { return ProducerFatal() >= c; }, "the producer was not recreated after the injected error"));
  FinishAndCheckNothingLost();
  EXPECT_GE(ProducerFatal(), 3);
  EXPECT_GE(runner_->stats().aborts.load(), 3);
}

// Brokers down for two seconds while the runner has signals in an open
// transaction: first broker 2 (leader of half the output and changelog
// partitions), then broker 3 (the other half, and the group and transaction
// coordinator). The runner waits and resumes; nothing is lost.
TEST_F(RunnerMockTest, BrokerDownThenUp) {
  StartWithFirstChunk();
  const int32_t down[] = {OutputLeader(0), kCoordinator};
  for (int c = 1; c < kChunks; ++c) {
    if (c - 1 < static_cast<int>(std::size(down))) {
      int32_t broker = down[c - 1];
      SCOPED_TRACE(StrCat("chunk ", c, ": broker ", broker, " down"));
      double before = SignalsProcessed();
      cluster_->BrokerDown(broker);
      ASSERT_NO_FATAL_FAILURE(producer_->ProduceChunk(c));  // the signal partitions are on broker 1
      // Mid-run: the runner is processing the chunk (and cannot commit it).
      ASSERT_TRUE(Until([&] { return SignalsProcessed() > before; })) << Why();
      std::this_thread::sleep_for(2s);  // the outage itself, not synchronisation
      int64_t transactions = runner_->stats().transactions.load();
      cluster_->BrokerUp(broker);
      ASSERT_NO_FATAL_FAILURE(WaitForChunkCommitted(c));
      EXPECT_GT(runner_->stats().transactions.load(), transactions)
          << "no commit after broker " << broker << " returned";
    } else {
      ASSERT_NO_FATAL_FAILURE(producer_->ProduceChunk(c));
      ASSERT_NO_FATAL_FAILURE(WaitForChunkCommitted(c));
    }
  }
  FinishAndCheckNothingLost();
}

// The transaction and group coordinators move to other brokers between
// chunks (the old one then answers NOT_COORDINATOR): the runner's clients
// find the new ones and it keeps committing.
TEST_F(RunnerMockTest, CoordinatorsMove) {
  StartWithFirstChunk();
  const std::pair<int32_t, int32_t> moves[] = {{1, 2}, {2, 1}, {3, 3}};  // {transaction, group}
  for (int c = 1; c < kChunks; ++c) {
    auto [txn, group] = moves[c - 1];
    SCOPED_TRACE(StrCat("chunk ", c, ": transaction coordinator ", txn, ", group coordinator ", group));
    int64_t transactions = runner_->stats().transactions.load();
    cluster_->SetCoordinators(txn, group);
    ASSERT_NO_FATAL_FAILURE(producer_->ProduceChunk(c));
    ASSERT_NO_FATAL_FAILURE(WaitForChunkCommitted(c));
    EXPECT_GT(runner_->stats().transactions.load(), transactions);
  }
  FinishAndCheckNothingLost();
}

}  // namespace
}  // namespace demandcenter::kafka
