// A Clock that moves only when told: SleepMs and Advance add to it. Tests
// of the runner drive commit intervals and back-offs with it.
#ifndef DEMANDCENTER_TESTS_SUPPORT_MANUAL_CLOCK_H_
#define DEMANDCENTER_TESTS_SUPPORT_MANUAL_CLOCK_H_

#include <cstdint>

#include "demandcenter/common/clock.h"

namespace demandcenter::testing {

class ManualClock : public Clock {
 public:
  int64_t NowMs() override { return now_ms_; }
  int64_t WallMs() override { return kWallEpochMs + now_ms_; }
  void SleepMs(int64_t ms) override {
    if (ms > 0) {
      now_ms_ += ms;
      slept_ms_ += ms;
    }
  }
  void Advance(int64_t ms) { now_ms_ += ms; }
  // Total time spent in SleepMs (back-offs).
  int64_t slept_ms() const { return slept_ms_; }

 private:
  // 2026-03-02T09:00:00Z: WallMs is a plausible Unix time.
  static constexpr int64_t kWallEpochMs = 1772442000000;
  int64_t now_ms_ = 0;
  int64_t slept_ms_ = 0;
};

}  // namespace demandcenter::testing

#endif  // DEMANDCENTER_TESTS_SUPPORT_MANUAL_CLOCK_H_
