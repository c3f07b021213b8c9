#include "demandcenter/ingest/decoder.h"

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

#include "../testing.h"

namespace demandcenter::ingest {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// 2026-03-01T09:30:00Z
constexpr int64_t kOccurredAtSeconds = 1772357400;

// A complete, valid pricing-page view.
v1::Signal PricingView() {
  v1::Signal s;
  s.set_event_id("evt-1");
  s.mutable_occurred_at()->set_seconds(kOccurredAtSeconds);
  s.set_type("web.pricing_view");
  s.set_account_id("acme");
  s.set_anonymous_id("cookie-42");
  s.set_source_system("segment");
  s.mutable_web_visit()->set_url("https://example.com/pricing");
  s.mutable_web_visit()->set_path("/pricing");
  s.mutable_web_visit()->set_page_category("pricing");
  s.mutable_web_visit()->set_duration_ms(42000);
  (*s.mutable_attributes())["plan"] = "enterprise";
  return s;
}

std::string Binary(const v1::Signal& s) { return s.SerializeAsString(); }

std::string Json(const v1::Signal& s) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(s, &json, options).ok());
  return json;
}

// A schema-registry frame with explicit index bytes: magic 0, the schema id
// big-endian, `index_bytes` verbatim, then `payload`.
std::string Frame(uint32_t schema_id, std::string_view index_bytes,
                  std::string_view payload) {
  std::string out(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>(schema_id >> shift));
  }
  out.append(index_bytes);
  out.append(payload);
  return out;
}

// Everything DecodeSignal reports for one value.
struct Decoded {
  Reject reject;
  v1::Signal signal;
  SignalFormat format = SignalFormat::kBinary;
  int32_t schema_id = 0;
};

void PrintTo(const Decoded& d, std::ostream* os) {
  *os << SignalFormatName(d.format) << " value, " << RejectCodeName(d.reject.code);
}

Decoded Decode(std::string_view bytes, DecodeOptions options = {}) {
  Decoded d;
  d.reject = DecodeSignal(bytes, options, &d.signal, &d.format, &d.schema_id);
  return d;
}

MATCHER(Accepted, "is accepted") {
  *result_listener << "rejected " << RejectCodeName(arg.reject.code) << ": "
                   << arg.reject.message;
  return arg.reject.ok();
}

MATCHER_P(RejectedWith, code,
          std::string("is rejected with ") + std::string(RejectCodeName(code))) {
  *result_listener << "got " << RejectCodeName(arg.reject.code) << ": \""
                   << arg.reject.message << "\"";
  return arg.reject.code == code;
}

MATCHER_P(DetectedAs, format,
          std::string("is detected as ") + std::string(SignalFormatName(format))) {
  *result_listener << "detected as " << SignalFormatName(arg.format);
  return arg.format == format;
}

MATCHER_P(WithMessage, matcher, "") {
  return ::testing::ExplainMatchResult(matcher, arg.reject.message, result_listener);
}

MATCHER_P(Validates, code, std::string("validates as ") + std::string(RejectCodeName(code))) {
  const Reject r = ValidateSignal(arg);
  *result_listener << "got " << RejectCodeName(r.code) << ": \"" << r.message << "\"";
  return r.code == code;
}

using demandcenter::testing::QuietProtobufLogs;

bool IsPrintableAscii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool SameSignal(const v1::Signal& a, const v1::Signal& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// ---------------------------------------------------------------------------
// Formats

TEST(DecodeSignalTest, BinaryIsDetectedAndDecoded) {
  const Decoded d = Decode(Binary(PricingView()));
  EXPECT_THAT(d, AllOf(Accepted(), DetectedAs(SignalFormat::kBinary)));
  EXPECT_EQ(d.schema_id, -1);
  EXPECT_TRUE(SameSignal(d.signal, PricingView()));
}

TEST(DecodeSignalTest, JsonWithSnakeCaseNamesIsDecoded) {
  const Decoded d = Decode(R"({
    "event_id": "evt-1",
    "occurred_at": "2026-03-01T09:30:00Z",
    "type": "web.pricing_view",
    "account_id": "acme",
    "anonymous_id": "cookie-42",
    "source_system": "segment",
    "web_visit": {"url": "https://example.com/pricing", "path": "/pricing",
                  "page_category": "pricing", "duration_ms": "42000"},
    "attributes": {"plan": "enterprise"}
  })");
  EXPECT_THAT(d, AllOf(Accepted(), DetectedAs(SignalFormat::kJson)));
  EXPECT_EQ(d.schema_id, -1);
  EXPECT_TRUE(SameSignal(d.signal, PricingView())) << d.signal.DebugString();
}

