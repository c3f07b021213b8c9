// The output builder: one decision record, every message it makes.
#include "demandcenter/outputs/output_builder.h"

#include "demandcenter/common/time.h"
#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::outputs {
namespace {

using testing::kT0;

DecisionRecord ActionRecord() {
  DecisionRecord d;
  d.account_id = "acct-1";
  d.contact_id = "ct-1";
  d.rule_id = "demo";
  d.trigger_event_id = "e1";
  d.trace.set_text("why");
  d.decided_ms = kT0;
  d.send_ms = kT0 + kMillisPerHour;
  d.action = "book_demo";
  d.channel = v1::INSIDE_SALES;
  d.priority = 90;
  d.task_id = "rte-1";
  d.nba = DecisionRecord::Action{.action_id = "nba-1", .role = "sdr", .stage = "aware", .reason = "asked",
                                 .contact_email = "ada@acme.example", .expires_ms = kT0 + kMillisPerDay};
  d.routing = DecisionRecord::Routing{.routing_id = "rte-1", .role = "sdr", .pool = "sdr", .assignee_id = "rep-1",
                                      .reason = "asked; pool", .sla_due_ms = kT0 + 2 * kMillisPerHour,
                                      .prompt_id = "prm-1"};
  d.prompts.push_back(DecisionRecord::Prompt{.prompt_id = "prm-1", .account_name = "Acme", .owner_id = "rep-1",
                                             .role = "sdr", .pool = "sdr", .title = "Demo", .body = "Body",
                                             .suggested_action = "Call", .reason = "pool", .kind = "task",
                                             .due_ms = kT0 + 2 * kMillisPerHour, .expires_ms = kT0 + kMillisPerDay});
  return d;
}

TEST(OutputBuilderTest, ARuleActionMakesItsActionRoutingAndPromptInOrder) {
  DecisionCounters counters;
  OutputBuilder builder("v7", &counters);
  std::vector<Output> out;
  builder.Build(ActionRecord(), &out);
  ASSERT_EQ(out.size(), 3u);
  const auto& nba = std::get<v1::NextBestAction>(out[0].message);
  const auto& r = std::get<v1::RoutingDecision>(out[1].message);
  const auto& p = std::get<v1::CrmPrompt>(out[2].message);
  EXPECT_EQ(nba.action_id(), "nba-1");
  EXPECT_EQ(nba.contact_email(), "ada@acme.example");
  EXPECT_EQ(ToMillis(nba.expires_at()), kT0 + kMillisPerDay);
  EXPECT_EQ(r.assignee_id(), "rep-1");
  EXPECT_EQ(r.task_id(), "rte-1");
  EXPECT_EQ(ToMillis(r.sla_due_at()), kT0 + 2 * kMillisPerHour);
  EXPECT_EQ(p.kind(), "task");
  EXPECT_EQ(p.account_name(), "Acme");
  EXPECT_EQ(ToMillis(p.send_at()), kT0 + kMillisPerHour);
  for (const auto& o : out) {
    EXPECT_EQ(o.account_id, "acct-1");
    const auto& m = o.proto();
    EXPECT_EQ(m.GetReflection()->GetString(m, m.GetDescriptor()->FindFieldByName("rules_version")), "v7");
  }
  // Every message carries the whole trace.
  EXPECT_EQ(nba.trace().text(), "why");
  EXPECT_EQ(r.trace().text(), "why");
  EXPECT_EQ(p.trace().text(), "why");
  EXPECT_FALSE(nba.has_experiment());
  EXPECT_EQ(counters.outputs[static_cast<int>(OutputKind::kNextBestAction)], 1);
  EXPECT_EQ(counters.outputs[static_cast<int>(OutputKind::kRouting)], 1);
  EXPECT_EQ(counters.outputs[static_cast<int>(OutputKind::kPrompt)], 1);
}

TEST(OutputBuilderTest, NoSlaMeansNoDeadlineAndAnArmGoesEverywhere) {
  DecisionCounters counters;
  OutputBuilder builder("v7", &counters);
  DecisionRecord d = ActionRecord();
  d.routing->sla_due_ms = 0;
  d.experiment = ArmOf("exp", "b");
  d.prompts.clear();
  std::vector<Output> out;
  builder.Build(std::move(d), &out);
  ASSERT_EQ(out.size(), 2u);
  const auto& r = std::get<v1::RoutingDecision>(out[1].message);
  EXPECT_FALSE(r.has_sla_due_at());
  EXPECT_EQ(r.experiment().arm(), "b");
  EXPECT_EQ(std::get<v1::NextBestAction>(out[0].message).experiment().id(), "exp");
}

TEST(OutputBuilderTest, ATransitionCarriesItsArmsAndIsCountedById) {
  DecisionCounters counters;
  OutputBuilder builder("v7", &counters);
  TransitionRecord t{.transition_id = "trn-1", .account_id = "acct-1", .from_stage = "aware", .to_stage = "engaged",
                     .at_ms = kT0, .rule_id = "warm_up", .dwell_ms = 90'500, .trigger_event_id = "e9"};
  t.experiments.push_back(ArmOf("exp", "a"));
  std::vector<Output> out;
  builder.Build(std::move(t), &out);
  ASSERT_EQ(out.size(), 1u);
  const auto& m = std::get<v1::StageTransition>(out[0].message);
  EXPECT_EQ(m.dwell_seconds(), 90);
  EXPECT_EQ(m.experiments(0).arm(), "a");
  EXPECT_EQ(m.trigger_event_ids(0), "e9");
  EXPECT_EQ(counters.transitions_by_id["warm_up"], 1);
}

}  // namespace
}  // namespace demandcenter::outputs
