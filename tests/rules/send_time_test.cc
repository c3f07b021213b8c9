#include "demandcenter/rules/send_time.h"

#include <gtest/gtest.h>

#include <set>

#include "../testing.h"
#include "demandcenter/common/calendar.h"
#include "demandcenter/rules/contact_policy.h"

namespace demandcenter::rules {
namespace {

// E-mail only on weekdays 09:00-17:00 UTC; the right hour after 20 sends,
// never exploring unless a test says so.
constexpr char kConfig[] = R"(
rules_version: send-time
journey:
  stages: [lead]
  transitions: []
contact_policy:
  timezone: UTC
  quiet_hours: {from: "17:00", to: "09:00", weekends: true, channels: [EMAIL]}
  send_time: {min_evidence: 20, explore: 0, horizon: 1d, window: 2d, prior_weight: 10}
rules: []
)";

constexpr int kMon = 0, kTue = 1;
int Hour(int day, int hour) { return day * 24 + hour; }

// Counts with `trials` and `successes` at the given hours of the week.
v1::HourCounts Counts(std::initializer_list<std::tuple<int, int64_t, int64_t>> cells) {
  v1::HourCounts c;
  c.mutable_trials()->Resize(kHoursOfWeek, 0);
  c.mutable_successes()->Resize(kHoursOfWeek, 0);
  for (auto [hour, trials, successes] : cells) {
    c.set_trials(hour, trials);
    c.set_successes(hour, successes);
  }
  return c;
}

class SendTimeTest : public ::testing::Test {
 protected:
  SendTimeTest() : config_(testing::MustParseDecision(kConfig)) {
    zone_.tz = zones_.Find("UTC");
    zone_.name = "UTC";
  }
  SendTimeChoice Choose(int64_t earliest, const v1::HourCounts* counts, uint64_t seed = 1) {
    SendTimeInput input{counts, "EMAIL|smb|champion", seed};
    return ChooseSendTime(config_, zone_, v1::EMAIL, false, earliest, input);
  }

