#include "demandcenter/rules/rules.h"

#include <map>

#include "demandcenter/common/calendar.h"
#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::rules {
namespace {

using testing::kT0;
using testing::MakeSignal;
using testing::MustParseDecision;

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
  config::DecisionConfig config_ = MustParseDecision(kConfig);
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

// The contact policy inside arbitration: caps count what this very step
// emits, consent and do-not-contact stop candidates, and the next candidate
// gets the slot.
class PolicyArbitrationTest : public ::testing::Test {
 protected:
  config::DecisionConfig config_ = MustParseDecision(R"(
journey: {stages: [unaware]}
arbitration: {max_actions: 2}
contact_policy:
  caps: [{id: one_email, channel: EMAIL, max: 1, per: 7d}]
  action_cooldowns: {guide: 3d}
rules:
  - {id: guide_a, when: {type: web.page_view}, action: guide, channel: EMAIL, priority: 90}
  - {id: guide_b, when: {type: web.page_view}, action: newsletter, channel: EMAIL, priority: 80}
  - {id: ads, when: {type: web.page_view}, action: retarget, channel: DIGITAL, priority: 10}
)");
  RuleIndex index_{config_};
  v1::AccountState account_;
  std::vector<std::string> entered_;
  calendar::TimeZones zones_;

  std::vector<Candidate> Run(int64_t offset) {
    v1::Signal s = MakeSignal("e", "web.page_view", "acct-1", offset, "ct-1");
    condition::EvalContext ctx(config_, s, account_, ToMillis(s.occurred_at()), entered_);
    std::vector<Candidate> candidates = Evaluate(config_, index_, ctx);
    Score(config_, ctx, &candidates);
    PolicyZone zone{zones_.Find("UTC"), "UTC", ""};
    Arbitrate(config_, zone, ToMillis(s.occurred_at()), account_.contacts_size() ? &account_.contacts(0) : nullptr,
              &candidates, &account_);
    return candidates;
  }
};

TEST_F(PolicyArbitrationTest, ACapCannotBeOvershotWithinOneStep) {
  auto c = Run(0);
  EXPECT_EQ(c[0].outcome, v1::EMITTED);
  EXPECT_EQ(c[1].outcome, v1::SUPPRESSED_POLICY);  // the cap's one e-mail went to guide_a
  EXPECT_EQ(c[1].stopped_by, "cap.one_email");
  EXPECT_EQ(c[1].stopped_detail, "1 of 1 in 7d already");
  EXPECT_EQ(c[2].outcome, v1::EMITTED);  // the second slot goes to the next candidate
  EXPECT_EQ(account_.sent_size(), 2);
}

TEST_F(PolicyArbitrationTest, ActionCooldownAndCapsLookAtSendTimes) {
  Run(0);
  auto c = Run(2 * kMillisPerDay);
  EXPECT_EQ(c[0].stopped_by, "cooldown.action");
  EXPECT_EQ(c[0].stopped_detail, "guide sent 2d apart; cool-down 3d");
  EXPECT_EQ(c[1].stopped_by, "cap.one_email");
  c = Run(8 * kMillisPerDay);
  EXPECT_EQ(c[0].outcome, v1::EMITTED);
}

TEST_F(PolicyArbitrationTest, ConsentStopsEmailOnlyAndDoNotContactStopsEverything) {
  v1::ContactState* contact = account_.add_contacts();
  contact->set_contact_id("ct-1");
  contact->set_email("ana@example.com");
  // An earlier address-only record of the same person unsubscribed.
  v1::ContactState* old = account_.add_contacts();
  old->set_email("ana@example.com");
  old->set_unsubscribed(true);
  auto c = Run(0);
  EXPECT_EQ(c[0].stopped_by, "consent.unsubscribed");
  EXPECT_EQ(c[1].stopped_by, "consent.unsubscribed");
  EXPECT_EQ(c[2].outcome, v1::EMITTED);  // DIGITAL is not marketing e-mail
  account_.mutable_contacts(0)->set_do_not_contact(true);
  c = Run(kMillisPerDay);
  EXPECT_EQ(c[2].stopped_by, "do_not_contact");
  EXPECT_EQ(c[2].stopped_detail, "contact ct-1 is do-not-contact in CRM");
}

TEST(ExperimentArmTest, StableAndSharedByWeight) {
  config::Experiment e;
  e.id = "exp";
  e.holdout = 0.1;
  e.arms = {{"champion", 3, {}, {}, {}, {}}, {"challenger", 1, {}, {}, {}, {}}};
  std::map<std::string, int> counts;
  for (int i = 0; i < 20000; ++i) {
    std::string account = "acct-" + std::to_string(i);
    std::string arm = AssignArm(e, account);
    EXPECT_EQ(arm, AssignArm(e, account));
    ++counts[arm];
  }
  EXPECT_NEAR(counts["holdout"] / 20000.0, 0.1, 0.01);
  EXPECT_NEAR(counts["champion"] / 20000.0, 0.675, 0.015);
  EXPECT_NEAR(counts["challenger"] / 20000.0, 0.225, 0.015);
  e.arms.clear();
  EXPECT_EQ(AssignArm(e, "acct-1") == "holdout" || AssignArm(e, "acct-1") == "treatment", true);
}

TEST(PropensityTest, ScoreIsPriorityTimesPropensityTimesContext) {
  config::DecisionConfig config = MustParseDecision(R"(
journey: {stages: [unaware]}
arbitration:
  propensity:
    - {action: call, channel: INSIDE_SALES, value: 0.5}
    - {channel: EMAIL, value: 0.8}
  context:
    - {id: busy, when: {type: web.pricing_view}, channel: [INSIDE_SALES], weight: 1.5}
rules:
  - {id: call, when: {type: "web.*"}, action: call, channel: INSIDE_SALES, priority: 80}
  - {id: mail, when: {type: "web.*"}, action: mail, channel: EMAIL, priority: 60}
)");
  RuleIndex index(config);
  v1::AccountState account;
  std::vector<std::string> entered;
  v1::Signal s = MakeSignal("e", "web.page_view", "acct-1", 0);
  condition::EvalContext ctx(config, s, account, kT0, entered);
  auto c = Decide(config, index, ctx);
  EXPECT_DOUBLE_EQ(c[0].score, 40);   // 80 x 0.5
  EXPECT_DOUBLE_EQ(c[1].score, 48);   // 60 x 0.8: wins
  EXPECT_EQ(c[1].outcome, v1::EMITTED);
  v1::Signal pricing = MakeSignal("e2", "web.pricing_view", "acct-1", 0);
  condition::EvalContext ctx2(config, pricing, account, kT0, entered);
  c = Decide(config, index, ctx2);
  EXPECT_DOUBLE_EQ(c[0].score, 60);   // 80 x 0.5 x 1.5
  EXPECT_EQ(c[0].context_ids, "busy");
  EXPECT_EQ(c[0].outcome, v1::EMITTED);
}

}  // namespace
}  // namespace demandcenter::rules
