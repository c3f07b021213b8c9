#include "demandcenter/replay/replay.h"

#include <sstream>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/generate/generator.h"
#include "demandcenter/outputs/experiment_kpis.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::replay {
namespace {

using ::testing::HasSubstr;

constexpr char kInput[] =
    R"({"event_id":"e1","occurred_at":"2026-03-02T09:00:00Z","type":"web.demo_request","account_id":"acct-1","contact_id":"ct-1"}
{"event_id":"e2","occurred_at":"2026-03-02T09:01:00Z","type":"web.page_view"}
not json at all

{"event_id":"e3","occurred_at":"2026-03-02T09:02:00Z","type":"web.pricing_view","account_id":"acct-2","colour":"red"}
{"event_id":"e4","occurred_at":"2026-03-02T09:03:00Z","type":"web.page_view","anonymous_id":"nobody"}
{"event_id":"e1","occurred_at":"2026-03-02T09:00:00Z","type":"web.demo_request","account_id":"acct-1","contact_id":"ct-1"}
)";

struct ReplayRun {
  ReplaySummary summary;
  std::string out;
  std::string errors;
};

ReplayRun DoReplay(const config::Config& config, const std::string& input, ReplayOptions options = {}) {
  std::istringstream in(input);
  std::ostringstream out, errors;
  ReplayRun run;
  run.summary = Replay(config, in, out, errors, options);
  run.out = out.str();
  run.errors = errors.str();
  return run;
}

// A generated stream (generate::WriteStream) as replay input.
std::string Generated(int32_t accounts, int64_t signals, uint64_t seed) {
  generate::GeneratorOptions options;
  options.accounts = accounts;
  options.signals = signals;
  options.seed = seed;
  std::stringstream generated;
  EXPECT_TRUE(generate::WriteStream(options, generated, nullptr).ok());
  return generated.str();
}

TEST(ReplayTest, ReportsBadLinesWithNumbersAndKeepsGoing) {
  config::Config config = testing::DefaultConfig();
  ReplayRun run = DoReplay(config, kInput);
  EXPECT_EQ(run.summary.lines, 7);
  EXPECT_EQ(run.summary.applied, 1);
  EXPECT_EQ(run.summary.duplicates, 1);
  EXPECT_EQ(run.summary.rejected, 3);
  EXPECT_THAT(run.errors, HasSubstr("line 2: MISSING_IDENTITY:"));
  EXPECT_THAT(run.errors, HasSubstr("line 3: UNDECODABLE:"));
  EXPECT_THAT(run.errors, HasSubstr("line 5: UNKNOWN_FIELD:"));
  // Line 6's contact is never linked: it waits (late binding), still
  // waiting when the input ends.
  EXPECT_EQ(run.summary.waiting.parked, 1);
  EXPECT_EQ(run.summary.still_waiting, 1);
  EXPECT_EQ(run.summary.rejects_by_reason["UNKNOWN_FIELD"], 1);
  EXPECT_THAT(run.out, HasSubstr(R"({"topic":"actions.nba","key":"acct-1","value":{"action_id":"nba-)"));
  EXPECT_EQ(run.summary.emitted_by_rule["demo_request_sdr"], 1);
}

// Five signals without an account: research a form fill later links
// (released), a click the CRM's address link resolves at once, a click the
// CRM account's domain resolves, a visitor the stream never links, and
// research at another partition than its form fill (linkable, but the link
// is learned where the form fill lands).
TEST(ReplayTest, IdentityReachComparesWhatReachedAnAccountWithWhatTheStreamLinks) {
  config::Config config = testing::DefaultConfig();
  config.decision.identity.global = false;
  const std::string input =
      R"({"event_id":"u1","occurred_at":"2026-03-02T09:00:00Z","type":"crm.contact_upsert","account_id":"acct-1","contact_id":"ct-1","email":"ada@one.example","crm_activity":{"account_domain":"one.example"}}
{"event_id":"r1","occurred_at":"2026-03-02T09:01:00Z","type":"web.pricing_view","anonymous_id":"anon-ada"}
{"event_id":"f1","occurred_at":"2026-03-02T09:02:00Z","type":"web.form_submit","anonymous_id":"anon-ada","email":"ada@one.example"}
{"event_id":"c1","occurred_at":"2026-03-02T09:03:00Z","type":"email.click","email":"ada@one.example"}
{"event_id":"c2","occurred_at":"2026-03-02T09:04:00Z","type":"email.click","email":"new.hire@one.example"}
{"event_id":"n1","occurred_at":"2026-03-02T09:05:00Z","type":"web.page_view","anonymous_id":"anon-nobody"}
)";
  ReplayRun run = DoReplay(config, input);
  const ReachReport& r = run.summary.reach;
  EXPECT_EQ(r.identity_only, 5);  // r1, f1, c1, c2, n1
  EXPECT_EQ(r.linkable, 4);       // all but n1
  EXPECT_EQ(r.linkable_reached, 4);
  EXPECT_EQ(r.reached, 4);
  EXPECT_EQ(r.still_waiting, 1);
  EXPECT_EQ(r.dead_lettered, 0);
  EXPECT_THAT(FormatSummary(run.summary, config),
              HasSubstr("identity reach: signals without an account_id=5; linked to an account anywhere in the stream=4, "
                        "of which reached it=4 (100.00%); reached in all=4 dead-lettered=0 still waiting=1\n"));

  // At several partitions, a keyless signal lands where its event id
  // hashes: some of the linkable ones wait for a link learned elsewhere.
  ReplayOptions twelve;
  twelve.partitions.partitions = 12;
  ReplayRun split = DoReplay(config, input, twelve);
  EXPECT_EQ(split.summary.reach.linkable, 4);
  EXPECT_LT(split.summary.reach.linkable_reached, 4);
  EXPECT_EQ(split.summary.reach.linkable_reached + split.summary.reach.still_waiting, 5);
}

