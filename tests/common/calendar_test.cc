#include "demandcenter/common/calendar.h"

#include "absl/time/time.h"
#include "demandcenter/common/time.h"
#include "gtest/gtest.h"

namespace demandcenter::calendar {
namespace {

int64_t Utc(int y, int mo, int d, int h, int mi = 0) {
  return absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone()));
}

class CalendarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &berlin_));
    ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &new_york_));
  }
  // Weekdays 08:00-18:00, Christmas everywhere, Thanksgiving in New York only.
  Calendar business_{WeeklyHours{kWeekdays, {{8 * 60, 18 * 60}}, true},
                     {{absl::CivilDay(2026, 12, 25), {}}, {absl::CivilDay(2026, 11, 26), {"America/*"}}}};
  absl::TimeZone berlin_;
  absl::TimeZone new_york_;
};

TEST_F(CalendarTest, OpenInsideLocalHoursOnly) {
  // Mon 2 Mar 2026, 09:00 UTC = 10:00 Berlin, 04:00 New York.
  EXPECT_TRUE(business_.IsOpen(Utc(2026, 3, 2, 9), berlin_, "Europe/Berlin"));
  EXPECT_FALSE(business_.IsOpen(Utc(2026, 3, 2, 9), new_york_, "America/New_York"));
  EXPECT_FALSE(business_.IsOpen(Utc(2026, 3, 7, 12), berlin_, "Europe/Berlin"));  // Saturday
  // 18:00 local is closed: windows are [from, to).
  EXPECT_FALSE(business_.IsOpen(Utc(2026, 3, 2, 17), berlin_, "Europe/Berlin"));
}

TEST_F(CalendarTest, NextOpenIsNowOrTheNextWindowStart) {
  int64_t open = Utc(2026, 3, 2, 9, 30) + 123;
  EXPECT_EQ(business_.NextOpen(open, berlin_, "Europe/Berlin"), open);
  // Friday 19:00 Berlin -> Monday 08:00 Berlin (07:00 UTC).
  EXPECT_EQ(business_.NextOpen(Utc(2026, 3, 6, 18), berlin_, "Europe/Berlin"), Utc(2026, 3, 9, 7));
  // 04:00 New York -> 08:00 New York the same day (13:00 UTC, EST).
  EXPECT_EQ(business_.NextOpen(Utc(2026, 3, 2, 9), new_york_, "America/New_York"), Utc(2026, 3, 2, 13));
}

TEST_F(CalendarTest, HolidaysApplyToTheirZones) {
  // Thanksgiving: closed in New York, open in Berlin.
  int64_t thursday_noon_ny = Utc(2026, 11, 26, 17);
  EXPECT_FALSE(business_.IsOpen(thursday_noon_ny, new_york_, "America/New_York"));
  EXPECT_EQ(business_.NextOpen(thursday_noon_ny, new_york_, "America/New_York"), Utc(2026, 11, 27, 13));
  EXPECT_TRUE(business_.IsOpen(Utc(2026, 11, 26, 10), berlin_, "Europe/Berlin"));
  // Christmas (Friday) everywhere: Thursday evening -> Monday 28th.
  EXPECT_EQ(business_.NextOpen(Utc(2026, 12, 24, 18), berlin_, "Europe/Berlin"), Utc(2026, 12, 28, 7));
}

TEST_F(CalendarTest, OpeningFollowsDaylightSavingTime) {
  // Berlin moves to CEST on Sun 29 Mar 2026: Monday 08:00 is 06:00 UTC.
  EXPECT_EQ(business_.NextOpen(Utc(2026, 3, 28, 12), berlin_, "Europe/Berlin"), Utc(2026, 3, 30, 6));
}

TEST_F(CalendarTest, AddOpenTimeCountsOnlyOpenHours) {
  // Tue 16:30 Berlin + 4 open hours = Wed 10:30 Berlin.
  EXPECT_EQ(business_.AddOpenTime(Utc(2026, 3, 3, 15, 30), 0, 4 * kMillisPerHour, berlin_, "Europe/Berlin"),
            Utc(2026, 3, 4, 9, 30));
  // Friday 17:30 + 1h = Monday 08:30.
  EXPECT_EQ(business_.AddOpenTime(Utc(2026, 3, 6, 16, 30), 0, kMillisPerHour, berlin_, "Europe/Berlin"),
            Utc(2026, 3, 9, 7, 30));
  // Saturday + 2 business days: from Monday 08:00 to Wednesday 08:00.
  EXPECT_EQ(business_.AddOpenTime(Utc(2026, 3, 7, 10), 2, 0, berlin_, "Europe/Berlin"), Utc(2026, 3, 11, 7));
  // Thursday 10:00 + 2 days skips the weekend: Monday 10:00.
  EXPECT_EQ(business_.AddOpenTime(Utc(2026, 3, 12, 9), 2, 0, berlin_, "Europe/Berlin"), Utc(2026, 3, 16, 9));
  // Ending exactly at closing time is allowed.
  EXPECT_EQ(business_.AddOpenTime(Utc(2026, 3, 2, 16), 0, kMillisPerHour, berlin_, "Europe/Berlin"),
            Utc(2026, 3, 2, 17));
}

TEST_F(CalendarTest, SplitWindowsAndText) {
  // Quiet 12:00-14:00: sending allowed before noon and from 14:00.
  Calendar send{WeeklyHours{kEveryDay, {{0, 12 * 60}, {14 * 60, 1440}}, false}, {}};
  EXPECT_EQ(send.NextOpen(Utc(2026, 3, 2, 12, 30), absl::UTCTimeZone(), "UTC"), Utc(2026, 3, 2, 14));
  EXPECT_EQ(send.AddOpenTime(Utc(2026, 3, 2, 11), 0, 2 * kMillisPerHour, absl::UTCTimeZone(), "UTC"),
            Utc(2026, 3, 2, 15));
  EXPECT_EQ(business_.hours().ToString(), "Mon-Fri 08:00-18:00");
  EXPECT_EQ(send.hours().ToString(), "every day 00:00-12:00, 14:00-24:00");
  EXPECT_EQ((WeeklyHours{0x15, {{540, 1020}}, true}).ToString(), "Mon, Wed, Fri 09:00-17:00");
  EXPECT_EQ(FormatLocal(Utc(2026, 3, 2, 9, 5), berlin_), "Mon 2 Mar 10:05");
}

TEST(TimeZonesTest, LoadsOnceAndKnowsUnknownNames) {
  TimeZones zones;
  const absl::TimeZone* tokyo = zones.Find("Asia/Tokyo");
  ASSERT_NE(tokyo, nullptr);
  EXPECT_EQ(zones.Find("Asia/Tokyo"), tokyo);
  EXPECT_EQ(zones.Find("Mars/Olympus_Mons"), nullptr);
  EXPECT_EQ(zones.Find(""), nullptr);
}

TEST(WeekdayTest, Parses) {
  EXPECT_EQ(ParseWeekday("mon"), 0);
  EXPECT_EQ(ParseWeekday("Sunday"), 6);
  EXPECT_EQ(ParseWeekday("funday"), -1);
  EXPECT_EQ(WeekdayIndex(absl::CivilDay(2026, 3, 2)), 0);
}

}  // namespace
}  // namespace demandcenter::calendar
