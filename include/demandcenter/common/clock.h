// Time for the parts that wait: the runner's commit interval and back-off,
// the adapters' retries. The decision core never reads a clock (its time
// comes from the signals); everything that does reads this interface, so a
// test can drive time by hand.
#ifndef DEMANDCENTER_COMMON_CLOCK_H_
#define DEMANDCENTER_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace demandcenter {

// Whoever waits also watches for a stop: the flag a signal sets. Every
// retry loop asks Stopping() before it waits again, and a SystemClock's
// sleep ends early once it is set, so a stop is never stuck behind a
// back-off.
class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds (for intervals and deadlines).
  virtual int64_t NowMs() = 0;
  // Unix milliseconds (for latency against record timestamps).
  virtual int64_t WallMs() = 0;
  // Waits `ms` milliseconds, or less once Stopping().
  virtual void SleepMs(int64_t ms) = 0;

  // The stop flag to watch (null: none). It must outlive the clock's use.
  void WatchStop(const std::atomic<bool>* stop) { stop_.store(stop); }
  bool Stopping() const {
    const std::atomic<bool>* stop = stop_.load();
    return stop != nullptr && stop->load();
  }

 private:
  std::atomic<const std::atomic<bool>*> stop_{nullptr};
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
