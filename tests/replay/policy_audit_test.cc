// The contact-policy audit: it must catch each kind of violation on outputs
// made up to break the policy, and find none in a generated run of 100,000
// signals through the default config — checked from replay's JSON lines and
// the input signals alone.
#include "demandcenter/replay/policy_audit.h"

#include <sstream>

#include "demandcenter/common/time.h"
#include "demandcenter/generate/generator.h"
#include "demandcenter/replay/replay.h"
#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::replay {
namespace {

using testing::kT0;  // Mon 2 Mar 2026 09:00 UTC
using testing::MakeSignal;

constexpr char kConfig[] = R"(
journey: {stages: [unaware]}
contact_policy:
  timezone: Europe/London
  business_hours: {days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00"}
  quiet_hours: {from: "20:00", to: "08:00", weekends: true}
  caps: [{id: email_weekly, channel: EMAIL, max: 2, per: 7d}]
  action_cooldowns: {guide: 3d}
rules: [{id: r, when: {type: x}, action: guide, channel: EMAIL}]
)";

v1::NextBestAction Action(const std::string& id, v1::Channel channel, int64_t send_at,
                          const std::string& contact = "", const std::string& action = "guide") {
  v1::NextBestAction a;
  a.set_action_id(id);
  a.set_account_id("acct-1");
  a.set_contact_id(contact);
  a.set_channel(channel);
  a.set_action(action);
  a.set_rule_id("r");
  *a.mutable_send_at() = FromMillis(send_at);
  *a.mutable_decided_at() = FromMillis(send_at);
  return a;
}

class PolicyAuditTest : public ::testing::Test {
 protected:
  config::Config config_ = testing::MustParse(kConfig);
  PolicyAudit audit_{config_.decision};
};

TEST_F(PolicyAuditTest, CleanOutputsPass) {
  audit_.OnAction(Action("a1", v1::EMAIL, kT0));
  audit_.OnAction(Action("a2", v1::EMAIL, kT0 + 4 * kMillisPerDay));
  audit_.OnAction(Action("a3", v1::INSIDE_SALES, kT0, "", "call"));
  AuditReport r = audit_.Finish();
  EXPECT_EQ(r.actions, 3);
  EXPECT_EQ(r.violations, 0) << (r.examples.empty() ? "" : r.examples[0]);
}

TEST_F(PolicyAuditTest, CatchesACapOvershootAndAnActionCooldown) {
  audit_.OnAction(Action("a1", v1::EMAIL, kT0));
  audit_.OnAction(Action("a2", v1::EMAIL, kT0 + kMillisPerDay, "", "news"));
  audit_.OnAction(Action("a3", v1::EMAIL, kT0 + 2 * kMillisPerDay));  // 3 in 7d; guide again after 2d
  AuditReport r = audit_.Finish();
  EXPECT_EQ(r.by_policy["cap.email_weekly"], 1);
  EXPECT_EQ(r.by_policy["cooldown.action"], 1);
}

TEST_F(PolicyAuditTest, CatchesSendsOutsideHoursInTheAccountsZone) {
  // Saturday noon in London: quiet for e-mail, closed for calls.
  audit_.OnAction(Action("a1", v1::EMAIL, kT0 + 5 * kMillisPerDay + 3 * kMillisPerHour));
  audit_.OnAction(Action("a2", v1::INSIDE_SALES, kT0 + 5 * kMillisPerDay, "", "call"));
  // 09:00 UTC is 04:00 in New York once the CRM says so.
  v1::Signal zone = MakeSignal("s1", "crm.account_update", "acct-1", 0);
  zone.mutable_crm_activity()->set_account_timezone("America/New_York");
  audit_.OnSignal(zone);
  audit_.OnAction(Action("a3", v1::INSIDE_SALES, kT0 + 7 * kMillisPerDay, "", "call"));
  v1::CrmPrompt prompt;
  prompt.set_account_id("acct-1");
  *prompt.mutable_send_at() = FromMillis(kT0 + 7 * kMillisPerDay);
  audit_.OnPrompt(prompt);
  AuditReport r = audit_.Finish();
  EXPECT_EQ(r.by_policy["quiet_hours"], 1);
  EXPECT_EQ(r.by_policy["business_hours"], 3);
}

TEST_F(PolicyAuditTest, CatchesEmailAfterUnsubscribeAndAnythingAfterDoNotContact) {
  // The address unsubscribes; a later signal links it to the CRM contact.
  v1::Signal unsubscribe = MakeSignal("s1", "email.unsubscribe", "acct-1", 0);
  unsubscribe.set_email("ana@example.com");
  audit_.OnSignal(unsubscribe);
  v1::Signal link = MakeSignal("s2", "web.form_submit", "acct-1", 1000, "ct-ana");
  link.set_email("ana@example.com");
  audit_.OnSignal(link);
  audit_.OnAction(Action("a1", v1::EMAIL, kT0, "ct-ana"));
  audit_.OnAction(Action("a2", v1::INSIDE_SALES, kT0, "ct-ana", "call"));  // calls are fine
  v1::Signal dnc = MakeSignal("s3", "crm.account_update", "acct-1", 2000);
  dnc.mutable_crm_activity()->set_do_not_contact(true);
  audit_.OnSignal(dnc);
  audit_.OnAction(Action("a3", v1::INSIDE_SALES, kT0 + kMillisPerDay, "ct-bo", "call"));
  v1::RoutingDecision routing;
  routing.set_account_id("acct-1");
  audit_.OnRouting(routing);
  AuditReport r = audit_.Finish();
  EXPECT_EQ(r.by_policy["consent.unsubscribed"], 1);
  EXPECT_EQ(r.by_policy["do_not_contact"], 2);
  EXPECT_EQ(r.violations, 3);
}

// A generated run of 100,000 signals over 10,000 accounts through the
// default config: replay writes JSON lines, and the audit reads them back
// with the input signals. No output breaks the contact policy, and
// `channel: auto` uses every branch.
TEST(AuditFilesTest, IdentityConflictsInTheOutputsAreNotDecisionsToCheck) {
  config::Config config = demandcenter::testing::DefaultConfig();
  const std::string input =
      R"({"event_id":"e1","occurred_at":"2026-03-02T09:00:00Z","type":"web.demo_request","account_id":"acct-1","anonymous_id":"anon-1"}
{"event_id":"e2","occurred_at":"2026-03-02T09:05:00Z","type":"web.demo_request","account_id":"acct-2","anonymous_id":"anon-1"}
)";
  std::istringstream in(input);
  std::stringstream out;
  std::ostringstream errors;
  ReplaySummary summary = Replay(config, in, out, errors, ReplayOptions{});
  ASSERT_EQ(summary.identity.conflicts, 1);
  ASSERT_NE(out.str().find(R"("topic":"identity.conflicts")"), std::string::npos);
  std::istringstream signals_again(input);
  absl::StatusOr<AuditReport> report = AuditFiles(config, signals_again, out);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->violations, 0);
  EXPECT_GT(report->actions, 0);
}

