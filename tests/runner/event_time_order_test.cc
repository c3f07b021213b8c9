// Event-time order across the three signal topics: a task takes its next
// record by event time from signals.web, signals.email and signals.crm, so
// what `run` commits equals what `replay --partitions N` writes, whatever
// order the records arrive in. In memory: the source hands out one record
// per topic-partition in turn, far from event-time order.
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/generate/generator.h"
#include "demandcenter/pipeline/input_merge.h"
#include "demandcenter/pipeline/output_encoder.h"
#include "demandcenter/common/proto_json.h"
#include "demandcenter/pipeline/partitions.h"
#include "demandcenter/replay/replay.h"
#include "demandcenter/runner/runner.h"
#include "demandcenter/v1/topology.pb.h"
#include "gtest/gtest.h"
#include "support/manual_clock.h"
#include "support/memory_seams.h"
#include "../testing.h"

namespace demandcenter::runner {
namespace {

constexpr int32_t kPartitions = 3;

// Per (topic, key): the output lines in order, as replay writes them.
using LinesByKey = std::map<std::pair<std::string, std::string>, std::vector<std::string>>;

class EventTimeOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::DefaultConfig();
    config_.decision.identity.global = false;  // the tests that want it say so
    config_.runtime.application_id = "merge";
    const auto& t = config_.runtime.kafka.topics;
    ASSERT_EQ(t.signals.size(), 3u);
    config_.runtime.kafka.json_topics = {t.nba, t.routing, t.prompts, t.transitions, t.identity_conflicts};
  }

  void CreateTopics(int32_t partitions) {
    const auto& t = config_.runtime.kafka.topics;
    for (const auto& topic : t.signals) broker_.CreateTopic(topic, partitions);
    broker_.CreateTopic("merge-state-changelog", partitions);
    broker_.CreateTopic("merge-identity-repartition", 1);
    broker_.CreateTopic("merge-account-repartition", partitions);
    for (const auto& topic : {t.dlq, t.nba, t.routing, t.prompts, t.transitions, t.identity_conflicts}) broker_.CreateTopic(topic, 1);
  }

  // `bad_clock_after`: after that many records, one signal dated 9999-12-31
  // for a made-up account, on signals.web, not in the replay input.
  // `sent_early_every`: every so many records, the record's timestamp is 2h
  // before its event time (a sender's clock 2h fast), and every line of
  // the replay input carries its record's timestamp.
  // `keyless_at_random`: a keyless signal goes to a partition drawn at
  // random, as Kafka's default partitioner puts it (replay places it by its
  // event id). `held_from`: the records from that one on are kept back
  // until AppendHeld (the replay input has them all).
  void GenerateStream(int bad_clock_after = -1, int sent_early_every = 0, bool keyless_at_random = false,
                      int held_from = -1) {
    std::mt19937 random(11);
    CreateTopics(kPartitions);
    const auto& t = config_.runtime.kafka.topics;
    // A generated stream, each signal on the topic of its type and the
    // partition replay --partitions 3 gives it (keyless ones included).
    pipeline::SignalTopics topics(t);
    pipeline::PartitionModel model{kPartitions, Partitioner::kMurmur2};
    generate::GeneratorOptions g;
    g.accounts = 120;
    g.signals = 2000;
    g.seed = 9;
    g.malformed_share = 0.01;
    v1::Signal signal;
    int produced = 0;
    ASSERT_TRUE(generate::Generate(g,
                                   [&](const generate::GeneratedRecord& r) {
                                     if (produced++ == bad_clock_after) {
                                       v1::Signal bad = testing::MakeSignal("evt-bad", "web.pricing_view", "acct-x", 0);
                                       bad.mutable_occurred_at()->set_seconds(253402214400);
                                       broker_.Append(t.signals[0], 0, {"acct-x", SerializeDeterministic(bad), {},
                                                                         r.occurred_ms, 0});
                                     }
                                     int64_t record_ms = r.occurred_ms;
                                     if (sent_early_every > 0) {
                                       if (produced % sent_early_every == 0) record_ms -= 2 * kMillisPerHour;
                                       jsonl_ += StrCat(record_ms, "\t");
                                     }
                                     jsonl_ += r.value + "\n";
                                     size_t topic = 0;
                                     int32_t p = 0;
                                     if (ingest::DecodeSignal(r.value, {}, &signal).ok()) {
                                       topic = topics.IndexOfType(signal.type());
                                       p = pipeline::PartitionOf(signal, model);
                                       if (keyless_at_random && r.key.empty()) p = static_cast<int32_t>(random() % kPartitions);
                                     }
                                     testing::MemoryBroker::Message m{r.key, r.value, {}, record_ms, 0};
                                     if (held_from >= 0 && produced > held_from) {
                                       held_.push_back({t.signals[topic], p, std::move(m)});
                                     } else {
                                       broker_.Append(t.signals[topic], p, std::move(m));
                                     }
                                   },
                                   nullptr)
                    .ok());
  }

