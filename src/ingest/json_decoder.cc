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
// The rules below are those of protobuf 3.21's util::JsonStringToMessage
// (util/internal/json_stream_parser.cc for the syntax,
// protostream_objectwriter.cc and proto_writer.cc for the mapping,
// datapiece.cc for the value conversions), restricted to the field types
// Signal uses. tests/ingest/json_differential_test.cc checks them against
// protobuf itself.
#include "demandcenter/ingest/json_decoder.h"

#include <locale.h>
#include <stdlib.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "demandcenter/common/strings.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/timestamp.pb.h"

namespace demandcenter::ingest {
namespace {

namespace pb = google::protobuf;

// Objects nested deeper than this are a syntax error (protobuf's
// kDefaultMaxRecursionDepth; arrays do not count).
constexpr int kMaxObjectDepth = 100;
// Bytes of an input value quoted in a message.
constexpr size_t kMaxQuotedBytes = 64;

// ---------------------------------------------------------------------------
// Field tables

enum class Kind : uint8_t {
  kString,
  kInt32,
  kInt64,
  kDouble,
  kBool,
  kEnum,
  kMessage,     // a nested message: a JSON object
  kTimestamp,   // google.protobuf.Timestamp: an RFC 3339 string or an object
  kStringMap,   // map<string, string>: a JSON object of strings
  kUnsupported  // a field type this decoder does not handle (none in Signal)
};

// What a message says about a value of `kind` in "... is not <article> X".
std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kString: return "a string";
    case Kind::kInt32: return "an int32";
    case Kind::kInt64: return "an int64";
    case Kind::kDouble: return "a double";
    case Kind::kBool: return "a bool";
    case Kind::kEnum: return "an enum name or number";
    case Kind::kMessage: return "an object";
    case Kind::kTimestamp: return "an RFC 3339 timestamp";
    case Kind::kStringMap: return "an object of strings";
    case Kind::kUnsupported: break;
  }
  return "a supported value";
}

struct MessageInfo;

struct EnumValueInfo {
  std::string_view name;
  int32_t number;
};

struct FieldInfo {
  Kind kind = Kind::kUnsupported;
  uint32_t number = 0;
  // Index of the containing oneof in MessageInfo::oneofs, or -1.
  int oneof = -1;
  // The proto name, for field paths in messages.
  std::string_view name;
  // kMessage, kTimestamp (object form) and kStringMap (the entry type).
  const MessageInfo* message = nullptr;
  // kEnum: the declared values.
  std::vector<EnumValueInfo> enum_values;
  std::string_view enum_name;
  // kUnsupported: why.
  std::string unsupported_type;
};

struct MessageInfo {
  std::vector<FieldInfo> fields;
  std::vector<std::string_view> oneofs;
  // Open addressing, a power of two in size: JSON names first, then proto
  // names not already present, the order protobuf's TypeInfo::FindField
  // looks them up in.
  struct Slot {
    std::string_view name;
    int index = -1;
  };
  std::vector<Slot> slots;
  size_t mask = 0;

  static size_t Hash(std::string_view name) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }

  void AddName(std::string_view name, int index) {
    for (size_t i = Hash(name) & mask;; i = (i + 1) & mask) {
      if (slots[i].index < 0) {
        slots[i] = Slot{name, index};
        return;
      }
      if (slots[i].name == name) return;  // the first mapping wins
    }
  }

  const FieldInfo* Find(std::string_view name) const {
    for (size_t i = Hash(name) & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots[i];
      if (slot.index < 0) return nullptr;
      if (slot.name == name) return &fields[static_cast<size_t>(slot.index)];
    }
  }
};

// The tables of every message reachable from Signal, built once.
class Schema {
 public:
  Schema() { root_ = Build(v1::Signal::descriptor()); }
  const MessageInfo& root() const { return *root_; }

