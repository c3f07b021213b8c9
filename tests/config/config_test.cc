#include "demandcenter/config/config.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace demandcenter::config {
namespace {

using ::testing::HasSubstr;

// A small valid config; each error test breaks one thing in it.
constexpr char kValid[] = R"(application_id: test
journey:
  stages: [unaware, aware, engaged, dormant]
  initial: unaware
  transitions:
    - id: first_touch
      from: [unaware]
      to: aware
      when: {type: "web.*"}
    - id: engaged
      from: [aware]
      to: engaged
      when: {score_at_least: 10}
    - id: silent
      from: [aware, engaged]
      to: dormant
      inactive_for: 30d
scoring:
  half_life: 7d
  weights: {web.pricing_view: 5, "web.*": 1}
pools:
  - id: sdr_team
    members: [rep-1, rep-2]
rules:
  - id: demo
    when: {type: web.demo_request}
    action: book_demo
    channel: INSIDE_SALES
    role: sdr
    priority: 90
    route: {pool: sdr_team, sla: 1h}
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << "test setup: \"" << from << "\" not in the config";
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

// Parses and expects exactly one error, at line:column, containing `message`.
void ExpectSingleError(const std::string& yaml, int line, int column, const std::string& message) {
  ParseResult result = ParseConfig(yaml, "demandcenter.yaml");
  ASSERT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 1u) << (result.errors.empty() ? "" : result.errors[0].ToString());
  EXPECT_EQ(result.errors[0].location.line, line) << result.errors[0].ToString();
  EXPECT_EQ(result.errors[0].location.column, column) << result.errors[0].ToString();
  EXPECT_THAT(result.errors[0].message, HasSubstr(message));
}