  // A record a step unless said otherwise: most tests put their crashes
  // and clock moves between given records.
  static RunnerOptions StepByStep() {
    RunnerOptions options;
    options.batch_records = 1;
    return options;
  }

  // The generated stream through `threads` processing threads, 16 records
  // a step, to the end: committed as replay writes it.
  void RunInBatchesAndExpectReplay(int threads) {
    GenerateStream();
    config_.runtime.kafka.processing_threads = threads;
    RunnerOptions options;
    options.batch_records = 16;
    auto runner = NewRunner(options);
    RunToEnd(*runner);
    LinesByKey expected = ExpectCommittedAsReplayed();
    size_t lines = 0;
    for (const auto& [key, v] : expected) lines += v.size();
    EXPECT_GT(lines, 1000u);
  }

  std::unique_ptr<Runner> NewRunner(RunnerOptions options = StepByStep()) {
    Seams seams;
    std::vector<std::string> topics = config_.runtime.kafka.topics.signals;
    if (config_.decision.identity.global) {
      topics.push_back("merge-identity-repartition");
      topics.push_back("merge-account-repartition");
    }
    auto source = std::make_unique<testing::MemorySource>(&broker_, topics, &clock_, &faults_);
    source_ = source.get();
    seams.source = std::move(source);
    seams.sink = std::make_unique<testing::MemorySink>(&broker_, "merge-0", &faults_);
    seams.changelog = std::make_unique<testing::MemoryChangelog>(&broker_, "merge-state-changelog");
    seams.stores = disks_.Factory(/*cache_accounts=*/50);
    seams.clock = &clock_;
    return std::make_unique<Runner>(config_, std::move(seams), &metrics_, std::move(options));
  }

  void AppendHeld() {
    for (auto& h : held_) broker_.Append(h.topic, h.partition, std::move(h.message));
    held_.clear();
  }

  // Steps until every record is read and the buffered ones are processed.
  void RunToEnd(Runner& runner) {
    ASSERT_TRUE(runner.Start().ok());
    for (int i = 0; i < 100000 && !source_->Drained(); ++i) ASSERT_TRUE(runner.Step().ok());
    // Internal topics fill as transactions commit: on until nothing more
    // comes for a while.
    for (int quiet = 0, i = 0; quiet < 300 && i < 100000; ++i) {
      ASSERT_TRUE(runner.Step().ok());
      quiet = source_->Drained() ? quiet + 1 : 0;
    }
    ASSERT_TRUE(runner.Stop().ok());
  }

