// A Clock that moves only when told: SleepMs and Advance add to it. Tests
// of the runner drive commit intervals and back-offs with it.
#ifndef DEMANDCENTER_TESTS_SUPPORT_MANUAL_CLOCK_H_
#define DEMANDCENTER_TESTS_SUPPORT_MANUAL_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "demandcenter/common/clock.h"

namespace demandcenter::testing {

class ManualClock : public Clock {
 public:
  int64_t NowMs() override {
    CheckStop();
    return now_ms_;
  }
  int64_t WallMs() override { return kWallEpochMs + now_ms_; }
  void SleepMs(int64_t ms) override {
    if (ms > 0) {
      now_ms_ += ms;
      slept_ms_ += ms;
    }
    CheckStop();
  }
  void Advance(int64_t ms) {
    now_ms_ += ms;
    CheckStop();
  }
  // Sets *stop (as a signal would) once the clock is read at or after `at_ms`.
  void StopAt(std::atomic<bool>* stop, int64_t at_ms) {
    stop_ = stop;
    stop_at_ms_ = at_ms;
  }
  // Total time spent in SleepMs (back-offs).
  int64_t slept_ms() const { return slept_ms_; }

 private:
  void CheckStop() {
    if (stop_ != nullptr && now_ms_ >= stop_at_ms_) stop_->store(true);
  }
  // 2026-03-02T09:00:00Z: WallMs is a plausible Unix time.
  static constexpr int64_t kWallEpochMs = 1772442000000;
  int64_t now_ms_ = 0;
  int64_t slept_ms_ = 0;
  std::atomic<bool>* stop_ = nullptr;
  int64_t stop_at_ms_ = 0;
};

}  // namespace demandcenter::testing

#endif  // DEMANDCENTER_TESTS_SUPPORT_MANUAL_CLOCK_H_
