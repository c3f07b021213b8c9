// SystemClock: steady_clock, system_clock and sleep_for.
#include "demandcenter/common/clock.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace demandcenter {

int64_t SystemClock::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t SystemClock::WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void SystemClock::SleepMs(int64_t ms) {
  // In slices, so a stop is seen within 20 ms.
  constexpr int64_t kSliceMs = 20;
  for (int64_t left = ms; left > 0 && !Stopping(); left -= kSliceMs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(left, kSliceMs)));
  }
}

}  // namespace demandcenter