TEST(DecodeSignalTest, JsonWithLowerCamelCaseNamesIsDecoded) {
  const Decoded d = Decode(R"({
    "eventId": "evt-1",
    "occurredAt": "2026-03-01T09:30:00Z",
    "type": "web.pricing_view",
    "accountId": "acme",
    "anonymousId": "cookie-42",
    "sourceSystem": "segment",
    "webVisit": {"url": "https://example.com/pricing", "path": "/pricing",
                 "pageCategory": "pricing", "durationMs": 42000},
    "attributes": {"plan": "enterprise"}
  })");
  EXPECT_THAT(d, AllOf(Accepted(), DetectedAs(SignalFormat::kJson)));
  EXPECT_TRUE(SameSignal(d.signal, PricingView())) << d.signal.DebugString();
}

TEST(DecodeSignalTest, JsonFollowsTheStandardMapping) {
  const Decoded d = Decode(R"({
    "event_id": "evt-2",
    "occurred_at": "2026-03-01T10:30:00.5+01:00",
    "type": "email.bounce",
    "email": "ann@acme.example",
    "email_engagement": {"bounce_kind": 2}
  })");
  ASSERT_THAT(d, Accepted());
  EXPECT_EQ(d.signal.occurred_at().seconds(), kOccurredAtSeconds);
  EXPECT_EQ(d.signal.occurred_at().nanos(), 500'000'000);
  EXPECT_EQ(d.signal.email_engagement().bounce_kind(), v1::SOFT);
}

TEST(DecodeSignalTest, JsonMayStartWithWhitespace) {
  EXPECT_THAT(Decode(" \r\n\t" + Json(PricingView()) + "\n"),
              AllOf(Accepted(), DetectedAs(SignalFormat::kJson)));
}

TEST(DecodeSignalTest, JsonRoundTripsEveryDetail) {
  v1::Signal crm = PricingView();
  crm.set_type("crm.opportunity_stage");
  auto* activity = crm.mutable_crm_activity();
  activity->set_object("opportunity");
  activity->set_opportunity_stage("proposal");
  activity->set_amount(125000.5);
  activity->set_currency("EUR");
  activity->set_contact_role("champion");
  activity->set_do_not_contact(true);
  activity->mutable_snooze_until()->set_seconds(kOccurredAtSeconds + 86400);
  v1::Signal email = PricingView();
  email.set_type("email.bounce");
  email.mutable_email_engagement()->set_bounce_kind(v1::HARD);
  v1::Signal usage = PricingView();
  usage.set_type("product.usage");
  usage.mutable_product_usage()->set_metric("weekly_active_users");
  usage.mutable_product_usage()->set_value(12);

  for (const v1::Signal& s : {crm, email, usage}) {
    const Decoded d = Decode(Json(s));
    EXPECT_THAT(d, Accepted());
    EXPECT_TRUE(SameSignal(d.signal, s)) << d.signal.DebugString();
  }
}

TEST(DecodeSignalTest, SchemaRegistryFrameWithIndexShorthand) {
  const std::string framed = FrameForSchemaRegistry(PricingView(), 7);
  EXPECT_EQ(framed.substr(0, 6), std::string("\0\0\0\0\x07\0", 6));
  const Decoded d = Decode(framed);
  EXPECT_THAT(d, AllOf(Accepted(), DetectedAs(SignalFormat::kSchemaRegistry)));
  EXPECT_EQ(d.schema_id, 7);
  EXPECT_TRUE(SameSignal(d.signal, PricingView()));
}

