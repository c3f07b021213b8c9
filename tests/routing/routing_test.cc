#include "demandcenter/routing/routing.h"

#include <map>

#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::routing {
namespace {

config::Pool MakePool() {
  config::Pool pool;
  pool.id = "sdr_team";
  pool.members = {{"rep-1", 1}, {"rep-2", 1}, {"rep-3", 2}};
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

TEST(AutoChannelTest, FollowsStageAndDealComplexity) {
  condition::Facts facts;
  v1::AccountState a;
  a.set_stage("engaged");
  EXPECT_EQ(AutoChannel(a, 1, &facts), v1::DIGITAL);
  a.set_stage("evaluating");
  EXPECT_EQ(AutoChannel(a, 2, &facts), v1::INSIDE_SALES);
  EXPECT_EQ(AutoChannel(a, 4, &facts), v1::FIELD_SALES);
  a.set_opportunity_amount(250000);
  EXPECT_EQ(AutoChannel(a, 1, &facts), v1::FIELD_SALES);
  EXPECT_EQ(facts["auto.amount"], "250000");
  a.set_stage("negotiating");
  EXPECT_EQ(AutoChannel(a, 1, &facts), v1::FIELD_SALES);
  a.set_stage("customer");
  EXPECT_EQ(AutoChannel(a, 1, &facts), v1::CUSTOMER_SUCCESS);
  a.set_stage("dormant");
  EXPECT_EQ(AutoChannel(a, 1, &facts), v1::EMAIL);
}

TEST(RouteTest, OwnerFirstThenPoolFallback) {
  config::Config config = testing::MustParse(R"(
journey: {stages: [s]}
pools: [{id: aes, members: [rep-ae-1]}]
rules:
  - {id: r, when: {type: x.y}, action: call, channel: FIELD_SALES, role: field_ae, route: {owner: account, pool: aes}}
)");
  condition::Facts facts;
  v1::AccountState a;
  a.set_account_id("acct-1");
  RouteResult r = Route(config, config.rules[0], a, 1, &facts);
  EXPECT_EQ(r.assignee, "rep-ae-1");
  EXPECT_EQ(r.pool, "aes");
  EXPECT_EQ(r.reason, "no account owner in CRM; pool aes member rep-ae-1");
  a.set_owner_id("rep-owner");
  r = Route(config, config.rules[0], a, 1, &facts);
  EXPECT_EQ(r.assignee, "rep-owner");
  EXPECT_EQ(r.pool, "");
  EXPECT_EQ(r.channel, v1::FIELD_SALES);
}

}  // namespace
}  // namespace demandcenter::routing