// identity.scope global: one identity task for every partition, so the
// research at another partition than its form fill reaches its account too,
// and the account's outputs do not depend on how many partitions there are.
TEST(ReplayTest, GlobalIdentityReachesAcrossPartitions) {
  config::Config config = testing::DefaultConfig();
  config.decision.identity.global = true;
  const std::string input =
      R"({"event_id":"u1","occurred_at":"2026-03-02T09:00:00Z","type":"crm.contact_upsert","account_id":"acct-1","contact_id":"ct-1","email":"ada@one.example","crm_activity":{"account_domain":"one.example"}}
{"event_id":"r1","occurred_at":"2026-03-02T09:01:00Z","type":"web.pricing_view","anonymous_id":"anon-ada"}
{"event_id":"r2","occurred_at":"2026-03-02T09:01:30Z","type":"web.pricing_view","anonymous_id":"anon-ada"}
{"event_id":"f1","occurred_at":"2026-03-02T09:02:00Z","type":"web.form_submit","anonymous_id":"anon-ada","email":"ada@one.example"}
{"event_id":"c1","occurred_at":"2026-03-02T09:03:00Z","type":"email.click","email":"ada@one.example"}
{"event_id":"c2","occurred_at":"2026-03-02T09:04:00Z","type":"email.click","email":"new.hire@one.example"}
{"event_id":"n1","occurred_at":"2026-03-02T09:05:00Z","type":"web.page_view","anonymous_id":"anon-nobody"}
)";
  std::string outputs;
  for (int32_t partitions : {1, 5, 12}) {
    ReplayOptions options;
    options.partitions.partitions = partitions;
    ReplayRun run = DoReplay(config, input, options);
    const ReachReport& r = run.summary.reach;
    EXPECT_EQ(r.linkable, 5) << partitions;
    EXPECT_EQ(r.linkable_reached, 5) << partitions;
    EXPECT_EQ(r.still_waiting, 1) << partitions;  // n1
    EXPECT_EQ(run.summary.waiting.released, 2) << partitions;  // r1, r2 when f1 links anon-ada
    // Two pricing views in 14 days: the account's research shows intent.
    EXPECT_EQ(run.summary.accounts_by_stage["evaluating"], 1) << partitions;
    if (partitions == 1) outputs = run.out;
    EXPECT_EQ(run.out, outputs) << partitions;
  }
}

