#include "demandcenter/engine/engine.h"

#include <unistd.h>

#include <filesystem>
#include <memory>

#include "demandcenter/common/proto_json.h"
#include "demandcenter/outputs/output.h"

#include <memory>
#include <set>

#include "demandcenter/generate/generator.h"
#include "demandcenter/ingest/decoder.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver_util.h"
#include "demandcenter/state/rocksdb_kv.h"
#include "demandcenter/state/state_store.h"
#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::engine {
namespace {

using outputs::Output;
using outputs::OutputKind;
using outputs::OutputKindName;

using testing::kT0;
using testing::MakeSignal;

// The engine takes signals already resolved to their account.
SignalOutcome Process(Engine& engine, const v1::Signal& signal, int32_t partition, std::vector<Output>* out) {
  return engine.Process(signal, signal.account_id(), partition, out);
}

constexpr char kConfig[] = R"(
journey:
  stages: [unaware, aware, dormant]
  transitions:
    - {id: touch, from: [unaware], to: aware, when: {type: "web.*"}}
    - {id: sleep, from: [aware], to: dormant, inactive_for: 10d}
scoring:
  weights: {"web.*": 1}
pools: [{id: sdr, members: [rep-1, rep-2]}]
rules:
  - id: demo
    when: {type: web.demo_request}
    action: book_demo
    channel: INSIDE_SALES
    role: sdr
    priority: 90
    route: {pool: sdr, sla: 1h}
    prompt: {title: "Demo for {account_name}", why: "{contact} asked for a demo; stage {stage}"}
  - {id: wake_up, when: {entered_stage: dormant}, action: reengage, channel: EMAIL, priority: 20}
)";

class EngineTest : public ::testing::Test {
 protected:
  config::DecisionConfig config_ = testing::MustParseDecision(kConfig);
  state::InMemoryStateStore store_;
  Engine engine_{config_, &store_};
  std::vector<Output> out_;

  std::vector<std::string> Kinds() const {
    std::vector<std::string> kinds;
    for (const auto& o : out_) kinds.emplace_back(OutputKindName(o.kind));
    return kinds;
  }
};

TEST_F(EngineTest, DemoRequestEmitsTransitionActionRoutingAndPrompt) {
  v1::Signal s = MakeSignal("e1", "web.demo_request", "acct-1", 0, "ct-1");
  EXPECT_EQ(Process(engine_, s, 0, &out_), SignalOutcome::kApplied);
  EXPECT_EQ(Kinds(), (std::vector<std::string>{"transition", "nba", "routing", "prompt"}));
  const auto& nba = std::get<v1::NextBestAction>(out_[1].message);
  const auto& routing = std::get<v1::RoutingDecision>(out_[2].message);
  const auto& prompt = std::get<v1::CrmPrompt>(out_[3].message);
  EXPECT_EQ(nba.action(), "book_demo");
  EXPECT_EQ(nba.trigger_event_ids(0), "e1");
  EXPECT_EQ(ToMillis(routing.sla_due_at()), kT0 + kMillisPerHour);
  EXPECT_EQ(prompt.owner_id(), routing.assignee_id());
  EXPECT_EQ(prompt.title(), "Demo for acct-1");
  // The "why now": the rule's text, then who, what to do and by when.
  EXPECT_EQ(prompt.body(),
            "ct-1 asked for a demo; stage aware\nWho: ct-1; 1 person engaged in the last 30d.\n"
            "Do: book_demo\nBy: Mon 2 Mar 10:00 (UTC).");
  EXPECT_EQ(engine_.counters().outputs[static_cast<int>(OutputKind::kPrompt)], 1);
}

