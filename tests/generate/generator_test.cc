#include "demandcenter/generate/generator.h"

#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../testing.h"
#include "demandcenter/common/time.h"
#include "demandcenter/replay/replay.h"
#include "demandcenter/v1/signal.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace demandcenter::generate {
namespace {

using ::testing::HasSubstr;

std::vector<GeneratedRecord> Collect(const GeneratorOptions& options, GenerateStats* stats = nullptr) {
  std::vector<GeneratedRecord> out;
  absl::Status st = Generate(options, [&](const GeneratedRecord& r) { out.push_back(r); }, stats);
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

bool ParseJson(const std::string& json, v1::Signal* signal) {
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  return google::protobuf::util::JsonStringToMessage(json, signal, opts).ok();
}

bool HasRequired(const v1::Signal& s) {
  return !s.event_id().empty() && !s.type().empty() && s.has_occurred_at() &&
         (!s.account_id().empty() || !s.contact_id().empty() || !s.email().empty() ||
          !s.anonymous_id().empty());
}

bool IsEventId(const std::string& id) {
  if (id.size() != 20 || id.rfind("evt-", 0) != 0) return false;
  for (size_t i = 4; i < id.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(id[i])) || std::isupper(static_cast<unsigned char>(id[i]))) {
      return false;
    }
  }
  return true;
}

std::string Stream(const GeneratorOptions& options, GenerateStats* stats = nullptr) {
  std::ostringstream out;
  absl::Status st = WriteStream(options, out, stats);
  EXPECT_TRUE(st.ok()) << st;
  return out.str();
}

TEST(GeneratorTest, SameOptionsGiveIdenticalBytes) {
  GeneratorOptions o;
  o.accounts = 500;
  o.signals = 8000;
  o.seed = 42;
  o.malformed_share = 0.01;
  std::string a = Stream(o);
  std::string b = Stream(o);
  EXPECT_EQ(a, b);
  o.format = OutputFormat::kBinary;
  EXPECT_EQ(Stream(o), Stream(o));
}

TEST(GeneratorTest, DifferentSeedsGiveDifferentStreams) {
  GeneratorOptions o;
  o.accounts = 200;
  o.signals = 2000;
  o.seed = 1;
  std::string a = Stream(o);
  o.seed = 2;
  std::string b = Stream(o);
  EXPECT_NE(a, b);
}

TEST(GeneratorTest, WritesExactlyTheRequestedNumberOfRecords) {
  struct Case {
    int32_t accounts;
    int64_t signals;
    double malformed;
  };
  for (const Case& c : {Case{1, 1, 0}, Case{1, 1, 1}, Case{10, 3, 0}, Case{3, 10, 0.5},
                        Case{100, 1000, 0.0}, Case{1000, 999, 0.02}, Case{7, 5000, 0.1}}) {
    GeneratorOptions o;
    o.accounts = c.accounts;
    o.signals = c.signals;
    o.malformed_share = c.malformed;
    GenerateStats stats;
    std::vector<GeneratedRecord> records = Collect(o, &stats);
    SCOPED_TRACE(::testing::Message() << c.accounts << " accounts, " << c.signals << " signals");
    EXPECT_EQ(static_cast<int64_t>(records.size()), c.signals);
    EXPECT_EQ(stats.records, c.signals);
    int64_t malformed = 0;
    for (const auto& r : records) malformed += r.malformed;
    EXPECT_EQ(malformed, std::llround(c.signals * c.malformed));
    EXPECT_EQ(stats.malformed, malformed);
    int64_t typed = 0;
    for (const auto& [type, n] : stats.by_type) typed += n;
    EXPECT_EQ(typed, c.signals - malformed);
  }
}

