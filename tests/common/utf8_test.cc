// ValidUtf8Prefix, Utf8SequenceLength and AppendUtf8: RFC 3629 exactly.
#include "demandcenter/common/utf8.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace demandcenter {
namespace {

using std::string_view_literals::operator""sv;

TEST(Utf8Test, ValidPrefix) {
  EXPECT_EQ(ValidUtf8Prefix(""), 0u);
  EXPECT_EQ(ValidUtf8Prefix("plain ascii, longer than eight bytes"), 36u);
  EXPECT_EQ(ValidUtf8Prefix("nul\0inside"sv), 10u);
  EXPECT_EQ(ValidUtf8Prefix("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), 14u);
  EXPECT_EQ(ValidUtf8Prefix("abc\xff"), 3u);
  EXPECT_EQ(ValidUtf8Prefix("abcdefgh\x80"), 8u);  // a lone continuation byte
  EXPECT_EQ(ValidUtf8Prefix("ab\xc3"), 2u);        // cut short
  EXPECT_EQ(ValidUtf8Prefix("ab\xc3("), 2u);
}

TEST(Utf8Test, RefusesOverlongSurrogatesAndAboveU10FFFF) {
  EXPECT_EQ(Utf8SequenceLength("\xc0\xbc", 2), 0u);          // overlong '<'
  EXPECT_EQ(Utf8SequenceLength("\xc1\xbf", 2), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xe0\x9f\xbf", 3), 0u);      // overlong U+07FF
  EXPECT_EQ(Utf8SequenceLength("\xf0\x8f\xbf\xbf", 4), 0u);  // overlong U+FFFF
  EXPECT_EQ(Utf8SequenceLength("\xed\xa0\x80", 3), 0u);      // U+D800
  EXPECT_EQ(Utf8SequenceLength("\xed\xbf\xbf", 3), 0u);      // U+DFFF
  EXPECT_EQ(Utf8SequenceLength("\xf4\x90\x80\x80", 4), 0u);  // U+110000
  EXPECT_EQ(Utf8SequenceLength("\xf5\x80\x80\x80", 4), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xc2\x80", 2), 2u);          // U+0080
  EXPECT_EQ(Utf8SequenceLength("\xed\x9f\xbf", 3), 3u);      // U+D7FF
  EXPECT_EQ(Utf8SequenceLength("\xee\x80\x80", 3), 3u);      // U+E000
  EXPECT_EQ(Utf8SequenceLength("\xf4\x8f\xbf\xbf", 4), 4u);  // U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80", 3), 0u);  // not all there
}

TEST(Utf8Test, AppendUtf8RoundTrips) {
  for (uint32_t cp : {0x0u, 0x41u, 0x7fu, 0x80u, 0x7ffu, 0x800u, 0xd7ffu, 0xe000u, 0xfffdu,
                      0x10000u, 0x1f600u, 0x10ffffu}) {
    std::string s;
    AppendUtf8(cp, &s);
    if (cp < 0x80) {
      EXPECT_EQ(s.size(), 1u);
      continue;
    }
    ASSERT_EQ(Utf8SequenceLength(s.data(), s.size()), s.size()) << cp;
    EXPECT_EQ(Utf8CodePoint(s.data(), s.size()), cp);
  }
}

}  // namespace
}  // namespace demandcenter
