// DecodeSignalJson against protobuf's own JSON parser (util::JsonStringToMessage,
// protobuf 3.21 as Debian ships it), the oracle: for every document of a
// corpus both must accept or both reject, with the same reject code, and when
// both accept the two messages must serialize (deterministically) to the same
// bytes. The corpus: generated streams (every line, malformed ones included),
// their camelCase re-encodings, seeded random damage of them, and the edge
// cases below.
//
// Known deviation (the only one): a JSON object as a value of the
// `attributes` map, e.g. {"attributes": {"k": {"value": "v"}}}, with no other
// error in it. Protobuf's writer handles it as a message of the map-entry
// type and writes a length-delimited tag for the string value with no
// length, then the object's fields: invalid binary. Its final binary parse
// mostly refuses that ("JSON transcoder produced invalid protobuf output",
// BAD_JSON, which the decoder matches) but for some contents parses it into
// a different key or value, e.g. {"k": {"key": "123456789"}} becomes
// attributes["k"] = "\t123456789". Reproducing that would mean writing the
// same malformed bytes on purpose; the decoder rejects every such value with
// BAD_JSON instead: stricter, never looser. Errors inside such an object
// (unknown names, wrong types) are reported as protobuf reports them.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/common/strings.h"
#include "demandcenter/generate/generator.h"
#include "demandcenter/ingest/decoder.h"
#include "demandcenter/ingest/json_decoder.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "support/json_reference.h"

#include "../testing.h"

namespace demandcenter::ingest {
namespace {

using ::testing::HasSubstr;
using std::string_literals::operator""s;
using std::string_view_literals::operator""sv;

using demandcenter::testing::QuietProtobufLogs;

std::string Printable(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(ch);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

struct Tally {
  int same_accept = 0;
  int same_reject = 0;
  int deviations = 0;
  int mismatches = 0;
};

// Compares one document; a mismatch fails the test with the document.
void Check(std::string_view json, Tally* tally) {
  const JsonComparison c = CompareWithProtobuf(json);
  if (c.same) {
    (c.decoder.ok() ? tally->same_accept : tally->same_reject)++;
    return;
  }
  if (c.documented_deviation) {
    ++tally->deviations;
    return;
  }
  ++tally->mismatches;
  ADD_FAILURE() << c.difference << "\n  input: " << Printable(json);
}

// The whole of DecodeSignal (detection, JSON, validation) against protobuf's
// JSON parser followed by ValidateSignal: the same reject code, for values
// detected as JSON (the others never reach either parser).
void CheckDecodeSignal(std::string_view json, std::map<std::string, int>* codes) {
  const size_t first = json.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || json[first] != '{') {
    ++(*codes)["(not JSON)"];
    return;
  }
  v1::Signal expected;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &expected);
  RejectCode want = RejectCode::kNone;
  if (!status.ok()) {
    want = IsProtobufUnknownFieldError(std::string_view(status.message().data(),
                                                        status.message().size()))
               ? RejectCode::kUnknownField
               : RejectCode::kBadJson;
  } else {
    want = ValidateSignal(expected).code;
  }
  v1::Signal actual;
  const Reject got = DecodeSignal(json, DecodeOptions{}, &actual);
  EXPECT_EQ(RejectCodeName(got.code), RejectCodeName(want)) << got.message << "\n  input: "
                                                            << Printable(json);
  ++(*codes)[std::string(RejectCodeName(got.code))];
}

std::vector<std::string> GeneratedJson(uint64_t seed) {
  generate::GeneratorOptions options;
  options.accounts = 2000;
  options.signals = 20000;
  options.seed = seed;
  options.malformed_share = 0.05;
  options.format = generate::OutputFormat::kJson;
  std::vector<std::string> lines;
  const absl::Status status = generate::Generate(
      options, [&](const generate::GeneratedRecord& r) { lines.push_back(r.value); }, nullptr);
  EXPECT_TRUE(status.ok()) << status;
  return lines;
}

// ---------------------------------------------------------------------------
// Generated streams

TEST(JsonDifferentialTest, EveryLineOfGeneratedStreams) {
  QuietProtobufLogs quiet;
  Tally tally;
  int camel = 0;
  std::map<std::string, int> codes;
  for (uint64_t seed : {1, 2, 3}) {
    for (const std::string& line : GeneratedJson(seed)) {
      Check(line, &tally);
      CheckDecodeSignal(line, &codes);
      // The same signal with lowerCamelCase names (protobuf's default printer).
      v1::Signal signal;
      if (DecodeSignalJson(line, &signal).ok()) {
        std::string json;
        ASSERT_TRUE(google::protobuf::util::MessageToJsonString(signal, &json).ok());
        Check(json, &tally);
        ++camel;
      }
    }
  }
  EXPECT_EQ(tally.mismatches, 0);
  EXPECT_EQ(tally.deviations, 0);
  // 5% malformed; a quarter of those are JSON-level (cut short, misspelt
  // field, bad time, not JSON), the rest fail validation only.
  EXPECT_GT(tally.same_accept, 3 * 19000 + camel - 1000);
  EXPECT_GT(tally.same_reject, 3 * 300);
  std::printf("generated: %d accepted by both, %d rejected by both (%d camelCase re-encodings)\n",
              tally.same_accept, tally.same_reject, camel);
  std::printf("DecodeSignal on the generated lines, same code as protobuf + ValidateSignal:");
  for (const auto& [code, n] : codes) std::printf(" %s=%d", code.c_str(), n);
  std::printf("\n");
  EXPECT_GT(codes["NONE"], 3 * 18000);
}

// Seeded damage of generated lines: byte flips, insertions of JSON tokens,
// truncation. Mostly rejects, of every kind.
TEST(JsonDifferentialTest, DamagedGeneratedLines) {
  QuietProtobufLogs quiet;
  Tally tally;
  const std::vector<std::string> lines = GeneratedJson(7);
  std::mt19937_64 rng(20260301);
  const std::string_view tokens[] = {
      "{", "}", "[", "]", ":", ",", "\"", "'", "\\", "\\u", "\\ud83d\\ude00", "null", "true",
      "false", "0", "-1", "1e9", "0x1e", "1.5", "\"x\"", "\"\"", " ", "\t", "\v", "\"a\":1,",
      "\"attributes\":{\"k\":\"v\"},", "\"web_visit\":{},", "\"crmActivity\":{},", "\"foo\":1,",
      "\"occurred_at\":{\"seconds\":1},", "\"bounce_kind\":\"HARD\"", "\xc3\xa9", "\xff", "\x00"sv,
      "\"duration_ms\":\"7\",", "\"amount\":\"NaN\",", ",}", "\"type\":null,"};
  for (int i = 0; i < 30000; ++i) {
    std::string s = lines[rng() % lines.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0: s[at] = static_cast<char>(rng()); break;
        case 1: {
          const std::string_view t = tokens[rng() % std::size(tokens)];
          s.insert(at, t.data(), t.size());
          break;
        }
        case 2: s.erase(at, 1 + rng() % 8); break;
        case 3: s.resize(at); break;
      }
    }
    Check(s, &tally);
  }
  EXPECT_EQ(tally.mismatches, 0);
  std::printf("damaged: %d accepted by both, %d rejected by both, %d documented deviations\n",
              tally.same_accept, tally.same_reject, tally.deviations);
}