TEST(GeneratorTest, MalformedRecordsFailToDecodeOrLackARequiredField) {
  GeneratorOptions o;
  o.accounts = 300;
  o.signals = 6000;
  o.malformed_share = 0.05;
  GenerateStats stats;
  std::vector<GeneratedRecord> records = Collect(o, &stats);
  int64_t malformed = 0, undecodable = 0;
  for (const auto& r : records) {
    v1::Signal s;
    bool parsed = ParseJson(r.value, &s);
    if (!r.malformed) {
      ASSERT_TRUE(parsed) << r.value;
      EXPECT_TRUE(HasRequired(s)) << r.value;
      continue;
    }
    ++malformed;
    undecodable += !parsed;
    EXPECT_EQ(r.value.find('\n'), std::string::npos);
    EXPECT_FALSE(r.value.empty());
    EXPECT_TRUE(!parsed || !HasRequired(s)) << r.value;
  }
  EXPECT_EQ(malformed, 300);
  EXPECT_EQ(stats.malformed, 300);
  EXPECT_GT(undecodable, 50);            // both kinds occur
  EXPECT_LT(undecodable, malformed - 50);

  o.format = OutputFormat::kBinary;
  for (const auto& r : Collect(o)) {
    v1::Signal s;
    bool parsed = s.ParseFromString(r.value);
    if (r.malformed) {
      EXPECT_TRUE(!parsed || !HasRequired(s));
    } else {
      ASSERT_TRUE(parsed);
      EXPECT_TRUE(HasRequired(s));
    }
  }
}

TEST(GeneratorTest, EventTimeDisorderStaysWithinTwoMinutesAndInsideTheSpan) {
  GeneratorOptions o;
  o.accounts = 2000;
  o.signals = 30000;
  o.malformed_share = 0.01;
  o.days = 90;
  std::vector<GeneratedRecord> records = Collect(o);
  const int64_t end = o.start_ms + o.days * kMillisPerDay;
  int64_t prev = std::numeric_limits<int64_t>::min();
  int64_t late = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    ASSERT_GE(r.occurred_ms, o.start_ms);
    ASSERT_LT(r.occurred_ms, end);
    if (i > 0) {
      ASSERT_GT(r.occurred_ms, prev - 2 * kMillisPerMinute) << "record " << i;
    }
    late += r.occurred_ms < prev;
    prev = r.occurred_ms;
    if (!r.malformed && i % 7 == 0) {
      v1::Signal s;
      ASSERT_TRUE(ParseJson(r.value, &s));
      EXPECT_EQ(ToMillis(s.occurred_at()), r.occurred_ms);
    }
  }
  EXPECT_GT(late, 0);  // some disorder is there to exercise the engine
}

TEST(GeneratorTest, EveryAccountAppearsWhenThereAreEnoughSignals) {
  GeneratorOptions o;
  o.accounts = 1000;
  o.signals = 1100;
  GenerateStats stats;
  std::set<std::string> accounts;
  for (const auto& r : Collect(o, &stats)) {
    v1::Signal s;
    ASSERT_TRUE(ParseJson(r.value, &s));
    if (!s.account_id().empty()) accounts.insert(s.account_id());
  }
  EXPECT_EQ(accounts.size(), 1000u);
  EXPECT_EQ(stats.accounts, 1000);
  EXPECT_TRUE(accounts.count("acct-000001"));
  EXPECT_TRUE(accounts.count("acct-001000"));

  // Fewer signals than accounts: the first accounts, one signal each.
  o.signals = 50;
  accounts.clear();
  for (const auto& r : Collect(o, &stats)) {
    v1::Signal s;
    ASSERT_TRUE(ParseJson(r.value, &s));
    accounts.insert(s.account_id());
  }
  EXPECT_EQ(accounts.size(), 50u);
  EXPECT_EQ(*accounts.rbegin(), "acct-000050");
  EXPECT_EQ(stats.accounts, 50);
}

