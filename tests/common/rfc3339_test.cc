// AppendRfc3339 and ParseRfc3339: protobuf-JSON's Timestamp text, both ways.
#include "demandcenter/common/rfc3339.h"

#include <cstdint>
#include <string>

#include "demandcenter/common/time.h"
#include "gtest/gtest.h"

namespace demandcenter {
namespace {

std::string Format(int64_t seconds, int32_t nanos) {
  std::string out = "<";
  AppendRfc3339(seconds, nanos, &out);
  return out.substr(1);  // appends, never replaces
}

TEST(FormatRfc3339Test, FractionOf0369Digits) {
  EXPECT_EQ(Format(1772357400, 0), "2026-03-01T09:30:00Z");
  EXPECT_EQ(Format(1772357400, 250'000'000), "2026-03-01T09:30:00.250Z");
  EXPECT_EQ(Format(1772357400, 1'000'000), "2026-03-01T09:30:00.001Z");
  EXPECT_EQ(Format(1772357400, 1000), "2026-03-01T09:30:00.000001Z");
  EXPECT_EQ(Format(1772357400, 123'456'000), "2026-03-01T09:30:00.123456Z");
  EXPECT_EQ(Format(1772357400, 1), "2026-03-01T09:30:00.000000001Z");
  EXPECT_EQ(Format(1772357400, 999'999'999), "2026-03-01T09:30:00.999999999Z");
}

TEST(FormatRfc3339Test, EpochLeapDaysAndTheEndsOfTheRange) {
  EXPECT_EQ(Format(0, 0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Format(951782400, 0), "2000-02-29T00:00:00Z");
  EXPECT_EQ(Format(1709251199, 0), "2024-02-29T23:59:59Z");
  EXPECT_EQ(Format(4107542400, 0), "2100-03-01T00:00:00Z");  // 2100 is not a leap year
  EXPECT_EQ(Format(-62135596800, 0), "0001-01-01T00:00:00Z");
  EXPECT_EQ(Format(253402300799, 999'999'999), "9999-12-31T23:59:59.999999999Z");
  EXPECT_EQ(Format(253402300799, 999'999'999).size(), kMaxRfc3339Bytes);
}

TEST(FormatRfc3339Test, BeforeTheEpoch) {
  EXPECT_EQ(Format(-1, 0), "1969-12-31T23:59:59Z");
  EXPECT_EQ(Format(-1, 500'000'000), "1969-12-31T23:59:59.500Z");
  EXPECT_EQ(Format(-86400, 0), "1969-12-31T00:00:00Z");
  EXPECT_EQ(Format(-86401, 0), "1969-12-30T23:59:59Z");
  EXPECT_EQ(Format(-30610224000, 0), "1000-01-01T00:00:00Z");
  EXPECT_EQ(Format(-30610224001, 0), "0999-12-31T23:59:59Z");
}

TEST(FormatRfc3339Test, YearsATimestampCannotHold) {
  EXPECT_EQ(Format(-62135596801, 0), "0000-12-31T23:59:59Z");
  EXPECT_EQ(Format(-62167219201, 0), "-0001-12-31T23:59:59Z");
  EXPECT_EQ(Format(253402300800, 0), "10000-01-01T00:00:00Z");
  EXPECT_EQ(Format(9223372036854775, 0), "292278994-08-17T07:12:55Z");
}

TEST(FormatRfc3339Test, NanosOutOfRangeCarryIntoSeconds) {
  EXPECT_EQ(Format(0, -1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(Format(0, 1'500'000'000), "1970-01-01T00:00:01.500Z");
}

TEST(FormatTimeTest, MillisecondsOnlyWhenNotZero) {
  EXPECT_EQ(FormatTime(1767603600000), "2026-01-05T09:00:00Z");
  EXPECT_EQ(FormatTime(1767603600123), "2026-01-05T09:00:00.123Z");
  EXPECT_EQ(FormatTime(1767603600100), "2026-01-05T09:00:00.100Z");
  EXPECT_EQ(FormatTime(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00Z");
}

struct Parsed {
  bool ok;
  int64_t seconds = 0;
  int32_t nanos = 0;
};

Parsed Parse(std::string_view text) {
  Parsed p;
  p.ok = ParseRfc3339(text, &p.seconds, &p.nanos);
  return p;
}

void ExpectParses(std::string_view text, int64_t seconds, int32_t nanos) {
  const Parsed p = Parse(text);
  EXPECT_TRUE(p.ok) << text;
  EXPECT_EQ(p.seconds, seconds) << text;
  EXPECT_EQ(p.nanos, nanos) << text;
}

TEST(ParseRfc3339Test, ReadsWhatTheFormatterWrites) {
  for (int64_t seconds : {int64_t{-62135596800}, int64_t{-1}, int64_t{0}, int64_t{951782400},
                          int64_t{1772357400}, int64_t{253402300799}}) {
    for (int32_t nanos : {0, 1, 1000, 1'000'000, 250'000'000, 999'999'999}) {
      std::string text;
      AppendRfc3339(seconds, nanos, &text);
      ExpectParses(text, seconds, nanos);
    }
  }
}

TEST(ParseRfc3339Test, FractionsAndOffsets) {
  ExpectParses("2026-03-01T09:30:00Z", 1772357400, 0);
  ExpectParses("2026-03-01T09:30:00.5Z", 1772357400, 500'000'000);
  ExpectParses("2026-03-01T09:30:00.1234567891234Z", 1772357400, 123'456'789);
  ExpectParses("2026-03-01T09:30:00+01:00", 1772357400 - 3600, 0);
  ExpectParses("2026-03-01T09:30:00-05:30", 1772357400 + 5 * 3600 + 1800, 0);
  ExpectParses("2026-03-01T09:30:00.25+00:00", 1772357400, 250'000'000);
  ExpectParses("1969-12-31T23:59:59Z", -1, 0);
  ExpectParses("0001-01-01T00:00:00Z", -62135596800, 0);
  ExpectParses("9999-12-31T23:59:59.999999999Z", 253402300799, 999'999'999);
  // An offset may take the time past either end of years 1-9999.
  ExpectParses("0001-01-01T00:00:00+01:00", -62135596800 - 3600, 0);
}

// protobuf's parser takes 1-digit fields, and so does this one.
TEST(ParseRfc3339Test, ShortFieldsAsProtobufReadsThem) {
  ExpectParses("2026-3-1T9:30:0Z", 1772357400, 0);
  ExpectParses("2026-03-01T09:30:00+1:5", 1772357400 - 3900, 0);
  ExpectParses("1-1-1T0:0:0Z", -62135596800, 0);
  ExpectParses("20-01-01T00:00:00Z", -61536067200, 0);
}

TEST(ParseRfc3339Test, LeapDays) {
  ExpectParses("2024-02-29T00:00:00Z", 1709164800, 0);
  ExpectParses("2000-02-29T00:00:00Z", 951782400, 0);
  EXPECT_FALSE(Parse("2026-02-29T00:00:00Z").ok);
  EXPECT_FALSE(Parse("1900-02-29T00:00:00Z").ok);
  EXPECT_FALSE(Parse("2026-04-31T00:00:00Z").ok);
}

TEST(ParseRfc3339Test, RefusesWhatProtobufRefuses) {
  for (std::string_view bad :
       {"", "2026-03-01", "2026-03-01T09:30Z", "2026-03-01T09:30:00", "2026-03-01 09:30:00Z",
        "2026-03-01t09:30:00Z", "2026-03-01T09:30:00z", "2026-03-01T09:30:00.Z",
        "2026-03-01T09:30:00,5Z", "2026-03-01T09:30:60Z", "2026-03-01T24:00:00Z",
        "2026-13-01T09:30:00Z", "2026-00-01T09:30:00Z", "2026-03-00T09:30:00Z",
        "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "-001-01-01T00:00:00Z",
        "+2026-03-01T09:30:00Z", "2026-03-01T09:30:00+24:00", "2026-03-01T09:30:00+01:60",
        "2026-03-01T09:30:00+0100", "2026-03-01T09:30:00+01", "2026-03-01T09:30:00Z ",
        " 2026-03-01T09:30:00Z", "2026-03-01T09:30:00Zjunk", "2026-003-01T09:30:00Z",
        "2026-03-01T009:30:00Z", "yesterday"}) {
    EXPECT_FALSE(Parse(bad).ok) << bad;
  }
}

// protobuf reads a C string: the text ends at its first NUL byte.
TEST(ParseRfc3339Test, StopsAtTheFirstNul) {
  using std::string_view_literals::operator""sv;
  ExpectParses("2026-03-01T09:30:00Z\0junk"sv, 1772357400, 0);
  EXPECT_FALSE(Parse("2026-03-01T09:30\0:00Z"sv).ok);
}

}  // namespace
}  // namespace demandcenter