TEST(DecodeSignalTest, SchemaRegistryFrameWithExplicitIndexes) {
  // Zigzag varints: count 1 (0x02), index 0 (0x00).
  const Decoded one = Decode(Frame(0x01020304, std::string("\x02\x00", 2),
                                   Binary(PricingView())));
  EXPECT_THAT(one, AllOf(Accepted(), DetectedAs(SignalFormat::kSchemaRegistry)));
  EXPECT_EQ(one.schema_id, 0x01020304);

  // Count 2, indexes [1, 300] (300 zigzag = 600 = 0xd8 0x04).
  const Decoded nested = Decode(Frame(42, "\x04\x02\xd8\x04", Binary(PricingView())));
  EXPECT_THAT(nested, Accepted());
  EXPECT_EQ(nested.schema_id, 42);
  EXPECT_TRUE(SameSignal(nested.signal, PricingView()));
}

TEST(DecodeSignalTest, SchemaIdIsBigEndianAndSigned) {
  EXPECT_EQ(Decode(FrameForSchemaRegistry(PricingView(), 100000)).schema_id, 100000);
  EXPECT_EQ(Decode(FrameForSchemaRegistry(PricingView(), -2)).schema_id, -2);
}

TEST(DecodeSignalTest, BinaryThatLooksLikeWhitespaceAndBraceIsStillBinary) {
  // Tag 0x0A (event_id), length 123 = '{': the bytes begin "\n{".
  v1::Signal s = PricingView();
  s.set_event_id("{" + std::string(122, 'x'));
  const std::string bytes = Binary(s);
  ASSERT_EQ(bytes.substr(0, 2), "\n{");
  const Decoded d = Decode(bytes);
  EXPECT_THAT(d, AllOf(Accepted(), DetectedAs(SignalFormat::kBinary)));
  EXPECT_EQ(d.signal.event_id(), s.event_id());
}

TEST(DecodeSignalTest, OutputSignalIsClearedFirst) {
  v1::Signal out = PricingView();
  out.set_contact_id("stale");
  v1::Signal in = PricingView();
  in.clear_web_visit();
  ASSERT_TRUE(DecodeSignal(Json(in), {}, &out).ok());
  EXPECT_TRUE(SameSignal(out, in)) << out.DebugString();
}

TEST(DecodeSignalTest, FormatAndSchemaIdPointersAreOptional) {
  v1::Signal out;
  EXPECT_TRUE(DecodeSignal(FrameForSchemaRegistry(PricingView(), 1), {}, &out).ok());
}

// ---------------------------------------------------------------------------
// Rejects produced by decoding

TEST(DecodeSignalTest, EmptyValue) {
  EXPECT_THAT(Decode(""), RejectedWith(RejectCode::kEmpty));
}

TEST(DecodeSignalTest, OversizeValueIsRejectedBeforeParsing) {
  const std::string bytes = Binary(PricingView());
  EXPECT_THAT(Decode(bytes, {.max_bytes = bytes.size()}), Accepted());
  EXPECT_THAT(Decode(bytes, {.max_bytes = bytes.size() - 1}),
              AllOf(RejectedWith(RejectCode::kOversize),
                    WithMessage(HasSubstr("the limit is"))));
  EXPECT_THAT(Decode(std::string(2 << 20, ' ')), RejectedWith(RejectCode::kOversize));
  EXPECT_THAT(Decode("{" + std::string(2 << 20, ' ') + "}"),
              AllOf(RejectedWith(RejectCode::kOversize), DetectedAs(SignalFormat::kJson)));
}

TEST(DecodeSignalTest, JsonSyntaxError) {
  const Decoded d = Decode(R"({"event_id": "evt-1", )");
  EXPECT_THAT(d, AllOf(RejectedWith(RejectCode::kBadJson), DetectedAs(SignalFormat::kJson),
                       WithMessage(HasSubstr("Unexpected end of string"))));
  EXPECT_THAT(Decode(R"({"event_id": "evt-1"} trailing)"), RejectedWith(RejectCode::kBadJson));
}

TEST(DecodeSignalTest, JsonWrongValueType) {
  EXPECT_THAT(Decode(R"({"event_id": 17})"),
              AllOf(RejectedWith(RejectCode::kBadJson), WithMessage(HasSubstr("event_id"))));
  EXPECT_THAT(Decode(R"({"occurred_at": "yesterday"})"), RejectedWith(RejectCode::kBadJson));
  EXPECT_THAT(Decode(R"({"email_engagement": {"bounce_kind": "MEDIUM"}})"),
              RejectedWith(RejectCode::kBadJson));
  EXPECT_THAT(Decode(R"({"web_visit": {}, "crm_activity": {}})"),
              RejectedWith(RejectCode::kBadJson));
}

