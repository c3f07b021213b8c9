#include "demandcenter/replay/line_clock.h"

#include <algorithm>
#include <functional>

namespace demandcenter::replay {

std::optional<int64_t> LineClock::Next(bool input_ended) {
  if (times_.empty()) return std::nullopt;
  size_t after = std::min(times_.size() - 1, kAfter);
  if (after < kAfter && !input_ended) return std::nullopt;
  int64_t stamp = 0;
  if (after >= kRank) {
    window_.assign(times_.begin() + 1, times_.begin() + 1 + static_cast<std::ptrdiff_t>(after));
    auto rank = window_.begin() + static_cast<std::ptrdiff_t>(kRank - 1);
    std::nth_element(window_.begin(), rank, window_.end(), std::greater<int64_t>());
    stamp = *rank;
  }
  times_.pop_front();
  return stamp;
}

}  // namespace demandcenter::replay
