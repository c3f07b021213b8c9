// Workers: the runner's processing threads. ForEach runs a function over
// n items on a fixed set of threads — the calling thread is one of them —
// and returns when every item is done. Items are claimed one at a time, so
// a slow task does not hold up the others' thread. The caller's data is
// handed over and back through the pool's lock: what the function writes
// is seen by the caller after ForEach returns. Private to src/runner.
#ifndef DEMANDCENTER_SRC_RUNNER_WORKERS_H_
#define DEMANDCENTER_SRC_RUNNER_WORKERS_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace demandcenter::runner {

class Workers {
 public:
  // `threads` in all, at least 1 (1: ForEach runs on the caller alone).
  explicit Workers(int threads);
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  int threads() const { return static_cast<int>(threads_.size()) + 1; }
  void ForEach(size_t count, const std::function<void(size_t)>& fn);

 private:
  void Loop();
  // Claims and runs items of the current round until none is left.
  void RunItems();

  std::mutex mu_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t count_ = 0;
  std::atomic<size_t> next_{0};
  uint64_t round_ = 0;
  int busy_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace demandcenter::runner

#endif  // DEMANDCENTER_SRC_RUNNER_WORKERS_H_