 private:
  const MessageInfo* Build(const pb::Descriptor* descriptor) {
    if (auto it = built_.find(descriptor); it != built_.end()) return it->second;
    MessageInfo& info = storage_.emplace_back();
    built_.emplace(descriptor, &info);

    for (int i = 0; i < descriptor->oneof_decl_count(); ++i) {
      info.oneofs.push_back(descriptor->oneof_decl(i)->name());
    }
    const int n = descriptor->field_count();
    info.fields.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      Describe(descriptor->field(i), &info.fields[static_cast<size_t>(i)]);
    }
    size_t size = 8;
    while (size < 4 * static_cast<size_t>(n)) size *= 2;
    info.slots.assign(size, MessageInfo::Slot{});
    info.mask = size - 1;
    for (int i = 0; i < n; ++i) info.AddName(descriptor->field(i)->json_name(), i);
    for (int i = 0; i < n; ++i) info.AddName(descriptor->field(i)->name(), i);
    return &info;
  }

  void Describe(const pb::FieldDescriptor* field, FieldInfo* out) {
    using FD = pb::FieldDescriptor;
    out->number = static_cast<uint32_t>(field->number());
    out->name = field->name();
    if (const pb::OneofDescriptor* oneof = field->containing_oneof(); oneof != nullptr) {
      out->oneof = oneof->index();
    }
    out->unsupported_type = field->type_name();
    if (field->file()->syntax() != pb::FileDescriptor::SYNTAX_PROTO3) {
      out->unsupported_type += " (not proto3)";
      return;
    }
    if (field->is_map()) {
      const pb::Descriptor* entry = field->message_type();
      if (entry->map_key()->type() == FD::TYPE_STRING &&
          entry->map_value()->type() == FD::TYPE_STRING) {
        out->kind = Kind::kStringMap;
        out->message = Build(entry);
      } else {
        out->unsupported_type = "map other than map<string, string>";
      }
      return;
    }
    if (field->is_repeated()) {
      out->unsupported_type = StrCat("repeated ", field->type_name());
      return;
    }
    switch (field->type()) {
      case FD::TYPE_STRING: out->kind = Kind::kString; break;
      case FD::TYPE_INT32: out->kind = Kind::kInt32; break;
      case FD::TYPE_INT64: out->kind = Kind::kInt64; break;
      case FD::TYPE_DOUBLE: out->kind = Kind::kDouble; break;
      case FD::TYPE_BOOL: out->kind = Kind::kBool; break;
      case FD::TYPE_ENUM: {
        out->kind = Kind::kEnum;
        const pb::EnumDescriptor* e = field->enum_type();
        out->enum_name = e->name();
        for (int i = 0; i < e->value_count(); ++i) {
          out->enum_values.push_back({e->value(i)->name(), e->value(i)->number()});
        }
        break;
      }
      case FD::TYPE_MESSAGE: {
        const pb::Descriptor* type = field->message_type();
        if (type == pb::Timestamp::descriptor()) {
          out->kind = Kind::kTimestamp;
          out->message = Build(type);
        } else if (type->file()->package() == "google.protobuf") {
          // Well-known types (Duration, Struct, wrappers, Any...) have JSON
          // forms of their own.
          out->unsupported_type = type->full_name();
        } else {
          out->kind = Kind::kMessage;
          out->message = Build(type);
        }
        break;
      }
      default:
        break;  // kUnsupported
    }
  }

  std::deque<MessageInfo> storage_;
  std::unordered_map<const pb::Descriptor*, const MessageInfo*> built_;
  const MessageInfo* root_ = nullptr;
};

const Schema& GetSchema() {
  static const Schema* const schema = new Schema();
  return *schema;
}

// ---------------------------------------------------------------------------
// Character classes and small conversions

// ascii_isspace: the whitespace protobuf's parser skips.
inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// First character of an unquoted key: a letter, '_' or '$'.
inline bool IsKeyStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
inline bool IsKeyChar(char c) { return IsKeyStart(c) || IsDigit(c); }

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the longest prefix of `s` that is valid UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), the same set as
// protobuf's UTF8SpnStructurallyValid.
size_t ValidUtf8Prefix(const char* s, size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(s);
  size_t i = 0;
  while (i < n) {
    // Eight ASCII bytes at a time.
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ull) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return i;
    }
    if (i + len > n || p[i + 1] < lo || p[i + 1] > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) return i;
    }
    i += len;
  }
  return n;
}

