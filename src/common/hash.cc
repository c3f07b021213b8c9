#include "demandcenter/common/hash.h"

#include <charconv>

#include <array>
#include <cstdio>

namespace demandcenter {
namespace {

uint64_t Fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

}  // namespace

uint64_t StableHash64(std::string_view bytes, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL ^ Fmix64(seed + 0x9e3779b97f4a7c15ULL);
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Fmix64(h ^ bytes.size());
}

std::string DeterministicId(std::string_view prefix,
                            std::initializer_list<std::string_view> parts) {
  // Hot: every output gets an id. No printf, one reserved buffer.
  std::string joined;
  size_t size = 0;
  for (std::string_view part : parts) size += part.size() + 12;
  joined.reserve(size);
  char digits[24];
  for (std::string_view part : parts) {
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), part.size());
    joined.append(digits, end);
    joined += ':';
    joined.append(part);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(prefix.size() + 33);
  id.append(prefix);
  id += '-';
  for (uint64_t seed : {1ULL, 2ULL}) {
    uint64_t h = StableHash64(joined, seed);
    for (int shift = 60; shift >= 0; shift -= 4) id += kHex[(h >> shift) & 0xf];
  }
  return id;
}

uint32_t Murmur2(std::string_view key) {
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  size_t len = key.size();
  uint32_t h = kSeed ^ static_cast<uint32_t>(len);
  while (len >= 4) {
    uint32_t k = static_cast<uint32_t>(data[0]) |
                 (static_cast<uint32_t>(data[1]) << 8) |
                 (static_cast<uint32_t>(data[2]) << 16) |
                 (static_cast<uint32_t>(data[3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
    data += 4;
    len -= 4;
  }
  switch (len) {
    case 3:
      h ^= static_cast<uint32_t>(data[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(data[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= data[0];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

uint32_t Crc32(std::string_view key) {
  static const std::array<uint32_t, 256> kTable = MakeCrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : key) c = kTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

int32_t PartitionForKey(std::string_view key, int32_t partition_count,
                        Partitioner partitioner) {
  if (partition_count <= 1) return 0;
  uint32_t h = partitioner == Partitioner::kMurmur2 ? (Murmur2(key) & 0x7fffffff)
                                                   : Crc32(key);
  return static_cast<int32_t>(h % static_cast<uint32_t>(partition_count));
}

}  // namespace demandcenter
