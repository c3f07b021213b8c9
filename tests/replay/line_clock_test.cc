#include "demandcenter/replay/line_clock.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace demandcenter::replay {
namespace {

// Feeds `times` and returns every stamp, the input ended after them.
std::vector<int64_t> Stamps(const std::vector<int64_t>& times) {
  LineClock clock;
  std::vector<int64_t> stamps;
  for (int64_t t : times) {
    clock.Add(t);
    while (auto s = clock.Next(false)) stamps.push_back(*s);
  }
  while (auto s = clock.Next(true)) stamps.push_back(*s);
  return stamps;
}

TEST(LineClockTest, StampsEachLineWithTheThirdLatestOfTheLinesAfterIt) {
  std::vector<int64_t> times;
  for (int64_t i = 0; i < 100; ++i) times.push_back(i * 10);
  std::vector<int64_t> stamps = Stamps(times);
  ASSERT_EQ(stamps.size(), times.size());
  // Line 0: the lines after it are 10..320; the third latest is 300.
  EXPECT_EQ(stamps[0], 300);
  EXPECT_EQ(stamps[50], 800);
  // Near the end fewer lines follow: line 90 has 91..99 (third latest 970);
  // the last three lines have fewer than three after them: no stamp.
  EXPECT_EQ(stamps[90], 970);
  EXPECT_EQ(stamps[96], 990 - 20);
  EXPECT_EQ(stamps[97], 0);
  EXPECT_EQ(stamps[99], 0);
}

TEST(LineClockTest, UpToTwoBadClocksTogetherDoNotLiftTheirNeighboursStamp) {
  std::vector<int64_t> times(100, 1000);
  times[40] = 9'000'000;
  times[41] = 9'000'000;
  std::vector<int64_t> stamps = Stamps(times);
  EXPECT_EQ(stamps[40], 1000);  // the bad lines are judged by what followed them
  EXPECT_EQ(stamps[41], 1000);
  EXPECT_EQ(stamps[20], 1000);  // and lift no one before them
}

TEST(LineClockTest, WaitsForThirtyTwoLinesAfterALine) {
  LineClock clock;
  for (int i = 0; i < 32; ++i) clock.Add(i);
  EXPECT_FALSE(clock.Next(false).has_value());
  clock.Add(32);
  EXPECT_EQ(clock.Next(false), 30);
  EXPECT_FALSE(clock.Next(false).has_value());
}

// Split "<line>": the record timestamp and the value, or the error.
struct Split {
  std::optional<int64_t> record_ms;
  std::string value;
  std::string error;
};
Split SplitOf(std::string_view line) {
  Split split;
  std::string_view value;
  absl::Status status = SplitRecordTimestamp(line, &split.record_ms, &value);
  split.value = std::string(value);
  split.error = std::string(status.message());
  return split;
}

TEST(SplitRecordTimestampTest, ReadsMillisecondsOrRfc3339BeforeATab) {
  Split plain = SplitOf(R"({"event_id":"e1"})");
  EXPECT_EQ(plain.record_ms, std::nullopt);
  EXPECT_EQ(plain.value, R"({"event_id":"e1"})");
  Split ms = SplitOf("1772442000123\t{\"event_id\":\"e1\"}");
  EXPECT_EQ(ms.error, "");
  EXPECT_EQ(ms.record_ms, 1772442000123);
  EXPECT_EQ(ms.value, R"({"event_id":"e1"})");
  Split rfc = SplitOf("2026-03-02T09:00:00.123Z\t{}");
  EXPECT_EQ(rfc.record_ms, 1772442000123);
  EXPECT_EQ(rfc.value, "{}");
  EXPECT_EQ(SplitOf("2026-03-02T10:00:00+01:00\t").record_ms, 1772442000000);
  EXPECT_EQ(SplitOf("0\t{}").record_ms, 0);
  EXPECT_EQ(SplitOf("253402300799999\t{}").record_ms, 253402300799999);
}

TEST(SplitRecordTimestampTest, SaysWhatIsWrongWithoutEchoingRawBytes) {
  using ::testing::HasSubstr;
  EXPECT_EQ(SplitOf("1772442000123 {}").error,
            "a line that starts with a digit is a record timestamp, a tab and the value; no tab follows \"1772442000123 {}\"");
  EXPECT_EQ(SplitOf("2026-13-01T00:00:00Z\t{}").error,
            "record timestamp \"2026-13-01T00:00:00Z\" is neither milliseconds since the epoch nor RFC 3339");
  EXPECT_EQ(SplitOf("253402300800000\t{}").error,
            "record timestamp \"253402300800000\" is outside 1970-01-01T00:00:00Z..9999-12-31T23:59:59.999Z");
  EXPECT_THAT(SplitOf("99999999999999999999\t{}").error, HasSubstr("neither milliseconds"));
  EXPECT_THAT(SplitOf("1969-12-31T23:59:59Z\t{}").error, HasSubstr("is outside 1970"));
  std::string raw = SplitOf(std::string("1\x01\xff") + std::string(100, 'x') + "\t{}").error;
  EXPECT_THAT(raw, HasSubstr(R"("1\u0001\xff)"));
  EXPECT_THAT(raw, HasSubstr("...")) << "cut, not echoed whole";
  EXPECT_LT(raw.size(), 160u);
}

}  // namespace
}  // namespace demandcenter::replay