// On a generated stream, global identity at 12 partitions reaches what
// identity scoped to one partition reaches, far more than when each of 12
// partitions keeps its own.
TEST(ReplayTest, GlobalIdentityAtTwelvePartitionsReachesWhatOnePartitionDoes) {
  const std::string input = Generated(2000, 20000, 7);
  config::Config config = testing::DefaultConfig();
  config.decision.identity.global = false;
  ReplayOptions one, twelve;
  twelve.partitions.partitions = 12;
  ReachReport partition_12 = DoReplay(config, input, twelve).summary.reach;
  ReachReport partition_1 = DoReplay(config, input, one).summary.reach;
  config.decision.identity.global = true;
  ReachReport global_12 = DoReplay(config, input, twelve).summary.reach;
  EXPECT_GT(global_12.linkable, 1000);
  EXPECT_EQ(global_12.linkable, partition_1.linkable);
  EXPECT_EQ(global_12.linkable_reached, partition_1.linkable_reached);
  EXPECT_GT(global_12.linkable_reached, 0.9 * static_cast<double>(global_12.linkable));
  EXPECT_LT(partition_12.linkable_reached, global_12.linkable_reached / 4);
}

TEST(ReplayTest, ByteIdenticalRunAfterRun) {
  config::Config config = testing::DefaultConfig();
  std::string input;
  for (int i = 0; i < 200; ++i) {
    input += "{\"event_id\":\"e" + std::to_string(i) + "\",\"occurred_at\":\"2026-03-0" +
             std::to_string(1 + i % 9) + "T09:00:00Z\",\"type\":\"web.pricing_view\",\"account_id\":\"acct-" +
             std::to_string(i % 7) + "\",\"contact_id\":\"ct-" + std::to_string(i % 5) +
             "\",\"attributes\":{\"b\":\"2\",\"a\":\"1\",\"c\":\"3\"}}\n";
  }
  ReplayRun first = DoReplay(config, input);
  ReplayRun second = DoReplay(config, input);
  EXPECT_FALSE(first.out.empty());
  EXPECT_EQ(first.out, second.out);
}

TEST(ReplayTest, StreamTimeIsPerPartition) {
  config::Config config = testing::DefaultConfig();
  // acct-a goes quiet; only acct-b's much later signal moves stream time.
  std::string quiet = R"({"event_id":"a1","occurred_at":"2026-03-02T09:00:00Z","type":"web.page_view","account_id":"acct-a"})";
  std::string later = R"({"event_id":"b1","occurred_at":"2026-06-02T09:00:00Z","type":"web.page_view","account_id":"acct-b"})";
  ReplayOptions one;
  ReplayOptions many;
  many.partitions.partitions = 64;
  ASSERT_NE(PartitionForKey("acct-a", 64, Partitioner::kMurmur2),
            PartitionForKey("acct-b", 64, Partitioner::kMurmur2));
  EXPECT_EQ(DoReplay(config, quiet + "\n" + later + "\n", one).summary.timers_fired, 1);
  EXPECT_EQ(DoReplay(config, quiet + "\n" + later + "\n", many).summary.timers_fired, 0);
}

TEST(ReplayTest, SummaryNamesRulesThatNeverFired) {
  config::Config config = testing::DefaultConfig();
  ReplayRun run = DoReplay(config, kInput);
  std::string text = FormatSummary(run.summary, config);
  EXPECT_THAT(text, HasSubstr("rules fired: demo_request_sdr=1"));
  EXPECT_THAT(text, HasSubstr("rules never fired: pricing_surge_specialist"));
  EXPECT_THAT(text, HasSubstr("rejects: MISSING_IDENTITY=1 (14.29%) UNDECODABLE=1 (14.29%) UNKNOWN_FIELD=1 (14.29%)\n"));
  EXPECT_THAT(text, HasSubstr("late binding: waited=1 released to their account=0 past the wait bound "
                              "(dead-lettered)=0 still waiting at the end=1"));
}


// One signal dated 9999-12-31 for a made-up account, 1,500 lines into a
// generated stream: before event times were checked it moved its partition's
// stream time to year 9999, every timer fired, and 413 extra outputs went
// out (accounts moved to dormant, escalation prompts), with send_at and
// due_at in year 10000. Now it is dead-lettered and nothing else changes.
TEST(ReplayTest, OneBadClockChangesNothingButItsOwnDeadLetter) {
  config::Config config = testing::DefaultConfig();
  std::string clean = Generated(300, 3000, 7);
  size_t at = 0;
  for (int line = 0; line < 1500; ++line) at = clean.find('\n', at) + 1;
  std::string poisoned = clean;
  poisoned.insert(at, R"({"event_id":"evt-bad-clock","occurred_at":"9999-12-31T00:00:00Z","type":"web.pricing_view",)"
                      R"("account_id":"acct-made-up"})"
                      "\n");
  for (int partitions : {1, 12}) {
    SCOPED_TRACE(partitions);
    ReplayOptions model;
    model.partitions.partitions = partitions;
    ReplayRun want = DoReplay(config, clean, model);
    ReplayRun got = DoReplay(config, poisoned, model);
    EXPECT_EQ(got.summary.rejects_by_reason["EVENT_TIME_AHEAD"], 1);
    EXPECT_THAT(got.errors, HasSubstr("line 1501: EVENT_TIME_AHEAD: occurred_at 9999-12-31T00:00:00Z is "));
    EXPECT_EQ(got.summary.rejected, want.summary.rejected + 1);
    EXPECT_GT(want.out.size(), 100000u);
    EXPECT_TRUE(got.out == want.out) << "the bad clock changed the outputs";
    EXPECT_EQ(got.out.find("\"10000-"), std::string::npos);
  }
}

