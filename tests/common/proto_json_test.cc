// The deterministic JSON printer against protobuf's own (the oracle).
#include "demandcenter/common/proto_json.h"

#include <memory>

#include "demandcenter/common/time.h"
#include "demandcenter/v1/action.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver_util.h"
#include "gtest/gtest.h"

namespace demandcenter {
namespace {

TEST(ProtoJsonTest, MapsComeOutSortedAndFieldNamesAsInProto) {
  v1::NextBestAction nba;
  nba.set_account_id("acct-1");
  for (const char* k : {"zeta", "alpha", "mid", "beta"}) (*nba.mutable_trace()->mutable_facts())[k] = "1";
  EXPECT_EQ(ToJson(nba),
            R"({"account_id":"acct-1","trace":{"facts":{"alpha":"1","beta":"1","mid":"1","zeta":"1"}}})");
}

TEST(ProtoJsonTest, EscapesAndFormatsLikeProtobuf) {
  v1::CrmPrompt p;
  p.set_title("Quote \"x\" \\ tab\t newline\n <b>&amp;</b> caf\xc3\xa9");
  p.set_priority(-3);
  *p.mutable_due_at() = FromMillis(1772442000123);
  p.mutable_trace()->add_candidates()->set_score(0.1 + 0.2);
  std::unique_ptr<google::protobuf::util::TypeResolver> resolver(
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          "type.googleapis.com", google::protobuf::DescriptorPool::generated_pool()));
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::string expected;
  ASSERT_TRUE(google::protobuf::util::BinaryToJsonString(resolver.get(),
                                                         "type.googleapis.com/demandcenter.v1.CrmPrompt",
                                                         SerializeDeterministic(p), &expected, print)
                  .ok());
  EXPECT_EQ(ToJson(p), expected);
}

TEST(ProtoJsonTest, AppendJsonAppends) {
  v1::NextBestAction nba;
  nba.set_action("call");
  std::string out = "x=";
  AppendJson(nba, &out);
  EXPECT_EQ(out, R"(x={"action":"call"})");
}

}  // namespace
}  // namespace demandcenter
