#include "demandcenter/common/hash.h"

#include <set>

#include "gtest/gtest.h"

namespace demandcenter {
namespace {

// Reference values from Apache Kafka's Utils.murmur2 tests.
TEST(Murmur2Test, MatchesKafkaJavaClient) {
  EXPECT_EQ(static_cast<int32_t>(Murmur2("21")), -973932308);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("foobar")), -790332482);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("a-little-bit-long-string")), -985981536);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("a-little-bit-longer-string")), -1486304829);
  EXPECT_EQ(static_cast<int32_t>(
                Murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")),
            -58897971);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("abc")), 479470107);
  EXPECT_EQ(static_cast<int32_t>(Murmur2("")), 275646681);
}

TEST(Crc32Test, MatchesIeeeCheckValue) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

TEST(PartitionForKeyTest, Murmur2MasksSignBitLikeJava) {
  // murmur2("21") is negative; Java uses toPositive(h) % n.
  uint32_t h = Murmur2("21") & 0x7fffffff;
  EXPECT_EQ(PartitionForKey("21", 12, Partitioner::kMurmur2),
            static_cast<int32_t>(h % 12));
  EXPECT_EQ(PartitionForKey("123456789", 7, Partitioner::kCrc32),
            static_cast<int32_t>(0xCBF43926u % 7));
  EXPECT_EQ(PartitionForKey("anything", 1, Partitioner::kMurmur2), 0);
}

TEST(PartitionForKeyTest, SpreadsKeysOverAllPartitions) {
  std::set<int32_t> seen;
  for (int i = 0; i < 1000; ++i) {
    seen.insert(PartitionForKey("acct-" + std::to_string(i), 12, Partitioner::kMurmur2));
  }
  EXPECT_EQ(seen.size(), 12u);
}

TEST(DeterministicIdTest, SameInputSameIdDifferentInputDifferentId) {
  std::string a = DeterministicId("nba", {"acct-1", "rule-1", "evt-1"});
  EXPECT_EQ(a, DeterministicId("nba", {"acct-1", "rule-1", "evt-1"}));
  EXPECT_NE(a, DeterministicId("nba", {"acct-1", "rule-1", "evt-2"}));
  EXPECT_NE(DeterministicId("x", {"ab", "c"}), DeterministicId("x", {"a", "bc"}));
  EXPECT_EQ(a.size(), 4u + 32u);
  EXPECT_EQ(a.substr(0, 4), "nba-");
}

TEST(StableHash64Test, SeedChangesValue) {
  EXPECT_NE(StableHash64("acct", 1), StableHash64("acct", 2));
  EXPECT_EQ(StableHash64("acct", 1), StableHash64("acct", 1));
}

}  // namespace
}  // namespace demandcenter
