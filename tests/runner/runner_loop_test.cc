// The runner's commit / transaction / rewind loop with no Kafka at all: an
// in-memory broker, source, transactional sink and changelog, partition
// stores on in-memory disks, and a clock moved by hand. Every test ends by
// checking the committed outputs against the pipeline run alone over the
// same records: each signal's outputs exactly once, nothing lost, whatever
// failed on the way.
#include "demandcenter/runner/runner.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <functional>
#include <thread>
#include <tuple>

#include "demandcenter/common/strings.h"
#include "demandcenter/generate/generator.h"
#include "demandcenter/pipeline/output_encoder.h"
#include "demandcenter/pipeline/pipeline.h"
#include "gtest/gtest.h"
#include "support/manual_clock.h"
#include "support/memory_seams.h"
#include "../testing.h"

namespace demandcenter::runner {
namespace {

using testing::MemoryBroker;
using testing::SeamCall;

constexpr char kSignals[] = "signals";
constexpr int32_t kPartitions = 4;
constexpr char kTransactionalId[] = "loop-0";

// What a read_committed reader of the output topics sees: per topic, the
// values of each key in order; and the dead letters, sorted.
struct Committed {
  std::map<std::string, std::map<std::string, std::vector<std::string>>> by_topic;
  std::vector<std::tuple<std::string, std::string, std::string>> dead_letters;  // key, value, error.code
  size_t outputs = 0;

  bool operator==(const Committed&) const = default;
};

class RunnerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::DefaultConfig();
    // The loop's mechanics with one stage; EventTimeOrderTest drives the
    // identity topology through the same loop.
    config_.decision.identity.global = false;
    config_.runtime.application_id = "loop";
    config_.runtime.kafka.topics.signals = {kSignals};
    const auto& t = config_.runtime.kafka.topics;
    broker_.CreateTopic(kSignals, kPartitions);
    broker_.CreateTopic("loop-state-changelog", kPartitions);
    for (const auto& topic : {t.dlq, t.nba, t.routing, t.prompts, t.transitions, t.identity_conflicts}) broker_.CreateTopic(topic, 1);
    // A generated stream, malformed records included, spread by key.
    generate::GeneratorOptions g;
    g.accounts = 150;
    g.signals = 1500;
    g.seed = 5;
    g.malformed_share = 0.02;
    ASSERT_TRUE(generate::Generate(g,
                                   [&](const generate::GeneratedRecord& r) {
                                     std::string_view key = r.key.empty() ? std::string_view(r.value) : r.key;
                                     int32_t p = PartitionForKey(key, kPartitions, Partitioner::kMurmur2);
                                     broker_.Append(kSignals, p, {r.key, r.value, {}, r.occurred_ms, 0});
                                   },
                                   nullptr)
                    .ok());
  }

  std::unique_ptr<Runner> NewRunner(std::unique_ptr<Changelog> changelog = nullptr) {
    Seams seams;
    auto source = std::make_unique<testing::MemorySource>(&broker_, std::vector<std::string>{kSignals}, &clock_,
                                                          &faults_);
    source_ = source.get();
    seams.source = std::move(source);
    seams.sink = std::make_unique<testing::MemorySink>(&broker_, kTransactionalId, &faults_);
    seams.changelog = changelog ? std::move(changelog)
                                : std::make_unique<testing::MemoryChangelog>(&broker_, "loop-state-changelog");
    seams.stores = disks_.Factory(/*cache_accounts=*/20);
    seams.store_memory = [this]() -> std::vector<std::pair<std::string, uint64_t>> {
      return {{"block_cache", 4096 * static_cast<uint64_t>(broker_.EndOffset(kSignals, 0))}, {"memtables", 512}};
    };
    seams.clock = &clock_;
    // A record a step: these tests put their faults and clock moves between
    // given records (batches: EventTimeOrderTest).
    RunnerOptions options;
    options.batch_records = 1;
    return std::make_unique<Runner>(config_, std::move(seams), &metrics_, options);
  }