TEST(GeneratorTest, WellFormedRecordsCarryIdsKeysAndIdentities) {
  GeneratorOptions o;
  o.accounts = 1000;
  o.signals = 20000;
  GenerateStats stats;
  std::vector<GeneratedRecord> records = Collect(o, &stats);
  std::set<std::string> ids;
  std::map<std::string, std::string> first_value;
  std::set<std::string> named, domains;
  std::map<std::string, std::string> domain_of;
  int64_t duplicates = 0, web = 0, anonymous = 0, introductions = 0, email = 0, address_only = 0;
  for (const auto& r : records) {
    v1::Signal s;
    ASSERT_TRUE(ParseJson(r.value, &s)) << r.value;
    ASSERT_TRUE(HasRequired(s)) << r.value;
    EXPECT_TRUE(IsEventId(s.event_id())) << s.event_id();
    EXPECT_EQ(r.key, s.account_id());
    EXPECT_NE(s.type().find('.'), std::string::npos);
    EXPECT_FALSE(s.source_system().empty());
    if (!ids.insert(s.event_id()).second) {
      ++duplicates;
      EXPECT_EQ(first_value[s.event_id()], r.value);  // a re-send, byte for byte
      continue;
    }
    first_value[s.event_id()] = r.value;
    if (s.account_id().empty()) {
      // Identified only by a visitor id or an address, and only once a
      // signal has named the account (the CRM knows it from the start).
      EXPECT_FALSE(s.anonymous_id().empty() && s.email().empty()) << r.value;
      EXPECT_TRUE(s.contact_id().empty()) << r.value;
    } else {
      named.insert(s.account_id());
    }
    if (s.type().rfind("web.", 0) == 0) {
      ++web;
      anonymous += s.account_id().empty();
      ASSERT_TRUE(s.has_web_visit());
      if (!s.account_id().empty()) {
        EXPECT_FALSE(s.contact_id().empty());
      } else if (s.type() != "web.form_submit") {
        EXPECT_TRUE(s.email().empty()) << "only a form fill carries an address";
      }
    }
    if (s.type() == "web.form_submit" && s.account_id().empty()) {
      ++introductions;
      EXPECT_FALSE(s.anonymous_id().empty());
      EXPECT_FALSE(s.email().empty());
    }
    if (s.type().rfind("email.", 0) == 0) {
      ++email;
      EXPECT_FALSE(s.email().empty());
      address_only += s.account_id().empty();
    }
    if (s.type().rfind("crm.", 0) == 0) {
      EXPECT_FALSE(s.account_id().empty());
    }
    if (s.type() == "crm.account_update") {
      EXPECT_FALSE(s.crm_activity().account_domain().empty());
      EXPECT_TRUE(domains.insert(s.crm_activity().account_domain()).second ||
                  domain_of[s.crm_activity().account_domain()] == s.account_id())
          << "two accounts share " << s.crm_activity().account_domain();
      domain_of[s.crm_activity().account_domain()] = s.account_id();
    }
  }
  EXPECT_EQ(duplicates, stats.duplicates);
  EXPECT_EQ(duplicates, std::llround(20000 * 0.003));
  EXPECT_GE(anonymous * 4, web) << "at least a quarter of web signals are anonymous research";
  EXPECT_LT(anonymous * 2, web);
  EXPECT_GT(introductions, 0);
  EXPECT_GT(address_only * 5, email) << "e-mail platforms often know only the address";
  EXPECT_LT(address_only * 5, email * 3);
  EXPECT_GT(named.size(), 900u);
}

TEST(GeneratorTest, AllSignalTypesAppear) {
  GeneratorOptions o;
  o.accounts = 10000;
  o.signals = 100000;
  o.seed = 7;
  GenerateStats stats;
  int64_t count = 0;
  ASSERT_TRUE(Generate(o, [&](const GeneratedRecord&) { ++count; }, &stats).ok());
  EXPECT_EQ(count, 100000);
  for (const char* type :
       {"web.page_view", "web.pricing_view", "web.demo_request", "web.form_submit", "email.open",
        "email.click", "email.reply", "email.bounce", "email.unsubscribe", "crm.contact_upsert",
        "crm.account_update", "crm.opportunity_stage", "crm.meeting_held", "crm.deal_won",
        "crm.deal_lost", "crm.owner_change", "crm.prompt_outcome", "product.usage"}) {
    EXPECT_GT(stats.by_type[type], 0) << type;
  }
  EXPECT_EQ(stats.accounts, 10000);
  EXPECT_EQ(stats.duplicates, 300);
}

// The stream exists to exercise rules: on the default journey every rule and
// every transition must fire.
TEST(GeneratorTest, DefaultJourneySeesEveryRuleAndTransition) {
  config::Config config = demandcenter::testing::DefaultConfig();
  ASSERT_FALSE(config.decision.rules.empty());
  GeneratorOptions o;
  o.accounts = 1000;
  o.signals = 10000;
  o.seed = 7;
  std::stringstream in;
  ASSERT_TRUE(WriteStream(o, in, nullptr).ok());
  std::ostringstream out, errors;
  replay::ReplaySummary summary = replay::Replay(config, in, out, errors, replay::ReplayOptions{});
  EXPECT_EQ(summary.lines, 10000);
  // Only signals without an account are dead-lettered: never-linked
  // visitors, or linked after the wait bound.
  EXPECT_EQ(summary.rejected, summary.rejects_by_reason["UNRESOLVED_ACCOUNT"]) << errors.str();
  EXPECT_GT(summary.reach.linkable_reached * 10, summary.reach.linkable * 9)
      << "at one partition, most signals whose identifier the stream links reach their account";
  // 30 re-sends; those of a signal that waited for its account, or was
  // dead-lettered, are not counted as duplicates (they wait again).
  EXPECT_LE(summary.duplicates, 30);
  EXPECT_GT(summary.duplicates, 20);
  for (const auto& rule : config.decision.rules) {
    EXPECT_GT(summary.emitted_by_rule[rule.id], 0) << "rule never fired: " << rule.id;
  }
  for (const auto& t : config.decision.journey.transitions) {
    EXPECT_GT(summary.transitions_by_id[t.id], 0) << "transition never fired: " << t.id;
  }
}

