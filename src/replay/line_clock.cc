#include "demandcenter/replay/line_clock.h"

#include <algorithm>
#include <functional>
#include <string>

#include "absl/strings/numbers.h"
#include "demandcenter/common/json_string.h"
#include "demandcenter/common/rfc3339.h"
#include "demandcenter/common/strings.h"

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

absl::Status SplitRecordTimestamp(std::string_view line, std::optional<int64_t>* record_ms, std::string_view* value) {
  *record_ms = std::nullopt;
  *value = line;
  if (line.empty() || line[0] < '0' || line[0] > '9') return absl::OkStatus();
  size_t tab = line.find('\t');
  std::string_view text = line.substr(0, tab);
  auto quoted = [&] {
    std::string out;
    AppendJsonStringForMessage(text, 40, &out);
    return out;
  };
  if (tab == std::string_view::npos) {
    return absl::InvalidArgumentError(StrCat("a line that starts with a digit is a record timestamp, a tab and the value; ",
                                             "no tab follows ", quoted()));
  }
  // 9999-12-31T23:59:59.999Z, the last instant a Timestamp holds.
  constexpr int64_t kLastMillis = 253402300799999;
  int64_t ms = 0;
  int64_t seconds = 0;
  int32_t nanos = 0;
  bool digits = text.find_first_not_of("0123456789") == std::string_view::npos;
  bool parsed = digits ? absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &ms)
                       : ParseRfc3339(text, &seconds, &nanos);
  if (!parsed) {
    return absl::InvalidArgumentError(
        StrCat("record timestamp ", quoted(), " is neither milliseconds since the epoch nor RFC 3339"));
  }
  if (!digits) ms = seconds * 1000 + nanos / 1000000;
  if (ms < 0 || ms > kLastMillis) {
    return absl::InvalidArgumentError(
        StrCat("record timestamp ", quoted(), " is outside 1970-01-01T00:00:00Z..9999-12-31T23:59:59.999Z"));
  }
  *record_ms = ms;
  *value = line.substr(tab + 1);
  return absl::OkStatus();
}

}  // namespace demandcenter::replay