TEST(ConfigTest, AcceptsTheValidConfig) {
  ParseResult result = ParseConfig(kValid, "demandcenter.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  EXPECT_EQ(result.config->runtime.application_id, "test");
  const DecisionConfig& c = result.config->decision;
  EXPECT_EQ(c.journey.stages.size(), 4u);
  EXPECT_EQ(c.journey.transitions[2].inactive_for_ms, 30LL * 24 * 3600 * 1000);
  EXPECT_EQ(c.scoring.half_life_ms, 7LL * 24 * 3600 * 1000);
  EXPECT_EQ(c.rules[0].route->sla_ms, 3600 * 1000);
  EXPECT_EQ(c.rules[0].channel.channel, v1::INSIDE_SALES);
  EXPECT_EQ(c.rules_version.substr(0, 4), "sha-");  // derived from the content
}

TEST(ConfigTest, SignalTopicsByTypeAndMaxTaskIdle) {
  ParseResult defaults = ParseConfig(kValid, "demandcenter.yaml");
  ASSERT_TRUE(defaults.errors.empty());
  const KafkaConfig& d = defaults.config->runtime.kafka;
  EXPECT_EQ(d.max_task_idle_ms, 0);
  EXPECT_EQ(d.processing_threads, 1);
  EXPECT_EQ(d.topics.signals_by_type.at("crm"), "signals.crm");

  std::string yaml = std::string(kValid) + R"(kafka:
  max_task_idle: 250ms
  processing_threads: 2
  topics:
    signals: [in.web, in.other]
    signals_by_type: {web: in.web, product: in.other}
)";
  ParseResult result = ParseConfig(yaml, "demandcenter.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  const KafkaConfig& k = result.config->runtime.kafka;
  EXPECT_EQ(k.max_task_idle_ms, 250);
  EXPECT_EQ(k.processing_threads, 2);
  EXPECT_EQ(k.topics.signals_by_type, (std::map<std::string, std::string>{{"web", "in.web"}, {"product", "in.other"}}));

  ParseResult never = ParseConfig(std::string(kValid) + "kafka: {max_task_idle: -1}\n", "demandcenter.yaml");
  ASSERT_TRUE(never.errors.empty()) << never.errors[0].ToString();
  EXPECT_EQ(never.config->runtime.kafka.max_task_idle_ms, -1);
  ExpectSingleError(std::string(kValid) + "kafka: {max_task_idle: -5}\n", 32, 24, "kafka.max_task_idle");
  ExpectSingleError(std::string(kValid) + "kafka: {topics: {signals_by_type: [web]}}\n", 32, 35,
                    "must be a map of type prefix to signal topic");
}

TEST(ConfigTest, AcceptsTheShippedDefaultConfig) {
  ParseResult result = LoadConfig("deploy/config/demandcenter.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  EXPECT_EQ(result.config->decision.journey.stages.size(), 9u);
  EXPECT_GE(result.config->decision.rules.size(), 10u);
}

TEST(ConfigTest, BracketsInsideStringsAndCommentsAreNotNesting) {
  // 70 '[' inside a double-quoted string with escaped quotes, a single-quoted
  // one and a comment: text, not flow collections.
  std::string many(70, '[');
  std::string text = "journey: {stages: [a]}  # " + many + "\nrules:\n  - {id: r, when: {type: x.y}, action: a, "
                     "channel: EMAIL, reason: \"say \\\"" + many + "\\\" now\"}\n  - {id: s, when: {type: x.z}, "
                     "action: b, channel: EMAIL, reason: '" + many + " it''s'}\n";
  ParseResult result = ParseConfig(text, "strings.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  EXPECT_EQ(result.config->decision.rules.size(), 2u);
  ParseResult deep = ParseConfig("journey: {stages: [a]}\nx: " + std::string(65, '[') + std::string(65, ']') + "\n",
                                 "deep.yaml");
  ASSERT_EQ(deep.errors.size(), 1u);
  EXPECT_EQ(deep.errors[0].ToString(), "deep.yaml:2:68: [ and { nested more than 64 deep");
}

TEST(ConfigErrorTest, UnknownStageInTransition) {
  ExpectSingleError(Replace(kValid, "to: engaged", "to: engagd"), 12, 11,
                    "unknown stage \"engagd\" in transition \"engaged\".to (did you mean \"engaged\"?)");
}

TEST(ConfigErrorTest, UnknownField) {
  ExpectSingleError(Replace(kValid, "    priority: 90", "    priorty: 90"), 30, 5,
                    "unknown field \"priorty\" in rule (did you mean \"priority\"?)");
}

TEST(ConfigErrorTest, WrongType) {
  ExpectSingleError(Replace(kValid, "priority: 90", "priority: high"), 30, 15,
                    "rule \"demo\".priority must be a number, got \"high\"");
}

TEST(ConfigErrorTest, DuplicateRuleId) {
  std::string yaml = std::string(kValid) +
                     "  - id: demo\n    when: {type: web.form_submit}\n    action: call\n    channel: EMAIL\n";
  ExpectSingleError(yaml, 32, 9, "duplicate rule id \"demo\" (first defined at line 25)");
}

TEST(ConfigErrorTest, UnreachableStage) {
  ExpectSingleError(Replace(kValid, "from: [aware, engaged]\n      to: dormant", "from: [dormant]\n      to: dormant"),
                    3, 37, "stage \"dormant\" is unreachable");
}

TEST(ConfigErrorTest, BadDuration) {
  ExpectSingleError(Replace(kValid, "inactive_for: 30d", "inactive_for: 3x"), 17, 21,
                    "unknown unit 'x'");
}

TEST(ConfigErrorTest, PriorityOutOfRange) {
  ExpectSingleError(Replace(kValid, "priority: 90", "priority: 150"), 30, 15,
                    "must be between 0 and 100, got 150");
}

TEST(ConfigErrorTest, UnknownChannel) {
  ExpectSingleError(Replace(kValid, "INSIDE_SALES", "INSIDE_SALE"), 28, 14,
                    "unknown channel \"INSIDE_SALE\" (did you mean \"INSIDE_SALES\"?)");
}

TEST(ConfigErrorTest, UnknownPool) {
  ExpectSingleError(Replace(kValid, "{pool: sdr_team, sla: 1h}", "{pool: sdr_teem, sla: 1h}"), 31, 19,
                    "unknown pool \"sdr_teem\" (did you mean \"sdr_team\"?)");
}

TEST(ConfigErrorTest, MissingRequiredField) {
  ExpectSingleError(Replace(kValid, "    action: book_demo\n", ""), 25, 5,
                    "rule \"demo\" needs \"action\"");
}

TEST(ConfigErrorTest, UnknownMatchField) {
  ExpectSingleError(Replace(kValid, "when: {type: web.demo_request}",
                            "when: {type: web.demo_request, match: {page_catgory: pricing}}"),
                    26, 44, "unknown field \"page_catgory\" in rule \"demo\".when.match (did you mean \"page_category\"?)");
}

TEST(ConfigErrorTest, UnknownPromptPlaceholder) {
  std::string yaml = std::string(kValid) +
                     "    prompt: {title: \"Call {acount_name}\", why: \"because\"}\n";
  ExpectSingleError(yaml, 32, 21, "unknown placeholder {acount_name} (did you mean \"account_name\"?)");
}

TEST(ConfigErrorTest, YamlSyntaxError) {
  ParseResult result = ParseConfig("journey: [unclosed\n", "bad.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0].ToString(), HasSubstr("bad.yaml:"));
  EXPECT_THAT(result.errors[0].message, HasSubstr("YAML syntax"));
}

TEST(ConfigErrorTest, ReportsEveryProblemInFileOrder) {
  std::string yaml = Replace(Replace(kValid, "to: engaged", "to: engagd"), "priority: 90", "priority: 101");
  ParseResult result = ParseConfig(yaml, "demandcenter.yaml");
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_LT(result.errors[0].location.line, result.errors[1].location.line);
  EXPECT_EQ(result.errors[0].ToString().substr(0, 23), "demandcenter.yaml:12:11");
}

// Appended to kValid (which ends at line 31): the decisioning sections.
constexpr char kDecisioning[] = R"(contact_policy:
  timezone: America/Chicago
  business_hours: {days: [mon, tue, wed, thu, fri], from: "08:30", to: "17:00"}
  quiet_hours: {from: "21:00", to: "07:00", weekends: true}
  holidays: [2026-12-25, {date: 2026-11-26, zones: ["America/*"]}]
  caps:
    - {id: email_weekly, channel: EMAIL, max: 2, per: 7d}
    - {id: everything, channel: all, except_action: [book_demo], max: 5, per: 7d}
  action_cooldowns: {book_demo: 2d}
routing:
  auto:
    partner_territories: [latam]
    stages: {early: [unaware, aware], evaluation: [engaged]}
    specialists: [{when: {type: web.pricing_view}, role: pricing_specialist, pool: sdr_team}]
    routes: {INSIDE_SALES: {role: sdr, pool: sdr_team}}
sla: {met_by: [crm.call_logged]}
feedback: {dismissed_cooldown: 10d}
experiments:
  - id: demo_test
    rules: [demo]
    holdout: 0.1
    arms:
      - {id: champion, share: 3}
      - {id: challenger, share: 1, channel: FIELD_SALES, priority: 70}
)";

TEST(ConfigTest, AcceptsTheDecisioningSections) {
  std::string yaml = Replace(std::string(kValid), "  - id: sdr_team\n    members: [rep-1, rep-2]",
                             "  - id: sdr_team\n    manager: mgr-1\n    members:\n      - rep-1\n"
                             "      - {id: rep-2, weight: 2, out_of_office: [{from: 2026-03-02, to: 2026-03-06}]}") +
                     Replace(kDecisioning, "  action_cooldowns: {book_demo: 2d}\n",
                             "  action_cooldowns: {book_demo: 2d}\n  send_time: {channels: [EMAIL, INSIDE_SALES], "
                             "actions: [\"follow_*\"], min_evidence: 100, explore: 0.05, horizon: 2d}\n");
  ParseResult result = ParseConfig(yaml, "demandcenter.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  const DecisionConfig& c = result.config->decision;
  const ContactPolicyConfig& cp = c.contact_policy;
  EXPECT_EQ(cp.timezone, "America/Chicago");
  ASSERT_TRUE(cp.business_hours.has_value());
  EXPECT_EQ(cp.business_hours->hours().ToString(), "Mon-Fri 08:30-17:00");
  EXPECT_EQ(cp.business_hours->holidays().size(), 2u);
  ASSERT_TRUE(cp.send_hours.has_value());
  EXPECT_EQ(cp.send_hours->hours().ToString(), "Mon-Fri 07:00-21:00");
  EXPECT_EQ(cp.quiet_hours_text, "21:00-07:00, weekends, holidays");
  ASSERT_EQ(cp.caps.size(), 2u);
  EXPECT_TRUE(cp.caps[0].Covers(v1::EMAIL, "anything"));
  EXPECT_FALSE(cp.caps[0].Covers(v1::INSIDE_SALES, "anything"));
  EXPECT_TRUE(cp.caps[1].Covers(v1::DIGITAL, "send_guide"));
  EXPECT_FALSE(cp.caps[1].Covers(v1::INSIDE_SALES, "book_demo"));
  EXPECT_EQ(cp.ActionCooldown("book_demo"), 2 * 24 * 3600 * 1000LL);
  EXPECT_EQ(cp.longest_window_ms, 7 * 24 * 3600 * 1000LL);
  const SendTimeConfig& st = cp.send_time;
  EXPECT_TRUE(st.enabled);
  EXPECT_TRUE(st.Applies(v1::INSIDE_SALES, "follow_up"));
  EXPECT_FALSE(st.Applies(v1::INSIDE_SALES, "book_demo"));
  EXPECT_FALSE(st.Applies(v1::FIELD_SALES, "follow_up"));
  EXPECT_EQ(st.min_evidence, 100);
  EXPECT_DOUBLE_EQ(st.explore, 0.05);
  EXPECT_EQ(st.horizon_ms, 2 * 24 * 3600 * 1000LL);
  EXPECT_EQ(st.window_ms, 3 * 24 * 3600 * 1000LL);  // the default
  EXPECT_DOUBLE_EQ(st.prior_weight, 10);
  // Pool: manager and out-of-office (the `to` date is inclusive).
  ASSERT_EQ(c.pools[0].members.size(), 2u);
  EXPECT_EQ(c.pools[0].manager, "mgr-1");
  ASSERT_EQ(c.pools[0].members[1].out_of_office.size(), 1u);
  EXPECT_EQ(c.pools[0].members[1].out_of_office[0].second - c.pools[0].members[1].out_of_office[0].first,
            5 * 24 * 3600 * 1000LL);
  // The pool route escalates to the next member, then the manager.
  EXPECT_EQ(c.rules[0].route->escalate,
            (std::vector<EscalationStep>{EscalationStep::kNextMember, EscalationStep::kManager}));
  EXPECT_EQ(c.rules[0].route->sla_days, 0);
  EXPECT_EQ(c.rules[0].route->sla_open_ms, 3600 * 1000);
  EXPECT_EQ(c.routing.automatic.early, (std::vector<std::string>{"unaware", "aware"}));
  ASSERT_NE(c.routing.automatic.RouteFor(v1::INSIDE_SALES), nullptr);
  EXPECT_EQ(c.routing.automatic.RouteFor(v1::INSIDE_SALES)->pool, "sdr_team");
  EXPECT_EQ(c.sla.met_by, std::vector<std::string>{"crm.call_logged"});
  EXPECT_EQ(c.feedback.dismissed_cooldown_ms, 10 * 24 * 3600 * 1000LL);
  ASSERT_EQ(c.experiments.size(), 1u);
  EXPECT_EQ(c.rules[0].experiment, 0);
  EXPECT_EQ(c.experiments[0].arms[1].channel->channel, v1::FIELD_SALES);
  EXPECT_EQ(*c.experiments[0].arms[1].priority, 70);
}

std::string WithDecisioning(const std::string& from, const std::string& to) {
  return std::string(kValid) + Replace(kDecisioning, from, to);
}

TEST(ConfigErrorTest, UnknownTimeZone) {
  ExpectSingleError(WithDecisioning("America/Chicago", "America/Chikago"), 33, 13,
                    "contact_policy.timezone: \"America/Chikago\" is not an IANA time zone");
}

TEST(ConfigErrorTest, UnknownHolidayZone) {
  ExpectSingleError(WithDecisioning("zones: [\"America/*\"]", "zones: [America/Chicgo]"), 36, 52,
                    "contact_policy.holidays: \"America/Chicgo\" is not an IANA time zone");
}

TEST(ConfigErrorTest, BadTimeOfDay) {
  ExpectSingleError(WithDecisioning("to: \"17:00\"", "to: \"5pm\""), 34, 72,
                    "contact_policy.business_hours.to must be a local time like \"08:00\"");
}

TEST(ConfigErrorTest, BusinessHoursBackwards) {
  ExpectSingleError(WithDecisioning("from: \"08:30\", to: \"17:00\"", "from: \"17:00\", to: \"08:30\""), 34, 19,
                    "to must be after from");
}

TEST(ConfigErrorTest, BadDay) {
  ExpectSingleError(WithDecisioning("days: [mon, tue,", "days: [mon, tues,"), 34, 26,
                    "\"tues\" is not a day");
}

TEST(ConfigErrorTest, CapNeedsAWindow) {
  ExpectSingleError(WithDecisioning("max: 2, per: 7d}", "max: 2}"), 38, 7, "cap \"email_weekly\" needs \"per\"");
}

TEST(ConfigErrorTest, CapUnknownChannel) {
  ExpectSingleError(WithDecisioning("channel: EMAIL, max: 2", "channel: EMAILS, max: 2"), 38, 35,
                    "unknown channel \"EMAILS\" (did you mean \"EMAIL\"?)");
}

TEST(ConfigErrorTest, ExperimentUnknownRule) {
  ExpectSingleError(WithDecisioning("rules: [demo]", "rules: [dmeo]"), 51, 12,
                    "experiment \"demo_test\": unknown rule \"dmeo\" (did you mean \"demo\"?)");
}

TEST(ConfigErrorTest, RuleInTwoExperiments) {
  std::string yaml = std::string(kValid) + kDecisioning + "  - {id: second, rules: [demo], holdout: 0.5}\n";
  ExpectSingleError(yaml, 56, 25, "rule \"demo\" is already in experiment \"demo_test\"");
}

TEST(ConfigErrorTest, HoldoutIsAShare) {
  ExpectSingleError(WithDecisioning("holdout: 0.1", "holdout: 10"), 52, 14, "holdout is a share");
}

TEST(ConfigErrorTest, EscalationToAMissingManager) {
  std::string yaml = Replace(kValid, "{pool: sdr_team, sla: 1h}", "{pool: sdr_team, sla: 1h, escalate: [manager]}");
  ExpectSingleError(yaml, 25, 5, "route.escalate names manager, but neither the route nor its pool has a manager");
}

TEST(ConfigErrorTest, UnknownEscalationStep) {
  std::string yaml = Replace(kValid, "{pool: sdr_team, sla: 1h}", "{pool: sdr_team, sla: 1h, escalate: [boss]}");
  ExpectSingleError(yaml, 31, 48, "unknown step \"boss\"; use next_member, manager, or none");
}

TEST(ConfigErrorTest, OutOfOfficeEndsBeforeItStarts) {
  std::string yaml = Replace(kValid, "    members: [rep-1, rep-2]",
                             "    members: [rep-1, {id: rep-2, out_of_office: [{from: 2026-03-09, to: 2026-03-02}]}]");
  ExpectSingleError(yaml, 23, 50, "to must be after from");
}

TEST(ConfigErrorTest, UnknownStageInAutoStageGroups) {
  ExpectSingleError(WithDecisioning("evaluation: [engaged]", "evaluation: [evaluating]"), 44, 51,
                    "unknown stage \"evaluating\" in routing.auto.stages.evaluation");
}

TEST(ConfigErrorTest, UnreadableFile) {
  ParseResult result = LoadConfig("/nonexistent/demandcenter.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0].message, HasSubstr("cannot read"));
}

}  // namespace
}  // namespace demandcenter::config
