// Event-time helpers. The engine keeps every time as Unix milliseconds
// (int64) of event time; protobuf Timestamps appear only at the edges.
#ifndef DEMANDCENTER_COMMON_TIME_H_
#define DEMANDCENTER_COMMON_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "google/protobuf/timestamp.pb.h"

namespace demandcenter {

inline constexpr int64_t kMillisPerSecond = 1000;
inline constexpr int64_t kMillisPerMinute = 60 * kMillisPerSecond;
inline constexpr int64_t kMillisPerHour = 60 * kMillisPerMinute;
inline constexpr int64_t kMillisPerDay = 24 * kMillisPerHour;

// Milliseconds since the Unix epoch of `ts` (sub-millisecond part dropped).
int64_t ToMillis(const google::protobuf::Timestamp& ts);

// The Timestamp for `ms` milliseconds since the Unix epoch, held within the
// range a Timestamp may hold (years 0001 to 9999): later is 9999-12-31
// 23:59:59.999, earlier 0001-01-01.
google::protobuf::Timestamp FromMillis(int64_t ms);

// Parses a duration such as "90s", "15m", "1h", "7d", "2w" or "1h30m".
// Units: ms, s, m, h, d, w. Returns InvalidArgument with a message a rule
// author can act on ("3x": unknown unit 'x') for anything else.
absl::StatusOr<int64_t> ParseDurationMillis(std::string_view text);

// Formats a duration compactly for humans: "2d 3h", "45m", "0s".
std::string FormatDuration(int64_t millis);

// RFC 3339 UTC, e.g. "2026-03-01T09:30:00Z" (milliseconds shown only when
// not zero).
std::string FormatTime(int64_t ms);

}  // namespace demandcenter

#endif  // DEMANDCENTER_COMMON_TIME_H_