TEST_F(EngineTest, SameInputSameIdsDifferentAccountDifferentIds) {
  state::InMemoryStateStore other_store;
  Engine other(config_, &other_store);
  std::vector<Output> again;
  Process(engine_, MakeSignal("e1", "web.demo_request", "acct-1", 0), 0, &out_);
  Process(other, MakeSignal("e1", "web.demo_request", "acct-1", 0), 0, &again);
  ASSERT_EQ(out_.size(), again.size());
  for (size_t i = 0; i < out_.size(); ++i) {
    EXPECT_EQ(SerializeDeterministic(out_[i].proto()), SerializeDeterministic(again[i].proto()));
  }
  std::vector<Output> third;
  Process(other, MakeSignal("e1", "web.demo_request", "acct-2", 0), 0, &third);
  EXPECT_NE(std::get<v1::NextBestAction>(third[1].message).action_id(),
            std::get<v1::NextBestAction>(out_[1].message).action_id());
}

TEST_F(EngineTest, DuplicateEventChangesNothing) {
  v1::Signal s = MakeSignal("e1", "web.page_view", "acct-1", 0);
  Process(engine_, s, 0, &out_);
  uint64_t applied = store_.Find("acct-1")->signals_applied();
  out_.clear();
  EXPECT_EQ(Process(engine_, s, 0, &out_), SignalOutcome::kDuplicate);
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(store_.Find("acct-1")->signals_applied(), applied);
  EXPECT_EQ(engine_.counters().duplicates, 1);
}

TEST_F(EngineTest, InactivityTimerFiresOnStreamTimeAtItsDueTime) {
  Process(engine_, MakeSignal("e1", "web.page_view", "acct-1", 0), 0, &out_);
  EXPECT_EQ(engine_.PendingTimers(), 1u);
  out_.clear();
  engine_.AdvanceStreamTime(0, kT0 + 10 * kMillisPerDay - 1, &out_);
  EXPECT_TRUE(out_.empty());
  engine_.AdvanceStreamTime(1, kT0 + 20 * kMillisPerDay, &out_);  // another partition
  EXPECT_TRUE(out_.empty());
  engine_.AdvanceStreamTime(0, kT0 + 11 * kMillisPerDay, &out_);
  ASSERT_EQ(Kinds(), (std::vector<std::string>{"transition", "nba"}));
  const auto& t = std::get<v1::StageTransition>(out_[0].message);
  EXPECT_EQ(t.to_stage(), "dormant");
  EXPECT_EQ(ToMillis(t.at()), kT0 + 10 * kMillisPerDay);
  EXPECT_EQ(t.dwell_seconds(), 10 * 24 * 3600);
  EXPECT_EQ(std::get<v1::NextBestAction>(out_[1].message).action(), "reengage");
  EXPECT_EQ(engine_.PendingTimers(), 0u);
  EXPECT_EQ(engine_.counters().timers_fired, 1);
}

TEST_F(EngineTest, EngagementBeforeDueTimePushesTheTimerBack) {
  Process(engine_, MakeSignal("e1", "web.page_view", "acct-1", 0), 0, &out_);
  Process(engine_, MakeSignal("e2", "web.page_view", "acct-1", 9 * kMillisPerDay), 0, &out_);
  out_.clear();
  engine_.AdvanceStreamTime(0, kT0 + 12 * kMillisPerDay, &out_);
  EXPECT_TRUE(out_.empty());
  engine_.AdvanceStreamTime(0, kT0 + 19 * kMillisPerDay, &out_);
  ASSERT_EQ(out_.size(), 2u);
}

TEST_F(EngineTest, RebuildTimersRestoresTheQueueFromTheStore) {
  Process(engine_, MakeSignal("e1", "web.page_view", "acct-1", 0), 3, &out_);
  Engine restarted(config_, &store_);
  restarted.RebuildTimers();
  EXPECT_EQ(restarted.PendingTimers(), 1u);
  out_.clear();
  restarted.AdvanceStreamTime(3, kT0 + 30 * kMillisPerDay, &out_);
  EXPECT_EQ(out_.size(), 2u);
}

