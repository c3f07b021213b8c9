// Identity resolution: account ids name the account and teach identifiers;
// identifiers resolve only on the partition that learned them.
#include "demandcenter/identity/identity.h"

#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::identity {
namespace {

using testing::MakeSignal;

class ResolverTest : public ::testing::Test {
 protected:
  state::InMemoryStateStore store_;
  Resolver resolver_{&store_};
};

TEST_F(ResolverTest, AnAccountIdNamesTheAccount) {
  EXPECT_EQ(resolver_.Resolve(MakeSignal("e1", "web.page_view", "acct-1", 0), 0), "acct-1");
}

TEST_F(ResolverTest, UnknownIdentifiersResolveToNothingUntilLearned) {
  v1::Signal anon = MakeSignal("e1", "web.page_view", "", 0);
  anon.set_anonymous_id("cookie-9");
  EXPECT_EQ(resolver_.Resolve(anon, 0), "");

  v1::Signal form = MakeSignal("e2", "web.form_submit", "acct-1", 1000);
  form.set_anonymous_id("cookie-9");
  form.set_email("ada@acme.example");
  resolver_.Learn(form, 0);
  EXPECT_EQ(resolver_.Resolve(anon, 0), "acct-1");

  v1::Signal click = MakeSignal("e3", "email.click", "", 2000);
  click.set_email("ada@acme.example");
  EXPECT_EQ(resolver_.Resolve(click, 0), "acct-1");
}

TEST_F(ResolverTest, IdentitiesAreScopedToThePartition) {
  v1::Signal form = MakeSignal("e1", "web.form_submit", "acct-1", 0, "ct-1");
  resolver_.Learn(form, 2);
  v1::Signal anon = MakeSignal("e2", "email.open", "", 0, "ct-1");
  EXPECT_EQ(resolver_.Resolve(anon, 2), "acct-1");
  EXPECT_EQ(resolver_.Resolve(anon, 3), "");
}

TEST_F(ResolverTest, ContactIdWinsOverAddressAndVisitor) {
  v1::Signal a = MakeSignal("e1", "crm.contact_upsert", "acct-1", 0, "ct-1");
  resolver_.Learn(a, 0);
  v1::Signal b = MakeSignal("e2", "web.form_submit", "acct-2", 0);
  b.set_email("shared@example.com");
  resolver_.Learn(b, 0);
  v1::Signal both = MakeSignal("e3", "email.click", "", 0, "ct-1");
  both.set_email("shared@example.com");
  EXPECT_EQ(resolver_.Resolve(both, 0), "acct-1");
}

TEST_F(ResolverTest, SignalsWithoutAnAccountTeachNothing) {
  v1::Signal anon = MakeSignal("e1", "web.page_view", "", 0, "ct-1");
  anon.set_anonymous_id("cookie-1");
  resolver_.Learn(anon, 0);
  EXPECT_EQ(store_.ResolveIdentity("0/c:ct-1"), std::nullopt);
  EXPECT_EQ(store_.ResolveIdentity("0/a:cookie-1"), std::nullopt);
}

}  // namespace
}  // namespace demandcenter::identity
