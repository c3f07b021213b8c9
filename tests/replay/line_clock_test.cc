#include "demandcenter/replay/line_clock.h"

#include <vector>

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

}  // namespace
}  // namespace demandcenter::replay
