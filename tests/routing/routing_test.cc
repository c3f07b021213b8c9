#include "demandcenter/routing/routing.h"

#include <map>

#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::routing {
namespace {

config::Pool MakePool() {
  config::Pool pool;
  pool.id = "sdr_team";
  pool.members = {{"rep-1", 1, false, {}}, {"rep-2", 1, false, {}}, {"rep-3", 2, false, {}}};
  return pool;
}

TEST(PickPoolMemberTest, SameAccountSameMember) {
  config::Pool pool = MakePool();
  for (int i = 0; i < 100; ++i) {
    std::string account = "acct-" + std::to_string(i);
    EXPECT_EQ(PickPoolMember(pool, account), PickPoolMember(pool, account));
  }
}

TEST(PickPoolMemberTest, SharesFollowWeights) {
  config::Pool pool = MakePool();
  std::map<std::string, int> counts;
  for (int i = 0; i < 20000; ++i) ++counts[PickPoolMember(pool, "acct-" + std::to_string(i))];
  // rep-3 has half the total weight.
  EXPECT_NEAR(counts["rep-3"] / 20000.0, 0.5, 0.02);
  EXPECT_NEAR(counts["rep-1"] / 20000.0, 0.25, 0.02);
}

TEST(PickPoolMemberTest, RemovingAMemberMovesOnlyItsAccounts) {
  config::Pool pool = MakePool();
  config::Pool smaller = pool;
  smaller.members.erase(smaller.members.begin());  // rep-1 leaves
  for (int i = 0; i < 2000; ++i) {
    std::string account = "acct-" + std::to_string(i);
    std::string before = PickPoolMember(pool, account);
    if (before != "rep-1") EXPECT_EQ(PickPoolMember(smaller, account), before);
  }
}

class AutoChannelTest : public ::testing::Test {
 protected:
  config::DecisionConfig config_ = testing::MustParseDecision(R"(
journey:
  stages: [unaware, engaged, evaluating, negotiating, customer, dormant]
  transitions:
    - {id: t1, from: [unaware], to: engaged, when: {type: x}}
    - {id: t2, from: [engaged], to: evaluating, when: {type: x}}
    - {id: t3, from: [evaluating], to: negotiating, when: {type: x}}
    - {id: t4, from: [negotiating], to: customer, when: {type: x}}
    - {id: t5, from: [engaged], to: dormant, when: {type: x}}
routing:
  auto:
    partner_territories: [latam]
    specialists:
      - {when: {type: web.pricing_view}, role: pricing_specialist, pool: pricing}
    routes:
      FIELD_SALES: {role: field_ae, owner: account, pool: aes}
      INSIDE_SALES: {role: sdr, pool: sdrs}
pools:
  - {id: pricing, members: [rep-p]}
  - {id: aes, members: [rep-ae]}
  - {id: sdrs, members: [rep-sdr]}
)");
  v1::AccountState account_;
  std::vector<std::string> entered_;
  condition::Facts facts_;