  // Two kill -9s (no Stop: the open transaction stays open until the next
  // runner fences it) after `steps`, the second with the local stores lost;
  // then a run to the end: every signal is sent on once and processed once.
  void CrashTwiceThenRunToEnd(std::vector<int> steps, const RunnerOptions& options) {
    for (size_t crash = 0; crash < steps.size(); ++crash) {
      auto runner = NewRunner(options);
      // As a Kafka consumer does, the restarted one looks its committed
      // offsets up a while after it is assigned, when the runner may already
      // have committed: a commit then must not skip what it has not read.
      source_->FetchPositionsAfter(50);
      ASSERT_TRUE(runner->Start().ok());
      for (int i = 0; i < steps[crash]; ++i) ASSERT_TRUE(runner->Step().ok());
      ASSERT_GT(runner->stats().transactions.load(), 0);
      int64_t committed = 0;  // in the middle of the stream
      for (const auto& topic : config_.runtime.kafka.topics.signals) {
        for (int32_t p = 0; p < kPartitions; ++p) committed += broker_.CommittedOffset(topic, p).value_or(0);
      }
      EXPECT_GT(committed, 0) << steps[crash];
      EXPECT_LT(committed, 2000) << steps[crash];
      std::cerr << "crash after " << steps[crash] << " steps: " << committed << " signals committed\n";
      if (crash == 1) disks_.Wipe();
    }
    auto runner = NewRunner(options);
    source_->FetchPositionsAfter(50);
    RunToEnd(*runner);
    ExpectCommittedAsReplayed();
  }

  // Run committed what replay writes, every signal's offset, and as many
  // dead letters as replay rejected. Returns replay's lines.
  LinesByKey ExpectCommittedAsReplayed() {
    int64_t rejected = 0;
    LinesByKey expected = Replayed(&rejected);
    EXPECT_TRUE(Committed() == expected) << "run and replay differ";
    EXPECT_EQ(CommittedOffsets(), 2000);
    EXPECT_EQ(broker_.EndOffset(config_.runtime.kafka.topics.dlq, 0), rejected);
    return expected;
  }

  LinesByKey Committed() const {
    LinesByKey lines;
    const auto& t = config_.runtime.kafka.topics;
    for (const auto& topic : {t.nba, t.routing, t.prompts, t.transitions, t.identity_conflicts}) {
      for (const auto& [offset, m] : broker_.ReadCommitted(topic, 0, 0)) {
        lines[{topic, m->key}].push_back(pipeline::JsonLine({topic, -1, m->key, m->value, {}}));
      }
    }
    return lines;
  }

  LinesByKey Replayed(int64_t* rejected) const {
    std::istringstream in(jsonl_);
    std::ostringstream out, errors;
    replay::ReplayOptions options;
    options.partitions = {kPartitions, Partitioner::kMurmur2};
    replay::ReplaySummary summary = replay::Replay(config_, in, out, errors, options);
    *rejected = summary.rejected;
    LinesByKey lines;
    std::istringstream text(out.str());
    for (std::string line; std::getline(text, line);) {
      // {"topic":"<t>","key":"<k>","value":...}
      size_t topic_end = line.find('"', 10);
      size_t key_start = line.find("\"key\":\"", topic_end) + 7;
      lines[{line.substr(10, topic_end - 10), line.substr(key_start, line.find('"', key_start) - key_start)}]
          .push_back(line);
    }
    return lines;
  }

  int64_t CommittedOffsets() const {
    int64_t total = 0;
    for (const auto& topic : config_.runtime.kafka.topics.signals) {
      for (int32_t p = 0; p < kPartitions; ++p) {
        EXPECT_EQ(broker_.CommittedOffset(topic, p).value_or(0), broker_.EndOffset(topic, p)) << topic << "/" << p;
        total += broker_.CommittedOffset(topic, p).value_or(0);
      }
    }
    return total;
  }

  struct Held {
    std::string topic;
    int32_t partition;
    testing::MemoryBroker::Message message;
  };
  config::Config config_;
  std::string jsonl_;
  std::vector<Held> held_;
  testing::MemoryBroker broker_;
  testing::ManualClock clock_;
  testing::Faults faults_;
  testing::MemoryDisks disks_;
  metrics::Metrics metrics_{{}};
  testing::MemorySource* source_ = nullptr;
};

TEST_F(EventTimeOrderTest, RunCommitsWhatReplayWritesWithThreeSignalTopics) {
  GenerateStream();
  auto runner = NewRunner();
  RunToEnd(*runner);
  int64_t rejected = 0;
  LinesByKey expected = Replayed(&rejected);
  LinesByKey got = Committed();
  size_t lines = 0;
  for (const auto& [key, v] : expected) lines += v.size();
  EXPECT_GT(lines, 1000u);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "run and replay differ";
  EXPECT_EQ(CommittedOffsets(), 2000);
  EXPECT_EQ(broker_.EndOffset(config_.runtime.kafka.topics.dlq, 0), rejected);
}