// SLA, snooze and expiry timers live in the accounts' state: an engine
// started on the same store after a "restart" fires each of them exactly once.
class TaskTimerTest : public ::testing::Test {
 protected:
  config::DecisionConfig config_ = testing::MustParseDecision(R"(
journey:
  stages: [unaware, aware]
  transitions: [{id: touch, from: [unaware], to: aware, when: {type: "web.*"}}]
scoring: {weights: {"web.*": 1}}
pools: [{id: sdr, manager: mgr-1, members: [rep-1, rep-2]}]
rules:
  - id: demo
    when: {type: web.demo_request}
    action: book_demo
    channel: INSIDE_SALES
    priority: 90
    expires: 2d
    route: {pool: sdr, sla: 1h}
    prompt: {title: "Demo for {account_name}"}
)");
  state::InMemoryStateStore store_;
  std::vector<Output> out_;

  std::string PromptId(const std::vector<Output>& out) {
    for (const auto& o : out) {
      if (o.kind == OutputKind::kPrompt) return std::get<v1::CrmPrompt>(o.message).prompt_id();
    }
    return "";
  }
  std::vector<std::string> Kinds() const {
    std::vector<std::string> kinds;
    for (const auto& o : out_) {
      std::string k(OutputKindName(o.kind));
      if (o.kind == OutputKind::kPrompt) k += ":" + std::get<v1::CrmPrompt>(o.message).kind();
      kinds.push_back(k);
    }
    return kinds;
  }
};

TEST_F(TaskTimerTest, SlaEscalatesExactlyOnceAcrossARestart) {
  auto engine = std::make_unique<Engine>(config_, &store_);
  Process(*engine, MakeSignal("e1", "web.demo_request", "acct-1", 0, "ct-1"), 0, &out_);
  EXPECT_EQ(engine->PendingTimers(), 2u);  // the SLA and the prompt's expiry
  const v1::AccountState* a = store_.Find("acct-1");
  ASSERT_EQ(a->tasks_size(), 1);
  ASSERT_EQ(a->timers_size(), 2);
  EXPECT_EQ(a->timers(0).kind(), v1::TIMER_SLA);
  EXPECT_EQ(a->timers(1).kind(), v1::TIMER_EXPIRY);

  // Restart: a new engine over the same store, stream time restored.
  int64_t stream = engine->StreamTime(0);
  engine = std::make_unique<Engine>(config_, &store_);
  engine->RestoreStreamTime(0, stream);
  engine->RebuildTimers();
  out_.clear();
  engine->AdvanceStreamTime(0, kT0 + kMillisPerHour, &out_);
  EXPECT_EQ(Kinds(), (std::vector<std::string>{"routing", "prompt:escalation", "prompt:manager_alert"}));
  const auto& r = std::get<v1::RoutingDecision>(out_[0].message);
  EXPECT_EQ(r.escalation_level(), 1);
  EXPECT_NE(r.previous_assignee_id(), r.assignee_id());
  EXPECT_EQ(std::get<v1::CrmPrompt>(out_[1].message).owner_id(), r.assignee_id());
  EXPECT_EQ(std::get<v1::CrmPrompt>(out_[2].message).owner_id(), "mgr-1");
  // Fired once: rebuilding again does not bring it back.
  engine->RebuildTimers();
  out_.clear();
  engine->AdvanceStreamTime(0, kT0 + kMillisPerHour + 1, &out_);
  EXPECT_TRUE(out_.empty());
  // The second level goes to the manager, then nothing but the expiry is left.
  engine->AdvanceStreamTime(0, kT0 + 2 * kMillisPerHour, &out_);
  EXPECT_EQ(Kinds(), (std::vector<std::string>{"routing", "prompt:escalation"}));
  EXPECT_EQ(std::get<v1::RoutingDecision>(out_[0].message).assignee_id(), "mgr-1");
  engine->AdvanceStreamTime(0, kT0 + 3 * kMillisPerDay, &out_);
  EXPECT_EQ(store_.Find("acct-1")->tasks_size(), 0);
  EXPECT_EQ(store_.Find("acct-1")->timers_size(), 0);
  EXPECT_EQ(engine->counters().tasks_expired, 1);
  EXPECT_EQ(engine->PendingTimers(), 0u);
}

