#include "demandcenter/rules/propensity_model.h"

#include <gtest/gtest.h>

namespace demandcenter::rules {
namespace {

TEST(PropensityModelTest, BetaDrawsDependOnTheSeedAloneAndHaveTheRightMean) {
  EXPECT_EQ(SampleBeta(3, 7, 42), SampleBeta(3, 7, 42));
  EXPECT_NE(SampleBeta(3, 7, 42), SampleBeta(3, 7, 43));
  for (auto [a, b] : {std::pair{3.0, 7.0}, {0.5, 0.5}, {9.9, 0.1}, {40.0, 2.0}}) {
    double sum = 0, sum2 = 0;
    constexpr int kDraws = 40000;
    for (uint64_t seed = 0; seed < kDraws; ++seed) {
      double x = SampleBeta(a, b, seed * 7919 + 1);
      ASSERT_GE(x, 0);
      ASSERT_LE(x, 1);
      sum += x;
      sum2 += x * x;
    }
    double mean = sum / kDraws, var = sum2 / kDraws - mean * mean;
    EXPECT_NEAR(mean, a / (a + b), 0.005) << a << "," << b;
    EXPECT_NEAR(var, a * b / ((a + b) * (a + b) * (a + b + 1)), 0.003) << a << "," << b;
  }
}

TEST(PropensityModelTest, ThePriorCountsAsItsWeightAndTrialsAndSuccessesAddUp) {
  config::LearningConfig learning;
  learning.enabled = true;
  learning.prior_weight = 10;
  learning.exploration_floor = 0.05;
  learning.window_ms = 1000;
  v1::PropensityModel model;
  std::string key = ArmKey("call", v1::INSIDE_SALES, "lead", "smb");
  EXPECT_EQ(key, "call|INSIDE_SALES|lead|smb");
  Posterior p = PosteriorOf(learning, 0.3, model, key);
  EXPECT_DOUBLE_EQ(p.alpha, 3);
  EXPECT_DOUBLE_EQ(p.beta, 7);
  EXPECT_DOUBLE_EQ(PosteriorOf(learning, 5, model, key).mean(), 0.99);  // clamped

  v1::AccountState account;
  for (int64_t at : {100, 200, 300}) RecordTrial(learning, key, "call", v1::INSIDE_SALES, at, &model, &account);
  RecordTrial(learning, "mail|EMAIL|lead|smb", "mail", v1::EMAIL, 400, &model, &account);
  EXPECT_EQ(account.trials_size(), 4);
  // A reply credits the latest e-mail only; progress credits the rest.
  auto email = [](const v1::LearningTrial& t) { return t.channel() == v1::EMAIL; };
  EXPECT_EQ(CreditTrials(learning, 500, email, &model, &account, true), 1);
  EXPECT_EQ(CreditTrials(learning, 500, email, &model, &account, true), 0);  // once
  // Past the window (1 s): the trial at 100 stays uncredited.
  auto any = [](const v1::LearningTrial&) { return true; };
  EXPECT_EQ(CreditTrials(learning, 1150, any, &model, &account, false), 2);
  p = PosteriorOf(learning, 0.3, model, key);
  EXPECT_EQ(p.trials, 3);
  EXPECT_EQ(p.successes, 2);
  EXPECT_DOUBLE_EQ(p.mean(), 5.0 / 13);
  // A new trial prunes what is past the window.
  RecordTrial(learning, key, "call", v1::INSIDE_SALES, 5000, &model, &account);
  ASSERT_EQ(account.trials_size(), 1);
  EXPECT_EQ(account.trials(0).at_ms(), 5000);
  // The floor.
  Posterior hopeless{0.01, 1000, 0, 0};
  EXPECT_DOUBLE_EQ(DrawPropensity(learning, hopeless, 1), 0.05);
}

}  // namespace
}  // namespace demandcenter::rules