// Learned propensities (arbitration.learning) live in each partition's
// state and are drawn from a seed of the signal: run still commits what
// replay writes, and what was learned changed decisions.
TEST_F(EventTimeOrderTest, RunCommitsWhatReplayWritesWithLearnedPropensities) {
  GenerateStream();
  int64_t rejected = 0;
  LinesByKey fixed = Replayed(&rejected);
  config_.decision.arbitration.learning.enabled = true;
  auto runner = NewRunner();
  RunToEnd(*runner);
  LinesByKey expected = Replayed(&rejected);
  LinesByKey got = Committed();
  EXPECT_TRUE(got == expected) << "run and replay differ";
  EXPECT_FALSE(expected == fixed) << "learning changed nothing";
  bool credited = false;
  for (const auto& [key, lines] : expected) {
    for (const auto& line : lines) credited = credited || line.find("\"propensity_successes\"") != std::string::npos;
  }
  EXPECT_TRUE(credited) << "no success was ever credited";
}

// The right hour (contact_policy.send_time) is learned in the same state
// and explores from the same seeds: run still commits what replay writes,
// and the timing moved sends.
TEST_F(EventTimeOrderTest, RunCommitsWhatReplayWritesWithTheRightHour) {
  GenerateStream();
  int64_t rejected = 0;
  LinesByKey fixed = Replayed(&rejected);
  config::SendTimeConfig& st = config_.decision.contact_policy.send_time;
  st.enabled = true;
  st.channels = {v1::EMAIL, v1::INSIDE_SALES};
  st.min_evidence = 5;
  auto runner = NewRunner();
  RunToEnd(*runner);
  LinesByKey expected = Replayed(&rejected);
  LinesByKey got = Committed();
  EXPECT_TRUE(got == expected) << "run and replay differ";
  EXPECT_FALSE(expected == fixed) << "timing changed nothing";
  int moved = 0;
  for (const auto& [key, lines] : expected) {
    for (const auto& line : lines) moved += line.find("\"detail\":\"moved to ") != std::string::npos;
  }
  EXPECT_GT(moved, 0) << "no send was ever moved to a better hour";
}

// identity.scope global: keyless signals at random partitions go through
// the identity task and reach their accounts; run still commits what replay
// writes, and more signals reach an account than with identity scoped to
// the partition.
TEST_F(EventTimeOrderTest, RunCommitsWhatReplayWritesWithGlobalIdentity) {
  GenerateStream(-1, 0, /*keyless_at_random=*/true);
  int64_t rejected_by_partition = 0;
  Replayed(&rejected_by_partition);
  config_.decision.identity.global = true;
  // A stranger's record on an internal topic: dead-lettered, nothing else.
  broker_.Append("merge-account-repartition", 1, {"x", "not a stage record", {}, 0, 0});
  auto runner = NewRunner();
  RunToEnd(*runner);
  int64_t rejected = 0;
  LinesByKey expected = Replayed(&rejected);
  LinesByKey got = Committed();
  size_t lines = 0;
  for (const auto& [key, v] : expected) lines += v.size();
  EXPECT_GT(lines, 1000u);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "run and replay differ";
  EXPECT_EQ(CommittedOffsets(), 2000);
  EXPECT_EQ(broker_.EndOffset(config_.runtime.kafka.topics.dlq, 0), rejected + 1);
  int strangers = 0;
  for (const auto& [offset, m] : broker_.ReadCommitted(config_.runtime.kafka.topics.dlq, 0, 0)) {
    for (const auto& [name, value] : m->headers) strangers += name == "source.topic" && value == "merge-account-repartition";
  }
  EXPECT_EQ(strangers, 1);
  EXPECT_LT(rejected, rejected_by_partition);
  // Through the internal topics: inputs and watermarks to the identity
  // task, resolved signals to the accounts' tasks.
  EXPECT_GT(broker_.EndOffset("merge-identity-repartition", 0), 200);
  int64_t resolved = 0;
  for (int32_t p = 0; p < kPartitions; ++p) {
    for (const auto& [offset, m] : broker_.ReadCommitted("merge-account-repartition", p, 0)) {
      v1::StageRecord r;
      if (m->key == "x") continue;  // the stranger's
      ASSERT_TRUE(r.ParseFromString(m->value));
      resolved += r.has_resolved();
    }
  }
  EXPECT_GT(resolved, 50);
  std::cerr << "dead letters " << rejected_by_partition << " -> " << rejected << "; resolved through the identity task "
            << resolved << "\n";
}