// Selling by complexity (the default config): a field AE or a specialist
// only where the deal is complex by routing.auto's measures, which every
// such action's trace shows; routine proposals go to an SDR.
TEST(ReplayTest, TheDefaultConfigSendsFieldAndSpecialistsOnlyToComplexDeals) {
  config::Config config = testing::DefaultConfig();
  int64_t person_led = 0, routine_proposals = 0;
  ReplayOptions replay;
  replay.write_outputs = false;
  replay.on_output = [&](const outputs::Output& o) {
    const auto* nba = std::get_if<v1::NextBestAction>(&o.message);
    if (nba == nullptr) return;
    if (nba->rule_id() == "proposal_inside_sales") {
      ++routine_proposals;
      EXPECT_EQ(nba->channel(), v1::INSIDE_SALES);
    }
    if (nba->channel() != v1::FIELD_SALES && nba->channel() != v1::SPECIALIST) return;
    ++person_led;
    const auto& facts = nba->trace().facts();
    auto rule = facts.find("complex_deal");
    auto model = facts.find("auto.complex");
    std::string complex = rule != facts.end() ? rule->second : model != facts.end() ? model->second : "";
    EXPECT_TRUE(complex.starts_with("yes: ")) << nba->rule_id() << " sent " << v1::Channel_Name(nba->channel())
                                              << " to " << nba->account_id() << " (complex: \"" << complex << "\")";
  };
  ReplayRun run = DoReplay(config, Generated(2000, 20000, 11), replay);
  EXPECT_GT(person_led, 100);
  EXPECT_GT(routine_proposals, 10);
}

// The summary reads an experiment per arm: each KPI's share with its
// interval, and each arm against the baseline.
TEST(ReplayTest, SummaryGivesExperimentKpisWithIntervals) {
  config::Config config = testing::DefaultConfig();
  ReplayOptions replay;
  replay.write_outputs = false;
  ReplayRun run = DoReplay(config, Generated(1000, 10000, 7), replay);
  const outputs::DecisionCounters& c = run.summary.counters;
  int64_t champions = c.experiment_exposed.at("reply_follow_up/champion");
  int64_t challengers = c.experiment_exposed.at("reply_follow_up/call_back");
  EXPECT_GT(champions, challengers);  // 80% against 20% of the accounts
  EXPECT_GT(challengers, 0);
  int64_t won = c.experiment_reached.at("reply_follow_up/champion/customer");
  std::string text = FormatSummary(run.summary, config);
  EXPECT_THAT(text, HasSubstr(StrCat("experiment reply_follow_up (95% intervals; against champion, * where the "
                                     "difference excludes 0): accounts exposed champion=",
                                     champions, " call_back=", challengers, "\n")));
  EXPECT_THAT(text, HasSubstr(StrCat("  reached customer: champion ", won, "/", champions, " ",
                                     outputs::FormatShare(outputs::WilsonShare(won, champions)), "; call_back ")));
  EXPECT_THAT(text, HasSubstr("  prompts accepted: champion "));
  EXPECT_THAT(text, HasSubstr("experiment nurture_holdout (95% intervals; against holdout"));
  // The journey model of every partition, and its forecast.
  int64_t left_negotiating = 0;
  for (const auto& [segment, journey] : run.summary.journey_model.segments()) {
    auto it = journey.stages().find("negotiating");
    if (it == journey.stages().end()) continue;
    for (const auto& [to, n] : it->second.to()) left_negotiating += n;
  }
  EXPECT_GT(left_negotiating, 0);
  EXPECT_THAT(text, HasSubstr(StrCat("journey model (every account's stage exits; won: customer): unaware left by ")));
  EXPECT_THAT(text, HasSubstr(StrCat(" negotiating left by ", left_negotiating, " after ")));
  EXPECT_THAT(text, HasSubstr("forecast for the accounts at the end: expected wins by stage "));
}

