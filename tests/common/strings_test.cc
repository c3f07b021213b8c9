#include "demandcenter/common/strings.h"

#include "gtest/gtest.h"

namespace demandcenter {
namespace {

TEST(StrCatTest, JoinsViewsAndNumbers) {
  std::string_view view = "score";
  EXPECT_EQ(StrCat(view, "=", 42, " ", 0.5, 'x'), "score=42 0.5x");
}

TEST(GlobMatchTest, StarMatchesAnyRun) {
  EXPECT_TRUE(GlobMatch("web.*", "web.pricing_view"));
  EXPECT_TRUE(GlobMatch("*.click", "email.click"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("email.open", "email.open"));
  EXPECT_FALSE(GlobMatch("web.*", "email.open"));
  EXPECT_FALSE(GlobMatch("email.open", "email.opened"));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyy"));
}

TEST(AsciiLowerTest, LowersOnlyAscii) { EXPECT_EQ(AsciiLower("VP Finance"), "vp finance"); }

}  // namespace
}  // namespace demandcenter