  // Steps until every record has been read, then stops (committing).
  absl::Status RunToEnd(Runner& runner) {
    for (int i = 0; i < 100000 && !source_->Drained(); ++i) {
      absl::Status s = runner.Step();
      if (!s.ok()) return s;
    }
    return runner.Stop();
  }

  // kill -9 after `steps` steps: no Stop, the open transaction stays open.
  void CrashAfter(int steps) {
    auto runner = NewRunner();
    ASSERT_TRUE(runner->Start().ok());
    for (int i = 0; i < steps; ++i) ASSERT_TRUE(runner->Step().ok());
    ASSERT_GT(runner->stats().transactions.load(), 0);
  }

  // Runs a runner until the stop a signal would give at `stop_at_ms` of the
  // clock: Run ends cleanly, within 5 s of it.
  void RunUntilStoppedAt(int64_t stop_at_ms) {
    std::atomic<bool> stop{false};
    clock_.StopAt(&stop, stop_at_ms);
    auto runner = NewRunner();
    EXPECT_TRUE(runner->Run(stop).ok());
    EXPECT_LE(clock_.NowMs(), stop_at_ms + 5000);
    clock_.StopAt(nullptr, 0);
  }

  // After a crash or a stop: a fresh runner, with the faults gone, commits
  // every signal's outputs exactly once.
  void FinishWithAFreshRunner() {
    faults_.Clear();
    auto runner = NewRunner();
    ASSERT_TRUE(runner->Start().ok());  // fences a dead producer: its open transaction aborts
    ASSERT_TRUE(RunToEnd(*runner).ok());
    ExpectExactlyOnce();
  }

  Committed CommittedOutputs() const {
    Committed c;
    const auto& t = config_.runtime.kafka.topics;
    for (const auto& topic : {t.nba, t.routing, t.prompts, t.transitions, t.identity_conflicts}) {
      for (const auto& [offset, m] : broker_.ReadCommitted(topic, 0, 0)) {
        c.by_topic[topic][m->key].push_back(m->value);
        ++c.outputs;
      }
    }
    for (const auto& [offset, m] : broker_.ReadCommitted(t.dlq, 0, 0)) {
      c.dead_letters.emplace_back(m->key, m->value, m->headers.at(0).second);
    }
    std::sort(c.dead_letters.begin(), c.dead_letters.end());
    return c;
  }

  // The pipeline alone over the same records, partition by partition.
  Committed Reference() const {
    Committed c;
    state::InMemoryStateStore store;
    pipeline::Pipeline pipe(config_.decision, &store);
    pipeline::OutputEncoder encoder(config_.runtime.kafka.topics, config_.runtime.kafka.json_topics);
    std::vector<outputs::Output> out;
    for (int32_t p = 0; p < kPartitions; ++p) {
      for (const auto& [offset, m] : broker_.ReadCommitted(kSignals, p, 0)) {
        pipeline::Record r{m->value, m->key, kSignals, p, offset, m->timestamp_ms};
        pipeline::Result result = pipe.Process(r, &out);
        if (result.outcome == pipeline::Outcome::kRejected) {
          c.dead_letters.emplace_back(m->key, m->value, std::string(ingest::RejectCodeName(result.reject.code)));
        }
        for (const auto& late : result.late_rejects) {
          c.dead_letters.emplace_back(late.waiting.key(), late.waiting.value(),
                                      std::string(ingest::RejectCodeName(late.reject.code)));
        }
        for (const auto& o : out) {
          pipeline::OutRecord rec = encoder.Encode(o);
          c.by_topic[rec.topic][rec.key].push_back(rec.value);
          ++c.outputs;
        }
        out.clear();
      }
    }
    std::sort(c.dead_letters.begin(), c.dead_letters.end());
    return c;
  }