// The same under the store `run` uses: timers are part of the account's
// persisted state, so a process that starts again on the RocksDB store (as
// after a crash or a partition move) fires each pending timer exactly once.
TEST_F(TaskTimerTest, TimersSurviveARestartOnTheRocksDbStore) {
  std::string dir = ::testing::TempDir() + "/dc-engine-rocksdb-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  {
    auto store = state::OpenRocksDbPartitionStore(dir, 100);
    ASSERT_TRUE(store.ok()) << store.status().message();
    Engine engine(config_, store->get());
    Process(engine, MakeSignal("e1", "web.demo_request", "acct-1", 0, "ct-1"), 0, &out_);
    state::Checkpoint checkpoint;
    checkpoint.stream_time_ms = engine.StreamTime(0);
    ASSERT_TRUE((*store)->Commit((*store)->PendingChanges(checkpoint.stream_time_ms), checkpoint).ok());
  }
  auto store = state::OpenRocksDbPartitionStore(dir, 100);
  ASSERT_TRUE(store.ok()) << store.status().message();
  Engine engine(config_, store->get());
  engine.RestoreStreamTime(0, (*store)->ReadCheckpoint().stream_time_ms);
  engine.RebuildTimers();
  EXPECT_EQ(engine.PendingTimers(), 2u);
  out_.clear();
  engine.AdvanceStreamTime(0, kT0 + kMillisPerHour, &out_);
  EXPECT_EQ(Kinds(), (std::vector<std::string>{"routing", "prompt:escalation", "prompt:manager_alert"}));
  out_.clear();
  engine.AdvanceStreamTime(0, kT0 + kMillisPerHour + 1, &out_);
  EXPECT_TRUE(out_.empty());
  std::filesystem::remove_all(dir);
}

TEST_F(TaskTimerTest, AcceptedInTimeNeverEscalates) {
  Engine engine(config_, &store_);
  Process(engine, MakeSignal("e1", "web.demo_request", "acct-1", 0, "ct-1"), 0, &out_);
  v1::Signal outcome = MakeSignal("e2", "crm.prompt_outcome", "acct-1", 20 * kMillisPerMinute);
  outcome.mutable_crm_activity()->set_prompt_id(PromptId(out_));
  outcome.mutable_crm_activity()->set_prompt_outcome("accepted");
  out_.clear();
  Process(engine, outcome, 0, &out_);
  engine.AdvanceStreamTime(0, kT0 + kMillisPerDay, &out_);
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(engine.counters().sla_met, 1);
  EXPECT_EQ(engine.counters().sla_breached, 0);
  EXPECT_EQ(engine.counters().outcomes.at("demo/book_demo/INSIDE_SALES/accepted"), 1);
}

TEST_F(TaskTimerTest, SnoozedPromptReturnsAfterARestart) {
  auto engine = std::make_unique<Engine>(config_, &store_);
  Process(*engine, MakeSignal("e1", "web.demo_request", "acct-1", 0, "ct-1"), 0, &out_);
  v1::Signal snooze = MakeSignal("e2", "crm.prompt_outcome", "acct-1", 10 * kMillisPerMinute);
  snooze.mutable_crm_activity()->set_prompt_id(PromptId(out_));
  snooze.mutable_crm_activity()->set_prompt_outcome("snoozed");
  *snooze.mutable_crm_activity()->mutable_snooze_until() = FromMillis(kT0 + 3 * kMillisPerDay);
  Process(*engine, snooze, 0, &out_);
  engine = std::make_unique<Engine>(config_, &store_);
  engine->RestoreStreamTime(0, kT0 + 10 * kMillisPerMinute);
  engine->RebuildTimers();
  out_.clear();
  engine->AdvanceStreamTime(0, kT0 + 3 * kMillisPerDay, &out_);
  ASSERT_EQ(Kinds(), std::vector<std::string>{"prompt:snooze_return"});
  const auto& p = std::get<v1::CrmPrompt>(out_[0].message);
  EXPECT_EQ(ToMillis(p.send_at()), kT0 + 3 * kMillisPerDay);
  EXPECT_EQ(ToMillis(p.due_at()), kT0 + 3 * kMillisPerDay + kMillisPerHour);  // a fresh SLA
  EXPECT_EQ(engine->counters().snoozes_returned, 1);
}

