#include "demandcenter/runner/decision_metrics.h"

#include <gtest/gtest.h>

namespace demandcenter::runner {
namespace {

TEST(DecisionMetricsTest, ExportsWhatGrewSinceTheLastExportOnce) {
  metrics::Metrics m({});
  outputs::DecisionCounters exported;
  outputs::DecisionCounters now;
  now.transitions_by_id["deal_won"] = 3;
  now.emitted_by_rule["demo_request_sdr"] = 2;
  now.suppressed_by_policy["cap.sales_calls"] = 1;
  now.timers_by_kind["sla"] = 4;
  now.sla_started = 5;
  now.sla_breached = 4;
  now.snoozes_returned = 1;
  now.unmatched_outcomes = 2;
  now.outcomes["demo_request_sdr/book_demo/INSIDE_SALES/accepted"] = 1;
  now.experiment_emitted["reply_follow_up/champion"] = 6;
  now.experiment_held_out["nurture_holdout/holdout"] = 2;
  now.experiment_outcomes["reply_follow_up/champion/completed"] = 1;
  now.experiment_stages["reply_follow_up/champion/negotiating"] = 1;
  ExportDecisionCounters(now, &exported, &m);

  EXPECT_EQ(m.Transitions("deal_won").Value(), 3);
  EXPECT_EQ(m.ActionsByRule("demo_request_sdr").Value(), 2);
  EXPECT_EQ(m.PolicySuppressed("cap.sales_calls").Value(), 1);
  EXPECT_EQ(m.TimersFired("sla").Value(), 4);
  EXPECT_EQ(m.Sla("started").Value(), 5);
  EXPECT_EQ(m.Sla("breached").Value(), 4);
  EXPECT_EQ(m.Sla("met").Value(), 0);
  EXPECT_EQ(m.Tasks("snooze_returned").Value(), 1);
  EXPECT_EQ(m.PromptOutcomes({{"rule", ""}, {"action", ""}, {"channel", ""}, {"outcome", "unmatched"}}).Value(), 2);
  EXPECT_EQ(m.PromptOutcomes({{"rule", "demo_request_sdr"}, {"action", "book_demo"}, {"channel", "INSIDE_SALES"},
                              {"outcome", "accepted"}})
                .Value(),
            1);
  EXPECT_EQ(m.Experiments({{"experiment", "reply_follow_up"}, {"arm", "champion"}, {"event", "emitted"}}).Value(), 6);
  EXPECT_EQ(m.Experiments({{"experiment", "nurture_holdout"}, {"arm", "holdout"}, {"event", "held_out"}}).Value(), 2);
  EXPECT_EQ(m.Experiments({{"experiment", "reply_follow_up"}, {"arm", "champion"}, {"event", "completed"}}).Value(), 1);
  EXPECT_EQ(
      m.ExperimentStages({{"experiment", "reply_follow_up"}, {"arm", "champion"}, {"stage", "negotiating"}}).Value(),
      1);

  // Exporting the same counters again adds nothing; growth adds the delta.
  ExportDecisionCounters(now, &exported, &m);
  EXPECT_EQ(m.Transitions("deal_won").Value(), 3);
  now.transitions_by_id["deal_won"] = 5;
  now.transitions_by_id["first_touch"] = 1;
  ExportDecisionCounters(now, &exported, &m);
  EXPECT_EQ(m.Transitions("deal_won").Value(), 5);
  EXPECT_EQ(m.Transitions("first_touch").Value(), 1);
}

TEST(DecisionMetricsTest, ANewEngineAfterARewindStartsFromZeroWithoutSubtracting) {
  metrics::Metrics m({});
  outputs::DecisionCounters exported;
  outputs::DecisionCounters committed;
  committed.transitions_by_id["deal_won"] = 3;
  ExportDecisionCounters(committed, &exported, &m);
  // The runner discards the engine of an aborted transaction and resets
  // what it exported: the new engine's counts are all new, committed work.
  exported = outputs::DecisionCounters{};
  outputs::DecisionCounters fresh;
  fresh.transitions_by_id["deal_won"] = 1;
  ExportDecisionCounters(fresh, &exported, &m);
  EXPECT_EQ(m.Transitions("deal_won").Value(), 4);
}

}  // namespace
}  // namespace demandcenter::runner