  void ExpectExactlyOnce() {
    Committed expected = Reference();
    Committed got = CommittedOutputs();
    EXPECT_GT(expected.outputs, 1000u);
    EXPECT_FALSE(expected.dead_letters.empty());
    EXPECT_EQ(got.outputs, expected.outputs);
    EXPECT_EQ(got.dead_letters.size(), expected.dead_letters.size());
    EXPECT_TRUE(got == expected) << "committed outputs differ from the pipeline's";
    for (int32_t p = 0; p < kPartitions; ++p) {
      EXPECT_EQ(broker_.CommittedOffset(kSignals, p), broker_.EndOffset(kSignals, p)) << "partition " << p;
    }
  }

  config::Config config_;
  MemoryBroker broker_;
  testing::ManualClock clock_;
  testing::Faults faults_;
  testing::MemoryDisks disks_;
  metrics::Metrics metrics_{{}};
  testing::MemorySource* source_ = nullptr;
};

TEST_F(RunnerLoopTest, CommitsEachSignalsOutputsExactlyOnce) {
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  ASSERT_TRUE(RunToEnd(*runner).ok());
  ExpectExactlyOnce();
  EXPECT_GT(runner->stats().transactions.load(), 10);  // one per 100 ms of (1 ms) records
  // Deleted keys (the waiting lists late binding emptied) go to the
  // changelog as tombstones, and only deleted keys do.
  int64_t tombstones = 0;
  for (int32_t p = 0; p < kPartitions; ++p) {
    for (const auto& [offset, m] : broker_.ReadCommitted("loop-state-changelog", p, 0)) {
      EXPECT_EQ(m->tombstone, m->value.empty()) << m->key;
      if (m->tombstone) EXPECT_EQ(m->key.rfind(StrCat("i/", p, "/w/"), 0), 0u) << m->key;
      tombstones += m->tombstone;
    }
  }
  EXPECT_GT(tombstones, 0);
  EXPECT_EQ(runner->stats().aborts.load(), 0);
  EXPECT_TRUE(source_->closed());
  // The journey model goes to the changelog with the partition's state, and
  // its forecast to the metrics.
  int64_t models = 0;
  for (int32_t p = 0; p < kPartitions; ++p) {
    for (const auto& [offset, m] : broker_.ReadCommitted("loop-state-changelog", p, 0)) {
      models += m->key == StrCat("i/", p, "/jm");
    }
  }
  EXPECT_GT(models, 0);
  // The stores' shared memory, as the seam reports it at each commit.
  EXPECT_EQ(metrics_.StateMemory("block_cache").Value(), 4096.0 * broker_.EndOffset(kSignals, 0));
  EXPECT_EQ(metrics_.StateMemory("memtables").Value(), 512);
  EXPECT_EQ(metrics_.Forecast("win_probability", "customer").Value(), 1);
  double expected_wins = 0;
  for (const auto& stage : config_.decision.journey.stages) {
    expected_wins += metrics_.Forecast("expected_wins", stage).Value();
    EXPECT_LE(metrics_.Forecast("win_probability", stage).Value(), 1) << stage;
  }
  EXPECT_GT(expected_wins, 0);
}

TEST_F(RunnerLoopTest, NothingIsVisibleUntilTheCommitIntervalHasPassed) {
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(runner->Step().ok());  // 50 records, 50 ms
  EXPECT_TRUE(runner->ready());
  EXPECT_EQ(CommittedOutputs().outputs, 0u);
  EXPECT_FALSE(broker_.CommittedOffset(kSignals, 0).has_value());
  clock_.Advance(config_.runtime.kafka.commit_interval_ms);
  ASSERT_TRUE(runner->Step().ok());
  EXPECT_EQ(runner->stats().transactions.load(), 1);
  EXPECT_GT(CommittedOutputs().outputs, 0u);
  int64_t consumed = 0;
  for (int32_t p = 0; p < kPartitions; ++p) consumed += broker_.CommittedOffset(kSignals, p).value_or(0);
  EXPECT_EQ(consumed, 51);
}