  config::DecisionConfig config_;
  calendar::TimeZones zones_;
  PolicyZone zone_;
};

// `day` days after Monday 2 March 2026, at hh:mm UTC.
int64_t At(int day, int hour, int minute = 0) {
  return testing::kT0 + ((day * 24LL + hour - 9) * 60 + minute) * 60'000;
}

TEST_F(SendTimeTest, AnHourBorrowsFromItsHourOfDayWhichBorrowsFromTheOverallRate) {
  EXPECT_EQ(EstimateHours(config_.contact_policy.send_time, nullptr).rates, std::vector<double>(kHoursOfWeek, 0.5));
  v1::HourCounts c = Counts({{Hour(kMon, 9), 50, 5}, {Hour(kTue, 10), 50, 25}});
  HourEstimates e = EstimateHours(config_.contact_policy.send_time, &c);
  EXPECT_EQ(e.trials, 100);
  EXPECT_EQ(e.successes, 30);
  EXPECT_EQ(e.day_trials[10], 50);
  EXPECT_EQ(e.day_successes[9], 5);
  const std::vector<double>& r = e.rates;
  // Overall (30 + 1) / (100 + 2) = 0.3039; 10:00 of any day (25 + 3.039) /
  // (50 + 10) = 0.4673; Tue 10:00 itself (25 + 4.673) / (50 + 10) = 0.4946.
  EXPECT_NEAR(r[Hour(kTue, 10)], 0.49455, 1e-4);
  EXPECT_NEAR(r[Hour(kMon, 10)], 0.46732, 1e-4);  // no sends of its own
  EXPECT_NEAR(r[Hour(kMon, 3)], 0.30392, 1e-4);   // nothing at 03:00 on any day
  EXPECT_LT(r[Hour(kMon, 9)], 0.2);
  EXPECT_GT(r[Hour(kTue, 9)], r[Hour(kMon, 9)]);  // Tuesday 9:00 only borrows Monday's poor 9:00
  EXPECT_LT(r[Hour(kTue, 9)], r[Hour(kMon, 3)]);
}

TEST_F(SendTimeTest, MovesToTheBestAllowedHourWithinTheHorizonOnceThereIsEnoughEvidence) {
  v1::HourCounts c = Counts({{Hour(kMon, 15), 20, 2}, {Hour(kTue, 10), 20, 10}});
  int64_t earliest = At(0, 14, 20);  // Mon
  SendTimeChoice choice = Choose(earliest, &c);
  EXPECT_EQ(choice.at.why, SendTime::Why::kBest);
  EXPECT_EQ(choice.at.send_ms, At(1, 10));
  EXPECT_EQ(choice.at.hour_of_week, Hour(kTue, 10));
  // Mon 14:20, 15:00, 16:00 and Tue 09:00-14:00.
  EXPECT_EQ(choice.detail,
            "moved to Tue 3 Mar 10:00 UTC, the best of 9 allowed hour(s) in the next 1d: 48% expected at Tue "
            "10:00-11:00 (10 of 20 sends then; 10 of 20 at 10:00-11:00 on any day); EMAIL|smb|champion: 12 of 40 "
            "sends succeeded");

  // Beyond the horizon: from Tue 11:30 the next Tue 10:00 is a week away;
  // Wed 10:00 (borrowing from 10:00 on any day) is the best.
  choice = Choose(At(1, 11, 30), &c);
  EXPECT_EQ(choice.at.send_ms, At(2, 10));

  // The earliest time may itself be the best: it stays.
  v1::HourCounts now_best = Counts({{Hour(kMon, 14), 20, 10}, {Hour(kTue, 10), 20, 2}});
  choice = Choose(earliest, &now_best);
  EXPECT_EQ(choice.at.send_ms, earliest);
  EXPECT_EQ(choice.detail.rfind("Mon 2 Mar 14:20 UTC is the best of 9 allowed hour(s)", 0), 0u) << choice.detail;

  // Not enough evidence: the earliest time, and why.
  v1::HourCounts few = Counts({{Hour(kTue, 10), 19, 10}});
  choice = Choose(earliest, &few);
  EXPECT_EQ(choice.at.why, SendTime::Why::kNotEnoughEvidence);
  EXPECT_EQ(choice.at.send_ms, earliest);
  EXPECT_EQ(choice.detail,
            "the earliest allowed time: the best hour for EMAIL|smb|champion: 10 of 19 sends succeeded, 20 needed "
            "before it is used");
  EXPECT_EQ(Choose(earliest, nullptr).at.send_ms, earliest);
}

TEST_F(SendTimeTest, ExplorationSendsAShareAtOtherAllowedHoursFromTheSeedAlone) {
  config_.contact_policy.send_time.explore = 0.2;
  v1::HourCounts c = Counts({{Hour(kMon, 15), 40, 4}, {Hour(kTue, 10), 40, 30}});
  int64_t earliest = At(0, 14, 20);
  int64_t best = At(1, 10);
  int explored = 0;
  std::set<int64_t> hours;
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    SendTimeChoice choice = Choose(earliest, &c, seed);
    EXPECT_EQ(choice.at.send_ms, Choose(earliest, &c, seed).at.send_ms);
    if (choice.at.why != SendTime::Why::kExplore) {
      EXPECT_EQ(choice.at.send_ms, best);
      continue;
    }
    ++explored;
    EXPECT_NE(choice.at.send_ms, best);
    EXPECT_GE(choice.at.send_ms, earliest);
    EXPECT_LE(choice.at.send_ms, earliest + 86'400'000);
    EXPECT_EQ(NextAllowed(config_, zone_, v1::EMAIL, false, choice.at.send_ms), choice.at.send_ms);
    EXPECT_EQ(choice.at.hour_of_week, calendar::HourOfWeek(choice.at.send_ms, *zone_.tz));
    hours.insert(choice.at.send_ms);
  }
  EXPECT_NEAR(explored, 400, 60);
  EXPECT_EQ(hours.size(), 8u);  // every other allowed hour
}