TEST(DecodeSignalTest, JsonThatIsNotUtf8) {
  EXPECT_THAT(Decode("{\"event_id\": \"\xff\xfe\"}"),
              AllOf(RejectedWith(RejectCode::kBadJson), WithMessage(HasSubstr("UTF-8"))));
}

TEST(DecodeSignalTest, JsonUnknownField) {
  EXPECT_THAT(Decode(R"({"event_id": "evt-1", "evnt_type": "web.page_view"})"),
              AllOf(RejectedWith(RejectCode::kUnknownField),
                    WithMessage("unknown JSON field evnt_type at line 1, column 23")));
  EXPECT_THAT(Decode(R"({"webVisit": {"pageTitle": "Pricing"}})"),
              AllOf(RejectedWith(RejectCode::kUnknownField),
                    WithMessage("unknown JSON field web_visit.pageTitle at line 1, column 15")));
  // At any depth, whatever the value.
  EXPECT_THAT(Decode(R"({"crm_activity": {"snooze_until": {"secs": null}}})"),
              AllOf(RejectedWith(RejectCode::kUnknownField),
                    WithMessage(HasSubstr("crm_activity.snooze_until.secs"))));
  // Names are case-sensitive.
  EXPECT_THAT(Decode(R"({"EventId": "evt-1"})"), RejectedWith(RejectCode::kUnknownField));
}

TEST(DecodeSignalTest, FrameTooShort) {
  const Decoded d = Decode(std::string("\0\0\0\0\x07", 5));
  EXPECT_THAT(d, AllOf(RejectedWith(RejectCode::kBadFraming),
                       DetectedAs(SignalFormat::kSchemaRegistry)));
  EXPECT_EQ(d.schema_id, -1);
  EXPECT_THAT(Decode(std::string(1, '\0')), RejectedWith(RejectCode::kBadFraming));
}

TEST(DecodeSignalTest, FrameWithBadMessageIndexes) {
  const std::string payload = Binary(PricingView());
  // Count -1 (zigzag 0x01).
  EXPECT_THAT(Decode(Frame(7, "\x01", payload)),
              AllOf(RejectedWith(RejectCode::kBadFraming), WithMessage(HasSubstr("negative"))));
  // Index -1.
  EXPECT_THAT(Decode(Frame(7, "\x02\x01", payload)), RejectedWith(RejectCode::kBadFraming));
  // Count varint longer than 5 bytes.
  EXPECT_THAT(Decode(Frame(7, "\x80\x80\x80\x80\x80\x01", payload)),
              RejectedWith(RejectCode::kBadFraming));
  // Count varint cut off by the end of the value.
  EXPECT_THAT(Decode(Frame(7, "\x80", "")), RejectedWith(RejectCode::kBadFraming));
  // More indexes than bytes left.
  EXPECT_THAT(Decode(Frame(7, "\x7e\x00", "")), RejectedWith(RejectCode::kBadFraming));
  // The frame's schema id is still reported.
  EXPECT_EQ(Decode(Frame(7, "\x01", payload)).schema_id, 7);
}

TEST(DecodeSignalTest, BytesThatAreNotASignal) {
  EXPECT_THAT(Decode("hello, world"),
              AllOf(RejectedWith(RejectCode::kUndecodable), DetectedAs(SignalFormat::kBinary)));
  // event_id says 9 bytes, 5 follow.
  EXPECT_THAT(Decode("\x0a\x09short"), RejectedWith(RejectCode::kUndecodable));
  // Invalid UTF-8 in a string field.
  QuietProtobufLogs quiet;
  EXPECT_THAT(Decode(std::string("\x0a\x02\xff\xfe", 4)), RejectedWith(RejectCode::kUndecodable));
  // Valid binary followed by garbage.
  EXPECT_THAT(Decode(Binary(PricingView()) + "\xff"), RejectedWith(RejectCode::kUndecodable));
}

