#include "demandcenter/journey/journey_model.h"

#include <gtest/gtest.h>

#include "../testing.h"
#include "demandcenter/query/account_view.h"

namespace demandcenter::journey {
namespace {

constexpr int64_t kDay = 86'400'000;

config::JourneyConfig Journey(int32_t min_exits) {
  config::JourneyConfig j;
  j.stages = {"lead", "trial", "won", "lost", "dormant"};
  j.won_stage = "won";
  j.outlook_min_exits = min_exits;
  return j;
}

// lead: 10 entered, 6 to trial, 2 to dormant (2 still there); trial: 6
// entered, 3 won, 3 lost; dormant: 2 entered, 1 back to lead.
v1::JourneyModel Model(const std::string& segment) {
  v1::JourneyModel m;
  for (int i = 0; i < 10; ++i) RecordEntry(segment, "lead", &m);
  for (int i = 0; i < 6; ++i) RecordExit(segment, "lead", "trial", 2 * kDay, &m);
  for (int i = 0; i < 2; ++i) RecordExit(segment, "lead", "dormant", 5 * kDay, &m);
  for (int i = 0; i < 3; ++i) RecordExit(segment, "trial", "won", kDay, &m);
  for (int i = 0; i < 3; ++i) RecordExit(segment, "trial", "lost", 3 * kDay, &m);
  RecordExit(segment, "dormant", "lead", 10 * kDay, &m);
  return m;
}

TEST(JourneyModelTest, WinProbabilityFollowsTheChainAndItsCycles) {
  v1::JourneyModel m = Model("smb");
  std::map<std::string, double> p = WinProbabilities(Journey(1), AllSegments(m));
  // trial: 3 of 6 won. dormant: 1 of 2 back to lead. lead: 10 + 1 entered
  // (one came back), 6 to trial, 2 to dormant:
  //   lead = 6/11 * 0.5 + 2/11 * dormant, dormant = 1/2 * lead
  //   => lead = (3/11) / (1 - 1/11) = 0.3
  EXPECT_DOUBLE_EQ(p["won"], 1);
  EXPECT_DOUBLE_EQ(p["trial"], 0.5);
  EXPECT_NEAR(p["lead"], 0.3, 1e-9);
  EXPECT_NEAR(p["dormant"], 0.15, 1e-9);
  EXPECT_DOUBLE_EQ(p["lost"], 0);
}

TEST(JourneyModelTest, OutlookUsesTheSegmentWhenItHasEnoughExitsElseAll) {
  v1::JourneyModel m = Model("smb");
  RecordExit("enterprise", "trial", "won", 4 * kDay, &m);
  RecordExit("enterprise", "trial", "won", 6 * kDay, &m);

  auto own = OutlookOf(Journey(2), m, "enterprise", "trial");
  ASSERT_TRUE(own.has_value());
  EXPECT_EQ(own->segment(), "enterprise");
  EXPECT_EQ(own->evidence(), 2);
  EXPECT_EQ(own->likely_next_stage(), "won");
  EXPECT_DOUBLE_EQ(own->likely_next_share(), 1);
  EXPECT_EQ(own->typical_dwell_seconds(), 5 * 86'400);
  EXPECT_DOUBLE_EQ(own->win_probability(), 1);
  EXPECT_EQ(OutlookSentence(*own),
            "accounts in trial go on to won 100% of the time so far; of the 2 enterprise accounts that left it, "
            "100% went to won, after 5d on average");

  // Three exits needed: the segment has two, all segments eight.
  auto all = OutlookOf(Journey(3), m, "enterprise", "trial");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->segment(), "");
  EXPECT_EQ(all->evidence(), 8);
  EXPECT_EQ(all->likely_next_stage(), "won");  // 5 won, 3 lost
  EXPECT_DOUBLE_EQ(all->likely_next_share(), 5.0 / 8);
  EXPECT_FALSE(OutlookOf(Journey(9), m, "enterprise", "trial").has_value());
  EXPECT_FALSE(OutlookOf(Journey(1), m, "smb", "won").has_value());  // nobody left it
}

TEST(JourneyModelTest, ForecastWeighsEachStagesAccountsAndAmounts) {
  v1::JourneyModel m = Model("smb");
  std::vector<StagePopulation> population = {{"smb", "trial", 4, 40000}, {"", "lead", 10, 0}, {"smb", "won", 2, 5000}};
  std::vector<StageForecast> f = Forecast(Journey(1), m, population);
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[1].stage, "trial");
  EXPECT_EQ(f[1].accounts, 4);
  EXPECT_DOUBLE_EQ(f[1].expected_wins, 2);
  EXPECT_DOUBLE_EQ(f[1].pipeline_value, 20000);
  EXPECT_EQ(f[1].evidence, 6);
  EXPECT_EQ(f[1].typical_dwell_seconds, 2 * 86'400);
  EXPECT_NEAR(f[0].expected_wins, 3, 1e-9);  // 10 x 0.3
  EXPECT_DOUBLE_EQ(f[2].expected_wins, 2);   // already won
}

TEST(JourneyModelTest, TheAccountViewCarriesTheOutlook) {
  config::DecisionConfig config;
  config.journey = Journey(1);
  v1::AccountState account;
  account.set_account_id("acct-1");
  account.set_stage("trial");
  account.set_segment("smb");
  v1::JourneyModel m = Model("smb");
  v1::AccountView view = query::ViewOf(account, config, 0, &m);
  EXPECT_EQ(view.outlook().likely_next_stage(), "won");
  EXPECT_DOUBLE_EQ(view.outlook().win_probability(), 0.5);
  EXPECT_EQ(view.outlook().segment(), "smb");
  EXPECT_FALSE(query::ViewOf(account, config, 0).has_outlook());
}

}  // namespace
}  // namespace demandcenter::journey
