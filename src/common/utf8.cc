// ValidUtf8Prefix (eight ASCII bytes at a time) and AppendUtf8.
#include "demandcenter/common/utf8.h"

#include <cstring>

namespace demandcenter {

size_t ValidUtf8Prefix(std::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    if (static_cast<unsigned char>(p[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(p + i, n - i);
    if (len == 0) return i;
    i += len;
  }
  return n;
}

void AppendUtf8(uint32_t code_point, std::string* out) {
  const uint32_t c = code_point;
  if (c <= 0x7f) {
    out->push_back(static_cast<char>(c));
  } else if (c <= 0x7ff) {
    const char bytes[2] = {static_cast<char>(0xc0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3f))};
    out->append(bytes, 2);
  } else if (c <= 0xffff) {
    const char bytes[3] = {static_cast<char>(0xe0 | (c >> 12)),
                           static_cast<char>(0x80 | ((c >> 6) & 0x3f)),
                           static_cast<char>(0x80 | (c & 0x3f))};
    out->append(bytes, 3);
  } else {
    const char bytes[4] = {static_cast<char>(0xf0 | (c >> 18)),
                           static_cast<char>(0x80 | ((c >> 12) & 0x3f)),
                           static_cast<char>(0x80 | ((c >> 6) & 0x3f)),
                           static_cast<char>(0x80 | (c & 0x3f))};
    out->append(bytes, 4);
  }
}

}  // namespace demandcenter