TEST(GeneratorTest, DetailFieldsLookRealistic) {
  GeneratorOptions o;
  o.accounts = 500;
  o.signals = 20000;
  std::set<std::string> stages, outcomes, categories, bounces, segments, roles;
  bool drop = false, snooze = false;
  for (const auto& r : Collect(o)) {
    v1::Signal s;
    ASSERT_TRUE(ParseJson(r.value, &s));
    const auto& c = s.crm_activity();
    if (s.type() == "crm.opportunity_stage") {
      stages.insert(c.opportunity_stage());
      EXPECT_EQ(c.object(), "opportunity");
      EXPECT_GT(c.amount(), 0);
      EXPECT_EQ(c.currency(), "USD");
      EXPECT_GT(c.product_count(), 0);
      EXPECT_THAT(c.owner_id(), HasSubstr("rep-"));
    }
    if (s.type() == "crm.prompt_outcome") {
      outcomes.insert(c.prompt_outcome());
      EXPECT_EQ(c.prompt_id().rfind("prm-", 0), 0u);
      snooze |= c.has_snooze_until();
      EXPECT_EQ(c.has_snooze_until(), c.prompt_outcome() == "snoozed");
    }
    if (s.type() == "crm.account_update") {
      segments.insert(c.account_segment());
      EXPECT_FALSE(c.account_name().empty());
      EXPECT_NE(c.account_timezone().find('/'), std::string::npos);
    }
    if (s.type() == "crm.contact_upsert") {
      EXPECT_FALSE(c.contact_title().empty());
      if (!c.contact_role().empty()) roles.insert(c.contact_role());
    }
    if (s.type() == "web.pricing_view") {
      EXPECT_EQ(s.web_visit().path(), "/pricing");
      EXPECT_EQ(s.web_visit().page_category(), "pricing");
    }
    if (s.has_web_visit()) categories.insert(s.web_visit().page_category());
    if (s.type() == "email.bounce") bounces.insert(v1::BounceKind_Name(s.email_engagement().bounce_kind()));
    if (s.type() == "email.click") {
      EXPECT_FALSE(s.email_engagement().link_url().empty());
    }
    if (s.type() == "product.usage") {
      const auto& u = s.product_usage();
      EXPECT_FALSE(u.metric().empty());
      if (u.previous_value() > 0 && (u.previous_value() - u.value()) / u.previous_value() >= 0.3) {
        drop = true;
      }
    }
  }
  EXPECT_EQ(stages, (std::set<std::string>{"qualification", "discovery", "proposal", "negotiation"}));
  EXPECT_EQ(outcomes.size(), 4u);
  EXPECT_TRUE(snooze);
  EXPECT_EQ(segments, (std::set<std::string>{"smb", "mid_market", "enterprise"}));
  EXPECT_GE(roles.size(), 4u);
  EXPECT_GE(categories.size(), 7u);
  EXPECT_EQ(bounces, (std::set<std::string>{"HARD", "SOFT"}));
  EXPECT_TRUE(drop);
}

