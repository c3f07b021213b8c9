// Time for the parts that wait: the runner's commit interval and back-off,
// the adapters' retries. The decision core never reads a clock (its time
// comes from the signals); everything that does reads this interface, so a
// test can drive time by hand.
#ifndef DEMANDCENTER_COMMON_CLOCK_H_
#define DEMANDCENTER_COMMON_CLOCK_H_

#include <cstdint>

namespace demandcenter {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds (for intervals and deadlines).
  virtual int64_t NowMs() = 0;
  // Unix milliseconds (for latency against record timestamps).
  virtual int64_t WallMs() = 0;
  // Waits `ms` milliseconds.
  virtual void SleepMs(int64_t ms) = 0;
};

// The machine's clocks. Thread safe.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() override;
  int64_t WallMs() override;
  void SleepMs(int64_t ms) override;
};

}  // namespace demandcenter

#endif  // DEMANDCENTER_COMMON_CLOCK_H_