TEST_F(RunnerLoopTest, AnAbortedCommitIsRewoundAndRedone) {
  faults_.FailNext(SeamCall::kCommit, absl::AbortedError("coordinator moved"));
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  ASSERT_TRUE(RunToEnd(*runner).ok());
  EXPECT_EQ(runner->stats().aborts.load(), 1);
  EXPECT_EQ(faults_.calls(SeamCall::kAbort), 1);
  EXPECT_EQ(faults_.calls(SeamCall::kRewind), 1);
  ExpectExactlyOnce();
}

TEST_F(RunnerLoopTest, AFailedDeliveryAbortsTheTransaction) {
  faults_.FailNext(SeamCall::kFlush, absl::AbortedError("message timed out"));
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  ASSERT_TRUE(RunToEnd(*runner).ok());
  EXPECT_EQ(runner->stats().aborts.load(), 1);
  EXPECT_EQ(faults_.calls(SeamCall::kAbort), 1);
  ExpectExactlyOnce();
}

TEST_F(RunnerLoopTest, AFencedProducerIsRecreatedAndTheWorkRedone) {
  faults_.FailNext(SeamCall::kCommit, absl::FailedPreconditionError("producer fenced"));
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  ASSERT_TRUE(RunToEnd(*runner).ok());
  EXPECT_EQ(faults_.calls(SeamCall::kReset), 2);  // at start, and after the fatal error
  EXPECT_EQ(faults_.calls(SeamCall::kAbort), 0);
  EXPECT_EQ(runner->stats().aborts.load(), 1);
  ExpectExactlyOnce();
}

TEST_F(RunnerLoopTest, TransientErrorsAreRetriedAfterBackingOffOnTheClock) {
  faults_.FailNext(SeamCall::kReset, absl::UnavailableError("no broker"), 2);
  faults_.FailNext(SeamCall::kCommit, absl::UnavailableError("coordinator loading"), 3);
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  EXPECT_EQ(clock_.slept_ms(), 200 + 400);
  ASSERT_TRUE(RunToEnd(*runner).ok());
  EXPECT_EQ(clock_.slept_ms(), 200 + 400 + 200 + 400 + 600);
  EXPECT_EQ(runner->stats().aborts.load(), 0);
  ExpectExactlyOnce();
}

TEST_F(RunnerLoopTest, AnUnknownSinkErrorStopsTheEngineWithIt) {
  faults_.FailNext(SeamCall::kCommit, absl::PermissionDeniedError("not authorised"));
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  absl::Status s = RunToEnd(*runner);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "committing: not authorised");
  EXPECT_EQ(CommittedOutputs().outputs, 0u);
}

TEST_F(RunnerLoopTest, ACrashLosesNothingAndRestoresOnlyTheChangelogTail) {
  CrashAfter(700);
  double tail_before = metrics_.Restores("tail").Value();
  FinishWithAFreshRunner();
  EXPECT_EQ(metrics_.Restores("tail").Value() - tail_before, kPartitions);
}

TEST_F(RunnerLoopTest, ANewMachineRestoresTheWholeChangelog) {
  CrashAfter(700);
  disks_.Wipe();
  double full_before = metrics_.Restores("full").Value();
  double restored_before = metrics_.RestoredRecords().Value();
  FinishWithAFreshRunner();
  EXPECT_EQ(metrics_.Restores("full").Value() - full_before, kPartitions);
  EXPECT_GT(metrics_.RestoredRecords().Value() - restored_before, 0);
}

TEST_F(RunnerLoopTest, ARevokedAssignmentCommitsFirstALostOneAborts) {
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(runner->Step().ok());
  source_->Rebalance(/*lost=*/false);
  EXPECT_EQ(runner->stats().transactions.load(), 1);
  EXPECT_FALSE(runner->ready());
  int64_t consumed = 0;
  for (int32_t p = 0; p < kPartitions; ++p) consumed += broker_.CommittedOffset(kSignals, p).value_or(0);
  EXPECT_EQ(consumed, 30);

  for (int i = 0; i < 30; ++i) ASSERT_TRUE(runner->Step().ok());
  source_->Rebalance(/*lost=*/true);
  EXPECT_EQ(runner->stats().aborts.load(), 1);
  EXPECT_EQ(runner->stats().transactions.load(), 1);
  ASSERT_TRUE(RunToEnd(*runner).ok());
  ExpectExactlyOnce();
}