TEST(DecodeSignalTest, ValidProtobufWithoutEventIdOrTypeIsUndecodable) {
  v1::Signal s;
  s.set_account_id("acme");
  s.set_email("ann@acme.example");
  EXPECT_THAT(Decode(Binary(s)), RejectedWith(RejectCode::kUndecodable));
  EXPECT_THAT(Decode(FrameForSchemaRegistry(s, 1)), RejectedWith(RejectCode::kUndecodable));
  EXPECT_THAT(Decode(Frame(1, std::string(1, '\0'), "")),
              RejectedWith(RejectCode::kUndecodable));
}

TEST(DecodeSignalTest, EveryFormatIsValidated) {
  v1::Signal s = PricingView();
  s.clear_event_id();
  s.set_type("web.page_view");
  EXPECT_THAT(Decode(Binary(s)), RejectedWith(RejectCode::kMissingEventId));
  EXPECT_THAT(Decode(Json(s)), RejectedWith(RejectCode::kMissingEventId));
  EXPECT_THAT(Decode(FrameForSchemaRegistry(s, 3)),
              AllOf(RejectedWith(RejectCode::kMissingEventId),
                    DetectedAs(SignalFormat::kSchemaRegistry)));
}

TEST(DecodeSignalTest, JsonTimestampBefore1970) {
  v1::Signal s = PricingView();
  s.mutable_occurred_at()->set_seconds(-86400);
  EXPECT_THAT(Decode(Json(s)), RejectedWith(RejectCode::kBadTimestamp));
}

// Random bytes, and valid values with random damage, never crash and never
// yield an accepted signal that would fail validation.
TEST(DecodeSignalTest, RandomBytesNeverCrash) {
  QuietProtobufLogs quiet;
  std::mt19937 rng(20260301);
  const std::string seeds[] = {Binary(PricingView()), Json(PricingView()),
                               FrameForSchemaRegistry(PricingView(), 9)};
  const DecodeOptions options{.max_bytes = 512};
  for (int i = 0; i < 30000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes.resize(rng() % 80);
      for (char& c : bytes) c = static_cast<char>(rng());
      if (i % 6 == 0 && !bytes.empty()) bytes[0] = '\0';
      if (i % 6 == 2 && !bytes.empty()) bytes[0] = '{';
    } else {
      bytes = seeds[i % 3];
      const int flips = 1 + rng() % 4;
      for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
      if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    }
    v1::Signal signal;
    const Reject r = DecodeSignal(bytes, options, &signal);
    if (r.ok()) {
      EXPECT_TRUE(ValidateSignal(signal).ok());
    } else {
      EXPECT_FALSE(r.message.empty());
      EXPECT_TRUE(IsPrintableAscii(r.message)) << r.message;
    }
  }
}

// ---------------------------------------------------------------------------
// Validation

TEST(ValidateSignalTest, CompleteSignalIsValid) {
  EXPECT_THAT(PricingView(), Validates(RejectCode::kNone));
}

TEST(ValidateSignalTest, EventIdIsRequired) {
  v1::Signal s = PricingView();
  s.clear_event_id();
  EXPECT_THAT(s, Validates(RejectCode::kMissingEventId));
  EXPECT_EQ(ValidateSignal(s).message, "missing required field event_id");
}

TEST(ValidateSignalTest, OccurredAtIsRequired) {
  v1::Signal s = PricingView();
  s.clear_occurred_at();
  EXPECT_THAT(s, Validates(RejectCode::kMissingOccurredAt));
  // Set but zero: the sender's unset value.
  s.mutable_occurred_at();
  EXPECT_THAT(s, Validates(RejectCode::kMissingOccurredAt));
  s.mutable_occurred_at()->set_nanos(1);
  EXPECT_THAT(s, Validates(RejectCode::kNone));
}

TEST(ValidateSignalTest, OccurredAtMustBeBetween1970And9999) {
  v1::Signal s = PricingView();
  s.mutable_occurred_at()->set_seconds(-1);
  EXPECT_THAT(s, Validates(RejectCode::kBadTimestamp));
  s.mutable_occurred_at()->set_seconds(253402300799);  // 9999-12-31T23:59:59Z
  EXPECT_THAT(s, Validates(RejectCode::kNone));
  s.mutable_occurred_at()->set_seconds(253402300800);
  EXPECT_THAT(s, Validates(RejectCode::kBadTimestamp));
}

