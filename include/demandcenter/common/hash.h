// Stable hashes: the same bytes give the same value on every machine and in
// every run (unlike std::hash or absl::Hash). Used for deterministic output
// ids, experiment and pool assignment, and Kafka-compatible partitioning.
#ifndef DEMANDCENTER_COMMON_HASH_H_
#define DEMANDCENTER_COMMON_HASH_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace demandcenter {

// 64-bit FNV-1a followed by a murmur3 finaliser, seeded.
uint64_t StableHash64(std::string_view bytes, uint64_t seed = 0);

// A hash as a uniform fraction from its top 53 bits: in [0, 1), or in the
// open interval (0, 1) where a logarithm follows.
inline double UnitFraction(uint64_t h) { return static_cast<double>(h >> 11) / 9007199254740992.0; }
inline double OpenUnitFraction(uint64_t h) { return (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0; }

// A deterministic id "<prefix>-<32 hex digits>" from the given parts (each
// part is length-prefixed, so ("ab","c") and ("a","bc") differ).
std::string DeterministicId(std::string_view prefix,
                            std::initializer_list<std::string_view> parts);

// Kafka's murmur2 as used by the Java client's default partitioner and by
// librdkafka's "murmur2" / "murmur2_random" partitioners.
uint32_t Murmur2(std::string_view key);

// CRC-32 (IEEE) as used by librdkafka's default "consistent_random"
// partitioner.
uint32_t Crc32(std::string_view key);

enum class Partitioner {
  kMurmur2,  // Java default; librdkafka partitioner=murmur2_random
  kCrc32,    // librdkafka default consistent_random
};

// The partition a non-empty `key` goes to among `partition_count`, exactly as
// the producer computes it. Empty keys are the caller's business (producers
// pick a random partition for them).
int32_t PartitionForKey(std::string_view key, int32_t partition_count,
                        Partitioner partitioner);

}  // namespace demandcenter

#endif  // DEMANDCENTER_COMMON_HASH_H_
