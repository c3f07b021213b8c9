// JSON string literals as protobuf's JSON printer (3.21) writes them: the one
// string escaper of the codebase, for output JSON, generated signals and the
// values quoted in reject messages.
#ifndef DEMANDCENTER_COMMON_JSON_STRING_H_
#define DEMANDCENTER_COMMON_JSON_STRING_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace demandcenter {

// Appends `text` in double quotes, escaped as protobuf's printer escapes it:
// '"' and '\' with a backslash; \b \f \n \r \t; other control characters,
// DEL, '<' and '>' as \u00XX; the invisible format characters protobuf
// escapes (U+00AD, U+0600-0603, U+06DD, U+070F, U+17B4-17B5, U+200B-200F,
// U+2028-202E, U+2060-2064, U+206A-206F, U+FEFF, U+FFF9-FFFB) as \uXXXX;
// everything else as it is. Text that is not valid UTF-8 is not checked:
// a byte from 0x80 up starts a sequence whose length its own bits give
// (cut short at the end of `text`), and the sequence is copied as it is
// unless the code point those bits spell is one of the escaped ones.
void AppendJsonString(std::string_view text, std::string* out);

// For messages and logs: at most `max_bytes` bytes of `text` (cut at the
// start of a UTF-8 sequence that would not fit), escaped as
// AppendJsonString escapes them but as printable ASCII only: any other
// character of valid UTF-8 as \uXXXX (a surrogate pair above U+FFFF), and
// each byte that is not part of valid UTF-8 as \xNN, which JSON cannot
// express otherwise. "..." follows the closing quote when `text` was cut.
// For valid UTF-8 that was not cut, the result is a JSON string literal of
// `text`.
void AppendJsonStringForMessage(std::string_view text, size_t max_bytes, std::string* out);

}  // namespace demandcenter

#endif  // DEMANDCENTER_COMMON_JSON_STRING_H_