// The same across two kill -9s (no Stop: the open transaction stays open
// until the next runner fences it), the second with the local stores lost:
// every signal is sent on once and processed once.
TEST_F(EventTimeOrderTest, GlobalIdentityAcrossCrashesCommitsWhatReplayWrites) {
  GenerateStream(-1, 0, /*keyless_at_random=*/true);
  config_.decision.identity.global = true;
  CrashTwiceThenRunToEnd({600, 1500}, StepByStep());
}

// One thread in batches (what `run` does): a step takes what the source
// holds, up to batch_records; run still commits what replay writes, also
// with the identity task across two kill -9s.
TEST_F(EventTimeOrderTest, BatchesCommitWhatReplayWrites) { RunInBatchesAndExpectReplay(1); }

TEST_F(EventTimeOrderTest, BatchesWithGlobalIdentityAcrossCrashesCommitWhatReplayWrites) {
  GenerateStream(-1, 0, /*keyless_at_random=*/true);
  config_.decision.identity.global = true;
  RunnerOptions options;
  options.batch_records = 16;
  CrashTwiceThenRunToEnd({60, 150}, options);
}

// Read-ahead is bounded: a task holding read_ahead_records signals it
// cannot process yet has its signal topics paused (never the one its merge
// waits for) until it holds half as many. The pauses change when records
// are read, never what is decided: run still commits what replay writes.
TEST_F(EventTimeOrderTest, BoundedReadAheadPausesTopicsAndCommitsWhatReplayWrites) {
  GenerateStream();
  RunnerOptions options;
  options.batch_records = 16;
  options.read_ahead_records = 4;
  auto runner = NewRunner(options);
  RunToEnd(*runner);
  EXPECT_GT(source_->pauses(), 10);
  EXPECT_EQ(source_->paused_now(), 0u);
  ExpectCommittedAsReplayed();
}

TEST_F(EventTimeOrderTest, BoundedReadAheadWithGlobalIdentityAcrossCrashesCommitsWhatReplayWrites) {
  GenerateStream(-1, 0, /*keyless_at_random=*/true);
  config_.decision.identity.global = true;
  RunnerOptions options;
  options.batch_records = 16;
  options.read_ahead_records = 8;
  CrashTwiceThenRunToEnd({60, 150}, options);
  EXPECT_GT(source_->pauses(), 10);
  EXPECT_EQ(source_->paused_now(), 0u);
}

// Two processing threads: each task's records are decoded, split and
// processed on either thread, in batches; what they give goes out in task
// order, one transaction per commit interval across them. Run still
// commits what replay writes, with the identity task, across two kill -9s.
TEST_F(EventTimeOrderTest, TwoProcessingThreadsCommitWhatReplayWrites) { RunInBatchesAndExpectReplay(2); }

TEST_F(EventTimeOrderTest, TwoProcessingThreadsWithGlobalIdentityAcrossCrashesCommitWhatReplayWrites) {
  GenerateStream(-1, 0, /*keyless_at_random=*/true);
  config_.decision.identity.global = true;
  config_.runtime.kafka.processing_threads = 2;
  RunnerOptions options;
  options.batch_records = 16;
  CrashTwiceThenRunToEnd({60, 150}, options);
}