TEST_F(RunnerLoopTest, AStoreReadErrorAbortsTheTransactionBuiltOnIt) {
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(runner->Step().ok());  // some commits; accounts evicted
  for (int32_t p = 0; p < kPartitions; ++p) disks_.Disk(p).FailReads(absl::UnavailableError("disk gone"));
  for (int i = 0; i < 400 && runner->stats().aborts.load() == 0; ++i) ASSERT_TRUE(runner->Step().ok());
  EXPECT_EQ(runner->stats().aborts.load(), 1);
  for (int32_t p = 0; p < kPartitions; ++p) disks_.Disk(p).FailReads(absl::OkStatus());
  ASSERT_TRUE(RunToEnd(*runner).ok());
  ExpectExactlyOnce();
}


// A full disk under the state directory: the engine waits (back-pressure,
// backing off on the clock), asks the store to recover between attempts,
// counts each failure, and goes on once writes succeed again, losing and
// repeating nothing.
TEST_F(RunnerLoopTest, AFullDiskHoldsProcessingUntilWritesSucceedAgain) {
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(runner->Step().ok());
  int64_t committed = runner->stats().transactions.load();
  for (int32_t p = 0; p < kPartitions; ++p) disks_.Disk(p).FailWrites(absl::UnavailableError("No space left on device"), 5);
  int64_t before = clock_.NowMs();
  while (metrics_.StateWriteErrors().Value() == 0) ASSERT_TRUE(runner->Step().ok());
  // The commit that met the full disk waited out its back-off (200 ms +
  // 400 + ... for five failures) before the store took its write.
  EXPECT_GE(clock_.NowMs() - before, 200 + 400 + 600 + 800 + 1000);
  EXPECT_GE(metrics_.StateWriteErrors().Value(), 5);
  EXPECT_EQ(metrics_.StateWritesBlocked().Value(), 0);
  int recoveries = 0;
  for (int32_t p = 0; p < kPartitions; ++p) recoveries += disks_.Disk(p).recoveries();
  EXPECT_GE(recoveries, 5);
  EXPECT_GT(runner->stats().transactions.load(), committed);
  ASSERT_TRUE(RunToEnd(*runner).ok());
  ExpectExactlyOnce();
}

TEST_F(RunnerLoopTest, AFullDiskAtStartUpOrDuringRestoreIsWaitedOut) {
  CrashAfter(700);
  disks_.Wipe();  // a new machine: every partition restores from the changelog
  disks_.FailOpens(absl::UnavailableError("No space left on device"), 3);
  for (int32_t p = 0; p < kPartitions; ++p) disks_.Disk(p).FailWrites(absl::UnavailableError("No space left on device"), 2);
  FinishWithAFreshRunner();
  EXPECT_EQ(disks_.opens(), kPartitions + 3 + kPartitions);  // the crashed runner's, the failed ones, the fresh one's
  EXPECT_EQ(metrics_.StateWriteErrors().Value(), 3 + 2 * kPartitions);
  EXPECT_GT(metrics_.RestoredRecords().Value(), 0);
}

TEST_F(RunnerLoopTest, AStopWhileTheDiskIsFullEndsTheWaitAndTheChangelogMakesUpTheStore) {
  CrashAfter(300);
  // The next incarnation meets a full disk at its first commit: the
  // transaction is committed, the store cannot take it.
  for (int32_t p = 0; p < kPartitions; ++p) disks_.Disk(p).FailWrites(absl::UnavailableError("No space left on device"));
  RunUntilStoppedAt(clock_.NowMs() + 5000);
  EXPECT_GT(metrics_.StateWriteErrors().Value(), 0);
  EXPECT_EQ(metrics_.StateWritesBlocked().Value(), 0);
  for (int32_t p = 0; p < kPartitions; ++p) disks_.Disk(p).FailWrites(absl::OkStatus());
  FinishWithAFreshRunner();  // that transaction's state comes from the changelog's tail
}