// ---------------------------------------------------------------------------
// Edge cases, each against protobuf.

// A valid signal around `member` (a JSON member or members, no braces).
std::string With(std::string_view member) {
  return StrCat(R"({"event_id":"e1","occurred_at":"2026-03-01T09:30:00Z",)",
                R"("type":"web.page_view","account_id":"a1",)", member, "}");
}

void CheckAll(const std::vector<std::string>& cases, int* accepted = nullptr) {
  QuietProtobufLogs quiet;
  Tally tally;
  for (const std::string& json : cases) Check(json, &tally);
  EXPECT_EQ(tally.mismatches, 0);
  EXPECT_EQ(tally.deviations, 0);
  if (accepted != nullptr) *accepted = tally.same_accept;
}

TEST(JsonDifferentialTest, StringEscapes) {
  std::vector<std::string> cases;
  for (std::string_view esc :
       {R"(\")", R"(\\)", R"(\/)", R"(\b)", R"(\f)", R"(\n)", R"(\r)", R"(\t)", R"(\v)", R"(\')",
        R"(\a)", R"(\x)", R"(\0)", R"(\ )", "\\\xc3\xa9", R"(\u0000)", R"(\u0041)", R"(\u00e9)",
        R"(\u20AC)", R"(\uffff)", R"(\uFFFE)", R"(\ud83d\ude00)", R"(\uD83D\uDE00)", R"(\ud800)",
        R"(\udc00)", R"(\ud800\u0041)", R"(\ud800\udbff)", R"(\ud800\ue000)", R"(\ud800x)",
        R"(\ud800\)", R"(\ud800\u12)", R"(\ud800\uzzzz)", R"(\u12)", R"(\u12g4)", R"(\u)",
        R"(\U0041)", R"(\uDBFF\uDFFF)", R"(\u0080)", R"(\u07ff)", R"(\u0800)", R"(\ud7ff)",
        R"(\ue000)"}) {
    cases.push_back(With(StrCat(R"("email":"a)", esc, R"(b")")));
    cases.push_back(With(StrCat(R"("attributes":{"k)", esc, R"(":"v"})")));
    cases.push_back(With(StrCat(R"("source_system":")", esc, R"(")")));
  }
  // Raw control characters and non-ASCII need no escape.
  for (int c = 0; c < 0x20; ++c) {
    cases.push_back(With(StrCat(R"("email":"a)", std::string(1, static_cast<char>(c)), R"(b")")));
  }
  cases.push_back(With("\"email\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""));
  // Single quotes, with the other quote inside.
  cases.push_back(With(R"('email':'it"s')"));
  cases.push_back(With(R"("email":'it\'s')"));
  cases.push_back(With(R"('email':"x')"));
  // Escapes in keys name the same field.
  cases.push_back(With(R"("em\u0061il":"x")"));
  cases.push_back(With(R"("contact\u005fid":"x")"));
  cases.push_back(With(R"("contact\u005Fid":"x","contactId":"y")"));
  // Unterminated.
  cases.push_back(R"({"email":"abc)");
  cases.push_back(R"({"email":"abc\)");
  cases.push_back(R"({"email":"abc\")");
  cases.push_back(R"({"email":"\u00)");
  cases.push_back(R"({"email":"\ud83d)");
  cases.push_back(R"({"email":"\ud83d\ude0)");
  CheckAll(cases);
}

TEST(JsonDifferentialTest, Utf8) {
  std::vector<std::string> cases;
  for (std::string_view bytes :
       {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xc2\x80", "\xdf\xbf", "\xe0\x80\x80",
        "\xe0\x9f\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x8f\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80", "\xfe", "\xff", "\xc3",
        "\xe2\x82", "\xf0\x9f\x98", "\xc3(", "\xe2(\xa1"}) {
    cases.push_back(With(StrCat(R"("email":")", bytes, R"(")")));
    cases.push_back(With(StrCat(R"("attributes":{")", bytes, R"(":"v"})")));
    cases.push_back(With(StrCat(R"("foo)", bytes, R"(":1)")));
    cases.push_back(With("\"email\":\"x\"") + std::string(bytes));
    cases.push_back(std::string(bytes) + With("\"email\":\"x\""));
  }
  CheckAll(cases);
}

// The UTF-8 check is protobuf's: every sequence of up to three bytes, and
// four-byte ones over the boundary values, inside a string.
TEST(JsonDifferentialTest, Utf8AgreesWithProtobufsValidator) {
  const unsigned char edges[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
                                 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff};
  int checked = 0;
  auto check = [&](const std::string& bytes) {
    for (char c : bytes) {
      if (c == '"' || c == '\\') return;
    }
    const bool valid = google::protobuf::internal::IsStructurallyValidUTF8(
        bytes.data(), static_cast<int>(bytes.size()));
    v1::Signal signal;
    const Reject r = DecodeSignalJson("{\"email\":\"" + bytes + "\"}", &signal);
    ASSERT_EQ(r.ok(), valid) << Printable(bytes) << ": " << r.message;
    if (valid) {
      ASSERT_EQ(signal.email(), bytes);
    }
    ++checked;
  };
  for (int a = 0; a < 256; ++a) {
    check(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b) {
      const std::string two{static_cast<char>(a), static_cast<char>(b)};
      check(two);
      if (a < 0x80) continue;
      for (unsigned char c : edges) {
        check(two + static_cast<char>(c));
        if (a < 0xf0) continue;
        for (unsigned char d : edges) check(two + static_cast<char>(c) + static_cast<char>(d));
      }
    }
  }
  EXPECT_GT(checked, 300000);
}

TEST(JsonDifferentialTest, Numbers) {
  std::vector<std::string> cases;
  // duration_ms: int64; product_count: int32; amount: double; bounce_kind:
  // enum; do_not_contact: bool.
  const std::string_view numbers[] = {
      "0", "-0", "1", "-1", "00", "01", "-01", "-00", "0.0", "-0.0", "1.0", "1.5", "-1.5", "1e3",
      "1E3", "1e+3", "1e-3", "1.5e2", "1e", "1e+", ".5", "-.5", "1.", "-", "--1", "+1", "1-2",
      "1+2", "0x10", "0x1e", "0x1E", "-0x1e", "0xe.8", "0x", "1x", "2147483647", "2147483648",
      "-2147483648", "-2147483649", "4294967296", "9223372036854775807", "9223372036854775808",
      "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
      "18446744073709551616", "99999999999999999999999", "9.2233720368547758e18",
      "-9.2233720368547758e18", "9.223372036854775e18", "1e308", "1e309", "-1e309", "1e-400",
      "4.9e-324", "2.5e-324", "123456789012345678901234567890e-20", "1.7976931348623157e308",
      "2147483647.0", "2147483648.0", "-2147483648.0", "1e10", "3.0000000000000004",
      "0.30000000000000004", "1NaN", "Infinity", "-Infinity", "NaN", "true", "false", "null"};
  for (std::string_view n : numbers) {
    for (std::string_view field : {"duration_ms", "durationMs"}) {
      cases.push_back(With(StrCat(R"("web_visit":{")", field, R"(":)", n, "}")));
    }
    cases.push_back(With(StrCat(R"("crm_activity":{"product_count":)", n, "}")));
    cases.push_back(With(StrCat(R"("crm_activity":{"amount":)", n, "}")));
    cases.push_back(With(StrCat(R"("email_engagement":{"bounce_kind":)", n, "}")));
    cases.push_back(With(StrCat(R"("crm_activity":{"do_not_contact":)", n, "}")));
    cases.push_back(With(StrCat(R"("email":)", n)));
    cases.push_back(
        With(StrCat(R"("product_usage":{"value":)", n, R"(,"previous_value":)", n, "}")));
    cases.push_back(With(StrCat(R"("unknown_number":)", n)));
    cases.push_back(With(StrCat(R"("occurred_at":{"seconds":)", n, "}")));
    cases.push_back(With(StrCat(R"("occurred_at":{"nanos":)", n, "}")));
  }
  // Numbers as strings.
  const std::string_view strings[] = {
      "0", "-0", "+0", "+5", "1", "-1", "007", " 1", "1 ", "\\t1", "1\\t", "\\n1\\n", "1\\u0000",
      "1\\u0000x", "\\u00001", "", " ", "+", "-", "1.0", "1.5", "1e3", "0x10", "0x1p3", "1_000",
      "2147483647", "2147483648", "-2147483648", "-2147483649", "9223372036854775807",
      "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "Infinity",
      "-Infinity", "NaN", "infinity", "inf", "-inf", "nan", "INF", "1e309", "-1e309", "1e-400",
      ".5", "5.", "1e", "true", "false", "TRUE", "True", "t", "T", "yes", "YES", "y", "no", "n",
      "f", "F", "on", "off", "HARD", "SOFT", "hard", "Hard", "BOUNCE_KIND_UNSPECIFIED", "1", "2",
      "3", "-1", "02", " HARD", "HARD ", "HARD\\u0000"};
  for (std::string_view n : strings) {
    cases.push_back(With(StrCat(R"("web_visit":{"duration_ms":")", n, R"("})")));
    cases.push_back(With(StrCat(R"("crm_activity":{"product_count":")", n, R"("})")));
    cases.push_back(With(StrCat(R"("crm_activity":{"amount":")", n, R"("})")));
    cases.push_back(With(StrCat(R"("email_engagement":{"bounce_kind":")", n, R"("})")));
    cases.push_back(With(StrCat(R"("crm_activity":{"do_not_contact":")", n, R"("})")));
    cases.push_back(With(StrCat(R"("occurred_at":{"seconds":")", n, R"("})")));
  }
  int accepted = 0;
  CheckAll(cases, &accepted);
  EXPECT_GT(accepted, 100);
}

TEST(JsonDifferentialTest, Timestamps) {
  std::vector<std::string> cases;
  for (std::string_view t :
       {"2026-03-01T09:30:00Z", "2026-03-01T09:30:00.5Z", "2026-03-01T09:30:00.123456789Z",
        "2026-03-01T09:30:00.1234567891234Z", "2026-03-01T09:30:00.Z", "2026-03-01T09:30:00.000Z",
        "2026-03-01T10:30:00+01:00", "2026-03-01T04:00:00-05:30", "2026-03-01T09:30:00+23:59",
        "2026-03-01T09:30:00+24:00", "2026-03-01T09:30:00+1:5", "2026-03-01T09:30:00+01",
        "2026-03-01T09:30:00+0100", "2026-3-1T9:30:0Z", "26-03-01T09:30:00Z",
        "0001-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59-01:00",
        "10000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z",
        "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2000-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z", "2026-03-01t09:30:00Z",
        "2026-03-01 09:30:00Z", "2026-03-01T09:30:00z", "2026-03-01T09:30:00", "2026-03-01",
        "2026-03-01T09:30:00Z ", " 2026-03-01T09:30:00Z", "2026-03-01T09:30:00Zjunk",
        "2026-03-01T09:30:00Z\\u0000junk", "2026-03-01T09:30\\u0000:00Z", "yesterday", "",
        "2026-03-01T09:30:00.-5Z", "+2026-03-01T09:30:00Z", "2026-03-01T09:30:00+01:00Z"}) {
    cases.push_back(With(StrCat(R"("occurred_at":")", t, R"(")")));
    cases.push_back(With(StrCat(R"("crm_activity":{"snooze_until":")", t, R"("})")));
  }
  // As objects, merged, replaced, wrong types.
  for (std::string_view v :
       {R"({"seconds":1772357400})", R"({"seconds":"1772357400","nanos":5})", R"({})",
        R"({"nanos":-1})", R"({"seconds":1,"seconds":2})", R"({"seconds":1.5})",
        R"({"foo":1})", R"({"seconds":{}})", R"({"seconds":[]})", R"({"seconds":null})",
        R"([])", "1772357400", "true", "null", R"("")"}) {
    cases.push_back(With(StrCat(R"("occurred_at":)", v)));
    cases.push_back(With(StrCat(R"("crm_activity":{"snooze_until":)", v, "}")));
  }
  cases.push_back(With(R"("occurred_at":"2026-01-01T00:00:00.5Z","occurred_at":{"seconds":7})"));
  cases.push_back(With(R"("occurred_at":{"nanos":7},"occurred_at":"2026-01-01T00:00:00Z")"));
  cases.push_back(With(R"("occurred_at":{"nanos":7},"occurredAt":{"seconds":9})"));
  cases.push_back(With(R"("occurred_at":"2026-01-01T00:00:00Z","occurred_at":null)"));
  CheckAll(cases);
}

// Random RFC 3339-ish strings, mostly near-misses.
TEST(JsonDifferentialTest, RandomTimestamps) {
  std::mt19937_64 rng(42);
  const char alphabet[] = "0123456789-:T.Z+ z";
  std::vector<std::string> cases;
  for (int i = 0; i < 5000; ++i) {
    std::string t = "2026-03-01T09:30:00.25+01:00";
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % t.size();
      switch (rng() % 3) {
        case 0: t[at] = alphabet[rng() % (sizeof alphabet - 1)]; break;
        case 1: t.erase(at, 1); break;
        case 2: t.insert(at, 1, alphabet[rng() % (sizeof alphabet - 1)]); break;
      }
    }
    cases.push_back(With(StrCat(R"("occurred_at":")", t, R"(")")));
  }
  CheckAll(cases);
}

TEST(JsonDifferentialTest, EnumsNullsAndWrongTypes) {
  std::vector<std::string> cases;
  // Every field with every kind of value.
  const std::string_view values[] = {R"("x")", "1", "-1", "1.5", "true", "false", "null", "{}",
                                     "[]", "[1]", R"({"a":1})", R"(["x"])", R"([{"x":1}])"};
  const std::string_view fields[] = {
      "event_id", "eventId", "type", "account_id", "contact_id", "email", "anonymousId",
      "source_system", "web_visit", "webVisit", "email_engagement", "crm_activity",
      "product_usage", "productUsage", "attributes", "occurred_at"};
  for (std::string_view f : fields) {
    for (std::string_view v : values) cases.push_back(With(StrCat("\"", f, "\":", v)));
  }
  const std::string_view nested[] = {
      R"("web_visit":{"url":%})", R"("web_visit":{"durationMs":%})",
      R"("email_engagement":{"bounce_kind":%})", R"("email_engagement":{"bounceKind":%})",
      R"("crm_activity":{"amount":%})", R"("crm_activity":{"product_count":%})",
      R"("crm_activity":{"do_not_contact":%})", R"("crm_activity":{"snooze_until":%})",
      R"("product_usage":{"previousValue":%})", R"("attributes":{"k":%})"};
  for (std::string_view n : nested) {
    for (std::string_view v : values) {
      std::string m(n);
      m.replace(m.find('%'), 1, v);
      cases.push_back(With(m));
    }
  }
  // Enums by name, by number (declared or not), in strings.
  for (std::string_view e : {R"("HARD")", R"("SOFT")", R"("BOUNCE_KIND_UNSPECIFIED")",
                             R"("MEDIUM")", R"("hard")", "0", "1", "2", "3", "-7", "2147483648",
                             R"("2")", R"("7")", "1.0", "1.5", "true"}) {
    cases.push_back(With(StrCat(R"("email_engagement":{"bounce_kind":)", e, "}")));
  }
  // Nulls leave fields unset, oneofs untaken.
  cases.push_back(With(R"("web_visit":null,"crm_activity":{"object":"lead"})"));
  cases.push_back(With(R"("web_visit":{"url":"u"},"crm_activity":null)"));
  cases.push_back(With(R"("event_id":null)"));
  cases.push_back(With(R"("email":"x","email":null)"));
  // Oneof: a second member, whichever way it is set.
  cases.push_back(With(R"("web_visit":{},"crm_activity":{})"));
  cases.push_back(With(R"("web_visit":{},"webVisit":{})"));
  cases.push_back(With(R"("web_visit":1,"crm_activity":{"zzz":1})"));
  cases.push_back(With(R"("web_visit":[],"crm_activity":{"zzz":1})"));
  cases.push_back(With(R"("web_visit":null,"crm_activity":{"zzz":1})"));
  cases.push_back(With(R"("crm_activity":{"zzz":1},"web_visit":1)"));
  cases.push_back(With(R"("web_visit":"x","product_usage":{})"));
  int accepted = 0;
  CheckAll(cases, &accepted);
  EXPECT_GT(accepted, 20);
}

TEST(JsonDifferentialTest, UnknownFieldsAtEveryLevel) {
  std::vector<std::string> cases;
  for (std::string_view v : {"1", R"("x")", "null", "{}", "[]", R"({"a":{"b":[1,{"c":2}]}})"}) {
    cases.push_back(With(StrCat(R"("zzz":)", v)));
    cases.push_back(With(StrCat(R"("web_visit":{"zzz":)", v, "}")));
    cases.push_back(With(StrCat(R"("webVisit":{"pageTitle":)", v, "}")));
    cases.push_back(With(StrCat(R"("email_engagement":{"zzz":)", v, "}")));
    cases.push_back(With(StrCat(R"("crm_activity":{"zzz":)", v, "}")));
    cases.push_back(With(StrCat(R"("crm_activity":{"snooze_until":{"zzz":)", v, "}}")));
    cases.push_back(With(StrCat(R"("product_usage":{"zzz":)", v, "}")));
    cases.push_back(With(StrCat(R"("occurred_at":{"zzz":)", v, "}")));
    cases.push_back(With(StrCat(R"("attributes":{"k":{"zzz":)", v, "}})")));
  }
  // Case, spelling and the empty name.
  for (std::string_view k : {"EventId", "event-id", "eventid", "EVENT_ID", "event_Id", "", " ",
                             "event_id ", "@type", "$a", "a\\u0000"}) {
    cases.push_back(With(StrCat("\"", k, "\":\"x\"")));
    cases.push_back(With(StrCat("\"web_visit\":{\"", k, "\":\"x\"}")));
  }
  // Which error is reported when there are several: the last one, as
  // protobuf does; and a syntax error wins over all of them.
  cases.push_back(With(R"("zzz":1,"event_id":5)"));
  cases.push_back(With(R"("event_id":5,"zzz":1)"));
  cases.push_back(With(R"("zzz":1,"web_visit":{"url":5})"));
  cases.push_back(With(R"("web_visit":{"url":5,"zzz":1})"));
  cases.push_back(With(R"("zzz":1,"attributes":{"k":1})"));
  cases.push_back(With(R"("attributes":{"k":1},"zzz":1)"));
  cases.push_back(With(R"("attributes":{"k":"v","k":"w"},"zzz":1)"));
  cases.push_back(With(R"("zzz":1,"attributes":{"k":"v","k":"w"})"));
  cases.push_back(With(R"("zzz":1,"x":})"));
  cases.push_back(With(R"("zzz":1,"email":"\ud800")"));
  cases.push_back(With(R"("zzz":1,"amount":1e999)"));
  cases.push_back(With(R"("zzz":[1e999])"));
  cases.push_back(With(R"("zzz":{"a":01})"));
  cases.push_back(With(R"("zzz":1,"attributes":{"k":[1,2]})"));
  cases.push_back(With(R"("attributes":{"k":[{"zzz":1}]})"));
  cases.push_back(With(R"("attributes":{"k":{"zzz":1}})"));
  cases.push_back(With(R"("attributes":{"k":{"value":1}})"));
  cases.push_back(With(R"("attributes":{"k":{"value":{}}})"));
  cases.push_back(With(R"("attributes":{"k":{"":1}})"));
  cases.push_back(With(R"("attributes":{"k":{}},"zzz":1)"));
  cases.push_back(With(R"("zzz":1,"attributes":{"k":{}})"));
  CheckAll(cases);
}

TEST(JsonDifferentialTest, MapsAndDuplicates) {
  std::vector<std::string> cases;
  cases.push_back(With(R"("attributes":{})"));
  cases.push_back(With(R"("attributes":null)"));
  cases.push_back(With(R"("attributes":{"":""})"));
  cases.push_back(With(R"("attributes":{"k":null})"));
  cases.push_back(With(R"("attributes":{"k":null,"k":"v"})"));
  cases.push_back(With(R"("attributes":{"k":"v","k":null})"));
  cases.push_back(With(R"("attributes":{"a":"1"},"attributes":{"a":"2","b":"3"})"));
  cases.push_back(With(R"("attributes":{"a":"1"},"attributes":null)"));
  cases.push_back(With(R"("attributes":{"a":"1","b":"2","A":"3","a ":"4"})"));
  cases.push_back(With(R"("attributes":{k:"v",$x:"y",_:"z"})"));
  cases.push_back(With(R"("attributes":{"k":"v",})"));
  cases.push_back(With(R"("attributes":{,})"));
  cases.push_back(With(R"("attributes":{"k":"v",,})"));
  cases.push_back(With(R"("attributes":{"k":true})"));
  cases.push_back(With(R"("attributes":{"k":[]})"));
  cases.push_back(With(R"("attributes":{"k":["v"]})"));
  cases.push_back(With(R"("attributes":{"k":[],"k":"v"})"));
  cases.push_back(With(R"("attributes":"k")"));
  cases.push_back(With(R"("attributes":[])"));
  cases.push_back(With(R"("attributes":[{"key":"k","value":"v"}])"));
  {
    std::string many = R"("attributes":{)";
    for (int i = 0; i < 40; ++i) many += StrCat("\"k", i, "\":\"v", i, "\",");
    cases.push_back(With(many + R"("k3":"again"})"));
    cases.push_back(With(many + R"("k39":"again"})"));
    cases.push_back(With(many + R"("new":"x"})"));
  }
  // Scalars: the last one wins; messages merge.
  cases.push_back(With(R"("email":"x","email":"y")"));
  cases.push_back(With(R"("email":"x","email":"")"));
  cases.push_back(With(R"("sourceSystem":"x","source_system":"y","sourceSystem":"z")"));
  cases.push_back(With(R"("web_visit":{"url":"a","url":"b","duration_ms":5,"durationMs":0})"));
  cases.push_back(
      With(R"("crm_activity":{"snooze_until":{"seconds":5},"snoozeUntil":{"nanos":6}})"));
  cases.push_back(With(R"("crm_activity":{"amount":1.5,"amount":0,)"
                       R"("do_not_contact":true,"do_not_contact":false})"));
  int accepted = 0;
  CheckAll(cases, &accepted);
  EXPECT_GT(accepted, 12);
}

TEST(JsonDifferentialTest, SyntaxAndStructure) {
  std::vector<std::string> cases = {
      "{}", " {} ", "{}\n", "{}\v\f", "{} x", "{}{}", "{},", "{", "}", "", " ", "{\"", "{\"a\"",
      "{\"a\":", "{\"a\":1", "{\"a\":1,", "[]", "[{}]", "\"x\"", "null", "1", "{,}", "{:1}",
      R"({"a" 1})", R"({"a"::1})", R"({"a":1 "b":2})", R"({"a":1;"b":2})", R"({"a":1,,"b":2})",
      R"({"event_id":"e",})", R"({event_id:"e"})", R"({'event_id':'e'})", R"({event_id :"e"})",
      R"({true:1})", R"({truex:1})", R"({null:1})", R"({nullable:1})", R"({false:1})",
      R"({9a:1})", R"({-a:1})", R"({a-b:1})", R"({a.b:1})", R"({"a":tru})", R"({"a":True})",
      R"({"a":nul})", R"({"a":nullx})", R"({"a":truefalse})", R"({"a":undefined})",
      R"({"a":NaN})", R"({"a":Infinity})", R"({"a":-Infinity})", R"({"a":'x})", R"({"a":"x'})",
      R"({"event_id":"e"}})", R"({"event_id":"e"]})", R"({"web_visit":{"url":"u"}})",
      R"({"web_visit":{"url":"u"})", R"({"web_visit":{"url":"u",}})", R"({"web_visit":{,}})",
      R"({"zzz":[1,]})", R"({"zzz":[,1]})", R"({"zzz":[1,,2]})", R"({"zzz":[}})", R"({"zzz":[)",
      R"({"zzz":[[[[]]]]})", R"({"zzz":{"a":[1,{"b":[]},]}})", R"({"zzz":{"a" 1}})",
      R"({"zzz":{"a":1,}})", R"({"zzz":{true:1}})", R"({"zzz":{'a':"b"}})",
      "{\"event_id\":\"e\"}\x00"s, "\x00{}"s, "{\"event_id\"\x00:\"e\"}"s,
      "{\t\"event_id\"\r:\n\"e\"\v}",
      "{\"event_id\":\"e\"\f}", "{\"a\"\xc2\xa0:1}"};
  // Nesting: at most 100 objects, arrays unlimited.
  for (int depth : {98, 99, 100, 101, 150}) {
    std::string open, close;
    for (int i = 1; i < depth; ++i) {
      open += "{\"a\":";
      close += "}";
    }
    cases.push_back(StrCat(R"({"zzz":)", open, "1", close, "}"));
    cases.push_back(StrCat(R"({"zzz":)", open, "1", close));
  }
  for (int depth : {1000, 100000}) {
    cases.push_back(StrCat(R"({"zzz":)", std::string(depth, '['), std::string(depth, ']'), "}"));
    cases.push_back(
        StrCat(R"({"zzz":)", std::string(depth, '['), std::string(depth - 1, ']'), "}"));
    cases.push_back(
        StrCat(R"({"web_visit":)", std::string(depth, '['), std::string(depth, ']'), "}"));
  }
  {
    std::string mixed;
    for (int i = 0; i < 99; ++i) mixed += "[{\"a\":";
    mixed += "1";
    for (int i = 0; i < 99; ++i) mixed += "}]";
    cases.push_back(StrCat(R"({"zzz":)", mixed, "}"));
    cases.push_back(StrCat(R"({"zzz":[{"a":)", mixed, "}]}"));
  }
  // Deep inside a real message.
  cases.push_back(With(R"("crm_activity":{"snooze_until":{"seconds":1}})"));
  cases.push_back(With(R"("crm_activity":{"snooze_until":{"seconds":{"a":1}}})"));
  // Big documents.
  cases.push_back(With(StrCat(R"("email":")", std::string(100000, 'x'), R"(")")));
  cases.push_back(With(StrCat(R"("email":")", std::string(300, 'x'), R"(")")));
  cases.push_back(With(StrCat(R"("zzz":")", std::string(100000, 'x'), R"(")")));
  CheckAll(cases);
}

// Hand-checked outcomes, so that a regression is caught even where both
// parsers would change together (they cannot, but the expectations document
// the mapping).
TEST(JsonDecoderTest, DecodesTheMapping) {
  v1::Signal s;
  const Reject r = DecodeSignalJson(
      R"({'eventId': 'e\u00e9\ud83d\ude00', occurred_at: {"seconds": "5", nanos: 7,},
          "occurredAt": {"nanos": 9}, "type": "t", "email_engagement": {"bounceKind": 2},
          "attributes": {"a": null, "b": "x", }, "attributes": {"b": "y"}, "type": null,})",
      &s);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(s.event_id(), "e\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(s.occurred_at().seconds(), 5);
  EXPECT_EQ(s.occurred_at().nanos(), 9);
  EXPECT_EQ(s.type(), "t");
  EXPECT_EQ(s.email_engagement().bounce_kind(), v1::SOFT);
  EXPECT_EQ(s.attributes().at("a"), "");
  EXPECT_EQ(s.attributes().at("b"), "y");
}

TEST(JsonDecoderTest, MessagesNameTheFieldAndPosition) {
  v1::Signal s;
  Reject r = DecodeSignalJson(R"({"event_id": "e", "evnt_type": "web.page_view"})", &s);
  EXPECT_EQ(r.code, RejectCode::kUnknownField);
  EXPECT_EQ(r.message, "unknown JSON field evnt_type at line 1, column 19");
  r = DecodeSignalJson("{\n  \"webVisit\": {\"url\": \"u\",\n    \"pageTitle\": \"P\"}}", &s);
  EXPECT_EQ(r.code, RejectCode::kUnknownField);
  EXPECT_EQ(r.message, "unknown JSON field web_visit.pageTitle at line 3, column 5");
  r = DecodeSignalJson(R"({"web_visit": {"duration_ms": "4s"}})", &s);
  EXPECT_EQ(r.code, RejectCode::kBadJson);
  EXPECT_EQ(r.message,
            "invalid JSON: web_visit.duration_ms at line 1, column 31: \"4s\" is not an int64");
  r = DecodeSignalJson(R"({"attributes": {"plan": 7}})", &s);
  EXPECT_EQ(r.message,
            R"(invalid JSON: attributes["plan"] at line 1, column 25: 7 is not a string)");
  r = DecodeSignalJson(R"({"event_id": "e1", )", &s);
  EXPECT_EQ(r.message,
            "invalid JSON at line 1, column 20: Unexpected end of string. "
            "Expected an object key or }.");
  r = DecodeSignalJson(R"({"web_visit": {}, "crm_activity": {}})", &s);
  EXPECT_EQ(r.message,
            "invalid JSON: crm_activity at line 1, column 35: oneof detail is already set; "
            "cannot also set \"crm_activity\"");
  r = DecodeSignalJson("{\"email\": \"\xff\"}", &s);
  EXPECT_EQ(r.message, "invalid JSON at line 1, column 12: invalid UTF-8 (byte \"\\xff\")");
  r = DecodeSignalJson(R"({"email_engagement": {"bounce_kind": "MEDIUM"}})", &s);
  EXPECT_THAT(r.message, HasSubstr("\"MEDIUM\" is not a BounceKind name or number"));
  r = DecodeSignalJson(R"({"occurred_at": "yesterday"})", &s);
  EXPECT_THAT(r.message, HasSubstr("occurred_at at line 1, column 17: "
                                   "\"yesterday\" is not an RFC 3339 timestamp"));
}

// The documented deviation: protobuf accepts garbage, the decoder refuses.
TEST(JsonDecoderTest, ObjectAsMapValueIsRejectedWhereProtobufWritesGarbage) {
  QuietProtobufLogs quiet;
  const std::string json = With(R"("attributes":{"k":{"key":"123456789"}})");
  const JsonComparison c = CompareWithProtobuf(json);
  ASSERT_EQ(c.protobuf_code, RejectCode::kNone) << c.protobuf_message;
  EXPECT_FALSE(c.same);
  EXPECT_TRUE(c.documented_deviation);
  EXPECT_TRUE(IsObjectMapValueReject(c.decoder)) << c.decoder.message;
  v1::Signal garbage;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &garbage).ok());
  EXPECT_EQ(garbage.attributes().at("k"), "\t123456789");
  // Where protobuf's final parse fails, both reject alike.
  EXPECT_TRUE(CompareWithProtobuf(With(R"("attributes":{"k":{}})")).same);
  EXPECT_TRUE(CompareWithProtobuf(With(R"("attributes":{"k":{"value":"v"}})")).same);
}

// Every field reachable from Signal has a type the decoder supports: a new
// field of another type (bytes, repeated, float, a well-known type...) fails
// here until the decoder learns it.
TEST(JsonDecoderTest, EveryFieldOfSignalIsSupported) {
  std::vector<std::string> paths;
  // {"f": null} for each field, nested inside the messages leading to it.
  using Descriptor = google::protobuf::Descriptor;
  std::function<void(const Descriptor*, std::string, std::string, int)> walk =
      [&](const Descriptor* d, std::string prefix, std::string suffix, int depth) {
        for (int i = 0; i < d->field_count(); ++i) {
          const google::protobuf::FieldDescriptor* f = d->field(i);
          for (const std::string& name : {f->name(), f->json_name()}) {
            paths.push_back(StrCat(prefix, "\"", name, "\":null", suffix));
          }
          if (f->message_type() != nullptr && !f->is_map() && depth < 4) {
            walk(f->message_type(), StrCat(prefix, "\"", f->name(), "\":{"), StrCat("}", suffix),
                 depth + 1);
          }
        }
      };
  walk(v1::Signal::descriptor(), "{", "}", 0);
  ASSERT_GT(paths.size(), 80u);
  for (const std::string& json : paths) {
    v1::Signal s;
    const Reject r = DecodeSignalJson(json, &s);
    EXPECT_TRUE(r.ok()) << json << ": " << r.message;
    EXPECT_TRUE(CompareWithProtobuf(json).same) << json;
  }
}

}  // namespace
}  // namespace demandcenter::ingest
