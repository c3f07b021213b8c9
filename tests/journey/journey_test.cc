#include "demandcenter/journey/journey.h"

#include <cmath>

#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::journey {
namespace {

using testing::kT0;
using testing::MakeSignal;
using testing::MustParseDecision;

constexpr char kConfig[] = R"(
journey:
  stages: [unaware, aware, engaged, dormant]
  transitions:
    - {id: touch, from: [unaware], to: aware, when: {type: "web.*"}}
    - {id: engage, from: [aware], to: engaged, when: {score_at_least: 10}}
    - {id: sleep, from: [aware, engaged], to: dormant, inactive_for: 30d}
    - {id: sleep_early, from: [engaged], to: dormant, inactive_for: 20d}
scoring:
  half_life: 7d
  weights: {web.pricing_view: 8, "web.*": 1, email.unsubscribe: -5}
committee:
  roles:
    finance: [cfo, finance]
    decision_maker: [ceo, vp]
)";

class JourneyTest : public ::testing::Test {
 protected:
  config::DecisionConfig config_ = MustParseDecision(kConfig);
  v1::AccountState account_ = NewAccount(config_, "acct-1", kT0);

  void Apply(const v1::Signal& s) { ApplySignal(config_, s, &account_); }
};

TEST_F(JourneyTest, ScoreDecaysWithHalfLifeFromEventTime) {
  Apply(MakeSignal("e1", "web.pricing_view", "acct-1", 0));
  Apply(MakeSignal("e2", "web.pricing_view", "acct-1", 7 * kMillisPerDay));
  // 8 decayed by one half-life, plus 8.
  EXPECT_DOUBLE_EQ(account_.score().value(), 12.0);
  EXPECT_EQ(account_.score().as_of_ms(), kT0 + 7 * kMillisPerDay);
  EXPECT_DOUBLE_EQ(condition::DecayedValue(account_.score(), config_.scoring.half_life_ms,
                                           kT0 + 14 * kMillisPerDay),
                   6.0);
}

TEST_F(JourneyTest, LateSignalAddsItsDecayedWeight) {
  Apply(MakeSignal("e1", "web.pricing_view", "acct-1", 7 * kMillisPerDay));
  Apply(MakeSignal("e2", "web.pricing_view", "acct-1", 0));  // a week late
  EXPECT_DOUBLE_EQ(account_.score().value(), 12.0);
  EXPECT_EQ(account_.score().as_of_ms(), kT0 + 7 * kMillisPerDay);
}

TEST_F(JourneyTest, NegativeWeightIsNotEngagement) {
  Apply(MakeSignal("e1", "email.unsubscribe", "acct-1", 0, "ct-1"));
  EXPECT_DOUBLE_EQ(account_.score().value(), -5.0);
  EXPECT_EQ(account_.last_engaged_ms(), 0);
  ASSERT_EQ(account_.contacts_size(), 1);
  EXPECT_TRUE(account_.contacts(0).unsubscribed());
}

TEST_F(JourneyTest, DuplicateEventIdInsideWindowIsRefusedAndAfterItAccepted) {
  v1::Signal s = MakeSignal("dup", "web.page_view", "acct-1", 0);
  EXPECT_TRUE(RecordEventId(config_, s, &account_));
  EXPECT_FALSE(RecordEventId(config_, s, &account_));
  Apply(MakeSignal("later", "web.page_view", "acct-1", 8 * kMillisPerDay));
  v1::Signal again = MakeSignal("dup", "web.page_view", "acct-1", 8 * kMillisPerDay);
  EXPECT_TRUE(RecordEventId(config_, again, &account_));  // the 7d window has passed
}

TEST_F(JourneyTest, RolesComeFromCrmRoleOrTitleKeywords) {
  EXPECT_EQ(RoleForTitle(config_, "Chief Financial Officer (CFO)"), "finance");
  EXPECT_EQ(RoleForTitle(config_, "VP Sales"), "decision_maker");
  EXPECT_EQ(RoleForTitle(config_, "Software Engineer"), "");
  v1::Signal s = MakeSignal("e1", "crm.contact_upsert", "acct-1", 0, "ct-1");
  s.mutable_crm_activity()->set_contact_title("VP Finance");
  Apply(s);
  EXPECT_EQ(account_.contacts(0).role(), "finance");  // first keyword list that matches
  v1::Signal explicit_role = MakeSignal("e2", "crm.contact_upsert", "acct-1", 0, "ct-1");
  explicit_role.mutable_crm_activity()->set_contact_role("champion");
  Apply(explicit_role);
  EXPECT_EQ(account_.contacts(0).role(), "champion");
}

TEST_F(JourneyTest, AdvanceChainsTransitionsOncePerSignal) {
  v1::Signal s = MakeSignal("e1", "web.pricing_view", "acct-1", kMillisPerHour);
  s.mutable_web_visit()->set_page_category("pricing");
  Apply(s);
  Apply(MakeSignal("e2", "web.pricing_view", "acct-1", kMillisPerHour));
  auto fired = Advance(config_, MakeSignal("e2", "web.pricing_view", "acct-1", kMillisPerHour), &account_);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].to, "aware");
  EXPECT_EQ(fired[0].dwell_ms, kMillisPerHour);
  EXPECT_EQ(fired[1].to, "engaged");
  EXPECT_EQ(fired[1].facts.at("score"), "16");
  EXPECT_EQ(account_.stage(), "engaged");
}

TEST_F(JourneyTest, InactivityDueUsesTheShortestApplicableTransition) {
  Apply(MakeSignal("e1", "web.page_view", "acct-1", 0));
  Advance(config_, MakeSignal("e1", "web.page_view", "acct-1", 0), &account_);
  EXPECT_EQ(account_.stage(), "aware");
  EXPECT_EQ(NextInactivityDue(config_, account_), kT0 + 30 * kMillisPerDay);
  account_.set_stage("engaged");
  EXPECT_EQ(NextInactivityDue(config_, account_), kT0 + 20 * kMillisPerDay);
  EXPECT_FALSE(FireInactivity(config_, kT0 + 20 * kMillisPerDay - 1, &account_).has_value());
  auto fired = FireInactivity(config_, kT0 + 25 * kMillisPerDay, &account_);
  ASSERT_TRUE(fired.has_value());
  EXPECT_EQ(fired->transition->id, "sleep_early");
  EXPECT_EQ(fired->at_ms, kT0 + 20 * kMillisPerDay);  // at its due time, not "now"
  EXPECT_EQ(account_.stage(), "dormant");
  EXPECT_EQ(NextInactivityDue(config_, account_), 0);  // dormant has no inactivity exit
}

}  // namespace
}  // namespace demandcenter::journey
