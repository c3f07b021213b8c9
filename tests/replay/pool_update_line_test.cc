#include "demandcenter/replay/pool_update_line.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace demandcenter::replay {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Problem(const std::string& line) {
  v1::PoolUpdateLine update;
  absl::Status s = ParsePoolUpdateLine(line, &update);
  EXPECT_FALSE(s.ok()) << line;
  return std::string(s.message());
}

TEST(PoolUpdateLineTest, ParsesAGoodLine) {
  v1::PoolUpdateLine update;
  ASSERT_TRUE(ParsePoolUpdateLine(R"({"pool_update": {"pool_id": "sdr_team", "member_id": "rep-1", "paused": true}})",
                                  &update)
                  .ok());
  EXPECT_EQ(update.pool_update().member_id(), "rep-1");
  EXPECT_TRUE(update.pool_update().paused());
  EXPECT_TRUE(IsPoolUpdateLine(R"(  {"pool_update": {}})"));
  EXPECT_FALSE(IsPoolUpdateLine(R"({"event_id": "e1", "pool_update": {}})"));
}

TEST(PoolUpdateLineTest, TellsEachProblemInPlainWordsWithItsColumn) {
  EXPECT_EQ(Problem(R"({"pool_update": {"pool_id": "sdr_team", "memberz": "x"}})"),
            "column 41: unknown field \"memberz\" in pool_update; a pool_update has pool_id, member_id, removed, "
            "weight, paused, out_of_office, updated_at");
  EXPECT_EQ(Problem(R"({"pool_update": {"pool_id": "sdr_team", "weight": "heavy"}})"),
            "column 41: pool_update.weight is not a number");
  EXPECT_EQ(Problem(R"({"pool_update": {"pool_id": "sdr_team", "paused": 3}})"),
            "column 41: pool_update.paused is not true or false");
  EXPECT_EQ(Problem(R"({"pool_update": {"pool_id": "s", "out_of_office": [{"from": "x"}]}})"),
            "column 53: pool_update.out_of_office[0].from is not a time (RFC 3339, e.g. 2026-03-02T09:00:00Z)");
  EXPECT_EQ(Problem(R"({"pool_update": {"pool_id": "s", "paused": tru}})"), "column 44: not JSON: unexpected token");
  std::string cut = R"({"pool_update": {"pool_id": "s")";
  EXPECT_EQ(Problem(cut), "column 32: not JSON: unexpected end of string. Expected , or } after key:value pair");
}

TEST(PoolUpdateLineTest, NeverEchoesRawBytesOrTheParsersSnippet) {
  std::string message = Problem("{\"pool_update\": {\"pool_id\": \"s\", \"\x01\xff\": 1}}");
  EXPECT_THAT(message, Not(HasSubstr("\n")));
  for (char c : message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << message;
  // A key with parentheses and NULs, which protobuf's message puts where a
  // field path goes (found by pool_update_fuzz).
  message = Problem(std::string("{\"(\0\0\0\x0f\0)\0pool_update\": {\"pl_ideded\": true}}\n", 45));
  EXPECT_FALSE(message.empty());
  for (char c : message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << message;
}

}  // namespace
}  // namespace demandcenter::replay
