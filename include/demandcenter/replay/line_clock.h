// The record timestamp replay gives a line. `run` checks each signal's
// event time against its Kafka record's timestamp (event_time.max_ahead). A
// replay line may carry its record's timestamp before a tab (as a topic
// dump writes it, e.g. kcat's `-f '%T\t%s\n'`): SplitRecordTimestamp reads
// it. A line without one is stamped from its neighbours: its lines are in
// arrival order,
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
#include <string_view>
#include <vector>

#include "absl/status/status.h"

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

// A line that starts with a digit is "<record timestamp>\t<value>", the
// timestamp in milliseconds since the epoch or RFC 3339, within
// 1970-01-01..9999-12-31: sets *record_ms and *value (the rest of the line)
// and returns OK, or says what is wrong without echoing raw bytes. Any
// other line is its own value: *record_ms is nullopt.
absl::Status SplitRecordTimestamp(std::string_view line, std::optional<int64_t>* record_ms, std::string_view* value);

}  // namespace demandcenter::replay

#endif  // DEMANDCENTER_REPLAY_LINE_CLOCK_H_
