// AppendJsonString (protobuf's printer escaping) and
// AppendJsonStringForMessage (the same, printable ASCII and bounded).
#include "demandcenter/common/json_string.h"

#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace demandcenter {
namespace {

using std::string_view_literals::operator""sv;

std::string Json(std::string_view text) {
  std::string out = "x";
  AppendJsonString(text, &out);
  return out.substr(1);  // appends, never replaces
}

std::string Message(std::string_view text, size_t max_bytes = 64) {
  std::string out;
  AppendJsonStringForMessage(text, max_bytes, &out);
  return out;
}

TEST(JsonStringTest, PlainTextAsItIs) {
  EXPECT_EQ(Json(""), R"("")");
  EXPECT_EQ(Json("acct-000001"), R"("acct-000001")");
  EXPECT_EQ(Json("https://www.example.com/a?b=c&d=e#f"), R"("https://www.example.com/a?b=c&d=e#f")");
  EXPECT_EQ(Json("Founder & CEO 'x' /"), R"("Founder & CEO 'x' /")");
}

TEST(JsonStringTest, QuotesAndBackslashes) {
  EXPECT_EQ(Json(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(Json(R"(C:\dir\)"), R"("C:\\dir\\")");
}

TEST(JsonStringTest, ControlCharacters) {
  EXPECT_EQ(Json("a\nb\tc\rd\be\ff"), R"("a\nb\tc\rd\be\ff")");
  EXPECT_EQ(Json("\x01\x1f"), R"("\u0001\u001f")");
  EXPECT_EQ(Json("nul\0x"sv), R"("nul\u0000x")");
  EXPECT_EQ(Json("\x0b"), R"("\u000b")");
  EXPECT_EQ(Json("\x7f"), R"("\u007f")");
}

TEST(JsonStringTest, HtmlCharactersAsProtobufWritesThem) {
  EXPECT_EQ(Json("<script>"), R"("\u003cscript\u003e")");
}

TEST(JsonStringTest, NonAsciiAsItIsExceptInvisibleFormatCharacters) {
  EXPECT_EQ(Json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(Json("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c"), R"("a\u2028b\u2029c")");
  EXPECT_EQ(Json("\xc2\xad"), R"("\u00ad")");
  EXPECT_EQ(Json("\xe2\x80\x8b\xe2\x80\x8f"), R"("\u200b\u200f")");
  EXPECT_EQ(Json("\xef\xbb\xbf"), R"("\ufeff")");
  EXPECT_EQ(Json("\xd8\x80"), R"("\u0600")");
  EXPECT_EQ(Json("\xe2\x80\xaa\xe2\x80\xae"), R"("\u202a\u202e")");
  EXPECT_EQ(Json("\xe2\x81\xa0"), R"("\u2060")");
  EXPECT_EQ(Json("\xef\xbf\xb9"), R"("\ufff9")");
  // Neighbours that are not escaped.
  EXPECT_EQ(Json("\xc2\xac\xe2\x80\x90\xef\xbf\xbd"), "\"\xc2\xac\xe2\x80\x90\xef\xbf\xbd\"");
}

// Bytes that are not UTF-8 are not checked: the lead byte's bits say how
// many bytes go together, and they are copied as they are.
TEST(JsonStringTest, InvalidUtf8AsItIs) {
  EXPECT_EQ(Json("\xff"), "\"\xff\"");
  EXPECT_EQ(Json("a\x80z"), "\"a\x80z\"");  // a lone continuation byte takes the next byte
  EXPECT_EQ(Json("\xc3"), "\"\xc3\"");      // cut short at the end
  EXPECT_EQ(Json("\xe2\x80"), "\"\xe2\x80\"");
  EXPECT_EQ(Json("\xed\xa0\x80"), "\"\xed\xa0\x80\"");  // a surrogate
  EXPECT_EQ(Json("\xc0\xbc"), R"("\u003c")");           // overlong '<': its bits spell U+003C
}

TEST(JsonStringForMessageTest, PrintableAsciiAsJson) {
  EXPECT_EQ(Message("yesterday"), R"("yesterday")");
  EXPECT_EQ(Message(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_EQ(Message("a\nb\x01<>"), R"("a\nb\u0001\u003c\u003e")");
}

TEST(JsonStringForMessageTest, NonAsciiAsUnicodeEscapes) {
  EXPECT_EQ(Message("caf\xc3\xa9"), R"("caf\u00e9")");
  EXPECT_EQ(Message("\xe2\x82\xac\xe2\x80\xa8"), R"("\u20ac\u2028")");
  EXPECT_EQ(Message("\xf0\x9f\x98\x80"), R"("\ud83d\ude00")");
  EXPECT_EQ(Message("\xf4\x8f\xbf\xbf"), R"("\udbff\udfff")");
}

TEST(JsonStringForMessageTest, BytesThatAreNotUtf8AsHex) {
  EXPECT_EQ(Message("\xff"), R"("\xff")");
  EXPECT_EQ(Message("a\x80z"), R"("a\x80z")");
  EXPECT_EQ(Message("\xc3("), R"("\xc3(")");
  EXPECT_EQ(Message("\xed\xa0\x80"), R"("\xed\xa0\x80")");  // a surrogate
  EXPECT_EQ(Message("\xc0\xbc"), R"("\xc0\xbc")");          // overlong
  EXPECT_EQ(Message("\xf4\x90\x80\x80"), R"("\xf4\x90\x80\x80")");  // above U+10FFFF
}

TEST(JsonStringForMessageTest, CutAtMaxBytesOnACharacterBoundary) {
  const std::string long_text(70, 'a');
  EXPECT_EQ(Message(long_text), "\"" + std::string(64, 'a') + "\"...");
  EXPECT_EQ(Message(std::string(64, 'a')), "\"" + std::string(64, 'a') + "\"");
  EXPECT_EQ(Message("abcdef", 3), R"("abc"...)");
  EXPECT_EQ(Message("ab\xc3\xa9", 3), R"("ab"...)");  // é would not fit
  EXPECT_EQ(Message("ab\xc3\xa9", 4), R"("ab\u00e9")");
  EXPECT_EQ(Message("ab\xff\xff", 3), R"("ab\xff"...)");
  EXPECT_EQ(Message("abc", 0), R"(""...)");
  EXPECT_EQ(Message("", 0), R"("")");
}

TEST(JsonStringForMessageTest, AlwaysPrintableAscii) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  const std::string message = Message(all, all.size());
  for (char c : message) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(static_cast<unsigned char>(c));
  }
}

}  // namespace
}  // namespace demandcenter
