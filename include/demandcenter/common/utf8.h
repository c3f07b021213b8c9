// UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, nothing
// above U+10FFFF): the set protobuf's UTF8SpnStructurallyValid accepts.
// Shared by the JSON decoder (input validation, \u escapes) and the JSON
// string writer (messages in printable ASCII).
#ifndef DEMANDCENTER_COMMON_UTF8_H_
#define DEMANDCENTER_COMMON_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace demandcenter {

// The length (2-4) of the valid multi-byte sequence at the start of the `n`
// bytes at `p` (p[0] >= 0x80), or 0 when they do not start with one.
inline size_t Utf8SequenceLength(const char* p, size_t n) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  const unsigned char c = b[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (len > n || b[1] < lo || b[1] > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (b[k] < 0x80 || b[k] > 0xbf) return 0;
  }
  return len;
}

// The code point of the valid `len`-byte sequence at `p` (from
// Utf8SequenceLength).
inline uint32_t Utf8CodePoint(const char* p, size_t len) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  uint32_t cp = b[0] & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (b[k] & 0x3f);
  return cp;
}

// Length of the longest prefix of `text` that is valid UTF-8.
size_t ValidUtf8Prefix(std::string_view text);

// Appends the UTF-8 encoding of `code_point` (at most U+10FFFF).
void AppendUtf8(uint32_t code_point, std::string* out);

}  // namespace demandcenter

#endif  // DEMANDCENTER_COMMON_UTF8_H_
