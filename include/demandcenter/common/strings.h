// Small string helpers shared by every module.
#ifndef DEMANDCENTER_COMMON_STRINGS_H_
#define DEMANDCENTER_COMMON_STRINGS_H_

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace demandcenter {
namespace strings_internal {

inline void Append(std::string& out, std::string_view piece) { out.append(piece); }
inline void Append(std::string& out, const char* piece) { out.append(piece); }
inline void Append(std::string& out, const std::string& piece) { out.append(piece); }
inline void Append(std::string& out, char c) { out.push_back(c); }
// Abseil as Debian builds it has its own string_view (status messages).
inline void Append(std::string& out, absl::string_view piece) { out.append(piece.data(), piece.size()); }

template <typename T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, char> && !std::is_same_v<T, bool>)
void Append(std::string& out, T value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}

}  // namespace strings_internal

// Concatenates strings, string_views, chars and numbers (shortest round-trip
// form for floating point). std::string_view friendly, unlike absl::StrCat
// in the Abseil build Debian ships.
template <typename... Parts>
std::string StrCat(const Parts&... parts) {
  std::string out;
  (strings_internal::Append(out, parts), ...);
  return out;
}

// Lower-cases ASCII letters.
std::string AsciiLower(std::string_view text);

// True when `text` matches `pattern`, where '*' in the pattern matches any
// run of characters (e.g. "web.*", "*.click").
bool GlobMatch(std::string_view pattern, std::string_view text);

// A fraction as a percentage with `decimals` decimals: (0.1234, 1) ->
// "12.3%".
std::string FormatPercent(double fraction, int decimals);

}  // namespace demandcenter

#endif  // DEMANDCENTER_COMMON_STRINGS_H_