// Stops (as a signal would) after `batches` restored batches.
class StopDuringRestore : public Changelog {
 public:
  StopDuringRestore(const MemoryBroker* broker, std::atomic<bool>* stop, int batches)
      : inner_(broker, "loop-state-changelog", /*batch=*/10), stop_(stop), left_(batches) {}
  absl::StatusOr<Range> Restore(int32_t partition, int64_t from,
                                const std::function<absl::Status(Batch batch)>& apply) override {
    return inner_.Restore(partition, from, [&](Batch batch) {
      if (left_-- == 0) stop_->store(true);
      return apply(std::move(batch));
    });
  }

 private:
  testing::MemoryChangelog inner_;
  std::atomic<bool>* stop_;
  int left_;
};

// A stop in each phase ends Run within 5 s of (manual) clock time, with
// nothing half-committed: a runner started afterwards commits everything
// exactly once.
TEST_F(RunnerLoopTest, AStopDuringStartUpRetriesEndsRunAtOnce) {
  faults_.FailNext(SeamCall::kReset, absl::UnavailableError("no broker"), 1000);
  RunUntilStoppedAt(3000);
  EXPECT_LT(faults_.calls(SeamCall::kReset), 20);
  EXPECT_EQ(CommittedOutputs().outputs, 0u);
}

TEST_F(RunnerLoopTest, AStopDuringCommitRetriesLeavesNothingHalfDone) {
  faults_.FailNext(SeamCall::kCommit, absl::UnavailableError("coordinator unreachable"), 1000);
  RunUntilStoppedAt(2000);
  EXPECT_EQ(CommittedOutputs().outputs, 0u);
  EXPECT_GE(faults_.calls(SeamCall::kAbort), 1);  // the open transaction was aborted
  FinishWithAFreshRunner();
}

TEST_F(RunnerLoopTest, AStopUnderBackPressureEndsTheRetries) {
  // A delivery failed, and the broker is gone while the transaction is
  // aborted: the engine waits, retrying, consuming nothing.
  faults_.FailNext(SeamCall::kFlush, absl::AbortedError("delivery failed"));
  faults_.FailNext(SeamCall::kAbort, absl::UnavailableError("broker down"), 1000);
  RunUntilStoppedAt(20000);
  EXPECT_GT(faults_.calls(SeamCall::kAbort), 3);  // it was in back-pressure when stopped
  EXPECT_EQ(CommittedOutputs().outputs, 0u);
  FinishWithAFreshRunner();
}

TEST_F(RunnerLoopTest, AStopDuringRestoreStopsBetweenBatchesAndTheNextRestoreGoesOn) {
  CrashAfter(700);
  disks_.Wipe();
  double restored_before = metrics_.RestoredRecords().Value();
  std::atomic<bool> stop{false};
  {
    auto runner = NewRunner(std::make_unique<StopDuringRestore>(&broker_, &stop, 3));
    ASSERT_TRUE(runner->Run(stop).ok());
  }
  double restored_then = metrics_.RestoredRecords().Value() - restored_before;
  EXPECT_EQ(restored_then, 3 * 10);  // three batches; the stop came before the fourth
  FinishWithAFreshRunner();
}

}  // namespace
}  // namespace demandcenter::runner