TEST(GeneratorTest, BinaryRecordsMatchTheJsonRecords) {
  GeneratorOptions o;
  o.accounts = 300;
  o.signals = 5000;
  o.malformed_share = 0.01;
  std::vector<GeneratedRecord> json = Collect(o);
  o.format = OutputFormat::kBinary;
  std::vector<GeneratedRecord> binary = Collect(o);
  ASSERT_EQ(json.size(), binary.size());
  for (size_t i = 0; i < json.size(); ++i) {
    ASSERT_EQ(json[i].malformed, binary[i].malformed);
    EXPECT_EQ(json[i].key, binary[i].key);
    EXPECT_EQ(json[i].occurred_ms, binary[i].occurred_ms);
    if (json[i].malformed) continue;
    v1::Signal from_json, from_binary;
    ASSERT_TRUE(ParseJson(json[i].value, &from_json));
    ASSERT_TRUE(from_binary.ParseFromString(binary[i].value));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(from_json, from_binary))
        << json[i].value;
  }

  // WriteStream frames each record with a 4-byte big-endian length.
  std::string bytes = Stream(o);
  size_t pos = 0, n = 0;
  while (pos + 4 <= bytes.size()) {
    uint32_t len = (uint32_t{static_cast<uint8_t>(bytes[pos])} << 24) |
                   (uint32_t{static_cast<uint8_t>(bytes[pos + 1])} << 16) |
                   (uint32_t{static_cast<uint8_t>(bytes[pos + 2])} << 8) |
                   uint32_t{static_cast<uint8_t>(bytes[pos + 3])};
    ASSERT_LE(pos + 4 + len, bytes.size());
    EXPECT_EQ(bytes.substr(pos + 4, len), binary[n].value);
    pos += 4 + len;
    ++n;
  }
  EXPECT_EQ(pos, bytes.size());
  EXPECT_EQ(n, binary.size());
}

TEST(GeneratorTest, JsonLinesAreOneRecordPerLine) {
  GeneratorOptions o;
  o.accounts = 50;
  o.signals = 500;
  std::string text = Stream(o);
  std::vector<GeneratedRecord> records = Collect(o);
  std::istringstream in(text);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(n, records.size());
    EXPECT_EQ(line, records[n].value);
    EXPECT_EQ(line.find(' ', line.find("\"type\"")), line.find(' ', line.find("\"type\"")));
    ++n;
  }
  EXPECT_EQ(n, records.size());
  EXPECT_EQ(records[0].value.rfind("{\"event_id\":\"evt-", 0), 0u);
}

TEST(GeneratorTest, ShortSpansStayInsideTheSpan) {
  GeneratorOptions o;
  o.accounts = 100;
  o.signals = 3000;
  o.days = 1;
  o.start_ms = kDefaultStartMs + 17;
  for (const auto& r : Collect(o)) {
    ASSERT_GE(r.occurred_ms, o.start_ms);
    ASSERT_LT(r.occurred_ms, o.start_ms + kMillisPerDay);
  }
}

TEST(GeneratorTest, ValidateOptionsNamesTheBadField) {
  GeneratorOptions o;
  EXPECT_TRUE(ValidateOptions(o).ok());
  auto error = [](GeneratorOptions bad) { return std::string(ValidateOptions(bad).message()); };
  GeneratorOptions bad = o;
  bad.accounts = 0;
  EXPECT_EQ(error(bad), "accounts must be >= 1 (got 0)");
  EXPECT_EQ(ValidateOptions(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = o;
  bad.signals = -3;
  EXPECT_EQ(error(bad), "signals must be >= 1 (got -3)");
  bad = o;
  bad.malformed_share = 1.5;
  EXPECT_THAT(error(bad), HasSubstr("malformed_share must be in [0, 1]"));
  bad.malformed_share = std::nan("");
  EXPECT_THAT(error(bad), HasSubstr("malformed_share"));
  bad = o;
  bad.days = 0;
  EXPECT_EQ(error(bad), "days must be in [1, 36500] (got 0)");
  bad.days = 36501;
  EXPECT_THAT(error(bad), HasSubstr("days"));
  bad = o;
  bad.start_ms = std::numeric_limits<int64_t>::max() / 2;
  EXPECT_THAT(error(bad), HasSubstr("start_ms"));

  bad = o;
  bad.accounts = -1;
  int calls = 0;
  GenerateStats stats;
  stats.records = 99;
  absl::Status st = Generate(bad, [&](const GeneratedRecord&) { ++calls; }, &stats);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(stats.records, 0);
  std::ostringstream out;
  EXPECT_EQ(WriteStream(bad, out, nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.str().empty());
}

TEST(GeneratorTest, WriteStreamReportsAFailingStream) {
  GeneratorOptions o;
  o.accounts = 10;
  o.signals = 100;
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  EXPECT_EQ(WriteStream(o, out, nullptr).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace demandcenter::generate