  AutoChoice Choose(const std::string& type = "web.page_view") {
    v1::Signal s = testing::MakeSignal("e", type, "acct-1", 0);
    condition::EvalContext ctx(config_, s, account_, testing::kT0, entered_);
    facts_.clear();
    return AutoChannel(config_, ctx, &facts_);
  }
};

TEST_F(AutoChannelTest, FollowsStageAndDealComplexity) {
  account_.set_stage("engaged");
  EXPECT_EQ(Choose().channel, v1::DIGITAL);
  EXPECT_EQ(facts_["auto.branch"], "digital");
  account_.set_stage("evaluating");
  EXPECT_EQ(Choose().channel, v1::INSIDE_SALES);
  account_.set_opportunity_amount(250000);
  AutoChoice field = Choose();
  EXPECT_EQ(field.channel, v1::FIELD_SALES);
  EXPECT_EQ(field.role, "field_ae");
  EXPECT_TRUE(field.to_owner);
  EXPECT_EQ(field.pool, "aes");
  EXPECT_EQ(facts_["auto.amount"], "250000");
  EXPECT_EQ(facts_["auto.complex"], "yes: amount 250000 >= 100000");
  account_.set_stage("negotiating");
  EXPECT_EQ(Choose().channel, v1::FIELD_SALES);
  account_.set_opportunity_amount(20000);
  EXPECT_EQ(Choose().channel, v1::INSIDE_SALES);  // a routine late-stage deal stays virtual
  account_.set_stage("customer");
  EXPECT_EQ(Choose().channel, v1::CUSTOMER_SUCCESS);
  account_.set_stage("dormant");
  EXPECT_EQ(Choose().channel, v1::EMAIL);
}

TEST_F(AutoChannelTest, ComplexityBeyondAmount) {
  account_.set_stage("engaged");
  account_.set_product_count(3);
  EXPECT_EQ(Choose().channel, v1::INSIDE_SALES);  // new and complex: a person, virtually
  EXPECT_EQ(facts_["auto.complex"], "yes: products 3 >= 3");
  account_.set_product_count(1);
  account_.set_segment("enterprise");
  EXPECT_EQ(Choose().channel, v1::INSIDE_SALES);
  EXPECT_EQ(facts_["auto.complex"], "yes: segment enterprise");
}

TEST_F(AutoChannelTest, AffinityForPeopleBringsAPersonEarly) {
  account_.set_stage("engaged");
  account_.set_digital_responses(2);
  account_.set_person_responses(1);
  EXPECT_EQ(Choose().channel, v1::INSIDE_SALES);
  EXPECT_EQ(facts_["auto.affinity"], "1 of 3 responses to people: prefers people");
  account_.set_digital_responses(8);
  EXPECT_EQ(Choose().channel, v1::DIGITAL);
}

TEST_F(AutoChannelTest, SpecialistsInEvaluationAndPartnersInTheirTerritories) {
  account_.set_stage("evaluating");
  // A routine deal gets no specialist: an SDR.
  AutoChoice routine = Choose("web.pricing_view");
  EXPECT_EQ(routine.channel, v1::INSIDE_SALES);
  EXPECT_EQ(facts_["auto.branch"], "inside_sales");
  EXPECT_EQ(facts_.count("auto.specialist"), 0u);
  account_.set_segment("enterprise");
  AutoChoice pricing = Choose("web.pricing_view");
  EXPECT_EQ(pricing.channel, v1::SPECIALIST);
  EXPECT_EQ(pricing.role, "pricing_specialist");
  EXPECT_EQ(pricing.pool, "pricing");
  EXPECT_EQ(facts_["auto.specialist"], "pricing_specialist");
  account_.set_territory("latam");
  EXPECT_EQ(Choose().channel, v1::FIELD_SALES);  // complex: no partner
  account_.clear_segment();
  EXPECT_EQ(Choose().channel, v1::PARTNER);
  account_.set_stage("customer");
  EXPECT_EQ(Choose().channel, v1::PARTNER);
  account_.set_opportunity_amount(500000);  // complex: our own people
  EXPECT_EQ(Choose().channel, v1::CUSTOMER_SUCCESS);
}

TEST(AssignTest, OwnerFirstThenPoolFallback) {
  config::DecisionConfig config = testing::MustParseDecision(R"(
journey: {stages: [s]}
pools: [{id: aes, members: [rep-ae-1]}]
)");
  PoolDirectory pools(config);
  v1::AccountState a;
  a.set_account_id("acct-1");
  Assignment r = Assign(pools, true, "aes", a, testing::kT0);
  EXPECT_EQ(r.assignee, "rep-ae-1");
  EXPECT_EQ(r.pool, "aes");
  EXPECT_EQ(r.kind, "no_owner_pool");
  EXPECT_EQ(r.reason, "no account owner in CRM; pool aes member rep-ae-1");
  a.set_owner_id("rep-owner");
  r = Assign(pools, true, "aes", a, testing::kT0);
  EXPECT_EQ(r.assignee, "rep-owner");
  EXPECT_EQ(r.pool, "");
  EXPECT_EQ(r.kind, "owner");
}

TEST(AssignTest, AnOwnerOutOfOfficeFallsBackToThePool) {
  config::DecisionConfig config = testing::MustParseDecision(R"(
journey: {stages: [s]}
pools:
  - id: aes
    members:
      - rep-ae-1
      - {id: rep-owner, out_of_office: [{from: "2026-03-02", to: "2026-03-06"}]}
)");
  PoolDirectory pools(config);
  v1::AccountState a;
  a.set_account_id("acct-1");
  a.set_owner_id("rep-owner");
  Assignment r = Assign(pools, true, "aes", a, testing::kT0);  // 2026-03-02T09:00Z
  EXPECT_EQ(r.assignee, "rep-ae-1");
  EXPECT_EQ(r.kind, "owner_unavailable_pool");
  EXPECT_EQ(r.reason, "account owner rep-owner unavailable; pool aes member rep-ae-1");
  r = Assign(pools, true, "aes", a, testing::kT0 + 5 * kMillisPerDay);  // back on the 7th
  EXPECT_EQ(r.assignee, "rep-owner");
}

TEST(PoolDirectoryTest, UnavailableMembersAreSkippedAndAccountsComeBack) {
  config::Pool pool = MakePool();
  std::map<std::string, std::string> before;
  for (int i = 0; i < 300; ++i) before["acct-" + std::to_string(i)] = PickPoolMember(pool, "acct-" + std::to_string(i));
  pool.members[2].out_of_office = {{testing::kT0, testing::kT0 + kMillisPerDay}};
  for (const auto& [account, member] : before) {
    std::vector<std::string> skipped;
    std::string during = PickAvailableMember(pool, account, testing::kT0, {}, &skipped);
    if (member == "rep-3") {
      EXPECT_NE(during, "rep-3");
      EXPECT_EQ(skipped, std::vector<std::string>{"rep-3"});
    } else {
      EXPECT_EQ(during, member);  // only rep-3's accounts move
    }
    EXPECT_EQ(PickAvailableMember(pool, account, testing::kT0 + kMillisPerDay, {}), member);
  }
}

TEST(PoolDirectoryTest, AppliesUpdates) {
  config::DecisionConfig config = testing::MustParseDecision(R"(
journey: {stages: [s]}
pools: [{id: sdr, manager: mgr-1, members: [rep-1, rep-2]}]
)");
  PoolDirectory pools(config);
  v1::PoolMemberUpdate u;
  u.set_pool_id("sdr");
  u.set_member_id("rep-3");
  u.set_weight(2);
  ASSERT_TRUE(pools.Apply(u).ok());
  ASSERT_EQ(pools.Find("sdr")->members.size(), 3u);
  EXPECT_EQ(pools.Find("sdr")->members[2].weight, 2);
  u.set_paused(true);
  ASSERT_TRUE(pools.Apply(u).ok());
  EXPECT_FALSE(pools.Available("rep-3", testing::kT0));
  EXPECT_TRUE(pools.Available("rep-1", testing::kT0));
  v1::PoolMemberUpdate removal;
  removal.set_pool_id("sdr");
  removal.set_member_id("rep-1");
  removal.set_removed(true);
  ASSERT_TRUE(pools.Apply(removal).ok());
  EXPECT_EQ(pools.Find("sdr")->members.size(), 2u);
  EXPECT_EQ(pools.Find("sdr")->manager, "mgr-1");

  v1::PoolMemberUpdate unknown;
  unknown.set_pool_id("nope");
  unknown.set_member_id("rep-9");
  EXPECT_EQ(pools.Apply(unknown).code(), absl::StatusCode::kNotFound);
  v1::PoolMemberUpdate empty;
  EXPECT_EQ(pools.Apply(empty).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace demandcenter::routing
