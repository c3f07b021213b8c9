// WaitingRoom: late binding's waiting lists — event-time order, the count
// and age bounds, and a restart that finds what waited in the store.
#include "demandcenter/identity/waiting_room.h"

#include <string>
#include <vector>

#include "demandcenter/common/time.h"
#include "gtest/gtest.h"
#include "../testing.h"

namespace demandcenter::identity {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;

v1::WaitingSignal Waiting(const std::string& id, int64_t offset_ms) {
  v1::WaitingSignal w;
  *w.mutable_signal() = testing::MakeSignal(id, "web.page_view", "", offset_ms);
  w.set_offset(offset_ms);
  return w;
}

std::vector<std::string> Ids(const std::vector<v1::WaitingSignal>& signals) {
  std::vector<std::string> ids;
  for (const auto& w : signals) ids.push_back(w.signal().event_id());
  return ids;
}

class WaitingRoomTest : public ::testing::Test {
 protected:
  config::IdentityConfig config_;
  state::InMemoryStateStore store_;
};

TEST_F(WaitingRoomTest, ReleasesInEventTimeOrderOnce) {
  WaitingRoom room(config_, &store_);
  EXPECT_TRUE(room.Park(0, "a:cookie", Waiting("late", 3000)).empty());
  EXPECT_TRUE(room.Park(0, "a:cookie", Waiting("early", 1000)).empty());
  EXPECT_TRUE(room.Park(0, "a:cookie", Waiting("middle", 2000)).empty());
  EXPECT_TRUE(room.Park(1, "a:cookie", Waiting("other-partition", 0)).empty());
  EXPECT_EQ(room.Waiting(0), 3);
  EXPECT_EQ(Ids(room.Release(0, "a:cookie")), (std::vector<std::string>{"early", "middle", "late"}));
  EXPECT_TRUE(room.Release(0, "a:cookie").empty());
  EXPECT_EQ(room.Waiting(0), 0);
  EXPECT_EQ(room.Waiting(1), 1);
  EXPECT_EQ(room.counters().released, 3);
}

TEST_F(WaitingRoomTest, TheCountBoundPushesTheOldestOut) {
  config_.wait_max_signals = 2;
  WaitingRoom room(config_, &store_);
  EXPECT_TRUE(room.Park(0, "e:x@y.example", Waiting("s2", 2000)).empty());
  EXPECT_TRUE(room.Park(0, "e:x@y.example", Waiting("s3", 3000)).empty());
  EXPECT_EQ(Ids(room.Park(0, "e:x@y.example", Waiting("s1", 1000))), std::vector<std::string>{"s1"});
  EXPECT_EQ(Ids(room.Park(0, "e:x@y.example", Waiting("s4", 4000))), std::vector<std::string>{"s2"});
  EXPECT_EQ(Ids(room.Release(0, "e:x@y.example")), (std::vector<std::string>{"s3", "s4"}));
  EXPECT_EQ(room.counters().expired, 2);
}

TEST_F(WaitingRoomTest, TheAgeBoundExpiresByStreamTimeAcrossARestart) {
  config_.wait_max_age_ms = 10 * kDay;
  {
    WaitingRoom room(config_, &store_);
    room.Park(0, "a:old", Waiting("old", 0));
    room.Park(0, "a:new", Waiting("new", 8 * kDay));
    EXPECT_TRUE(room.Expire(0, testing::kT0 + 9 * kDay).empty());
  }
  // A new room over the same store (a restart, or a rewind) finds both.
  WaitingRoom room(config_, &store_);
  EXPECT_EQ(room.Waiting(0), 2);
  EXPECT_EQ(Ids(room.Expire(0, testing::kT0 + 11 * kDay)), std::vector<std::string>{"old"});
  EXPECT_EQ(Ids(room.Expire(0, testing::kT0 + 19 * kDay)), std::vector<std::string>{"new"});
  EXPECT_EQ(room.Waiting(0), 0);
  EXPECT_TRUE(room.Release(0, "a:old").empty());
}

}  // namespace
}  // namespace demandcenter::identity