TEST(ValidateSignalTest, OccurredAtNanosMustBeInRange) {
  v1::Signal s = PricingView();
  s.mutable_occurred_at()->set_nanos(999'999'999);
  EXPECT_THAT(s, Validates(RejectCode::kNone));
  s.mutable_occurred_at()->set_nanos(1'000'000'000);
  EXPECT_THAT(s, Validates(RejectCode::kBadTimestamp));
  s.mutable_occurred_at()->set_nanos(-1);
  EXPECT_THAT(s, Validates(RejectCode::kBadTimestamp));
}

TEST(ValidateSignalTest, TypeIsRequired) {
  v1::Signal s = PricingView();
  s.clear_type();
  EXPECT_THAT(s, Validates(RejectCode::kMissingType));
}

TEST(ValidateSignalTest, TypeMustBeNamespaced) {
  v1::Signal s = PricingView();
  for (const char* good : {"web.page_view", "crm.deal_won", "a.b", "crm.deal-won.v2",
                           "x9.y_z"}) {
    s.set_type(good);
    EXPECT_THAT(s, Validates(RejectCode::kNone)) << good;
  }
  for (const char* bad : {"pageview", "Web.page_view", "web.PageView", "web.", ".view",
                          "web..view", "web page.view", "web.page/view", "web.\xc3\xa9t\xc3\xa9"}) {
    s.set_type(bad);
    EXPECT_THAT(s, Validates(RejectCode::kBadType)) << bad;
  }
}

TEST(ValidateSignalTest, TypeIsAtMost128Bytes) {
  v1::Signal s = PricingView();
  s.set_type("web." + std::string(124, 'x'));
  EXPECT_THAT(s, Validates(RejectCode::kNone));
  s.set_type("web." + std::string(125, 'x'));
  EXPECT_THAT(s, Validates(RejectCode::kBadType));
}

// Quoted as JSON strings, in printable ASCII (common/json_string.h).
TEST(ValidateSignalTest, BadTypeMessageQuotesTheTypeSafely) {
  v1::Signal s = PricingView();
  s.set_type("Web.\x01");
  EXPECT_THAT(ValidateSignal(s).message, HasSubstr(R"("Web.\u0001")"));
  s.set_type("w\xc3\xa9" "b.<x>");
  EXPECT_THAT(ValidateSignal(s).message, HasSubstr(R"("w\u00e9b.\u003cx\u003e")"));
  s.set_type(std::string(100, 'X'));
  EXPECT_THAT(ValidateSignal(s).message, HasSubstr("\"" + std::string(64, 'X') + "\"..."));
}

TEST(ValidateSignalTest, SomeIdentityIsRequired) {
  v1::Signal bare = PricingView();
  bare.clear_account_id();
  bare.clear_anonymous_id();
  EXPECT_THAT(bare, Validates(RejectCode::kMissingIdentity));

  v1::Signal s = bare;
  s.set_account_id("acme");
  EXPECT_THAT(s, Validates(RejectCode::kNone));
  s = bare;
  s.set_contact_id("003xx");
  EXPECT_THAT(s, Validates(RejectCode::kNone));
  s = bare;
  s.set_email("ann@acme.example");
  EXPECT_THAT(s, Validates(RejectCode::kNone));
  s = bare;
  s.set_anonymous_id("cookie");
  EXPECT_THAT(s, Validates(RejectCode::kNone));
}

TEST(ValidateSignalTest, IdsAreAtMost256Bytes) {
  v1::Signal s = PricingView();
  s.set_account_id(std::string(256, 'a'));
  EXPECT_THAT(s, Validates(RejectCode::kNone));
  s.set_account_id(std::string(257, 'a'));
  EXPECT_THAT(s, Validates(RejectCode::kFieldTooLong));
  EXPECT_EQ(ValidateSignal(s).message, "field account_id is 257 bytes; the limit is 256");

  s = PricingView();
  s.set_event_id(std::string(257, 'e'));
  EXPECT_THAT(s, Validates(RejectCode::kFieldTooLong));
}

TEST(ValidateSignalTest, DetailTextIsAtMost4KiB) {
  v1::Signal s = PricingView();
  s.mutable_web_visit()->set_url(std::string(4096, 'u'));
  EXPECT_THAT(s, Validates(RejectCode::kNone));
  s.mutable_web_visit()->set_url(std::string(4097, 'u'));
  EXPECT_THAT(s, Validates(RejectCode::kFieldTooLong));
  EXPECT_THAT(ValidateSignal(s).message, HasSubstr("web_visit.url"));

  s.mutable_crm_activity()->set_account_name(std::string(4097, 'n'));
  EXPECT_THAT(ValidateSignal(s).message, HasSubstr("crm_activity.account_name"));
}

TEST(ValidateSignalTest, AttributesAreLimited) {
  v1::Signal s = PricingView();
  s.clear_attributes();
  for (int i = 0; i < 64; ++i) (*s.mutable_attributes())["k" + std::to_string(i)] = "v";
  EXPECT_THAT(s, Validates(RejectCode::kNone));
  (*s.mutable_attributes())["one_too_many"] = "v";
  EXPECT_THAT(s, Validates(RejectCode::kFieldTooLong));

  s = PricingView();
  (*s.mutable_attributes())["note"] = std::string(4097, 'v');
  EXPECT_THAT(s, Validates(RejectCode::kFieldTooLong));
  EXPECT_THAT(ValidateSignal(s).message, HasSubstr(R"(attributes["note"])"));

  s = PricingView();
  (*s.mutable_attributes())[std::string(257, 'k')] = "v";
  EXPECT_THAT(s, Validates(RejectCode::kFieldTooLong));
}

TEST(ValidateSignalTest, FirstProblemWins) {
  v1::Signal s;
  EXPECT_THAT(s, Validates(RejectCode::kMissingEventId));
  s.set_event_id("e");
  EXPECT_THAT(s, Validates(RejectCode::kMissingOccurredAt));
  s.mutable_occurred_at()->set_seconds(kOccurredAtSeconds);
  EXPECT_THAT(s, Validates(RejectCode::kMissingType));
  s.set_type("web.page_view");
  EXPECT_THAT(s, Validates(RejectCode::kMissingIdentity));
}

// ---------------------------------------------------------------------------
// Names

TEST(NamesTest, RejectCodeNames) {
  const std::pair<RejectCode, std::string_view> names[] = {
      {RejectCode::kNone, "NONE"},
      {RejectCode::kEmpty, "EMPTY"},
      {RejectCode::kOversize, "OVERSIZE"},
      {RejectCode::kBadJson, "BAD_JSON"},
      {RejectCode::kUnknownField, "UNKNOWN_FIELD"},
      {RejectCode::kBadFraming, "BAD_FRAMING"},
      {RejectCode::kUndecodable, "UNDECODABLE"},
      {RejectCode::kMissingEventId, "MISSING_EVENT_ID"},
      {RejectCode::kMissingOccurredAt, "MISSING_OCCURRED_AT"},
      {RejectCode::kBadTimestamp, "BAD_TIMESTAMP"},
      {RejectCode::kMissingType, "MISSING_TYPE"},
      {RejectCode::kBadType, "BAD_TYPE"},
      {RejectCode::kMissingIdentity, "MISSING_IDENTITY"},
      {RejectCode::kFieldTooLong, "FIELD_TOO_LONG"},
      {RejectCode::kUnresolvedAccount, "UNRESOLVED_ACCOUNT"},
      {RejectCode::kEventTimeAhead, "EVENT_TIME_AHEAD"},
      {RejectCode::kEventTimeLate, "EVENT_TIME_LATE"},
  };
  for (const auto& [code, name] : names) EXPECT_EQ(RejectCodeName(code), name);
}

TEST(NamesTest, SignalFormatNames) {
  EXPECT_EQ(SignalFormatName(SignalFormat::kBinary), "binary");
  EXPECT_EQ(SignalFormatName(SignalFormat::kJson), "json");
  EXPECT_EQ(SignalFormatName(SignalFormat::kSchemaRegistry), "schema_registry");
}

TEST(NamesTest, RejectDefaultsToOk) {
  EXPECT_TRUE(Reject{}.ok());
  EXPECT_FALSE((Reject{RejectCode::kUnresolvedAccount, "no account for contact"}).ok());
}

}  // namespace
}  // namespace demandcenter::ingest
