// The JSON syntax of protobuf 3.21's parser (util/internal/
// json_stream_parser.cc): tokens, strings with their escapes, numbers,
// skipping whole values, and the syntax errors with the texts protobuf
// gives. Schema-free: json_decoder.cc drives it with the field tables.
// Private to src/ingest.
//
// The calls the decoder makes per token are defined here, in the header,
// so that they inline into its loop; the rare ones (\u escapes, skipping a
// value, strtod) are in json_scanner.cc.
#ifndef DEMANDCENTER_SRC_INGEST_JSON_SCANNER_H_
#define DEMANDCENTER_SRC_INGEST_JSON_SCANNER_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/base/attributes.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/ingest/decoder.h"

namespace demandcenter::ingest::json {

// Objects nested deeper than this are a syntax error (protobuf's
// kDefaultMaxRecursionDepth; arrays do not count).
inline constexpr int kMaxObjectDepth = 100;

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

// protobuf's safe_strtod on `text` up to its first NUL byte (the function
// takes a C string): strtod in the "C" locale, trailing whitespace allowed,
// everything else consumed. Range errors are not errors (they give +-inf or
// 0). `scratch` holds the NUL-terminated copy.
bool SafeStrtod(std::string_view text, std::string* scratch, double* value);

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

// The kind of value at a position, in the order protobuf's GetNextTokenType
// tests them.
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

// A scalar JSON value, as protobuf's DataPiece holds it.
struct Scalar {
  enum Type : uint8_t { kString, kUint, kInt, kDouble, kBool } type = kString;
  std::string_view text;  // kString: the decoded string; numbers: the token
  uint64_t u = 0;
  int64_t i = 0;
  double d = 0;
  bool b = false;
};

// Why a document is refused and where: the parts of a reject message.
struct ParseError {
  RejectCode code = RejectCode::kNone;
  size_t offset = 0;  // in bytes from the start of the document
  std::string head;
  std::string detail;
};

// "<head> at line L, column C[: <detail>]", line and column 1-based, in
// bytes of `json`.
Reject MakeReject(std::string_view json, const ParseError& error);

// Buffers a scanner reuses across documents on one thread.
struct ScannerBuffers {
  std::string key;     // an object key with escapes
  std::string value;   // a string value with escapes
  std::string number;  // a NUL-terminated copy for strtod
  std::vector<char> skip_stack;
};

// A position in one JSON document. Every Read* call expects the position at
// the start of what it reads and leaves it after; false means a syntax
// error, recorded in error() (the first one ends the parse).
class Scanner {
 public:
  Scanner(std::string_view json, ScannerBuffers* buffers)
      : begin_(json.data()), p_(json.data()), end_(json.data() + json.size()), buf_(*buffers) {
    buf_.skip_stack.clear();
  }

  std::string_view document() const {
    return std::string_view(begin_, static_cast<size_t>(end_ - begin_));
  }
  const char* pos() const { return p_; }
  bool AtEnd() const { return p_ == end_; }
  size_t OffsetOf(const char* at) const { return static_cast<size_t>(at - begin_); }
  const ParseError& error() const { return error_; }

  // --- errors --------------------------------------------------------------

  // Records the error and returns false. Out of line and cold: the loops
  // that call them stay small.
  ABSL_ATTRIBUTE_COLD ABSL_ATTRIBUTE_NOINLINE bool SyntaxError(const char* at,
                                                               std::string_view what);
  // At the position; "Unexpected end of string. " first when the input
  // ended.
  ABSL_ATTRIBUTE_COLD ABSL_ATTRIBUTE_NOINLINE bool SyntaxErrorHere(std::string_view what);
  bool ValueExpected() { return SyntaxErrorHere("Expected a value."); }

  // --- tokens --------------------------------------------------------------

  void SkipSpace() {
    while (p_ < end_ && IsSpace(*p_)) ++p_;
  }

  // The kind of value at the position (whitespace already skipped).
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

  // Past a `null` that PeekValue saw.
  void SkipNull() { p_ += 4; }

  // Past the '{' that PeekValue saw, counting the depth.
  bool EnterObject() {
    if (++depth_ > kMaxObjectDepth) {
      return SyntaxError(p_, StrCat("Message too deep: more than ", kMaxObjectDepth,
                                    " nested objects."));
    }
    ++p_;
    return true;
  }

  // Before a member of an object (after '{' or ','): whitespace, then a
  // closing '}' (consumed; *closed) or the start of a key (!*closed).
  bool BeginMember(bool* closed) {
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      --depth_;
      *closed = true;
      return true;
    }
    if (p_ == end_) return SyntaxErrorHere("Expected an object key or }.");
    *closed = false;
    return true;
  }

  // An object key: a string, or an unquoted identifier other than true,
  // false and null. A view of the input or of the key buffer.
  bool ReadKey(std::string_view* key) {
    const char c = *p_;
    if (c == '"' || c == '\'') return ReadString(&buf_.key, key);
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

  // A string (at its quote, '"' or '\''). With `buf`, *out is the decoded
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
    return ReadEscapedRest(quote, buf, out);
  }

  // A string value, decoded into the value buffer when it has escapes.
  bool ReadStringValue(std::string_view* out) { return ReadString(&buf_.value, out); }

  // A number ('-' or a digit), as protobuf's ParseNumberHelper reads it:
  // the run of [0-9.eE+-x]; with '.', 'e' or 'E' a double (strtod, which
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
    if (!SafeStrtod(t, &buf_.number, &v->d)) return SyntaxError(start, "Unable to parse number.");
    if (!std::isfinite(v->d)) return SyntaxError(start, "Number exceeds the range of double.");
    v->type = Scalar::kDouble;
    return true;
  }

  // A string, number, true or false (`token` from PeekValue).
  bool ReadScalar(Token token, Scalar* v) {
    switch (token) {
      case Token::kString:
        v->type = Scalar::kString;
        return ReadStringValue(&v->text);
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

  // Checks the syntax of the value at the position and discards it (an
  // unknown field, a value of the wrong type...). Iterative: arrays may
  // nest without limit, as in protobuf's parser; objects count towards
  // kMaxObjectDepth.
  bool SkipValue();

 private:
  bool HasPrefix(std::string_view word) const {
    return static_cast<size_t>(end_ - p_) >= word.size() &&
           std::memcmp(p_, word.data(), word.size()) == 0;
  }

  // Advances to the first `quote` or backslash, or to the end.
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

  // ReadString from a backslash or the end of the input on.
  bool ReadEscapedRest(char quote, std::string* buf, std::string_view* out);
  // A \uXXXX escape (and its low surrogate), appended to *out unless null.
  bool ReadUnicodeEscape(std::string* out);

  const char* const begin_;
  const char* p_;
  const char* const end_;
  ScannerBuffers& buf_;
  int depth_ = 0;
  ParseError error_;
};

}  // namespace demandcenter::ingest::json

#endif  // DEMANDCENTER_SRC_INGEST_JSON_SCANNER_H_
