// The protobuf binary encoding, appended to a std::string: varints, tags,
// fixed64 and length-delimited fields. Private to src/ingest: the JSON
// decoder writes a Signal's binary encoding with it as it reads the JSON.
// Header-only so that every call inlines into the decoder's loop.
#ifndef DEMANDCENTER_SRC_INGEST_WIRE_WRITER_H_
#define DEMANDCENTER_SRC_INGEST_WIRE_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace demandcenter::ingest::wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

// The varint bytes of `v` in buf[0, return value); buf holds 10 bytes.
inline size_t EncodeVarint(uint64_t v, char* buf) {
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  return n;
}

inline void PutVarint(uint64_t v, std::string* out) {
  char buf[10];
  out->append(buf, EncodeVarint(v, buf));
}

inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void PutTag(uint32_t number, WireType type, std::string* out) {
  PutVarint((static_cast<uint64_t>(number) << 3) | type, out);
}

// A length-delimited field holding `bytes`.
inline void PutBytes(uint32_t number, std::string_view bytes, std::string* out) {
  PutTag(number, kLengthDelimited, out);
  PutVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

// A double field: fixed64, little-endian.
inline void PutDouble(uint32_t number, double d, std::string* out) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  PutTag(number, kFixed64, out);
  char le[8];
  for (int k = 0; k < 8; ++k) le[k] = static_cast<char>(bits >> (8 * k));
  out->append(le, 8);
}

// Inserts the length of everything written since `start` in front of it:
// the tag goes first, then the body, then this.
inline void FinishLengthDelimited(size_t start, std::string* out) {
  char buf[10];
  out->insert(start, buf, EncodeVarint(out->size() - start, buf));
}

}  // namespace demandcenter::ingest::wire

#endif  // DEMANDCENTER_SRC_INGEST_WIRE_WRITER_H_
