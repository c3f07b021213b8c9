// The rarer half of the scanner: escapes in strings, skipping whole values,
// strtod, and the line and column of an error.
#include "src/ingest/json_scanner.h"

#include <locale.h>
#include <stdlib.h>

#include "demandcenter/common/utf8.h"

namespace demandcenter::ingest::json {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// strtod in the "C" locale, whatever the process locale (protobuf's
// NoLocaleStrtod). `text` must be NUL-terminated.
double StrtodC(const char* text, char** end) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return strtod_l(text, end, c_locale);
}

}  // namespace

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

bool Scanner::SyntaxError(const char* at, std::string_view what) {
  error_.code = RejectCode::kBadJson;
  error_.offset = OffsetOf(at);
  error_.head = "invalid JSON";
  error_.detail.assign(what.data(), what.size());
  return false;
}

bool Scanner::SyntaxErrorHere(std::string_view what) {
  if (p_ == end_) return SyntaxError(p_, StrCat("Unexpected end of string. ", what));
  return SyntaxError(p_, what);
}

Reject MakeReject(std::string_view json, const ParseError& error) {
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < error.offset; ++i) {
    if (json[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  std::string message =
      StrCat(error.head, " at line ", line, ", column ", error.offset - line_start + 1);
  if (!error.detail.empty()) message += StrCat(": ", error.detail);
  return Reject{error.code, std::move(message)};
}

bool Scanner::ReadEscapedRest(char quote, std::string* buf, std::string_view* out) {
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
    const char* run = p_;
    ScanStringRun(quote);
    if (buf != nullptr) buf->append(run, static_cast<size_t>(p_ - run));
  }
}

bool Scanner::ReadUnicodeEscape(std::string* out) {
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

bool Scanner::SkipValue() {
  enum class State { kValue, kMember, kObjectNext, kElement, kArrayNext };
  std::vector<char>& stack = buf_.skip_stack;
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
        } else if (token == Token::kTrue || token == Token::kNull) {
          p_ += 4;
        } else if (token == Token::kFalse) {
          p_ += 5;
        } else {
          return ValueExpected();
        }
        break;
      }
      case State::kMember: {
        bool closed = false;
        if (!BeginMember(&closed)) return false;
        if (closed) {
          stack.pop_back();
          break;
        }
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

}  // namespace demandcenter::ingest::json
