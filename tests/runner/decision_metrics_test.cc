#include "demandcenter/runner/decision_metrics.h"

#include <gtest/gtest.h>

#include "../testing.h"
#include "demandcenter/outputs/experiment_kpis.h"

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

// The KPI gauges follow the experiments' committed counts across tasks and
// across an engine rebuilt after a rewind (whose own counts start at 0).
TEST(DecisionMetricsTest, ExperimentKpisFromTheCountsOfEveryTaskAndEngine) {
  config::DecisionConfig config = testing::DefaultConfig().decision;
  metrics::Metrics m({});
  outputs::DecisionCounters totals;
  outputs::DecisionCounters task0, task1, exported0, exported1;
  task0.experiment_exposed["reply_follow_up/champion"] = 60;
  task0.experiment_exposed["reply_follow_up/call_back"] = 30;
  task0.experiment_reached["reply_follow_up/champion/customer"] = 6;
  task1.experiment_exposed["reply_follow_up/champion"] = 40;
  task1.experiment_exposed["reply_follow_up/call_back"] = 20;
  task1.experiment_reached["reply_follow_up/call_back/customer"] = 10;
  ExportDecisionCounters(task0, &exported0, &m, &totals);
  ExportDecisionCounters(task1, &exported1, &m, &totals);
  // Task 1 rewinds: a new engine counts from 0 again.
  exported1 = outputs::DecisionCounters{};
  outputs::DecisionCounters rebuilt;
  rebuilt.experiment_reached["reply_follow_up/call_back/customer"] = 5;
  ExportDecisionCounters(rebuilt, &exported1, &m, &totals);
  ExportExperimentKpis(config, totals, &m);

  EXPECT_EQ(m.ExperimentAccounts({{"experiment", "reply_follow_up"}, {"arm", "champion"}}).Value(), 100);
  EXPECT_EQ(m.ExperimentReached({{"experiment", "reply_follow_up"}, {"arm", "call_back"}, {"stage", "customer"}})
                .Value(),
            15);
  auto kpi = [&](const char* arm, const char* bound) {
    return m.ExperimentKpi({{"experiment", "reply_follow_up"}, {"arm", arm}, {"kpi", "reached.customer"},
                            {"bound", bound}})
        .Value();
  };
  EXPECT_DOUBLE_EQ(kpi("champion", "estimate"), 0.06);
  EXPECT_DOUBLE_EQ(kpi("call_back", "estimate"), 0.3);
  outputs::Share call_back = outputs::WilsonShare(15, 50);
  EXPECT_DOUBLE_EQ(kpi("call_back", "lower"), call_back.lower);
  EXPECT_DOUBLE_EQ(kpi("call_back", "upper"), call_back.upper);
  auto difference = [&](const char* bound) {
    return m.ExperimentKpiDifference({{"experiment", "reply_follow_up"}, {"arm", "call_back"},
                                      {"kpi", "reached.customer"}, {"bound", bound}})
        .Value();
  };
  EXPECT_NEAR(difference("estimate"), 0.24, 1e-12);
  EXPECT_GT(difference("lower"), 0);  // 30% against 6%: clearly apart
}

}  // namespace
}  // namespace demandcenter::runner