TEST_F(SendTimeTest, ARepliesCreditsTheLatestEmailSentBeforeItWithinTheWindowOnce) {
  const config::SendTimeConfig& st = config_.contact_policy.send_time;  // window 2d
  v1::PropensityModel model;
  v1::AccountState account;
  int64_t t0 = At(0, 10);
  RecordTimedSend(st, "EMAIL|smb|-", Hour(kMon, 10), t0, "mail_a", v1::EMAIL, t0, &model, &account);
  RecordTimedSend(st, "INSIDE_SALES|smb|-", Hour(kMon, 11), t0 + 3'600'000, "call", v1::INSIDE_SALES, t0, &model,
                  &account);
  // Decided now, sent tomorrow at 09:00.
  RecordTimedSend(st, "EMAIL|smb|-", Hour(kTue, 9), t0 + 23 * 3'600'000, "mail_b", v1::EMAIL, t0, &model, &account);
  ASSERT_EQ(account.timed_sends_size(), 3);
  const v1::HourCounts& email = model.hours().at("EMAIL|smb|-");
  EXPECT_EQ(email.trials(Hour(kMon, 10)), 1);
  EXPECT_EQ(email.trials(Hour(kTue, 9)), 1);

  // A reply at 12:00 today answers mail_a, not the one not sent yet.
  EXPECT_TRUE(CreditTimedSend(st, t0 + 2 * 3'600'000, v1::EMAIL, "", &model, &account));
  EXPECT_EQ(email.successes(Hour(kMon, 10)), 1);
  EXPECT_EQ(email.successes(Hour(kTue, 9)), 0);
  EXPECT_FALSE(CreditTimedSend(st, t0 + 2 * 3'600'000, v1::EMAIL, "", &model, &account));  // once
  // A prompt's outcome credits its own action.
  EXPECT_FALSE(CreditTimedSend(st, t0 + 2 * 3'600'000, v1::INSIDE_SALES, "demo", &model, &account));
  EXPECT_TRUE(CreditTimedSend(st, t0 + 2 * 3'600'000, v1::INSIDE_SALES, "call", &model, &account));
  EXPECT_EQ(model.hours().at("INSIDE_SALES|smb|-").successes(Hour(kMon, 11)), 1);
  // Past the window (2 days after it went out), mail_b earns nothing.
  EXPECT_FALSE(CreditTimedSend(st, t0 + 23 * 3'600'000 + 2 * 86'400'000 + 1, v1::EMAIL, "", &model, &account));
  // A new send prunes what is past the window.
  RecordTimedSend(st, "EMAIL|smb|-", Hour(kMon, 10), t0 + 7 * 86'400'000, "mail_c", v1::EMAIL, t0 + 7 * 86'400'000,
                  &model, &account);
  ASSERT_EQ(account.timed_sends_size(), 1);
  EXPECT_EQ(account.timed_sends(0).action(), "mail_c");
  EXPECT_EQ(model.hours().at("EMAIL|smb|-").trials(Hour(kMon, 10)), 2);
}

TEST(SendTimeKeyTest, UnknownSegmentsAndRolesAreADash) {
  EXPECT_EQ(SendTimeKey(v1::EMAIL, "mid_market", "champion"), "EMAIL|mid_market|champion");
  EXPECT_EQ(SendTimeKey(v1::INSIDE_SALES, "", ""), "INSIDE_SALES|-|-");
  EXPECT_EQ(calendar::HourOfWeekText(Hour(kTue, 10)), "Tue 10:00-11:00");
  EXPECT_EQ(calendar::HourOfWeekText(167), "Sun 23:00-24:00");
}

}  // namespace
}  // namespace demandcenter::rules