void AppendUtf8(uint32_t code, std::string* out) {
  if (code <= 0x7f) {
    out->push_back(static_cast<char>(code));
  } else if (code <= 0x7ff) {
    out->push_back(static_cast<char>(0xc0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else if (code <= 0xffff) {
    out->push_back(static_cast<char>(0xe0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (code >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
  }
}

// strtod in the "C" locale, whatever the process locale (protobuf's
// NoLocaleStrtod). `text` must be NUL-terminated.
double StrtodC(const char* text, char** end) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return strtod_l(text, end, c_locale);
}

// protobuf's safe_strtod on `text` up to its first NUL byte (the function
// takes a C string): strtod, trailing whitespace allowed, everything else
// consumed. Range errors are not errors (they give +-inf or 0).
bool SafeStrtod(std::string_view text, std::string* scratch, double* value) {
  scratch->assign(text.data(), text.size());
  const char* str = scratch->c_str();
  char* end = nullptr;
  *value = StrtodC(str, &end);
  if (end != str) {
    while (IsSpace(*end)) ++end;
  }
  return *str != '\0' && *end == '\0';
}

// protobuf's safe_strto64 / safe_strto32 / safe_strtou64 (after
// DataPiece::StringToNumber has refused leading and trailing spaces): an
// optional sign, then decimal digits only, within range.
template <typename Int>
bool SafeStrtoInt(std::string_view text, Int* value) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    negative = text[i] == '-';
    ++i;
  }
  if (i >= text.size()) return false;
  if (negative && !std::numeric_limits<Int>::is_signed) return false;
  using U = std::make_unsigned_t<Int>;
  const U limit = negative ? static_cast<U>(std::numeric_limits<Int>::max()) + 1
                           : static_cast<U>(std::numeric_limits<Int>::max());
  U acc = 0;
  for (; i < text.size(); ++i) {
    if (!IsDigit(text[i])) return false;
    const U digit = static_cast<U>(text[i] - '0');
    if (acc > (limit - digit) / 10) return false;
    acc = acc * 10 + digit;
  }
  *value = negative ? static_cast<Int>(U{0} - acc) : static_cast<Int>(acc);
  return true;
}

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

// ---------------------------------------------------------------------------
// RFC 3339, exactly as protobuf's internal::ParseTime reads it: up to 4 digits
// of year (1..9999), up to 2 of month, day, hour, minute and second (so
// "2026-3-1T9:30:0Z" passes), an optional fraction of any length of which
// the first 9 digits count, then "Z" or an offset "+HH:MM" / "-HH:MM" (also
// with single digits). The string ends at its first NUL byte.

class TimeReader {
 public:
  explicit TimeReader(std::string_view text) : text_(text.substr(0, text.find('\0'))) {}

  bool Parse(int64_t* seconds, int32_t* nanos) {
    int year, month, day, hour, minute, second;
    if (!Int(4, 1, 9999, &year) || !Expect('-') || !Int(2, 1, 12, &month) || !Expect('-') ||
        !Int(2, 1, 31, &day) || !Expect('T') || !Int(2, 0, 23, &hour) || !Expect(':') ||
        !Int(2, 0, 59, &minute) || !Expect(':') || !Int(2, 0, 59, &second)) {
      return false;
    }
    static constexpr int kDaysInMonth[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = year % 400 == 0 || (year % 4 == 0 && year % 100 != 0);
    if (day > kDaysInMonth[month] + (month == 2 && leap ? 1 : 0)) return false;
    *seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    *nanos = 0;
    if (Peek() == '.') {
      ++pos_;
      if (!IsDigit(Peek())) return false;
      int32_t value = 0;
      int digits = 0;
      while (IsDigit(Peek())) {
        if (digits < 9) value = value * 10 + (Peek() - '0');
        ++digits;
        ++pos_;
      }
      for (; digits < 9; ++digits) value *= 10;
      *nanos = value;
    }
    const char zone = Peek();
    ++pos_;
    if (zone == '+' || zone == '-') {
      int offset_hours, offset_minutes;
      if (!Int(2, 0, 23, &offset_hours) || !Expect(':') || !Int(2, 0, 59, &offset_minutes)) {
        return false;
      }
      const int64_t offset = (offset_hours * 60 + offset_minutes) * 60;
      *seconds += zone == '+' ? -offset : offset;
    } else if (zone != 'Z') {
      return false;
    }
    return pos_ == text_.size();
  }

 private:
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  bool Expect(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }

  // At least one and at most `width` digits, within [min, max].
  bool Int(int width, int min, int max, int* value) {
    if (!IsDigit(Peek())) return false;
    int v = 0;
    for (int i = 0; i < width && IsDigit(Peek()); ++i, ++pos_) v = v * 10 + (Peek() - '0');
    if (v < min || v > max) return false;
    *value = v;
    return true;
  }

  // Days from 1970-01-01 to the given proleptic Gregorian date.
  static int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// The binary encoding

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

inline void PutVarint(uint64_t v, std::string* out) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline void PutTag(uint32_t number, WireType type, std::string* out) {
  PutVarint((static_cast<uint64_t>(number) << 3) | type, out);
}

inline void PutBytes(uint32_t number, std::string_view bytes, std::string* out) {
  PutTag(number, kLengthDelimited, out);
  PutVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

// Inserts the length of everything written since `start` in front of it.
void FinishLengthDelimited(size_t start, std::string* out) {
  const size_t length = out->size() - start;
  char buf[10];
  size_t n = 0;
  uint64_t v = length;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->insert(start, buf, n);
}

// ---------------------------------------------------------------------------
// Messages

// `value` in double quotes: printable ASCII kept, '"' and '\' escaped,
// everything else as \xNN, at most kMaxQuotedBytes of it then "...".
void AppendQuoted(std::string_view value, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  const size_t n = value.size() < kMaxQuotedBytes ? value.size() : kMaxQuotedBytes;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      out->push_back(static_cast<char>(c));
    } else {
      out->append("\\x");
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
    }
  }
  out->push_back('"');
  if (n < value.size()) out->append("...");
}

// A field name as a path element: as it is when it is a plain identifier,
// else ["quoted"].
void AppendPathName(std::string_view name, bool first, std::string* out) {
  bool plain = !name.empty() && name.size() <= kMaxQuotedBytes;
  for (char c : name) plain = plain && (IsKeyChar(c) && c != '$');
  if (plain) {
    if (!first) out->push_back('.');
    out->append(name);
  } else {
    out->push_back('[');
    AppendQuoted(name, out);
    out->push_back(']');
  }
}

// ---------------------------------------------------------------------------
// The parser

// A scalar JSON value, as protobuf's DataPiece holds it.
struct Scalar {
  enum Type : uint8_t { kString, kUint, kInt, kDouble, kBool } type = kString;
  std::string_view text;  // kString: the decoded string; numbers: the token
  uint64_t u = 0;
  int64_t i = 0;
  double d = 0;
  bool b = false;
};

struct PathSegment {
  std::string_view name;
  bool map_key;
};

// Buffers reused across calls on one thread.
struct Scratch {
  std::string out;        // the binary encoding
  std::string key;        // an object key with escapes
  std::string value;      // a string value with escapes
  std::string number;     // a NUL-terminated copy for strtod
  std::vector<char> skip_stack;
  std::vector<PathSegment> path;  // where the parser is, for messages
  std::vector<std::string> map_keys;           // keys of the current map, few
  std::unordered_set<std::string> many_map_keys;  // ... or many
};

constexpr size_t kFewMapKeys = 16;

// The one place this decoder is stricter than protobuf (see
// ParseMapValueObject); IsObjectMapValueReject recognises it by this text.
constexpr std::string_view kObjectMapValue =
    "an object as a map value is not supported (protobuf's parser would write "
    "invalid binary for it)";

class Parser {
 public:
  Parser(std::string_view json, Scratch* scratch)
      : begin_(json.data()),
        p_(json.data()),
        end_(json.data() + json.size()),
        s_(*scratch),
        path_(scratch->path) {}

  Reject Run(v1::Signal* signal);

 private:
  enum class Token : uint8_t {
    kObject,
    kArray,
    kString,
    kNumber,
    kTrue,
    kFalse,
    kNull,
    kEnd,  // no more input
    kBad,  // not the start of a value
  };

  // --- errors ---------------------------------------------------------------

  // A syntax error ends the parse; it wins over any field error.
  bool SyntaxError(const char* at, std::string_view what) {
    error_.code = RejectCode::kBadJson;
    error_.offset = static_cast<size_t>(at - begin_);
    error_.head = "invalid JSON";
    error_.detail.assign(what.data(), what.size());
    return false;
  }
  // At p_; "Unexpected end of string. " first when the input ended.
  bool SyntaxErrorHere(std::string_view what) {
    if (p_ == end_) return SyntaxError(p_, StrCat("Unexpected end of string. ", what));
    return SyntaxError(p_, what);
  }

  // A field error is recorded and the parse goes on (the value is skipped);
  // the last one is reported, as protobuf does. `name` is appended to the
  // current path.
  void FieldError(RejectCode code, const char* at, std::string_view name, bool name_is_map_key,
                  std::string detail) {
    ++field_errors_;
    error_.code = code;
    error_.offset = static_cast<size_t>(at - begin_);
    error_.head = code == RejectCode::kUnknownField ? "unknown JSON field " : "invalid JSON: ";
    AppendPath(name, name_is_map_key, &error_.head);
    error_.detail = std::move(detail);
  }

  void AppendPath(std::string_view name, bool name_is_map_key, std::string* out) const {
    bool first = true;
    auto add = [&](std::string_view n, bool map_key) {
      if (map_key) {
        out->push_back('[');
        AppendQuoted(n, out);
        out->push_back(']');
      } else {
        AppendPathName(n, first, out);
      }
      first = false;
    };
    for (const PathSegment& s : path_) add(s.name, s.map_key);
    add(name, name_is_map_key);
  }

  Reject MakeReject() const {
    // 1-based line and column, in bytes.
    size_t line = 1, line_start = 0;
    for (size_t i = 0; i < error_.offset; ++i) {
      if (begin_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    std::string message = StrCat(error_.head, " at line ", line, ", column ",
                                 error_.offset - line_start + 1);
    if (!error_.detail.empty()) message += StrCat(": ", error_.detail);
    return Reject{error_.code, std::move(message)};
  }

  // --- tokens ---------------------------------------------------------------

  void SkipSpace() {
    while (p_ < end_ && IsSpace(*p_)) ++p_;
  }

  bool HasPrefix(std::string_view word) const {
    return static_cast<size_t>(end_ - p_) >= word.size() &&
           std::memcmp(p_, word.data(), word.size()) == 0;
  }

  // The kind of value starting at p_ (whitespace skipped), in the order
  // protobuf's GetNextTokenType tests them.
  Token PeekValue() const {
    if (p_ == end_) return Token::kEnd;
    switch (*p_) {
      case '"':
      case '\'':
        return Token::kString;
      case '-':
      case '0': case '1': case '2': case '3': case '4':
      case '5': case '6': case '7': case '8': case '9':
        return Token::kNumber;
      case 't': return HasPrefix("true") ? Token::kTrue : Token::kBad;
      case 'f': return HasPrefix("false") ? Token::kFalse : Token::kBad;
      case 'n': return HasPrefix("null") ? Token::kNull : Token::kBad;
      case '{': return Token::kObject;
      case '[': return Token::kArray;
      default: return Token::kBad;
    }
  }

  bool ValueExpected() { return SyntaxErrorHere("Expected a value."); }

  bool EnterObject() {
    if (++depth_ > kMaxObjectDepth) {
      return SyntaxError(p_, StrCat("Message too deep: more than ", kMaxObjectDepth,
                                    " nested objects."));
    }
    ++p_;  // '{'
    return true;
  }

  // A \uXXXX escape at p_ (and its low surrogate), appended to *out unless
  // null.
  bool ReadUnicodeEscape(std::string* out) {
    if (end_ - p_ < 6) return SyntaxError(p_, "Illegal hex string.");
    uint32_t code = 0;
    for (int i = 2; i < 6; ++i) {
      const int h = HexValue(p_[i]);
      if (h < 0) return SyntaxError(p_, "Invalid escape sequence.");
      code = (code << 4) | static_cast<uint32_t>(h);
    }
    if (code >= 0xd800 && code <= 0xdbff) {
      if (end_ - p_ < 12 || p_[6] != '\\' || p_[7] != 'u') {
        return SyntaxError(p_, "Missing low surrogate.");
      }
      uint32_t low = 0;
      for (int i = 8; i < 12; ++i) {
        const int h = HexValue(p_[i]);
        if (h < 0) return SyntaxError(p_, "Invalid escape sequence.");
        low = (low << 4) | static_cast<uint32_t>(h);
      }
      if (low < 0xdc00 || low > 0xdfff) return SyntaxError(p_, "Invalid low surrogate.");
      code = (((code & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
      p_ += 6;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return SyntaxError(p_, "Invalid unicode code point.");
    }
    if (out != nullptr) AppendUtf8(code, out);
    p_ += 6;
    return true;
  }

  // Advances p_ to the first `quote` or backslash, or to the end.
  void ScanStringRun(char quote) {
    const uint64_t quotes = 0x0101010101010101ull * static_cast<unsigned char>(quote);
    const uint64_t backslashes = 0x0101010101010101ull * static_cast<unsigned char>('\\');
    while (end_ - p_ >= 8) {
      uint64_t word;
      std::memcpy(&word, p_, 8);
      const uint64_t a = word ^ quotes, b = word ^ backslashes;
      // A zero byte in a or b: the byte is a quote or a backslash.
      const uint64_t hit = ((a - 0x0101010101010101ull) & ~a) | ((b - 0x0101010101010101ull) & ~b);
      if ((hit & 0x8080808080808080ull) != 0) break;
      p_ += 8;
    }
    while (p_ < end_ && *p_ != quote && *p_ != '\\') ++p_;
  }

  // A string at p_ (the quote: '"' or '\''). With `buf`, *out is the decoded
  // string: a view of the input when it has no escapes, else of *buf.
  // Without, the string is only checked. Any character may follow a
  // backslash (\b \f \n \r \t \v \uXXXX are translated, others stand for
  // themselves), and control characters need no escape.
  bool ReadString(std::string* buf, std::string_view* out) {
    const char quote = *p_++;
    const char* run = p_;
    ScanStringRun(quote);
    if (p_ < end_ && *p_ == quote) {
      if (out != nullptr) *out = std::string_view(run, static_cast<size_t>(p_ - run));
      ++p_;
      return true;
    }
    if (buf != nullptr) buf->assign(run, static_cast<size_t>(p_ - run));
    for (;;) {
      if (p_ == end_) return SyntaxError(p_, "Closing quote expected in string.");
      if (*p_ == quote) {
        ++p_;
        if (out != nullptr) *out = *buf;
        return true;
      }
      // A backslash.
      if (end_ - p_ == 1) return SyntaxError(p_, "Closing quote expected in string.");
      const char e = p_[1];
      if (e == 'u') {
        if (!ReadUnicodeEscape(buf)) return false;
      } else {
        if (buf != nullptr) {
          char c = e;
          switch (e) {
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'v': c = '\v'; break;
            default: break;
          }
          buf->push_back(c);
        }
        p_ += 2;
      }
      run = p_;
      ScanStringRun(quote);
      if (buf != nullptr) buf->append(run, static_cast<size_t>(p_ - run));
    }
  }

  // An object key at p_: a string, or an unquoted identifier other than
  // true, false and null.
  bool ReadKey(std::string_view* key) {
    const char c = *p_;
    if (c == '"' || c == '\'') return ReadString(&s_.key, key);
    if (IsKeyStart(c)) {
      const char* start = p_;
      while (p_ < end_ && IsKeyChar(*p_)) ++p_;
      *key = std::string_view(start, static_cast<size_t>(p_ - start));
      if (*key == "true" || *key == "false" || *key == "null") {
        return SyntaxError(start, "Expected an object key or }.");
      }
      return true;
    }
    return SyntaxError(p_, "Expected an object key or }.");
  }

  // After a key: whitespace, ':', whitespace.
  bool ReadColon() {
    SkipSpace();
    if (p_ == end_ || *p_ != ':') return SyntaxErrorHere("Expected : between key:value pair.");
    ++p_;
    SkipSpace();
    return true;
  }

  // After a member: ',' (then *more) or '}' (then !*more).
  bool ReadObjectNext(bool* more) {
    SkipSpace();
    if (p_ < end_ && *p_ == ',') {
      ++p_;
      *more = true;
      return true;
    }
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      --depth_;
      *more = false;
      return true;
    }
    return SyntaxErrorHere("Expected , or } after key:value pair.");
  }

  // A number at p_ ('-' or a digit), as protobuf's ParseNumberHelper reads
  // it: the run of [0-9.eE+-x]; with '.', 'e' or 'E' a double (strtod, which
  // also reads hex like 0x1e); else an unsigned or (with '-') signed 64-bit
  // integer, or a double when out of range. Leading zeros are refused.
  bool ReadNumber(Scalar* v) {
    const char* start = p_;
    bool floating = false;
    while (p_ < end_) {
      const char c = *p_;
      if (IsDigit(c) || c == '+' || c == '-' || c == 'x') {
        ++p_;
      } else if (c == '.' || c == 'e' || c == 'E') {
        floating = true;
        ++p_;
      } else {
        break;
      }
    }
    const std::string_view t(start, static_cast<size_t>(p_ - start));
    v->text = t;
    if (!floating) {
      const bool negative = t[0] == '-';
      const bool leading_zero =
          negative ? t.size() >= 3 && t[1] == '0' : t.size() >= 2 && t[0] == '0';
      if (leading_zero) {
        return SyntaxError(start, "Octal/hex numbers are not valid JSON values.");
      }
      if (!negative && SafeStrtoInt<uint64_t>(t, &v->u)) {
        v->type = Scalar::kUint;
        return true;
      }
      if (negative && SafeStrtoInt<int64_t>(t, &v->i)) {
        v->type = Scalar::kInt;
        return true;
      }
    }
    if (!SafeStrtod(t, &s_.number, &v->d)) return SyntaxError(start, "Unable to parse number.");
    if (!std::isfinite(v->d)) return SyntaxError(start, "Number exceeds the range of double.");
    v->type = Scalar::kDouble;
    return true;
  }

  // A string, number, true or false at p_ (`token` from PeekValue).
  bool ReadScalar(Token token, Scalar* v) {
    switch (token) {
      case Token::kString:
        v->type = Scalar::kString;
        return ReadString(&s_.value, &v->text);
      case Token::kNumber:
        return ReadNumber(v);
      case Token::kTrue:
      case Token::kFalse:
        v->type = Scalar::kBool;
        v->b = token == Token::kTrue;
        v->text = v->b ? "true" : "false";
        p_ += v->b ? 4 : 5;
        return true;
      default:
        return ValueExpected();
    }
  }

  // Checks the syntax of the value at p_ and discards it (an unknown field,
  // a value of the wrong type...). Iterative: arrays may nest without limit,
  // as in protobuf's parser; objects count towards kMaxObjectDepth.
  bool SkipValue() {
    enum class State { kValue, kMember, kObjectNext, kElement, kArrayNext };
    std::vector<char>& stack = s_.skip_stack;
    const size_t base = stack.size();
    State state = State::kValue;
    for (;;) {
      SkipSpace();
      switch (state) {
        case State::kValue: {
          const Token token = PeekValue();
          if (token == Token::kObject) {
            if (!EnterObject()) return false;
            stack.push_back('{');
            state = State::kMember;
            continue;
          }
          if (token == Token::kArray) {
            ++p_;
            stack.push_back('[');
            state = State::kElement;
            continue;
          }
          if (token == Token::kString) {
            if (!ReadString(nullptr, nullptr)) return false;
          } else if (token == Token::kNumber) {
            Scalar v;
            if (!ReadNumber(&v)) return false;
          } else if (token == Token::kTrue) {
            p_ += 4;
          } else if (token == Token::kFalse) {
            p_ += 5;
          } else if (token == Token::kNull) {
            p_ += 4;
          } else {
            return ValueExpected();
          }
          break;
        }
        case State::kMember: {
          if (p_ < end_ && *p_ == '}') {
            ++p_;
            --depth_;
            stack.pop_back();
            break;
          }
          if (p_ == end_) return SyntaxErrorHere("Expected an object key or }.");
          if (*p_ == '"' || *p_ == '\'') {
            if (!ReadString(nullptr, nullptr)) return false;
          } else {
            std::string_view key;
            if (!ReadKey(&key)) return false;
          }
          if (!ReadColon()) return false;
          state = State::kValue;
          continue;
        }
        case State::kObjectNext: {
          bool more = false;
          if (!ReadObjectNext(&more)) return false;
          if (more) {
            state = State::kMember;
            continue;
          }
          stack.pop_back();
          break;
        }
        case State::kElement: {
          if (p_ < end_ && *p_ == ']') {
            ++p_;
            stack.pop_back();
            break;
          }
          if (p_ == end_) return SyntaxErrorHere("Expected a value or ] within an array.");
          state = State::kValue;
          continue;
        }
        case State::kArrayNext: {
          if (p_ < end_ && *p_ == ',') {
            ++p_;
            state = State::kElement;
            continue;
          }
          if (p_ < end_ && *p_ == ']') {
            ++p_;
            stack.pop_back();
            break;
          }
          return SyntaxErrorHere("Expected , or ] after array value.");
        }
      }
      // A value is complete.
      if (stack.size() == base) return true;
      state = stack.back() == '{' ? State::kObjectNext : State::kArrayNext;
    }
  }

  // --- typed values ---------------------------------------------------------

  bool TakeOneof(const MessageInfo& message, const FieldInfo& field, std::string_view key,
                 const char* at, uint64_t* taken) {
    if (field.oneof < 0) return true;
    const uint64_t bit = uint64_t{1} << (field.oneof & 63);
    if ((*taken & bit) != 0) {
      FieldError(RejectCode::kBadJson, at, field.name, false,
                 StrCat("oneof ", message.oneofs[static_cast<size_t>(field.oneof)],
                        " is already set; cannot also set ", QuotedString(key)));
      return false;
    }
    *taken |= bit;
    return true;
  }

  static std::string QuotedString(std::string_view s) {
    std::string out;
    AppendQuoted(s, &out);
    return out;
  }

  static std::string Describe(const Scalar& v) {
    if (v.type == Scalar::kString) return QuotedString(v.text);
    std::string out(v.text.substr(0, kMaxQuotedBytes));
    if (v.text.size() > kMaxQuotedBytes) out += "...";
    return out;
  }

  bool ToInt32(const Scalar& v, int32_t* out) const {
    switch (v.type) {
      case Scalar::kString: return !HasOuterSpace(v.text) && SafeStrtoInt<int32_t>(v.text, out);
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

  bool ToInt64(const Scalar& v, int64_t* out) const {
    switch (v.type) {
      case Scalar::kString: return !HasOuterSpace(v.text) && SafeStrtoInt<int64_t>(v.text, out);
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

  bool ToDouble(const Scalar& v, double* out) {
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
        return !HasOuterSpace(v.text) && SafeStrtod(v.text, &s_.number, out) && std::isfinite(*out);
      case Scalar::kUint: *out = static_cast<double>(v.u); return true;
      case Scalar::kInt: *out = static_cast<double>(v.i); return true;
      case Scalar::kDouble: *out = v.d; return true;
      case Scalar::kBool: return false;
    }
    return false;
  }

  bool ToEnum(const FieldInfo& field, const Scalar& v, int32_t* out) const {
    if (v.type == Scalar::kBool) return false;
    if (v.type != Scalar::kString) return ToInt32(v, out);  // any number, declared or not
    for (const EnumValueInfo& e : field.enum_values) {
      if (e.name == v.text) {
        *out = e.number;
        return true;
      }
    }
    // A number in a string must be a declared one.
    int32_t number = 0;
    if (!ToInt32(v, &number)) return false;
    for (const EnumValueInfo& e : field.enum_values) {
      if (e.number == number) {
        *out = number;
        return true;
      }
    }
    return false;
  }

  // A string, number or bool for `field`: converted and written, or a field
  // error.
  void WriteScalar(const FieldInfo& field, const Scalar& v, const char* at) {
    std::string& out = s_.out;
    bool ok = false;
    switch (field.kind) {
      case Kind::kString:
        if ((ok = v.type == Scalar::kString)) PutBytes(field.number, v.text, &out);
        break;
      case Kind::kInt32: {
        int32_t i = 0;
        if ((ok = ToInt32(v, &i))) {
          PutTag(field.number, kVarint, &out);
          PutVarint(static_cast<uint64_t>(static_cast<int64_t>(i)), &out);
        }
        break;
      }
      case Kind::kInt64: {
        int64_t i = 0;
        if ((ok = ToInt64(v, &i))) {
          PutTag(field.number, kVarint, &out);
          PutVarint(static_cast<uint64_t>(i), &out);
        }
        break;
      }
      case Kind::kDouble: {
        double d = 0;
        if ((ok = ToDouble(v, &d))) {
          uint64_t bits;
          std::memcpy(&bits, &d, sizeof bits);
          PutTag(field.number, kFixed64, &out);
          char le[8];
          for (int k = 0; k < 8; ++k) le[k] = static_cast<char>(bits >> (8 * k));
          out.append(le, 8);
        }
        break;
      }
      case Kind::kBool: {
        bool b = false;
        ok = v.type == Scalar::kBool ? (b = v.b, true)
                                     : v.type == Scalar::kString && SafeStrtob(v.text, &b);
        if (ok) {
          PutTag(field.number, kVarint, &out);
          out.push_back(b ? '\1' : '\0');
        }
        break;
      }
      case Kind::kEnum: {
        int32_t e = 0;
        if ((ok = ToEnum(field, v, &e))) {
          PutTag(field.number, kVarint, &out);
          PutVarint(static_cast<uint64_t>(static_cast<int64_t>(e)), &out);
        }
        break;
      }
      case Kind::kTimestamp: {
        int64_t seconds = 0;
        int32_t nanos = 0;
        if ((ok = v.type == Scalar::kString && TimeReader(v.text).Parse(&seconds, &nanos))) {
          // Both parts, zero or not, as protobuf writes them: a later value
          // replaces an earlier one whole.
          PutTag(field.number, kLengthDelimited, &out);
          const size_t start = out.size();
          PutTag(1, kVarint, &out);
          PutVarint(static_cast<uint64_t>(seconds), &out);
          PutTag(2, kVarint, &out);
          PutVarint(static_cast<uint64_t>(static_cast<int64_t>(nanos)), &out);
          FinishLengthDelimited(start, &out);
        }
        break;
      }
      case Kind::kMessage:
      case Kind::kStringMap:
      case Kind::kUnsupported:
        break;
    }
    if (!ok) {
      FieldError(RejectCode::kBadJson, at, field.name, false,
                 field.kind == Kind::kEnum
                     ? StrCat(Describe(v), " is not a ", field.enum_name, " name or number")
                     : StrCat(Describe(v), " is not ", KindName(field.kind)));
    }
  }

  // A JSON object for a message field; p_ at '{'.
  bool ParseObject(const MessageInfo& message) {
    if (!EnterObject()) return false;
    uint64_t oneofs_taken = 0;
    for (;;) {
      // A member, or '}' (also after a trailing comma).
      SkipSpace();
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        --depth_;
        return true;
      }
      if (p_ == end_) return SyntaxErrorHere("Expected an object key or }.");
      const char* key_at = p_;
      std::string_view key;
      if (!ReadKey(&key) || !ReadColon()) return false;
      if (!ParseMember(message, key, key_at, &oneofs_taken)) return false;
      bool more = false;
      if (!ReadObjectNext(&more)) return false;
      if (!more) return true;
    }
  }

  bool ParseMember(const MessageInfo& message, std::string_view key, const char* key_at,
                   uint64_t* oneofs_taken) {
    const char* at = p_;
    const Token token = PeekValue();
    if (token == Token::kEnd || token == Token::kBad) return ValueExpected();
    if (key.empty()) {
      FieldError(RejectCode::kBadJson, key_at, key, false, "a field name is empty");
      return SkipValue();
    }
    const FieldInfo* field = message.Find(key);
    if (field == nullptr) {
      FieldError(RejectCode::kUnknownField, key_at, key, false, "");
      return SkipValue();
    }
    if (field->kind == Kind::kUnsupported) {
      FieldError(RejectCode::kBadJson, key_at, field->name, false,
                 StrCat("fields of type ", field->unsupported_type,
                        " are not supported by the JSON decoder"));
      return SkipValue();
    }
    switch (token) {
      case Token::kNull:
        // Not set, whatever the field.
        p_ += 4;
        return true;
      case Token::kArray:
        FieldError(RejectCode::kBadJson, at, field->name, false,
                   field->kind == Kind::kStringMap
                       ? "an array is not an object of strings"
                       : "the field is not repeated; an array is not allowed");
        return SkipValue();
      case Token::kObject:
        if (field->kind == Kind::kStringMap) return ParseMap(*field);
        if (field->kind != Kind::kMessage && field->kind != Kind::kTimestamp) {
          FieldError(RejectCode::kBadJson, at, field->name, false,
                     StrCat("an object is not ", KindName(field->kind)));
          return SkipValue();
        }
        if (!TakeOneof(message, *field, key, at, oneofs_taken)) return SkipValue();
        return ParseMessageField(*field);
      default: {
        Scalar v;
        if (!ReadScalar(token, &v)) return false;
        if (field->kind == Kind::kStringMap) {
          FieldError(RejectCode::kBadJson, at, field->name, false,
                     StrCat(Describe(v), " is not an object of strings"));
          return true;
        }
        if (!TakeOneof(message, *field, key, at, oneofs_taken)) return true;
        if (field->kind == Kind::kMessage) {
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
  bool ParseMessageField(const FieldInfo& field) {
    std::string& out = s_.out;
    PutTag(field.number, kLengthDelimited, &out);
    const size_t start = out.size();
    path_.push_back({field.name, false});
    if (!ParseObject(*field.message)) return false;
    path_.pop_back();
    FinishLengthDelimited(start, &out);
    return true;
  }

  // Whether `key` is new in the current map object.
  bool InsertMapKey(std::string_view key) {
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

  // map<string, string> as a JSON object; p_ at '{'. Every entry is written
  // as protobuf writes it, so that the binary parse resolves repeats the
  // same way (within one object a repeated key is an error; across two
  // "attributes" members the later value wins).
  bool ParseMap(const FieldInfo& field) {
    if (!EnterObject()) return false;
    map_key_count_ = 0;
    path_.push_back({field.name, false});
    std::string& out = s_.out;
    for (;;) {
      SkipSpace();
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        --depth_;
        break;
      }
      if (p_ == end_) return SyntaxErrorHere("Expected an object key or }.");
      std::string_view key;
      if (!ReadKey(&key) || !ReadColon()) return false;
      const char* at = p_;
      const Token token = PeekValue();
      if (token == Token::kEnd || token == Token::kBad) return ValueExpected();
      if (!InsertMapKey(key)) {
        FieldError(RejectCode::kBadJson, at, key, true, "the key is repeated in this object");
        if (!SkipValue()) return false;
      } else if (token == Token::kString || token == Token::kNull) {
        std::string_view value;
        if (token == Token::kNull) {
          p_ += 4;  // an entry with the key alone: the value is ""
        } else if (!ReadString(&s_.value, &value)) {
          return false;
        }
        const size_t key_bytes = 1 + VarintSize(key.size()) + key.size();
        const size_t value_bytes =
            token == Token::kNull ? 0 : 1 + VarintSize(value.size()) + value.size();
        PutTag(field.number, kLengthDelimited, &out);
        PutVarint(key_bytes + value_bytes, &out);
        PutBytes(1, key, &out);
        if (token != Token::kNull) PutBytes(2, value, &out);
      } else if (token == Token::kObject) {
        if (!ParseMapValueObject(*field.message, key, at)) return false;
      } else if (token == Token::kArray) {
        FieldError(RejectCode::kBadJson, at, key, true, "an array is not a string");
        if (!SkipValue()) return false;
      } else {
        Scalar v;
        if (!ReadScalar(token, &v)) return false;
        FieldError(RejectCode::kBadJson, at, key, true, StrCat(Describe(v), " is not a string"));
      }
      bool more = false;
      if (!ReadObjectNext(&more)) return false;
      if (!more) break;
    }
    path_.pop_back();
    return true;
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
  bool ParseMapValueObject(const MessageInfo& entry, std::string_view key, const char* at) {
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
      object_map_value_error_.offset = static_cast<size_t>(at - begin_);
      object_map_value_error_.head = "invalid JSON: ";
      AppendPath(key_copy, true, &object_map_value_error_.head);
      object_map_value_error_.detail = kObjectMapValue;
    }
    return true;
  }

  struct Error {
    RejectCode code = RejectCode::kNone;
    size_t offset = 0;
    std::string head;
    std::string detail;
  };

  const char* const begin_;
  const char* p_;
  const char* const end_;
  Scratch& s_;
  int depth_ = 0;
  std::vector<PathSegment>& path_;
  size_t map_key_count_ = 0;
  size_t field_errors_ = 0;
  Error error_;
  bool object_map_value_ = false;
  Error object_map_value_error_;
};

Reject Parser::Run(v1::Signal* signal) {
  s_.out.clear();
  s_.skip_stack.clear();
  path_.clear();
  const size_t size = static_cast<size_t>(end_ - begin_);
  const size_t valid = ValidUtf8Prefix(begin_, size);
  if (valid != size) {
    SyntaxError(begin_ + valid,
                StrCat("invalid UTF-8 (byte ", QuotedString(std::string_view(begin_ + valid, 1)),
                       ")"));
    return MakeReject();
  }
  SkipSpace();
  const Token token = PeekValue();
  if (token != Token::kObject) {
    if (token == Token::kEnd || token == Token::kBad) {
      ValueExpected();
    } else {
      SyntaxError(p_, "a Signal must be a JSON object");
    }
    return MakeReject();
  }
  if (!ParseObject(GetSchema().root())) return MakeReject();
  SkipSpace();
  if (p_ != end_) {
    SyntaxError(p_, "Parsing terminated before end of input.");
    return MakeReject();
  }
  if (field_errors_ > 0) return MakeReject();
  if (object_map_value_) {
    const Error saved = error_;
    error_ = object_map_value_error_;
    Reject reject = MakeReject();
    error_ = saved;
    return reject;
  }
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
