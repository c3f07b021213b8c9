// RFC 3339 timestamps as protobuf's JSON mapping writes and reads a
// google.protobuf.Timestamp: the one timestamp text format of the codebase
// (output JSON, generated signals, the JSON decoder, FormatTime).
#ifndef DEMANDCENTER_COMMON_RFC3339_H_
#define DEMANDCENTER_COMMON_RFC3339_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace demandcenter {

// Bytes AppendRfc3339 writes at most for the years a Timestamp can hold
// (0001-9999): "9999-12-31T23:59:59.999999999Z".
inline constexpr size_t kMaxRfc3339Bytes = 30;

// Appends the UTC time `seconds` + `nanos` after the Unix epoch as
// protobuf-JSON writes a Timestamp: "2026-03-01T09:30:00Z", with 3, 6 or 9
// fractional digits when `nanos` is not 0 (the fewest of those that show it
// exactly), no quotes. Years outside 0-9999, which a Timestamp cannot hold,
// are written with as many digits as they need and a '-' when negative;
// `nanos` outside [0, 999999999] is carried into the seconds first.
void AppendRfc3339(int64_t seconds, int32_t nanos, std::string* out);

// Reads `text` as protobuf 3.21's JSON parser reads a Timestamp string
// (internal::ParseTime), accepting exactly what it accepts: a year of 1-4
// digits (1-9999), then month, day, hour, minute and second of 1-2 digits
// each ("2026-3-1T9:30:0Z" passes) with the date checked against the
// month's length (leap years included; a second of 60 is refused), an
// optional fraction of one or more digits of which the first 9 count, then
// "Z" or an offset "+HH:MM" / "-HH:MM" (hours 0-23, minutes 0-59, also 1
// digit each), and nothing after it. The text ends at its first NUL byte,
// as protobuf reads a C string. On success sets *seconds (UTC, the offset
// applied; may leave years 1-9999 by up to a day) and *nanos (0-999999999)
// and returns true; otherwise returns false and the outputs are unspecified.
bool ParseRfc3339(std::string_view text, int64_t* seconds, int32_t* nanos);

}  // namespace demandcenter

#endif  // DEMANDCENTER_COMMON_RFC3339_H_
