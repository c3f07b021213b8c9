#include "demandcenter/outputs/experiment_kpis.h"

#include <gtest/gtest.h>

#include "../testing.h"

namespace demandcenter::outputs {
namespace {

TEST(ExperimentKpisTest, WilsonIntervalsMatchPublishedValues) {
  // Newcombe (1998), Statistics in Medicine 17:857, table I.
  Share s = WilsonShare(81, 263);
  EXPECT_NEAR(s.estimate, 0.3080, 1e-4);
  EXPECT_NEAR(s.lower, 0.2553, 1e-4);
  EXPECT_NEAR(s.upper, 0.3662, 1e-4);
  Share none = WilsonShare(0, 10);
  EXPECT_EQ(none.lower, 0);
  EXPECT_NEAR(none.upper, 0.2775, 1e-4);
  Share all = WilsonShare(10, 10);
  EXPECT_NEAR(all.lower, 0.7225, 1e-4);
  EXPECT_NEAR(all.upper, 1, 1e-12);
  Share empty = WilsonShare(0, 0);
  EXPECT_EQ(empty.trials, 0);
  EXPECT_EQ(FormatShare(empty), "-");
  EXPECT_EQ(FormatShare(WilsonShare(1, 4)), "25.0% [4.6%, 69.9%]");
}

TEST(ExperimentKpisTest, DifferenceIsNewcombesHybridScoreInterval) {
  // Newcombe (1998), Statistics in Medicine 17:873, method 10: 56/70 - 48/80.
  Difference d = DifferenceOf(WilsonShare(56, 70), WilsonShare(48, 80));
  EXPECT_NEAR(d.estimate, 0.2, 1e-9);
  EXPECT_NEAR(d.lower, 0.0524, 1e-4);
  EXPECT_NEAR(d.upper, 0.3339, 1e-4);
  EXPECT_TRUE(d.significant());
  EXPECT_EQ(FormatDifference(d), "+20.0 pts [+5.2, +33.4]");
  Difference same = DifferenceOf(WilsonShare(10, 100), WilsonShare(12, 100));
  EXPECT_FALSE(same.significant());
}

TEST(ExperimentKpisTest, ArmsAgainstTheHoldoutOrTheFirstArm) {
  config::DecisionConfig config = testing::MustParseDecision(R"(
journey:
  stages: [new, evaluating, customer]
  transitions:
    - {id: t1, to: evaluating, when: {type: c}}
    - {id: t2, to: customer, when: {type: d}}
rules:
  - {id: r1, when: {type: a}, action: x, channel: EMAIL}
  - {id: r2, when: {type: b}, action: y, channel: EMAIL}
experiments:
  - {id: hold, rules: [r1], holdout: 0.2}
  - id: duel
    rules: [r2]
    arms: [{id: champion, share: 0.5}, {id: challenger, share: 0.5}]
)");
  DecisionCounters c;
  c.experiment_exposed["hold/holdout"] = 100;
  c.experiment_exposed["hold/treatment"] = 400;
  c.experiment_reached["hold/holdout/customer"] = 10;
  c.experiment_reached["hold/treatment/customer"] = 80;
  c.experiment_exposed["duel/champion"] = 50;
  c.experiment_exposed["duel/challenger"] = 50;
  c.experiment_reached["duel/challenger/evaluating"] = 5;
  c.experiment_outcomes["duel/champion/accepted"] = 3;
  c.experiment_outcomes["duel/champion/expired"] = 7;
  c.experiment_outcomes["duel/challenger/completed"] = 6;
  c.experiment_outcomes["duel/challenger/dismissed"] = 4;
  c.experiment_outcomes["duel/challenger/snoozed"] = 9;  // not an answer yet
  std::vector<ExperimentReport> reports = ExperimentKpis(config, c);
  ASSERT_EQ(reports.size(), 2u);

  const ExperimentReport& hold = reports[0];
  EXPECT_EQ(hold.baseline, "holdout");
  ASSERT_EQ(hold.arms.size(), 2u);
  EXPECT_EQ(hold.arms[1].arm, "treatment");
  EXPECT_EQ(hold.arms[1].exposed, 400);
  ASSERT_EQ(hold.arms[1].kpis.size(), 1u);  // only customer was reached; no prompts
  EXPECT_EQ(hold.arms[1].kpis[0].kpi, "reached.customer");
  EXPECT_DOUBLE_EQ(hold.arms[1].kpis[0].share.estimate, 0.2);
  EXPECT_FALSE(hold.arms[0].kpis[0].compared);
  ASSERT_TRUE(hold.arms[1].kpis[0].compared);
  EXPECT_NEAR(hold.arms[1].kpis[0].versus.estimate, 0.1, 1e-9);
  EXPECT_TRUE(hold.arms[1].kpis[0].versus.significant());

  const ExperimentReport& duel = reports[1];
  EXPECT_EQ(duel.baseline, "champion");
  ASSERT_EQ(duel.arms[0].kpis.size(), 2u);
  EXPECT_EQ(duel.arms[0].kpis[0].kpi, "reached.evaluating");
  EXPECT_EQ(duel.arms[0].kpis[0].share.hits, 0);
  EXPECT_EQ(duel.arms[0].kpis[1].kpi, "prompts.accepted");
  EXPECT_EQ(duel.arms[0].kpis[1].share.hits, 3);
  EXPECT_EQ(duel.arms[0].kpis[1].share.trials, 10);
  EXPECT_EQ(duel.arms[1].kpis[1].share.hits, 6);
  EXPECT_EQ(duel.arms[1].kpis[1].share.trials, 10);
  EXPECT_NEAR(duel.arms[1].kpis[1].versus.estimate, 0.3, 1e-9);
}

}  // namespace
}  // namespace demandcenter::outputs
