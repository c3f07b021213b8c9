// DecodeSignalJson: protobuf-JSON to demandcenter.v1.Signal in one pass.
//
// The parser reads the JSON once and writes the binary encoding of the
// message as it goes; the generated parser of Signal then reads that. This is
// the route protobuf's own JSON parser takes (JSON -> binary -> message), so
// what the binary parse does with repeated fields — the last scalar wins,
// messages and maps merge — is the same by construction, and the generated
// parser is the fastest way to fill a message. What is different from
// protobuf's route is the cost: the field tables are built once from the
// descriptors (no google.protobuf.Type per call), the parser does not
// allocate per token, and strings without escapes are never copied before the
// final parse.
//
// The rules are those of protobuf 3.21's util::JsonStringToMessage
// (util/internal/json_stream_parser.cc for the syntax: json_scanner.h;
// protostream_objectwriter.cc and proto_writer.cc for the mapping, and
// datapiece.cc for the value conversions: this file), restricted to the
// field types Signal uses (signal_schema.h). The binary encoding is written
// with wire_writer.h. tests/ingest/json_differential_test.cc checks the
// rules against protobuf itself.
#include "demandcenter/ingest/json_decoder.h"

#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "demandcenter/common/json_string.h"
#include "demandcenter/common/rfc3339.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/utf8.h"
#include "src/ingest/json_scanner.h"
#include "src/ingest/signal_schema.h"
#include "src/ingest/wire_writer.h"