// An engine that had read everything stops; more signals come while it is
// down. After the restart it takes them in the order replay of the whole
// stream does: that every task had read all its input held for the session
// that saw it, not for the next one.
TEST_F(EventTimeOrderTest, GlobalIdentityRestartedOnANewBacklogCommitsWhatReplayWrites) {
  GenerateStream(-1, 0, /*keyless_at_random=*/true, /*held_from=*/1000);
  config_.decision.identity.global = true;
  auto first = NewRunner();
  RunToEnd(*first);
  EXPECT_EQ(CommittedOffsets(), 1000);
  AppendHeld();
  auto second = NewRunner();
  RunToEnd(*second);
  ExpectCommittedAsReplayed();
}

TEST_F(EventTimeOrderTest, ABadClockIsDeadLetteredAndChangesNothingElse) {
  // Before event times were checked, the year-9999 head held back its topic
  // until the input ended, and then fired every timer of its partition.
  GenerateStream(/*bad_clock_after=*/700);
  auto runner = NewRunner();
  RunToEnd(*runner);
  int64_t rejected = 0;
  EXPECT_TRUE(Committed() == Replayed(&rejected)) << "run with the bad clock and replay without it differ";
  EXPECT_EQ(CommittedOffsets(), 2001);
  EXPECT_EQ(broker_.EndOffset(config_.runtime.kafka.topics.dlq, 0), rejected + 1);
  auto dead = broker_.ReadCommitted(config_.runtime.kafka.topics.dlq, 0, 0);
  bool found = false;
  for (const auto& [offset, m] : dead) {
    for (const auto& [name, value] : m->headers) found |= name == "error.code" && value == "EVENT_TIME_AHEAD";
  }
  EXPECT_TRUE(found);
}

// Replay of a topic dump whose lines carry their records' timestamps
// rejects exactly the records run rejects, and writes what run commits.
TEST_F(EventTimeOrderTest, ReplayOfLinesWithTheirRecordTimestampsEqualsRun) {
  GenerateStream(/*bad_clock_after=*/-1, /*sent_early_every=*/50);
  auto runner = NewRunner();
  RunToEnd(*runner);
  ExpectCommittedAsReplayed();
  int ahead = 0;
  for (const auto& [offset, m] : broker_.ReadCommitted(config_.runtime.kafka.topics.dlq, 0, 0)) {
    for (const auto& [name, value] : m->headers) ahead += name == "error.code" && value == "EVENT_TIME_AHEAD";
  }
  EXPECT_GE(ahead, 30) << "most of the 40 records sent 2h early are ahead (the malformed ones are rejected first)";
}

TEST_F(EventTimeOrderTest, NeverWaitingTakesArrivalOrderAndDiffersFromReplay) {
  // The same stream with max_task_idle -1: records go as they arrive, so
  // stream time and decisions follow the fetch order (the failure the
  // merge exists for).
  config_.runtime.kafka.max_task_idle_ms = -1;
  GenerateStream();
  auto runner = NewRunner();
  RunToEnd(*runner);
  int64_t rejected = 0;
  EXPECT_FALSE(Committed() == Replayed(&rejected));
  EXPECT_EQ(CommittedOffsets(), 2000);
}

TEST_F(EventTimeOrderTest, ACaughtUpEmptyInputIsWaitedForUpToMaxTaskIdle) {
  // Only partition 0 of signals.web holds records: the task's two other
  // inputs are caught up and empty, and it waits max_task_idle for them.
  config_.runtime.kafka.max_task_idle_ms = 500;
  CreateTopics(1);
  v1::Signal s = testing::MakeSignal("e1", "web.page_view", "acct-1", 0);
  broker_.Append("signals.web", 0, {"acct-1", SerializeDeterministic(s), {}, testing::kT0, 0});
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  ASSERT_TRUE(runner->Step().ok());  // read, buffered: waiting starts
  int64_t waiting_from = clock_.NowMs();
  while (clock_.NowMs() - waiting_from < 480) {
    ASSERT_TRUE(runner->Step().ok());  // 20 ms each
    ASSERT_FALSE(broker_.CommittedOffset("signals.web", 0).has_value()) << "processed before max_task_idle";
  }
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(runner->Step().ok());
  ASSERT_TRUE(runner->Stop().ok());
  EXPECT_EQ(broker_.CommittedOffset("signals.web", 0), 1);
}

}  // namespace
}  // namespace demandcenter::runner
