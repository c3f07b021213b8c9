// Prompt text: templates, generated sentences, the "Who" line, the body.
#include "demandcenter/outputs/prompt_text.h"

#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::outputs {
namespace {

using testing::kT0;
using testing::MakeSignal;

class PromptTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    account_.set_account_id("acct-1");
    account_.set_account_name("Acme");
    account_.set_stage("evaluating");
    account_.set_owner_id("rep-7");
    account_.set_opportunity_amount(120000);
    auto* c = account_.add_contacts();
    c->set_contact_id("ct-1");
    c->set_title("CFO");
    c->set_role("finance");
    c->set_email("ada@acme.example");
    zone_.tz = &utc_;
    zone_.name = "UTC";
    committee_.size = 3;
    committee_.roles = {"champion", "finance", "technical"};
  }

  std::string Render(std::string_view text, const v1::Signal& signal) {
    PromptFacts f{signal, account_, facts_, 42.5, committee_, kT0 + kMillisPerHour, zone_};
    return outputs::Render(text, f);
  }

  v1::AccountState account_;
  condition::Facts facts_ = {{"count.web.pricing_view", "3"}};
  condition::Committee committee_;
  absl::TimeZone utc_ = absl::UTCTimeZone();
  rules::PolicyZone zone_;
};

TEST_F(PromptTextTest, PlaceholdersAreFilledFromTheAccountTheSignalAndTheRule) {
  v1::Signal s = MakeSignal("e1", "web.pricing_view", "acct-1", 0, "ct-1");
  s.mutable_web_visit()->set_path("/pricing");
  EXPECT_EQ(Render("{contact} at {account_name} ({stage}) saw {page} {count} times; score {score}", s),
            "ct-1 (CFO) at Acme (evaluating) saw /pricing 3 times; score 42.5");
  EXPECT_EQ(Render("{committee_size}: {committee_roles}; {amount} owned by {owner}, due {due}", s),
            "3: champion, finance and technical; 120000 owned by rep-7, due Mon 2 Mar 10:00 (UTC)");
  EXPECT_EQ(Render("[{nonsense}] {contact_title} {type}", s), "[] CFO web.pricing_view");
  EXPECT_EQ(Render("no placeholders", s), "no placeholders");
  EXPECT_EQ(Render("unclosed {stage", s), "unclosed {stage");
}

TEST_F(PromptTextTest, UnknownContactsAndMissingPagesLeaveNoHoles) {
  v1::Signal s = MakeSignal("e1", "email.click", "acct-1", 0, "ct-404");
  s.mutable_email_engagement()->set_link_url("https://example.com/guide");
  EXPECT_EQ(Render("{contact} clicked {page}", s), "someone at the account clicked https://example.com/guide");
  v1::Signal bare = MakeSignal("e2", "crm.meeting_held", "acct-1", 0);
  EXPECT_EQ(Render("{page}", bare), "crm.meeting_held");
}

TEST_F(PromptTextTest, GeneratedWhatDescribesTheSignal) {
  v1::Signal demo = MakeSignal("e1", "web.demo_request", "acct-1", 0, "ct-1");
  EXPECT_EQ(GeneratedWhat(demo, account_), "ct-1 (CFO) at Acme requested a demo.");
  v1::Signal visit = MakeSignal("e2", "web.page_view", "acct-1", 0);
  EXPECT_EQ(GeneratedWhat(visit, account_), "Someone at Acme visited the site.");
  v1::Signal won = MakeSignal("e3", "crm.deal_won", "acct-1", 0);
  EXPECT_EQ(GeneratedWhat(won, account_), "Acme signed.");
  v1::Signal other = MakeSignal("e4", "partner.referral", "acct-1", 0);
  EXPECT_EQ(GeneratedWhat(other, account_), "partner.referral from the account at Acme.");
}

TEST_F(PromptTextTest, WhoLinesNameTheContactAndTheCommittee) {
  v1::Signal s = MakeSignal("e1", "web.demo_request", "acct-1", 0, "ct-1");
  EXPECT_EQ(WhoLine(account_, s, committee_, 30 * kMillisPerDay),
            "ct-1 (CFO, finance); 3 people engaged in the last 30d (champion, finance and technical).");
  condition::Committee nobody;
  v1::Signal anon = MakeSignal("e2", "web.page_view", "acct-1", 0);
  EXPECT_EQ(WhoLine(account_, anon, nobody, 14 * kMillisPerDay),
            "no contact named; nobody engaged in the last 14d.");
  v1::OpenTask task;
  task.set_contact_email("ada@acme.example");
  EXPECT_EQ(TaskWhoLine(task, account_), "ada@acme.example; account Acme, stage evaluating.");
  task.set_contact_id("ct-1");
  EXPECT_EQ(TaskWhoLine(task, account_), "ct-1; account Acme, stage evaluating.");
  EXPECT_EQ(TaskWhoLine(v1::OpenTask{}, account_), "no contact named; account Acme, stage evaluating.");
}

TEST_F(PromptTextTest, TheBodyIsWhatWhoDoBy) {
  EXPECT_EQ(PromptBody("Ada asked.", "ct-1", "Call her", kT0, zone_),
            "Ada asked.\nWho: ct-1\nDo: Call her\nBy: Mon 2 Mar 09:00 (UTC).");
}

TEST(JoinTest, JoinsWithCommasAndAFinalAnd) {
  EXPECT_EQ(JoinAnd({}, "none"), "none");
  EXPECT_EQ(JoinAnd({"a"}, "none"), "a");
  EXPECT_EQ(JoinAnd({"a", "b"}, ""), "a and b");
  EXPECT_EQ(JoinAnd({"a", "b", "c"}, ""), "a, b and c");
  EXPECT_EQ(FactsSentence({{"score", "12"}, {"stage", "aware"}}), "score 12, stage aware");
  EXPECT_EQ(FactsSentence({}), "");
}

}  // namespace
}  // namespace demandcenter::outputs