namespace demandcenter::ingest {
namespace {

using json::FieldInfo;
using json::FieldKind;
using json::MessageInfo;
using json::ParseError;
using json::Scalar;
using json::Token;

// Bytes of an input value quoted in a message.
constexpr size_t kMaxQuotedBytes = 64;

// The one place this decoder is stricter than protobuf (see
// ParseMapValueObject); IsObjectMapValueReject recognises it by this text.
constexpr std::string_view kObjectMapValue =
    "an object as a map value is not supported (protobuf's parser would write "
    "invalid binary for it)";

// ---------------------------------------------------------------------------
// Messages

std::string Quoted(std::string_view value) {
  std::string out;
  AppendJsonStringForMessage(value, kMaxQuotedBytes, &out);
  return out;
}

// A scalar as a message shows it: strings quoted, numbers as written.
std::string Describe(const Scalar& v) {
  if (v.type == Scalar::kString) return Quoted(v.text);
  std::string out(v.text.substr(0, kMaxQuotedBytes));
  if (v.text.size() > kMaxQuotedBytes) out += "...";
  return out;
}

// A field name as a path element: as it is when it is a plain identifier,
// else ["quoted"].
void AppendPathName(std::string_view name, bool first, std::string* out) {
  bool plain = !name.empty() && name.size() <= kMaxQuotedBytes;
  for (char c : name) plain = plain && (json::IsKeyChar(c) && c != '$');
  if (plain) {
    if (!first) out->push_back('.');
    out->append(name);
  } else {
    out->push_back('[');
    AppendJsonStringForMessage(name, kMaxQuotedBytes, out);
    out->push_back(']');
  }
}

// ---------------------------------------------------------------------------
// Value conversions, as protobuf's DataPiece makes them

// DataPiece::StringToNumber: no leading or trailing space.
bool HasOuterSpace(std::string_view text) {
  return !text.empty() && (text.front() == ' ' || text.back() == ' ');
}

bool CaseEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// protobuf's safe_strtob.
bool SafeStrtob(std::string_view text, bool* value) {
  for (std::string_view t : {"true", "t", "yes", "y", "1"}) {
    if (CaseEqual(text, t)) {
      *value = true;
      return true;
    }
  }
  for (std::string_view f : {"false", "f", "no", "n", "0"}) {
    if (CaseEqual(text, f)) {
      *value = false;
      return true;
    }
  }
  return false;
}

// A floating-point value converts to an integer type when it is integral and
// in range (protobuf casts and compares back).
template <typename Int>
bool DoubleToInt(double d, Int* value) {
  constexpr double kLow = static_cast<double>(std::numeric_limits<Int>::min());
  constexpr double kHigh = -kLow;  // 2^31 or 2^63, exclusive
  if (!(d >= kLow && d < kHigh)) return false;
  const Int i = static_cast<Int>(d);
  if (static_cast<double>(i) != d) return false;
  *value = i;
  return true;
}

bool ToInt32(const Scalar& v, int32_t* out) {
  switch (v.type) {
    case Scalar::kString:
      return !HasOuterSpace(v.text) && json::SafeStrtoInt<int32_t>(v.text, out);
    case Scalar::kUint:
      if (v.u > static_cast<uint64_t>(INT32_MAX)) return false;
      *out = static_cast<int32_t>(v.u);
      return true;
    case Scalar::kInt:
      if (v.i < INT32_MIN || v.i > INT32_MAX) return false;
      *out = static_cast<int32_t>(v.i);
      return true;
    case Scalar::kDouble: return DoubleToInt<int32_t>(v.d, out);
    case Scalar::kBool: return false;
  }
  return false;
}

bool ToInt64(const Scalar& v, int64_t* out) {
  switch (v.type) {
    case Scalar::kString:
      return !HasOuterSpace(v.text) && json::SafeStrtoInt<int64_t>(v.text, out);
    case Scalar::kUint:
      if (v.u > static_cast<uint64_t>(INT64_MAX)) return false;
      *out = static_cast<int64_t>(v.u);
      return true;
    case Scalar::kInt: *out = v.i; return true;
    case Scalar::kDouble: return DoubleToInt<int64_t>(v.d, out);
    case Scalar::kBool: return false;
  }
  return false;
}

// `scratch` holds the NUL-terminated copy strtod needs.
bool ToDouble(const Scalar& v, std::string* scratch, double* out) {
  switch (v.type) {
    case Scalar::kString:
      if (v.text == "Infinity") {
        *out = std::numeric_limits<double>::infinity();
        return true;
      }
      if (v.text == "-Infinity") {
        *out = -std::numeric_limits<double>::infinity();
        return true;
      }
      if (v.text == "NaN") {
        *out = std::numeric_limits<double>::quiet_NaN();
        return true;
      }
      return !HasOuterSpace(v.text) && json::SafeStrtod(v.text, scratch, out) &&
             std::isfinite(*out);
    case Scalar::kUint: *out = static_cast<double>(v.u); return true;
    case Scalar::kInt: *out = static_cast<double>(v.i); return true;
    case Scalar::kDouble: *out = v.d; return true;
    case Scalar::kBool: return false;
  }
  return false;
}

bool ToEnum(const FieldInfo& field, const Scalar& v, int32_t* out) {
  if (v.type == Scalar::kBool) return false;
  if (v.type != Scalar::kString) return ToInt32(v, out);  // any number, declared or not
  for (const json::EnumValueInfo& e : field.enum_values) {
    if (e.name == v.text) {
      *out = e.number;
      return true;
    }
  }
  // A number in a string must be a declared one.
  int32_t number = 0;
  if (!ToInt32(v, &number)) return false;
  for (const json::EnumValueInfo& e : field.enum_values) {
    if (e.number == number) {
      *out = number;
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// The parser

struct PathSegment {
  std::string_view name;
  bool map_key;
};

// Buffers reused across calls on one thread.
struct Scratch {
  std::string out;  // the binary encoding
  json::ScannerBuffers scanner;
  std::string number;             // a NUL-terminated copy for strtod
  std::vector<PathSegment> path;  // where the parser is, for messages
  std::vector<std::string> map_keys;              // keys of the current map, few
  std::unordered_set<std::string> many_map_keys;  // ... or many
};

constexpr size_t kFewMapKeys = 16;

// Drives the scanner with the field tables and writes the binary encoding.
// Syntax errors are the scanner's and end the parse; field errors are
// recorded here and the parse goes on.
class Parser {
 public:
  Parser(std::string_view json, Scratch* scratch)
      : scan_(json, &scratch->scanner), s_(*scratch), path_(scratch->path) {}

  Reject Run(v1::Signal* signal);

 private:
  // A field error is recorded and the parse goes on (the value is skipped);
  // the last one is reported, as protobuf does. `name` is appended to the
  // current path.
  ABSL_ATTRIBUTE_COLD ABSL_ATTRIBUTE_NOINLINE void FieldError(
      RejectCode code, const char* at, std::string_view name, bool name_is_map_key,
      std::string detail);

  void AppendPath(std::string_view name, bool name_is_map_key, std::string* out) const {
    bool first = true;
    auto add = [&](std::string_view n, bool map_key) {
      if (map_key) {
        out->push_back('[');
        AppendJsonStringForMessage(n, kMaxQuotedBytes, out);
        out->push_back(']');
      } else {
        AppendPathName(n, first, out);
      }
      first = false;
    };
    for (const PathSegment& s : path_) add(s.name, s.map_key);
    add(name, name_is_map_key);
  }

  // Marks the field's oneof as set in *taken; a field error when another
  // member of it was set before.
  bool TakeOneof(const MessageInfo& message, const FieldInfo& field, std::string_view key,
                 const char* at, uint64_t* taken) {
    if (field.oneof < 0) return true;
    const uint64_t bit = uint64_t{1} << (field.oneof & 63);
    if ((*taken & bit) == 0) {
      *taken |= bit;
      return true;
    }
    FieldError(RejectCode::kBadJson, at, field.name, false,
               StrCat("oneof ", message.oneofs[static_cast<size_t>(field.oneof)],
                      " is already set; cannot also set ", Quoted(key)));
    return false;
  }

  void WriteScalar(const FieldInfo& field, const Scalar& v, const char* at);
  bool ParseObject(const MessageInfo& message);
  bool ParseMember(const MessageInfo& message, std::string_view key, const char* key_at,
                   uint64_t* oneofs_taken);
  bool ParseMessageField(const FieldInfo& field);
  bool InsertMapKey(std::string_view key);
  bool ParseMap(const FieldInfo& field);
  bool ParseMapEntry(const FieldInfo& field);
  bool ParseMapValueObject(const MessageInfo& entry, std::string_view key, const char* at);

  json::Scanner scan_;
  Scratch& s_;
  std::vector<PathSegment>& path_;
  size_t map_key_count_ = 0;
  size_t field_errors_ = 0;
  ParseError field_error_;
  bool object_map_value_ = false;
  ParseError object_map_value_error_;
};

void Parser::FieldError(RejectCode code, const char* at, std::string_view name,
                        bool name_is_map_key, std::string detail) {
  ++field_errors_;
  field_error_.code = code;
  field_error_.offset = scan_.OffsetOf(at);
  field_error_.head = code == RejectCode::kUnknownField ? "unknown JSON field " : "invalid JSON: ";
  AppendPath(name, name_is_map_key, &field_error_.head);
  field_error_.detail = std::move(detail);
}

// A string, number or bool for `field`: converted and written, or a field
// error.
void Parser::WriteScalar(const FieldInfo& field, const Scalar& v, const char* at) {
  std::string& out = s_.out;
  bool ok = false;
  switch (field.kind) {
    case FieldKind::kString:
      if ((ok = v.type == Scalar::kString)) wire::PutBytes(field.number, v.text, &out);
      break;
    case FieldKind::kInt32: {
      int32_t i = 0;
      if ((ok = ToInt32(v, &i))) {
        wire::PutTag(field.number, wire::kVarint, &out);
        wire::PutVarint(static_cast<uint64_t>(static_cast<int64_t>(i)), &out);
      }
      break;
    }
    case FieldKind::kInt64: {
      int64_t i = 0;
      if ((ok = ToInt64(v, &i))) {
        wire::PutTag(field.number, wire::kVarint, &out);
        wire::PutVarint(static_cast<uint64_t>(i), &out);
      }
      break;
    }
    case FieldKind::kDouble: {
      double d = 0;
      if ((ok = ToDouble(v, &s_.number, &d))) wire::PutDouble(field.number, d, &out);
      break;
    }
    case FieldKind::kBool: {
      bool b = false;
      ok = v.type == Scalar::kBool ? (b = v.b, true)
                                   : v.type == Scalar::kString && SafeStrtob(v.text, &b);
      if (ok) {
        wire::PutTag(field.number, wire::kVarint, &out);
        out.push_back(b ? '\1' : '\0');
      }
      break;
    }
    case FieldKind::kEnum: {
      int32_t e = 0;
      if ((ok = ToEnum(field, v, &e))) {
        wire::PutTag(field.number, wire::kVarint, &out);
        wire::PutVarint(static_cast<uint64_t>(static_cast<int64_t>(e)), &out);
      }
      break;
    }
    case FieldKind::kTimestamp: {
      int64_t seconds = 0;
      int32_t nanos = 0;
      if ((ok = v.type == Scalar::kString && ParseRfc3339(v.text, &seconds, &nanos))) {
        // Both parts, zero or not, as protobuf writes them: a later value
        // replaces an earlier one whole.
        wire::PutTag(field.number, wire::kLengthDelimited, &out);
        const size_t start = out.size();
        wire::PutTag(1, wire::kVarint, &out);
        wire::PutVarint(static_cast<uint64_t>(seconds), &out);
        wire::PutTag(2, wire::kVarint, &out);
        wire::PutVarint(static_cast<uint64_t>(static_cast<int64_t>(nanos)), &out);
        wire::FinishLengthDelimited(start, &out);
      }
      break;
    }
    case FieldKind::kMessage:
    case FieldKind::kStringMap:
    case FieldKind::kUnsupported:
      break;
  }
  if (!ok) {
    FieldError(RejectCode::kBadJson, at, field.name, false,
               field.kind == FieldKind::kEnum
                   ? StrCat(Describe(v), " is not a ", field.enum_name, " name or number")
                   : StrCat(Describe(v), " is not ", json::FieldKindName(field.kind)));
  }
}

// A JSON object for a message field, at its '{'.
bool Parser::ParseObject(const MessageInfo& message) {
  if (!scan_.EnterObject()) return false;
  uint64_t oneofs_taken = 0;
  for (;;) {
    // A member, or '}' (also after a trailing comma).
    bool closed = false;
    if (!scan_.BeginMember(&closed)) return false;
    if (closed) return true;
    const char* key_at = scan_.pos();
    std::string_view key;
    if (!scan_.ReadKey(&key) || !scan_.ReadColon()) return false;
    if (!ParseMember(message, key, key_at, &oneofs_taken)) return false;
    bool more = false;
    if (!scan_.ReadObjectNext(&more)) return false;
    if (!more) return true;
  }
}

bool Parser::ParseMember(const MessageInfo& message, std::string_view key, const char* key_at,
                         uint64_t* oneofs_taken) {
  const char* at = scan_.pos();
  const Token token = scan_.PeekValue();
  if (token == Token::kEnd || token == Token::kBad) return scan_.ValueExpected();
  if (key.empty()) {
    FieldError(RejectCode::kBadJson, key_at, key, false, "a field name is empty");
    return scan_.SkipValue();
  }
  const FieldInfo* field = message.Find(key);
  if (field == nullptr) {
    FieldError(RejectCode::kUnknownField, key_at, key, false, "");
    return scan_.SkipValue();
  }
  if (field->kind == FieldKind::kUnsupported) {
    FieldError(RejectCode::kBadJson, key_at, field->name, false,
               StrCat("fields of type ", field->unsupported_type,
                      " are not supported by the JSON decoder"));
    return scan_.SkipValue();
  }
  switch (token) {
    case Token::kNull:
      // Not set, whatever the field.
      scan_.SkipNull();
      return true;
    case Token::kArray:
      FieldError(RejectCode::kBadJson, at, field->name, false,
                 field->kind == FieldKind::kStringMap
                     ? "an array is not an object of strings"
                     : "the field is not repeated; an array is not allowed");
      return scan_.SkipValue();
    case Token::kObject:
      if (field->kind == FieldKind::kStringMap) return ParseMap(*field);
      if (field->kind != FieldKind::kMessage && field->kind != FieldKind::kTimestamp) {
        FieldError(RejectCode::kBadJson, at, field->name, false,
                   StrCat("an object is not ", json::FieldKindName(field->kind)));
        return scan_.SkipValue();
      }
      if (!TakeOneof(message, *field, key, at, oneofs_taken)) return scan_.SkipValue();
      return ParseMessageField(*field);
    default: {
      Scalar v;
      if (!scan_.ReadScalar(token, &v)) return false;
      if (field->kind == FieldKind::kStringMap) {
        FieldError(RejectCode::kBadJson, at, field->name, false,
                   StrCat(Describe(v), " is not an object of strings"));
        return true;
      }
      if (!TakeOneof(message, *field, key, at, oneofs_taken)) return true;
      if (field->kind == FieldKind::kMessage) {
        FieldError(RejectCode::kBadJson, at, field->name, false,
                   StrCat(Describe(v), " is not an object"));
        return true;
      }
      WriteScalar(*field, v, at);
      return true;
    }
  }
}

// A nested message (or a Timestamp as {"seconds": ..., "nanos": ...}).
bool Parser::ParseMessageField(const FieldInfo& field) {
  std::string& out = s_.out;
  wire::PutTag(field.number, wire::kLengthDelimited, &out);
  const size_t start = out.size();
  path_.push_back({field.name, false});
  if (!ParseObject(*field.message)) return false;
  path_.pop_back();
  wire::FinishLengthDelimited(start, &out);
  return true;
}

// Whether `key` is new in the current map object.
bool Parser::InsertMapKey(std::string_view key) {
  std::vector<std::string>& few = s_.map_keys;
  if (map_key_count_ < kFewMapKeys) {
    for (size_t i = 0; i < map_key_count_; ++i) {
      if (few[i] == key) return false;
    }
    if (few.size() <= map_key_count_) few.emplace_back();
    few[map_key_count_++].assign(key.data(), key.size());
    return true;
  }
  if (map_key_count_ == kFewMapKeys) {
    s_.many_map_keys.clear();
    for (size_t i = 0; i < kFewMapKeys; ++i) s_.many_map_keys.insert(few[i]);
  }
  if (!s_.many_map_keys.emplace(key).second) return false;
  ++map_key_count_;
  return true;
}

// map<string, string> as a JSON object, at its '{'. Every entry is written
// as protobuf writes it, so that the binary parse resolves repeats the same
// way (within one object a repeated key is an error; across two
// "attributes" members the later value wins).
bool Parser::ParseMap(const FieldInfo& field) {
  if (!scan_.EnterObject()) return false;
  map_key_count_ = 0;
  path_.push_back({field.name, false});
  for (;;) {
    bool closed = false;
    if (!scan_.BeginMember(&closed)) return false;
    if (closed) break;
    if (!ParseMapEntry(field)) return false;
    bool more = false;
    if (!scan_.ReadObjectNext(&more)) return false;
    if (!more) break;
  }
  path_.pop_back();
  return true;
}

// One "key": value member of a map object, at its key.
bool Parser::ParseMapEntry(const FieldInfo& field) {
  std::string_view key;
  if (!scan_.ReadKey(&key) || !scan_.ReadColon()) return false;
  const char* at = scan_.pos();
  const Token token = scan_.PeekValue();
  if (token == Token::kEnd || token == Token::kBad) return scan_.ValueExpected();
  if (!InsertMapKey(key)) {
    FieldError(RejectCode::kBadJson, at, key, true, "the key is repeated in this object");
    return scan_.SkipValue();
  }
  switch (token) {
    case Token::kString:
    case Token::kNull: {
      std::string_view value;
      if (token == Token::kNull) {
        scan_.SkipNull();  // an entry with the key alone: the value is ""
      } else if (!scan_.ReadStringValue(&value)) {
        return false;
      }
      std::string& out = s_.out;
      const size_t key_bytes = 1 + wire::VarintSize(key.size()) + key.size();
      const size_t value_bytes =
          token == Token::kNull ? 0 : 1 + wire::VarintSize(value.size()) + value.size();
      wire::PutTag(field.number, wire::kLengthDelimited, &out);
      wire::PutVarint(key_bytes + value_bytes, &out);
      wire::PutBytes(1, key, &out);
      if (token != Token::kNull) wire::PutBytes(2, value, &out);
      return true;
    }
    case Token::kObject:
      return ParseMapValueObject(*field.message, key, at);
    case Token::kArray:
      FieldError(RejectCode::kBadJson, at, key, true, "an array is not a string");
      return scan_.SkipValue();
    default: {
      Scalar v;
      if (!scan_.ReadScalar(token, &v)) return false;
      FieldError(RejectCode::kBadJson, at, key, true, StrCat(Describe(v), " is not a string"));
      return true;
    }
  }
}

// A JSON object as a map value, e.g. "attributes": {"k": {"value": "v"}}.
//
// Protobuf's writer takes the object for a message of the entry type: it
// reports unknown names in it ({"a": 1} -> unknown field) and wrong value
// types as for any message, and those are emulated here. When the object
// has no such error, protobuf writes a length-delimited tag for the string
// value without a length, followed by the object's fields: bytes that
// usually fail the final binary parse ("JSON transcoder produced invalid
// protobuf output") but sometimes parse into a different key or value.
// This decoder rejects every such value (kBadJson), reported only if the
// document has no other error: stricter than protobuf, never looser.
bool Parser::ParseMapValueObject(const MessageInfo& entry, std::string_view key,
                                 const char* at) {
  const std::string key_copy(key);  // the nested parse reuses the key buffer
  const size_t errors_before = field_errors_;
  const size_t out_size = s_.out.size();
  path_.push_back({key_copy, true});
  if (!ParseObject(entry)) return false;
  path_.pop_back();
  s_.out.resize(out_size);
  if (field_errors_ == errors_before && !object_map_value_) {
    object_map_value_ = true;
    object_map_value_error_.code = RejectCode::kBadJson;
    object_map_value_error_.offset = scan_.OffsetOf(at);
    object_map_value_error_.head = "invalid JSON: ";
    AppendPath(key_copy, true, &object_map_value_error_.head);
    object_map_value_error_.detail = kObjectMapValue;
  }
  return true;
}

Reject Parser::Run(v1::Signal* signal) {
  s_.out.clear();
  path_.clear();
  const std::string_view json = scan_.document();
  const size_t valid = ValidUtf8Prefix(json);
  if (valid != json.size()) {
    scan_.SyntaxError(json.data() + valid,
                      StrCat("invalid UTF-8 (byte ", Quoted(json.substr(valid, 1)), ")"));
    return json::MakeReject(json, scan_.error());
  }
  scan_.SkipSpace();
  const Token token = scan_.PeekValue();
  if (token != Token::kObject) {
    if (token == Token::kEnd || token == Token::kBad) {
      scan_.ValueExpected();
    } else {
      scan_.SyntaxError(scan_.pos(), "a Signal must be a JSON object");
    }
    return json::MakeReject(json, scan_.error());
  }
  if (!ParseObject(json::SignalSchema())) return json::MakeReject(json, scan_.error());
  scan_.SkipSpace();
  if (!scan_.AtEnd()) {
    scan_.SyntaxError(scan_.pos(), "Parsing terminated before end of input.");
    return json::MakeReject(json, scan_.error());
  }
  if (field_errors_ > 0) return json::MakeReject(json, field_error_);
  if (object_map_value_) return json::MakeReject(json, object_map_value_error_);
  if (s_.out.size() > static_cast<size_t>(INT_MAX) ||
      !signal->ParseFromArray(s_.out.data(), static_cast<int>(s_.out.size()))) {
    return Reject{RejectCode::kBadJson, "invalid JSON: does not form a valid Signal"};
  }
  return Reject{};
}

}  // namespace

Reject DecodeSignalJson(std::string_view json, v1::Signal* signal) {
  thread_local Scratch scratch;
  Parser parser(json, &scratch);
  Reject reject = parser.Run(signal);  // on success the parse replaced *signal
  if (!reject.ok()) signal->Clear();
  return reject;
}

bool IsObjectMapValueReject(const Reject& reject) {
  return reject.code == RejectCode::kBadJson &&
         reject.message.size() >= kObjectMapValue.size() &&
         std::string_view(reject.message).substr(reject.message.size() - kObjectMapValue.size()) ==
             kObjectMapValue;
}

}  // namespace demandcenter::ingest
