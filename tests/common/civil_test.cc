// DaysFromCivil and CivilFromDays against fixed dates and against
// absl::CivilDay over every day of years 1-9999 and well beyond.
#include "demandcenter/common/civil.h"

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace demandcenter {
namespace {

TEST(CivilTest, KnownDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2026, 1, 5), 20458);
  EXPECT_EQ(DaysFromCivil(1, 1, 1), -719162);
  EXPECT_EQ(DaysFromCivil(9999, 12, 31), 2932896);
  EXPECT_EQ(CivilFromDays(0), (CivilDate{1970, 1, 1}));
  EXPECT_EQ(CivilFromDays(-1), (CivilDate{1969, 12, 31}));
  EXPECT_EQ(CivilFromDays(-719162), (CivilDate{1, 1, 1}));
  EXPECT_EQ(CivilFromDays(-719163), (CivilDate{0, 12, 31}));
  EXPECT_EQ(CivilFromDays(2932896), (CivilDate{9999, 12, 31}));
  EXPECT_EQ(CivilFromDays(2932897), (CivilDate{10000, 1, 1}));
}

TEST(CivilTest, LeapYears) {
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_TRUE(IsLeapYear(0));
  EXPECT_TRUE(IsLeapYear(-4));
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_FALSE(IsLeapYear(2100));
  EXPECT_FALSE(IsLeapYear(2026));
  EXPECT_FALSE(IsLeapYear(-1));
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(1900, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
  EXPECT_EQ(DaysInMonth(2026, 4), 30);
  EXPECT_EQ(DaysInMonth(2026, 12), 31);
  EXPECT_EQ(CivilFromDays(DaysFromCivil(2024, 2, 29)), (CivilDate{2024, 2, 29}));
  EXPECT_EQ(DaysFromCivil(2024, 3, 1) - DaysFromCivil(2024, 2, 28), 2);
  EXPECT_EQ(DaysFromCivil(2100, 3, 1) - DaysFromCivil(2100, 2, 28), 1);
}

TEST(CivilTest, FloorDivRoundsDown) {
  EXPECT_EQ(FloorDiv(7, 2), 3);
  EXPECT_EQ(FloorDiv(-7, 2), -4);
  EXPECT_EQ(FloorDiv(-8, 2), -4);
  EXPECT_EQ(FloorDiv(0, 5), 0);
  EXPECT_EQ(FloorDiv(-1, 86400), -1);
}

TEST(CivilTest, AgreesWithAbseilOnEveryDayOfYears1To9999) {
  const absl::CivilDay epoch(1970, 1, 1);
  const int64_t first = DaysFromCivil(1, 1, 1);
  const int64_t last = DaysFromCivil(9999, 12, 31);
  absl::CivilDay day = epoch + first;
  for (int64_t n = first; n <= last; ++n, ++day) {
    const CivilDate date = CivilFromDays(n);
    ASSERT_EQ(date.year, day.year()) << n;
    ASSERT_EQ(date.month, day.month()) << n;
    ASSERT_EQ(date.day, day.day()) << n;
    ASSERT_EQ(DaysFromCivil(day.year(), day.month(), day.day()), n);
  }
}

TEST(CivilTest, AgreesWithAbseilFarFromTheEpoch) {
  const absl::CivilDay epoch(1970, 1, 1);
  for (int64_t n : {int64_t{-1} << 40, int64_t{-3652425} * 1000, int64_t{-146097} - 1,
                    int64_t{146097} * 7 + 59, int64_t{1} << 40}) {
    const absl::CivilDay day = epoch + n;
    EXPECT_EQ(CivilFromDays(n), (CivilDate{day.year(), day.month(), day.day()})) << n;
    EXPECT_EQ(DaysFromCivil(day.year(), day.month(), day.day()), n);
  }
}

TEST(CivilTest, IsConstexpr) {
  static_assert(DaysFromCivil(1970, 1, 2) == 1);
  static_assert(CivilFromDays(59) == CivilDate{1970, 3, 1});
}

}  // namespace
}  // namespace demandcenter
