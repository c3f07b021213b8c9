// AppendRfc3339 and ParseRfc3339: digits written into a stack buffer, and a
// reader that follows protobuf 3.21's internal::ParseTime field by field.
// absl::FormatTime has no "0, 3, 6 or 9 digits" fraction and took about 10
// times as long (as did the strftime path this replaces); absl::ParseTime
// accepts other texts than protobuf does.
#include "demandcenter/common/rfc3339.h"

#include <charconv>

#include "demandcenter/common/civil.h"

namespace demandcenter {
namespace {

constexpr int32_t kNanosPerSecond = 1'000'000'000;

// "00" .. "99".
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

inline char* PutTwo(int v, char* p) {
  p[0] = kDigitPairs[2 * v];
  p[1] = kDigitPairs[2 * v + 1];
  return p + 2;
}

// `v` in [0, 10^width) as exactly `width` digits.
inline char* PutDigits(uint32_t v, int width, char* p) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

// A year: four digits for 0-9999, else as many as it takes.
char* PutYear(int64_t year, char* p, char* end) {
  if (year >= 0 && year <= 9999) return PutDigits(static_cast<uint32_t>(year), 4, p);
  if (year < 0) {
    *p++ = '-';
    year = -year;  // |year| < 2^63 / 86400: no overflow
  }
  if (year <= 9999) return PutDigits(static_cast<uint32_t>(year), 4, p);
  return std::to_chars(p, end, year).ptr;
}

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// internal::ParseTime, field by field.
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
    if (day > DaysInMonth(year, month)) return false;
    *seconds = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 +
               second;
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

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

void AppendRfc3339(int64_t seconds, int32_t nanos, std::string* out) {
  if (nanos < 0 || nanos >= kNanosPerSecond) {
    seconds += FloorDiv(nanos, kNanosPerSecond);
    nanos -= static_cast<int32_t>(FloorDiv(nanos, kNanosPerSecond) * kNanosPerSecond);
  }
  const int64_t days = FloorDiv(seconds, kSecondsPerDay);
  const auto second_of_day = static_cast<int>(seconds - days * kSecondsPerDay);
  const CivilDate date = CivilFromDays(days);

  char buf[48];
  char* p = PutYear(date.year, buf, buf + sizeof buf);
  *p++ = '-';
  p = PutTwo(date.month, p);
  *p++ = '-';
  p = PutTwo(date.day, p);
  *p++ = 'T';
  p = PutTwo(second_of_day / 3600, p);
  *p++ = ':';
  p = PutTwo(second_of_day / 60 % 60, p);
  *p++ = ':';
  p = PutTwo(second_of_day % 60, p);
  if (nanos != 0) {
    *p++ = '.';
    const auto n = static_cast<uint32_t>(nanos);
    if (n % 1'000'000 == 0) {
      p = PutDigits(n / 1'000'000, 3, p);
    } else if (n % 1000 == 0) {
      p = PutDigits(n / 1000, 6, p);
    } else {
      p = PutDigits(n, 9, p);
    }
  }
  *p++ = 'Z';
  out->append(buf, static_cast<size_t>(p - buf));
}

bool ParseRfc3339(std::string_view text, int64_t* seconds, int32_t* nanos) {
  return TimeReader(text).Parse(seconds, nanos);
}

}  // namespace demandcenter
