// Propensity learned online, closed loop: two actions compete for the same
// trigger in two stages; salespeople accept one far more often than the
// other, and which one depends on the stage. The fixed config always picks
// the higher priority; learning (Thompson sampling over what worked) finds
// each stage's better action after a warm-up.
#include <gtest/gtest.h>

#include <iostream>
#include <variant>

#include "../testing.h"
#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "support/test_driver.h"

namespace demandcenter {
namespace {

constexpr char kConfig[] = R"(
rules_version: learning
journey:
  stages: [lead, trial]
  transitions:
    - {id: start_trial, from: [lead], to: trial, when: {type: crm.meeting_held}}
pools: [{id: desk, members: [rep-1, rep-2, rep-3]}]
arbitration:
  max_actions: 1
LEARNING
rules:
  - id: call
    when: {type: web.page_view}
    action: call
    channel: INSIDE_SALES
    role: sdr
    priority: 60
    route: {pool: desk}
    prompt: {title: "Call {account_name}"}
  - id: demo
    when: {type: web.page_view}
    action: send_demo
    channel: INSIDE_SALES
    role: sdr
    priority: 50
    route: {pool: desk}
    prompt: {title: "Send {account_name} a demo"}
)";

// How often a prompt is accepted: in lead the demo works, in trial the call.
double AcceptRate(const std::string& stage, const std::string& action) {
  bool favoured = (stage == "lead") == (action == "send_demo");
  return favoured ? 0.6 : 0.1;
}

struct Result {
  int decisions = 0;
  int favoured = 0;  // decisions picking the stage's better action
  int late_decisions = 0;
  int late_favoured = 0;
  int accepted = 0;
};

Result RunLoop(bool learning, int accounts) {
  std::string text = kConfig;
  text.replace(text.find("LEARNING"), 8,
               learning ? "  learning: {prior_weight: 10, exploration_floor: 0.02, window: 14d}" : "");
  config::Config config = testing::MustParse(text);
  testing::TestDriver driver(config);
  Result r;
  int64_t t = testing::kT0;
  for (int i = 0; i < accounts; ++i, t += 600'000) {
    std::string account = StrCat("acct-", i);
    std::string stage = i % 2 == 0 ? "lead" : "trial";
    auto pipe = [&](const std::string& json) { ASSERT_TRUE(driver.PipeBytes(json).ok()) << json; };
    if (stage == "trial") {
      pipe(StrCat(R"({"event_id":"m-)", i, R"(","occurred_at":")", FormatTime(t), R"(","type":"crm.meeting_held","account_id":")",
                  account, R"(","crm_activity":{"object":"meeting"}})"));
    }
    pipe(StrCat(R"({"event_id":"v-)", i, R"(","occurred_at":")", FormatTime(t + 60'000),
                R"(","type":"web.page_view","account_id":")", account, R"(","contact_id":"ct-)", i, R"("})"));
    std::string action, prompt_id;
    for (const auto& o : driver.ReadOutputs()) {
      if (const auto* nba = std::get_if<v1::NextBestAction>(&o.message)) action = nba->action();
      if (const auto* p = std::get_if<v1::CrmPrompt>(&o.message)) prompt_id = p->prompt_id();
    }
    if (action.empty()) continue;
    ++r.decisions;
    bool favoured = AcceptRate(stage, action) > 0.5;
    r.favoured += favoured;
    if (i >= accounts / 2) {
      ++r.late_decisions;
      r.late_favoured += favoured;
    }
    // The salesperson's answer, an hour later: a deterministic coin.
    double coin = static_cast<double>(StableHash64(account) % 10000) / 10000;
    if (coin < AcceptRate(stage, action)) {
      ++r.accepted;
      pipe(StrCat(R"({"event_id":"o-)", i, R"(","occurred_at":")", FormatTime(t + 3'600'000),
                  R"(","type":"crm.prompt_outcome","account_id":")", account,
                  R"(","crm_activity":{"prompt_id":")", prompt_id, R"(","prompt_outcome":"accepted"}})"));
      driver.ReadOutputs();
    }
  }
  return r;
}

TEST(LearningTest, LearnedArbitrationFindsEachStagesBetterActionAfterAWarmUp) {
  constexpr int kAccounts = 2000;
  Result fixed = RunLoop(false, kAccounts);
  Result learned = RunLoop(true, kAccounts);
  std::cout << "fixed:   " << fixed.favoured << "/" << fixed.decisions << " decisions picked the better action ("
            << fixed.late_favoured << "/" << fixed.late_decisions << " in the second half); " << fixed.accepted
            << " prompts accepted\n"
            << "learned: " << learned.favoured << "/" << learned.decisions << " ("
            << learned.late_favoured << "/" << learned.late_decisions << " in the second half); " << learned.accepted
            << " prompts accepted\n";
  ASSERT_EQ(fixed.decisions, kAccounts);
  ASSERT_EQ(learned.decisions, kAccounts);
  // The fixed config calls everyone: right in trial only.
  EXPECT_EQ(fixed.favoured, kAccounts / 2);
  // Learning: after the warm-up, the better action nearly always.
  EXPECT_GT(learned.late_favoured, learned.late_decisions * 9 / 10);
  EXPECT_GT(learned.accepted, fixed.accepted * 5 / 4);
}

TEST(LearningTest, TheSameInputDrawsTheSamePropensitiesAndTheTraceShowsThem) {
  Result a = RunLoop(true, 300);
  Result b = RunLoop(true, 300);
  EXPECT_EQ(a.favoured, b.favoured);
  EXPECT_EQ(a.accepted, b.accepted);

  config::Config config = testing::MustParse(std::string(kConfig).replace(
      std::string(kConfig).find("LEARNING"), 8, "  learning: {prior_weight: 10, exploration_floor: 0.02, window: 14d}"));
  testing::TestDriver driver(config);
  ASSERT_TRUE(driver
                  .PipeBytes(R"({"event_id":"v-1","occurred_at":"2026-03-02T09:00:00Z","type":"web.page_view",)"
                             R"("account_id":"acct-1","contact_id":"ct-1"})")
                  .ok());
  const v1::NextBestAction* nba = nullptr;
  std::vector<outputs::Output> out = driver.ReadOutputs();
  for (const auto& o : out) {
    if (const auto* n = std::get_if<v1::NextBestAction>(&o.message)) nba = n;
  }
  ASSERT_NE(nba, nullptr);
  EXPECT_NE(nba->trace().text().find("(drawn from what worked: mean 0.99 after 0 of 0 succeeded)"), std::string::npos)
      << nba->trace().text();
  ASSERT_EQ(nba->trace().candidates_size(), 2);
  for (const auto& c : nba->trace().candidates()) {
    EXPECT_DOUBLE_EQ(c.propensity_mean(), 0.99);
    EXPECT_GE(c.propensity(), 0.02);
    EXPECT_EQ(c.propensity_trials(), 0);
  }
  // The emitted action is a trial now, waiting for credit in the account.
  ASSERT_EQ(driver.Account("acct-1")->trials_size(), 1);
  EXPECT_EQ(driver.Account("acct-1")->trials(0).action(), nba->action());
}

}  // namespace
}  // namespace demandcenter
