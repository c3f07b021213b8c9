#include "demandcenter/config/config.h"

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
  const Config& c = *result.config;
  EXPECT_EQ(c.application_id, "test");
  EXPECT_EQ(c.journey.stages.size(), 4u);
  EXPECT_EQ(c.journey.transitions[2].inactive_for_ms, 30LL * 24 * 3600 * 1000);
  EXPECT_EQ(c.scoring.half_life_ms, 7LL * 24 * 3600 * 1000);
  EXPECT_EQ(c.rules[0].route->sla_ms, 3600 * 1000);
  EXPECT_EQ(c.rules[0].channel.channel, v1::INSIDE_SALES);
  EXPECT_EQ(c.rules_version.substr(0, 4), "sha-");  // derived from the content
}

TEST(ConfigTest, AcceptsTheShippedDefaultConfig) {
  ParseResult result = LoadConfig("deploy/config/demandcenter.yaml");
  ASSERT_TRUE(result.errors.empty()) << result.errors[0].ToString();
  EXPECT_EQ(result.config->journey.stages.size(), 9u);
  EXPECT_GE(result.config->rules.size(), 10u);
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

TEST(ConfigErrorTest, UnreadableFile) {
  ParseResult result = LoadConfig("/nonexistent/demandcenter.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0].message, HasSubstr("cannot read"));
}

}  // namespace
}  // namespace demandcenter::config
