#include "demandcenter/common/time.h"

#include <algorithm>
#include <cctype>

#include "demandcenter/common/rfc3339.h"
#include "demandcenter/common/strings.h"

namespace demandcenter {

int64_t ToMillis(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * kMillisPerSecond + ts.nanos() / 1'000'000;
}

google::protobuf::Timestamp FromMillis(int64_t ms) {
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: what a Timestamp
  // (and RFC 3339) can hold.
  constexpr int64_t kMinMs = -62135596800LL * kMillisPerSecond;
  constexpr int64_t kMaxMs = 253402300799LL * kMillisPerSecond + 999;
  ms = std::clamp(ms, kMinMs, kMaxMs);
  google::protobuf::Timestamp ts;
  int64_t seconds = ms / kMillisPerSecond;
  int64_t rem = ms % kMillisPerSecond;
  if (rem < 0) {
    rem += kMillisPerSecond;
    --seconds;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rem * 1'000'000));
  return ts;
}

absl::StatusOr<int64_t> ParseDurationMillis(std::string_view text) {
  if (text.empty()) {
    return absl::InvalidArgumentError(
        "empty duration; write a number and a unit, e.g. 30m, 1h, 7d");
  }
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      return absl::InvalidArgumentError(StrCat(
          "bad duration \"", text,
          "\": expected a number at \"", text.substr(i),
          "\"; write e.g. 30m, 1h, 7d"));
    }
    int64_t number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      number = number * 10 + (text[i] - '0');
      if (number > 1'000'000'000) {
        return absl::InvalidArgumentError(
            StrCat("bad duration \"", text, "\": number too large"));
      }
      ++i;
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t factor;
    if (unit == "ms") factor = 1;
    else if (unit == "s") factor = kMillisPerSecond;
    else if (unit == "m") factor = kMillisPerMinute;
    else if (unit == "h") factor = kMillisPerHour;
    else if (unit == "d") factor = kMillisPerDay;
    else if (unit == "w") factor = 7 * kMillisPerDay;
    else if (unit.empty()) {
      return absl::InvalidArgumentError(StrCat(
          "bad duration \"", text,
          "\": missing unit; use ms, s, m, h, d or w (e.g. 7d)"));
    } else {
      return absl::InvalidArgumentError(StrCat(
          "bad duration \"", text, "\": unknown unit '", unit,
          "'; use ms, s, m, h, d or w (e.g. 7d)"));
    }
    total += number * factor;
  }
  return total;
}

std::string FormatDuration(int64_t millis) {
  if (millis < 0) return StrCat("-", FormatDuration(-millis));
  if (millis < kMillisPerSecond) return StrCat(millis, "ms");
  int64_t days = millis / kMillisPerDay;
  int64_t hours = (millis % kMillisPerDay) / kMillisPerHour;
  int64_t minutes = (millis % kMillisPerHour) / kMillisPerMinute;
  int64_t seconds = (millis % kMillisPerMinute) / kMillisPerSecond;
  if (days > 0) return hours > 0 ? StrCat(days, "d ", hours, "h") : StrCat(days, "d");
  if (hours > 0) return minutes > 0 ? StrCat(hours, "h ", minutes, "m") : StrCat(hours, "h");
  if (minutes > 0) return StrCat(minutes, "m");
  return StrCat(seconds, "s");
}

std::string FormatTime(int64_t ms) {
  const google::protobuf::Timestamp ts = FromMillis(ms);
  std::string text;
  AppendRfc3339(ts.seconds(), ts.nanos(), &text);
  return text;
}

}  // namespace demandcenter