namespace demandcenter::runner {
namespace {

// Asks `query` from another thread while this one steps the loop (the
// clock moving so commits fall due), as the HTTP server's threads do;
// gives up stepping after a minute.
absl::Status AskWhileStepping(Runner& runner, testing::ManualClock& clock, const std::function<void()>& query) {
  std::atomic<bool> answered{false};
  absl::Status asked;
  std::thread asker([&] {
    asked = runner.Ask(query, 60'000);
    answered = true;
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  absl::Status stepped;
  while (!answered.load() && stepped.ok() && std::chrono::steady_clock::now() < deadline) {
    clock.Advance(1);
    stepped = runner.Step();
  }
  asker.join();
  return stepped.ok() ? asked : stepped;
}

TEST_F(RunnerLoopTest, QueriesAreAnsweredBetweenTransactionsFromCommittedState) {
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  for (int i = 0; i < 100000 && !source_->Drained(); ++i) ASSERT_TRUE(runner->Step().ok());
  clock_.Advance(config_.runtime.kafka.commit_interval_ms);
  ASSERT_TRUE(runner->Step().ok());  // the last transaction commits

  // The stages committed transitions put each account in (an account's
  // keyless signals may be resolved on other partitions too, each with its
  // own state there, so "the last one" is not defined across partitions).
  std::map<std::string, std::string> last_stage;
  std::map<std::string, std::set<std::string>> stages;
  for (const auto& [offset, m] : broker_.ReadCommitted(config_.runtime.kafka.topics.transitions, 0, 0)) {
    v1::StageTransition t;
    ASSERT_TRUE(t.ParseFromString(m->value));
    last_stage[t.account_id()] = t.to_stage();
    stages[t.account_id()].insert(t.to_stage());
  }
  ASSERT_GT(last_stage.size(), 50u);

  int64_t counted = 0, matching = 0, census_total = 0, with_history = 0;
  std::function<void()> query = [&] {
    for (const auto& [id, stage] : last_stage) {
      const v1::AccountState* a = runner->FindAccount(id);
      if (a == nullptr) continue;
      ++counted;
      matching += stages[id].count(a->stage());
      // Its newest remembered transition led to the stage it is in.
      for (int i = a->recent_size() - 1; i >= 0; --i) {
        if (a->recent(i).kind() != "transition") continue;
        with_history += a->recent(i).to_stage() == a->stage() && a->recent_size() <= 8;
        break;
      }
    }
    for (const auto& [stage, n] : runner->census().StageCounts()) census_total += n;
  };
  absl::Status asked = AskWhileStepping(*runner, clock_, query);
  ASSERT_TRUE(asked.ok()) << asked;
  EXPECT_EQ(counted, static_cast<int64_t>(last_stage.size())) << "every account with a transition is held";
  EXPECT_EQ(matching, counted) << "an account is in a stage a committed transition put it in";
  EXPECT_EQ(with_history, counted) << "each remembers the transition that led to its stage";
  EXPECT_GE(census_total, counted);
  // The gauge says what the census says.
  double gauge_total = 0;
  for (const auto& family : metrics_.registry()->Collect()) {
    if (family.name != "demandcenter_accounts") continue;
    for (const auto& m : family.metric) gauge_total += m.gauge.value;
  }
  EXPECT_EQ(gauge_total, static_cast<double>(census_total));
}

TEST_F(RunnerLoopTest, AQueryTheLoopDoesNotReachInTimeIsDroppedNotRunLater) {
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  bool ran = false;
  std::function<void()> query = [&] { ran = true; };
  absl::Status s = runner->Ask(query, 20);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  for (int i = 0; i < 300; ++i) {
    clock_.Advance(1);
    ASSERT_TRUE(runner->Step().ok());
  }
  EXPECT_FALSE(ran);
}

TEST_F(RunnerLoopTest, ANewDecisionConfigTakesOverBetweenTransactionsAndLosesNoRecord) {
  auto runner = NewRunner();
  ASSERT_TRUE(runner->Start().ok());
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(runner->Step().ok());  // mid-stream, records buffered
  auto reloaded = std::make_shared<const config::DecisionConfig>(config_.decision);
  std::function<void()> apply = [&] { runner->ApplyDecisionConfig(reloaded); };
  absl::Status asked = AskWhileStepping(*runner, clock_, apply);
  ASSERT_TRUE(asked.ok()) << asked;
  EXPECT_EQ(&runner->decision(), reloaded.get());
  ASSERT_TRUE(RunToEnd(*runner).ok());
  ExpectExactlyOnce();  // the same rules: the same outputs, none lost or doubled
}

}  // namespace
}  // namespace demandcenter::runner