TEST(GeneratedRunTest, HundredThousandSignalsHaveNoContactPolicyViolations) {
  config::Config config = testing::DefaultConfig();
  generate::GeneratorOptions options;
  options.accounts = 10000;
  options.signals = 100000;
  options.seed = 7;
  std::stringstream signals;
  ASSERT_TRUE(generate::WriteStream(options, signals, nullptr).ok());
  std::string input = signals.str();

  std::istringstream in(input);
  std::stringstream out;
  std::stringstream errors;
  ReplaySummary summary = Replay(config, in, out, errors, ReplayOptions{});
  EXPECT_EQ(summary.rejected, summary.rejects_by_reason["UNRESOLVED_ACCOUNT"]);  // signals no identifier of which got linked in time
  EXPECT_EQ(summary.audit.violations, 0) << FormatAudit(summary.audit);

  std::istringstream signals_again(input);
  absl::StatusOr<AuditReport> report = AuditFiles(config, signals_again, out);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_GT(report->actions, 20000);
  EXPECT_GT(report->prompts, 10000);
  EXPECT_EQ(report->actions, summary.audit.actions);
  EXPECT_EQ(report->violations, 0) << FormatAudit(*report);

  // The policy was at work: candidates stopped by caps and consent, sends
  // moved to business hours.
  const auto& c = summary.counters;
  EXPECT_GT(c.scheduled, 0);
  for (const char* policy : {"cap.sales_calls", "cap.all_touches", "consent.unsubscribed",
                             "do_not_contact"}) {
    EXPECT_GT(c.suppressed_by_policy.count(policy) ? c.suppressed_by_policy.at(policy) : 0, 0) << policy;
  }
  for (const char* branch : {"digital", "inside_sales", "field_sales", "specialist", "customer_success", "partner"}) {
    EXPECT_GT(c.auto_branches.count(branch) ? c.auto_branches.at(branch) : 0, 0) << branch;
  }
}

}  // namespace
}  // namespace demandcenter::replay