TEST_F(TaskTimerTest, PoolUpdatesChangeWhoGetsNewWork) {
  Engine engine(config_, &store_);
  v1::PoolMemberUpdate pause;
  pause.set_pool_id("sdr");
  pause.set_member_id("rep-1");
  pause.set_paused(true);
  ASSERT_TRUE(engine.ApplyPoolUpdate(pause).ok());
  v1::PoolMemberUpdate pause2 = pause;
  pause2.set_member_id("rep-2");
  ASSERT_TRUE(engine.ApplyPoolUpdate(pause2).ok());
  v1::PoolMemberUpdate join;
  join.set_pool_id("sdr");
  join.set_member_id("rep-9");
  ASSERT_TRUE(engine.ApplyPoolUpdate(join).ok());
  Process(engine, MakeSignal("e1", "web.demo_request", "acct-1", 0), 0, &out_);
  for (const auto& o : out_) {
    if (o.kind == OutputKind::kRouting) EXPECT_EQ(std::get<v1::RoutingDecision>(o.message).assignee_id(), "rep-9");
  }
  v1::PoolMemberUpdate unknown;
  unknown.set_pool_id("nope");
  unknown.set_member_id("rep-1");
  EXPECT_EQ(engine.ApplyPoolUpdate(unknown).code(), absl::StatusCode::kNotFound);
}

TEST_F(TaskTimerTest, TimersMoveWithTheirAccountToAnotherPartition) {
  Engine engine(config_, &store_);
  Process(engine, MakeSignal("e1", "web.demo_request", "acct-1", 0), 0, &out_);
  Process(engine, MakeSignal("e2", "web.page_view", "acct-1", 1000), 5, &out_);  // re-keyed input
  out_.clear();
  engine.AdvanceStreamTime(0, kT0 + kMillisPerDay, &out_);
  EXPECT_TRUE(out_.empty());
  engine.AdvanceStreamTime(5, kT0 + kMillisPerHour, &out_);
  EXPECT_EQ(out_.size(), 3u);
}

// The fast printer must agree byte for byte with protobuf's JSON printer on
// every kind of output the engine emits (traces, maps, timestamps, enums).
TEST(OutputJsonTest, MatchesProtobufsPrinterOnGeneratedOutputs) {
  config::DecisionConfig config = testing::DefaultConfig().decision;
  state::InMemoryStateStore store;
  Engine engine(config, &store);
  std::vector<Output> out;
  generate::GeneratorOptions options;
  options.accounts = 300;
  options.signals = 6000;
  options.seed = 3;
  ASSERT_TRUE(generate::Generate(
                  options,
                  [&](const generate::GeneratedRecord& r) {
                    v1::Signal s;
                    if (ingest::DecodeSignal(r.value, {}, &s).ok()) Process(engine, s, 0, &out);
                  },
                  nullptr)
                  .ok());
  ASSERT_GT(out.size(), 500u);
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver(
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          "type.googleapis.com", google::protobuf::DescriptorPool::generated_pool()));
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::set<OutputKind> kinds;
  for (const auto& o : out) {
    std::string expected;
    ASSERT_TRUE(google::protobuf::util::BinaryToJsonString(
                    resolver.get(), "type.googleapis.com/" + o.proto().GetDescriptor()->full_name(),
                    SerializeDeterministic(o.proto()), &expected, print)
                    .ok());
    ASSERT_EQ(ToJson(o.proto()), expected);
    kinds.insert(o.kind);
  }
  EXPECT_EQ(kinds.size(), 4u);
}

}  // namespace
}  // namespace demandcenter::engine
