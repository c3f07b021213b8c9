// Identity resolution: account ids name the account; identifiers resolve
// through links learned from any resolved signal, on the partition that
// learned them; junk values, conflicting links and e-mail domains follow
// the guard rails.
#include "demandcenter/identity/identity.h"

#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::identity {
namespace {

using testing::MakeSignal;

class ResolverTest : public ::testing::Test {
 protected:
  // Resolves and, when resolved, learns: what the pipeline does.
  Resolution See(const v1::Signal& signal, int32_t partition = 0) {
    Resolution r = resolver_.Resolve(signal, partition);
    resolver_.Learn(signal, r, partition);
    return r;
  }
  std::string AccountOf(const v1::Signal& signal, int32_t partition = 0) {
    return resolver_.Resolve(signal, partition).account_id;
  }

  config::IdentityConfig config_;
  state::InMemoryStateStore store_;
  Resolver resolver_{config_, &store_};
};

TEST_F(ResolverTest, AnAccountIdNamesTheAccount) {
  Resolution r = resolver_.Resolve(MakeSignal("e1", "web.page_view", "acct-1", 0), 0);
  EXPECT_EQ(r.account_id, "acct-1");
  EXPECT_EQ(r.how, How::kCarried);
}

TEST_F(ResolverTest, UnknownIdentifiersResolveToNothingUntilLearned) {
  v1::Signal anon = MakeSignal("e1", "web.page_view", "", 0);
  anon.set_anonymous_id("cookie-9");
  EXPECT_EQ(See(anon).how, How::kNone);

  v1::Signal form = MakeSignal("e2", "web.form_submit", "acct-1", 1000);
  form.set_anonymous_id("cookie-9");
  form.set_email("ada@acme.example");
  See(form);
  EXPECT_EQ(AccountOf(anon), "acct-1");

  v1::Signal click = MakeSignal("e3", "email.click", "", 2000);
  click.set_email("ada@acme.example");
  Resolution r = See(click);
  EXPECT_EQ(r.account_id, "acct-1");
  EXPECT_EQ(r.how, How::kLinked);
  EXPECT_EQ(resolver_.counters().by_link, 2);  // the visit and the click
}

TEST_F(ResolverTest, AFormFillWithoutAnAccountTeachesItsVisitorId) {
  // The CRM knows the address; the form fill carries the address and the
  // visitor id, no account: the visitor id is linked through the address.
  v1::Signal crm = MakeSignal("e1", "crm.contact_upsert", "acct-1", 0, "ct-1");
  crm.set_email("ada@acme.example");
  See(crm);
  v1::Signal form = MakeSignal("e2", "web.form_submit", "", 1000);
  form.set_email("ada@acme.example");
  form.set_anonymous_id("cookie-7");
  EXPECT_EQ(See(form).account_id, "acct-1");
  v1::Signal visit = MakeSignal("e3", "web.pricing_view", "", 2000);
  visit.set_anonymous_id("cookie-7");
  EXPECT_EQ(AccountOf(visit), "acct-1");
}

TEST_F(ResolverTest, IdentitiesAreScopedToThePartition) {
  See(MakeSignal("e1", "web.form_submit", "acct-1", 0, "ct-1"), 2);
  v1::Signal anon = MakeSignal("e2", "email.open", "", 0, "ct-1");
  EXPECT_EQ(AccountOf(anon, 2), "acct-1");
  EXPECT_EQ(AccountOf(anon, 3), "");
}

TEST_F(ResolverTest, ContactIdWinsOverAddressAndVisitor) {
  See(MakeSignal("e1", "crm.contact_upsert", "acct-1", 0, "ct-1"));
  v1::Signal b = MakeSignal("e2", "web.form_submit", "acct-2", 0);
  b.set_email("shared@example.com");
  See(b);
  v1::Signal both = MakeSignal("e3", "email.click", "", 0, "ct-1");
  both.set_email("shared@example.com");
  EXPECT_EQ(AccountOf(both), "acct-1");
}

TEST_F(ResolverTest, AConflictingLinkIsRefusedAndCountedTheFirstStands) {
  v1::Signal first = MakeSignal("e1", "web.form_submit", "acct-1", 0);
  first.set_anonymous_id("shared-laptop");
  See(first);
  v1::Signal second = MakeSignal("e2", "web.form_submit", "acct-2", 1000);
  second.set_anonymous_id("shared-laptop");
  EXPECT_EQ(See(second).account_id, "acct-2");  // its own account_id names it
  v1::Signal visit = MakeSignal("e3", "web.page_view", "", 2000);
  visit.set_anonymous_id("shared-laptop");
  EXPECT_EQ(AccountOf(visit), "acct-1");
  EXPECT_EQ(resolver_.counters().conflicts, 1);
}

TEST_F(ResolverTest, TheCrmMovesAContactToAnotherAccount) {
  See(MakeSignal("e1", "crm.contact_upsert", "acct-1", 0, "ct-1"));
  See(MakeSignal("e2", "crm.contact_upsert", "acct-2", 1000, "ct-1"));
  EXPECT_EQ(AccountOf(MakeSignal("e3", "email.open", "", 2000, "ct-1")), "acct-2");
  EXPECT_EQ(resolver_.counters().conflicts, 0);
  // A web signal naming another account does not move it.
  See(MakeSignal("e4", "web.page_view", "acct-3", 3000, "ct-1"));
  EXPECT_EQ(AccountOf(MakeSignal("e5", "email.open", "", 4000, "ct-1")), "acct-2");
  EXPECT_EQ(resolver_.counters().conflicts, 1);
}

TEST_F(ResolverTest, JunkIdentifiersNeverResolveOrLink) {
  v1::Signal junk = MakeSignal("e1", "web.form_submit", "acct-1", 0);
  junk.set_anonymous_id("NULL");
  junk.set_email("test@example.com");
  See(junk);
  EXPECT_EQ(store_.ResolveIdentity("0/a:NULL"), std::nullopt);
  EXPECT_EQ(store_.ResolveIdentity("0/e:test@example.com"), std::nullopt);
  v1::Signal other = MakeSignal("e2", "web.page_view", "", 1000);
  other.set_anonymous_id("null");
  EXPECT_EQ(See(other).how, How::kNone);
  EXPECT_GE(resolver_.counters().blocked, 1);
}

TEST_F(ResolverTest, SignalsWithoutAnAccountTeachNothing) {
  v1::Signal anon = MakeSignal("e1", "web.page_view", "", 0, "ct-1");
  anon.set_anonymous_id("cookie-1");
  See(anon);
  EXPECT_EQ(store_.ResolveIdentity("0/c:ct-1"), std::nullopt);
  EXPECT_EQ(store_.ResolveIdentity("0/a:cookie-1"), std::nullopt);
}

TEST(ResolverDomainTest, AnAddressNoLinkKnowsResolvesByItsDomainAndTeachesOnlyItsVisitorId) {
  config::IdentityConfig config;
  config.domains = {{"acme.example", "acct-acme"}};
  state::InMemoryStateStore store;
  Resolver resolver(config, &store);
  v1::Signal click = MakeSignal("e1", "web.form_submit", "", 0);
  click.set_email("New.Person@ACME.example");
  click.set_anonymous_id("cookie-3");
  Resolution r = resolver.Resolve(click, 0);
  EXPECT_EQ(r.account_id, "acct-acme");
  EXPECT_EQ(r.how, How::kDomain);
  resolver.Learn(click, r, 0);
  EXPECT_EQ(store.ResolveIdentity("0/a:cookie-3"), "acct-acme") << "the form fill's visitor works at the domain's account";
  EXPECT_EQ(store.ResolveIdentity("0/e:New.Person@ACME.example"), std::nullopt) << "a domain names no person";
  v1::Signal personal = MakeSignal("e2", "email.click", "", 0);
  personal.set_email("someone@gmail.com");
  EXPECT_EQ(resolver.Resolve(personal, 0).how, How::kNone);
  EXPECT_EQ(resolver.counters().by_domain, 1);
}

TEST_F(ResolverTest, ACrmAccountRecordTeachesItsDomainButNeverAFreeMailOne) {
  v1::Signal update = MakeSignal("e1", "crm.account_update", "acct-1", 0);
  update.mutable_crm_activity()->set_account_domain("Acme.Example.");
  See(update);
  v1::Signal click = MakeSignal("e2", "email.click", "", 1000);
  click.set_email("someone@acme.example");
  Resolution r = See(click);
  EXPECT_EQ(r.account_id, "acct-1");
  EXPECT_EQ(r.how, How::kDomain);

  v1::Signal gmail = MakeSignal("e3", "crm.account_update", "acct-2", 2000);
  gmail.mutable_crm_activity()->set_account_domain("gmail.com");
  See(gmail);
  v1::Signal personal = MakeSignal("e4", "email.click", "", 3000);
  personal.set_email("someone@gmail.com");
  EXPECT_EQ(See(personal).how, How::kNone);
}

TEST_F(ResolverTest, ConflictsNameBothSidesAndTheFirstLinkStands) {
  v1::Signal first = MakeSignal("e1", "crm.contact_upsert", "acct-1", 0, "ct-1");
  first.set_email("ada@acme.example");
  first.mutable_crm_activity()->set_account_domain("acme.example");
  std::vector<Conflict> conflicts;
  resolver_.Learn(first, resolver_.Resolve(first, 0), 0, nullptr, &conflicts);
  EXPECT_TRUE(conflicts.empty());

  // Another contact with the same address, at another account with the
  // same domain: the address, its contact and the domain stay put.
  v1::Signal second = MakeSignal("e2", "crm.contact_upsert", "acct-2", 1000, "ct-2");
  second.set_email("ada@acme.example");
  second.mutable_crm_activity()->set_account_domain("acme.example");
  resolver_.Learn(second, resolver_.Resolve(second, 0), 0, nullptr, &conflicts);
  ASSERT_EQ(conflicts.size(), 3u);
  EXPECT_EQ(conflicts[0].identifier, "e:ada@acme.example");
  EXPECT_EQ(conflicts[0].linked_to, "account");
  EXPECT_EQ(conflicts[0].kept, "acct-1");
  EXPECT_EQ(conflicts[0].refused, "acct-2");
  EXPECT_EQ(conflicts[1].identifier, "e:ada@acme.example");
  EXPECT_EQ(conflicts[1].linked_to, "contact");
  EXPECT_EQ(conflicts[1].kept, "ct-1");
  EXPECT_EQ(conflicts[1].refused, "ct-2");
  EXPECT_EQ(conflicts[2].identifier, "d:acme.example");
  EXPECT_EQ(conflicts[2].kept, "acct-1");
  EXPECT_EQ(resolver_.counters().conflicts, 3);
  v1::Signal click = MakeSignal("e3", "email.click", "", 2000);
  click.set_email("ada@acme.example");
  EXPECT_EQ(AccountOf(click), "acct-1");
}

}  // namespace
}  // namespace demandcenter::identity
