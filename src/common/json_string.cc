// The JSON string escaper: runs of bytes that need nothing are appended in
// one go; the rest is decided per character. AppendJsonString and
// AppendJsonStringForMessage differ only in what they do with bytes from
// 0x80 up.
#include "demandcenter/common/json_string.h"

#include <array>
#include <cstdint>

#include "demandcenter/common/utf8.h"

namespace demandcenter {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Code points protobuf's JSON printer writes as \uXXXX besides controls,
// quotes and backslashes: '<' and '>' (safe to embed in HTML) and invisible
// format characters.
constexpr bool NeedsUnicodeEscape(uint32_t cp) {
  return cp == '<' || cp == '>' || cp == 0x7f || cp == 0xad || (cp >= 0x600 && cp <= 0x603) ||
         cp == 0x6dd || cp == 0x70f || cp == 0x17b4 || cp == 0x17b5 ||
         (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
         (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x206a && cp <= 0x206f) || cp == 0xfeff ||
         (cp >= 0xfff9 && cp <= 0xfffb);
}

// ASCII bytes copied as they are: printable, and neither a quote, a
// backslash nor one of the characters protobuf's printer escapes.
constexpr std::array<bool, 256> kPlainByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x7f; ++c) plain[c] = c != '"' && c != '\\' && !NeedsUnicodeEscape(c);
  return plain;
}();

// \uXXXX, lower-case hex; `unit` <= 0xffff.
void AppendUnicodeEscape(uint32_t unit, std::string* out) {
  const char escape[6] = {'\\', 'u', kHex[(unit >> 12) & 0xf], kHex[(unit >> 8) & 0xf],
                          kHex[(unit >> 4) & 0xf], kHex[unit & 0xf]};
  out->append(escape, 6);
}

// A byte below 0x80 that is not plain.
void AppendAsciiEscape(unsigned char c, std::string* out) {
  switch (c) {
    case '"': out->append("\\\""); break;
    case '\\': out->append("\\\\"); break;
    case '\b': out->append("\\b"); break;
    case '\f': out->append("\\f"); break;
    case '\n': out->append("\\n"); break;
    case '\r': out->append("\\r"); break;
    case '\t': out->append("\\t"); break;
    default: AppendUnicodeEscape(c, out);  // other controls, '<', '>', DEL
  }
}

// AppendJsonString's reading of a byte from 0x80 up at text[i]: the
// sequence length its bits give, cut at the end, copied or escaped. Returns
// the bytes taken.
size_t AppendUtf8Unchecked(std::string_view text, size_t i, std::string* out) {
  const auto c = static_cast<unsigned char>(text[i]);
  size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
  if (i + len > text.size()) len = text.size() - i;
  uint32_t cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0f : 0x1f);
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
  if (NeedsUnicodeEscape(cp)) {
    AppendUnicodeEscape(cp, out);
  } else {
    out->append(text.data() + i, len);
  }
  return len;
}

// AppendJsonStringForMessage's: a valid sequence that fits in [i, limit) as
// \uXXXX (or a surrogate pair), any other byte as \xNN. Returns the bytes
// taken, 0 when the sequence would cross `limit`.
size_t AppendUtf8AsAscii(std::string_view text, size_t i, size_t limit, std::string* out) {
  const size_t len = Utf8SequenceLength(text.data() + i, text.size() - i);
  if (len == 0) {
    const auto c = static_cast<unsigned char>(text[i]);
    const char escape[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
    out->append(escape, 4);
    return 1;
  }
  if (i + len > limit) return 0;
  const uint32_t cp = Utf8CodePoint(text.data() + i, len);
  if (cp <= 0xffff) {
    AppendUnicodeEscape(cp, out);
  } else {
    AppendUnicodeEscape(0xd800 + ((cp - 0x10000) >> 10), out);
    AppendUnicodeEscape(0xdc00 + ((cp - 0x10000) & 0x3ff), out);
  }
  return len;
}

// The escaped text of text[0, limit), quotes excluded; returns the bytes
// taken (less than `limit` only when kAscii stopped before a sequence).
template <bool kAscii>
size_t AppendEscaped(std::string_view text, size_t limit, std::string* out) {
  size_t i = 0;
  while (i < limit) {
    // Runs of plain bytes (nearly everything) are appended in one go.
    size_t end = i;
    while (end < limit && kPlainByte[static_cast<unsigned char>(text[end])]) ++end;
    if (end > i) {
      out->append(text.data() + i, end - i);
      i = end;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      AppendAsciiEscape(c, out);
      ++i;
    } else if constexpr (kAscii) {
      const size_t taken = AppendUtf8AsAscii(text, i, limit, out);
      if (taken == 0) break;
      i += taken;
    } else {
      i += AppendUtf8Unchecked(text, i, out);
    }
  }
  return i;
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  AppendEscaped<false>(text, text.size(), out);
  out->push_back('"');
}

void AppendJsonStringForMessage(std::string_view text, size_t max_bytes, std::string* out) {
  out->push_back('"');
  const size_t limit = text.size() < max_bytes ? text.size() : max_bytes;
  const size_t taken = AppendEscaped<true>(text, limit, out);
  out->push_back('"');
  if (taken < text.size()) out->append("...");
}

}  // namespace demandcenter
