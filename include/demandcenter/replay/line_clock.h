// The record timestamp replay gives a line. `run` checks each signal's
// event time against its Kafka record's timestamp (event_time.max_ahead); a
// replay file has no such timestamps, but its lines are in arrival order,
// and a line arrived no later than the lines after it. So a line is stamped
// with the kRank-th latest event time among the kAfter signal lines that
// follow it: one bad clock (or kRank - 1 of them close together) stands out
// against what came next; a burst after a quiet weekend does not, for the
// lines after it come from the same burst; backfilled lines mixed with live
// ones do not lower the stamp. A line with fewer than kRank lines after it
// (the end of a file) has no stamp: nothing after it can say it is wrong.
//
// Takes: each signal line's event time, in file order. Gives: each line's
// stamp (0: none), in the same order, once kAfter lines follow it (or the
// input ended). Depends on nothing.
#ifndef DEMANDCENTER_REPLAY_LINE_CLOCK_H_
#define DEMANDCENTER_REPLAY_LINE_CLOCK_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace demandcenter::replay {

// Not thread safe.
class LineClock {
 public:
  static constexpr size_t kAfter = 32;
  static constexpr size_t kRank = 3;

  // The next line's event time.
  void Add(int64_t event_ms) { times_.push_back(event_ms); }
  // The stamp of the first line not yet stamped (0: none), once kAfter
  // lines follow it, or at once when `input_ended`; nullopt when none is
  // ready.
  std::optional<int64_t> Next(bool input_ended);

 private:
  // The event times from the next line to stamp on.
  std::deque<int64_t> times_;
  std::vector<int64_t> window_;
};

}  // namespace demandcenter::replay

#endif  // DEMANDCENTER_REPLAY_LINE_CLOCK_H_