// Replay's record timestamps come from the lines that follow (LineClock): a
// quiet night and a burst after it are not ahead of anything.
TEST(ReplayTest, ABurstAfterAQuietSpellIsNotAheadOfItsNeighbours) {
  config::Config config = testing::DefaultConfig();
  std::string input;
  for (int i = 0; i < 80; ++i) {
    // 40 signals an hour apart at night, then 40 a minute apart, 3 days on.
    int64_t at = testing::kT0 + (i < 40 ? i * kMillisPerHour : 3 * kMillisPerDay + i * kMillisPerMinute);
    input += StrCat(R"({"event_id":"e)", i, R"(","occurred_at":")", FormatTime(at),
                    R"(","type":"web.page_view","account_id":"acct-)", i % 5, "\"}\n");
  }
  ReplayRun run = DoReplay(config, input);
  EXPECT_EQ(run.summary.rejected, 0) << run.errors;
  EXPECT_EQ(run.summary.applied, 80);
}

// A line may carry its record's timestamp (as a topic dump writes it); the
// event-time check then uses it rather than the lines after it.
TEST(ReplayTest, ALineThatCarriesItsRecordTimestampIsCheckedAgainstIt) {
  config::Config config = testing::DefaultConfig();
  auto line = [](int i, int64_t at) {
    return StrCat(R"({"event_id":"e)", i, R"(","occurred_at":")", FormatTime(at),
                  R"(","type":"web.page_view","account_id":"acct-)", i % 5, "\"}");
  };
  // 40 lines a minute apart; line 10 claims to be three hours later.
  auto input = [&](const std::string& stamp_of_10, const std::string& stamp_of_20) {
    std::string text;
    for (int i = 0; i < 40; ++i) {
      int64_t at = testing::kT0 + (i == 10 ? 3 * kMillisPerHour : i * kMillisPerMinute);
      if (i == 10) text += stamp_of_10;
      if (i == 20) text += stamp_of_20;
      text += line(i, at) + "\n";
    }
    return text;
  };
  // Unstamped, the lines after it say line 10's clock is ahead.
  ReplayRun neighbours = DoReplay(config, input("", ""));
  EXPECT_EQ(neighbours.summary.rejects_by_reason["EVENT_TIME_AHEAD"], 1);
  EXPECT_THAT(neighbours.errors, HasSubstr("line 11: EVENT_TIME_AHEAD:"));
  // Its record says it was sent three hours on: believed, in either form.
  std::string sent_late = FormatTime(testing::kT0 + 3 * kMillisPerHour);
  for (const std::string& stamp : {StrCat(testing::kT0 + 3 * kMillisPerHour, "\t"), sent_late + "\t"}) {
    ReplayRun stamped = DoReplay(config, input(stamp, ""));
    EXPECT_EQ(stamped.summary.rejected, 0) << stamped.errors;
    EXPECT_EQ(stamped.summary.applied, 40);
  }
  // Line 21's record was sent 2h 20m before its event time: ahead,
  // although its neighbours would vouch for it.
  std::string sent_early = FormatTime(testing::kT0 - 2 * kMillisPerHour);
  ReplayRun early = DoReplay(config, input(sent_late + "\t", sent_early + "\t"));
  EXPECT_EQ(early.summary.rejected, 1);
  EXPECT_THAT(early.errors, HasSubstr("line 21: EVENT_TIME_AHEAD: occurred_at "));
  EXPECT_THAT(early.errors, HasSubstr("2h 20m after the record's own timestamp " + sent_early));
  // A bad timestamp is its own reject, and the line is not read further.
  ReplayRun bad = DoReplay(config, input("2026-02-30T00:00:00Z\t", ""));
  EXPECT_EQ(bad.summary.rejects_by_reason["BAD_RECORD_TIMESTAMP"], 1);
  EXPECT_THAT(bad.errors, HasSubstr("line 11: BAD_RECORD_TIMESTAMP: record timestamp \"2026-02-30T00:00:00Z\" is neither"));
  EXPECT_EQ(bad.summary.applied, 39);
}

}  // namespace
}  // namespace demandcenter::replay
