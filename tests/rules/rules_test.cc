#include "demandcenter/rules/rules.h"

#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::rules {
namespace {

using testing::kT0;
using testing::MakeSignal;
using testing::MustParse;

constexpr char kConfig[] = R"(
journey:
  stages: [unaware]
scoring:
  weights: {"web.*": 1}
arbitration: {max_actions: 1}
rules:
  - {id: any_web, when: {type: "web.*"}, action: a1, channel: DIGITAL, priority: 10}
  - {id: pricing, when: {type: web.pricing_view}, action: a2, channel: SPECIALIST, priority: 80, cooldown: 2d}
  - {id: pricing_also, when: {type: web.pricing_view}, action: a3, channel: EMAIL, priority: 80}
  - {id: email_only, when: {type: email.click}, action: a4, channel: EMAIL, priority: 50}
  - {id: untyped, when: {score_at_least: 100}, action: a5, channel: EMAIL, priority: 99}
)";

class RulesTest : public ::testing::Test {
 protected:
  config::Config config_ = MustParse(kConfig);
  RuleIndex index_{config_};
  v1::AccountState account_;
  std::vector<std::string> entered_;

  std::vector<Candidate> DecideFor(const v1::Signal& s) {
    condition::EvalContext ctx(config_, s, account_, ToMillis(s.occurred_at()), entered_);
    return Decide(config_, index_, ctx);
  }
};

TEST_F(RulesTest, IndexOffersOnlyRulesWhoseTypesCanMatch) {
  EXPECT_EQ(index_.RulesFor("web.pricing_view"), (std::vector<int32_t>{0, 1, 2, 4}));
  EXPECT_EQ(index_.RulesFor("email.click"), (std::vector<int32_t>{3, 4}));
  EXPECT_EQ(index_.RulesFor("crm.unknown_type"), (std::vector<int32_t>{4}));
}

TEST_F(RulesTest, ArbitrationEmitsTheBestAndKeepsConfigOrderOnTies) {
  auto candidates = DecideFor(MakeSignal("e1", "web.pricing_view", "acct-1", 0));
  ASSERT_EQ(candidates.size(), 3u);
  EXPECT_EQ(candidates[0].rule->id, "any_web");
  EXPECT_EQ(candidates[0].outcome, v1::SUPPRESSED_ARBITRATION);
  EXPECT_EQ(candidates[1].rule->id, "pricing");
  EXPECT_EQ(candidates[1].outcome, v1::EMITTED);
  EXPECT_DOUBLE_EQ(candidates[1].score, 80);
  EXPECT_EQ(candidates[2].outcome, v1::SUPPRESSED_ARBITRATION);  // tie: config order wins
}

TEST_F(RulesTest, CooldownSuppressesByPolicyAndLetsTheNextCandidateWin) {
  RecordFired("pricing", kT0, &account_);
  auto candidates = DecideFor(MakeSignal("e2", "web.pricing_view", "acct-1", kMillisPerDay));
  EXPECT_EQ(candidates[1].outcome, v1::SUPPRESSED_POLICY);
  ASSERT_EQ(candidates[1].policies.size(), 1u);
  EXPECT_EQ(candidates[1].policies[0].detail(), "last fired 1d ago; cool-down 2d");
  EXPECT_FALSE(candidates[1].policies[0].passed());
  EXPECT_EQ(candidates[2].outcome, v1::EMITTED);

  auto after = DecideFor(MakeSignal("e3", "web.pricing_view", "acct-1", 2 * kMillisPerDay));
  EXPECT_EQ(after[1].outcome, v1::EMITTED);
}

TEST_F(RulesTest, RecordFiredKeepsTheLatestTime) {
  RecordFired("pricing", kT0 + 5, &account_);
  RecordFired("pricing", kT0, &account_);
  ASSERT_EQ(account_.fired_size(), 1);
  EXPECT_EQ(account_.fired(0).at_ms(), kT0 + 5);
}

}  // namespace
}  // namespace demandcenter::rules
