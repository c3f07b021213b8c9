#include "demandcenter/common/time.h"

#include "gtest/gtest.h"

namespace demandcenter {
namespace {

TEST(ParseDurationTest, AcceptsEveryUnitAndCompounds) {
  EXPECT_EQ(*ParseDurationMillis("250ms"), 250);
  EXPECT_EQ(*ParseDurationMillis("90s"), 90'000);
  EXPECT_EQ(*ParseDurationMillis("15m"), 15 * kMillisPerMinute);
  EXPECT_EQ(*ParseDurationMillis("1h"), kMillisPerHour);
  EXPECT_EQ(*ParseDurationMillis("7d"), 7 * kMillisPerDay);
  EXPECT_EQ(*ParseDurationMillis("2w"), 14 * kMillisPerDay);
  EXPECT_EQ(*ParseDurationMillis("1h30m"), 90 * kMillisPerMinute);
}

TEST(ParseDurationTest, RejectsUnknownUnitWithItsName) {
  auto parsed = ParseDurationMillis("3x");
  ASSERT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("unknown unit 'x'"), std::string::npos);
}

TEST(ParseDurationTest, RejectsMissingUnitAndGarbage) {
  EXPECT_EQ(ParseDurationMillis("7").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDurationMillis("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDurationMillis("d7").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDurationMillis("-1d").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(TimeFormatTest, RoundTripsMillis) {
  int64_t ms = 1767603600123;  // 2026-01-05T09:00:00.123Z
  EXPECT_EQ(ToMillis(FromMillis(ms)), ms);
  EXPECT_EQ(FormatTime(ms), "2026-01-05T09:00:00.123Z");
  EXPECT_EQ(FormatTime(1767603600000), "2026-01-05T09:00:00Z");
  EXPECT_EQ(ToMillis(FromMillis(-1)), -1);
}

TEST(TimeFormatTest, TimestampsStayWithinWhatATimestampCanHold) {
  int64_t last = 253402300799999;  // 9999-12-31T23:59:59.999Z
  EXPECT_EQ(ToMillis(FromMillis(last + 30 * kMillisPerDay)), last);
  EXPECT_EQ(FormatTime(last + 1), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTime(INT64_MIN / 2), "0001-01-01T00:00:00Z");
}

TEST(TimeFormatTest, FormatsDurationsForPeople) {
  EXPECT_EQ(FormatDuration(3 * kMillisPerDay + 2 * kMillisPerHour), "3d 2h");
  EXPECT_EQ(FormatDuration(45 * kMillisPerMinute), "45m");
  EXPECT_EQ(FormatDuration(0), "0ms");
}

}  // namespace
}  // namespace demandcenter
