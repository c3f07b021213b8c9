#include "demandcenter/replay/pool_update_line.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "demandcenter/common/json_string.h"
#include "demandcenter/common/strings.h"
#include "google/protobuf/util/json_util.h"

namespace demandcenter::replay {
namespace {

// What a value of protobuf's type name must look like, in plain words.
std::string Expected(std::string_view type) {
  if (type == "TYPE_DOUBLE" || type == "TYPE_FLOAT") return "is not a number";
  if (type == "TYPE_BOOL") return "is not true or false";
  if (type == "TYPE_STRING") return "is not a string";
  if (type.find("Timestamp") != std::string_view::npos) return "is not a time (RFC 3339, e.g. 2026-03-02T09:00:00Z)";
  if (type.find("TYPE_INT") != std::string_view::npos || type.find("TYPE_UINT") != std::string_view::npos) {
    return "is not a whole number";
  }
  return "is not an object of the right shape";
}

// The 1-based column where `"key"` first appears in `line`, or 0.
size_t KeyColumn(std::string_view line, std::string_view key) {
  size_t at = line.find(StrCat("\"", key, "\""));
  return at == std::string_view::npos ? 0 : at + 1;
}

// `text` as printable ASCII (escaped as in a JSON string, cut at
// `max_bytes` with "..."), without the quotes.
std::string Printable(std::string_view text, size_t max_bytes) {
  std::string quoted;
  AppendJsonStringForMessage(text, max_bytes, &quoted);
  if (quoted.ends_with("\"...")) return StrCat(quoted.substr(1, quoted.size() - 5), "...");
  return quoted.substr(1, quoted.size() - 2);
}

std::string AtColumn(size_t column, const std::string& text) {
  return column == 0 ? text : StrCat("column ", column, ": ", text);
}

// "(pool_update.out_of_office[0].from)" -> "pool_update.out_of_office[0].from"
// and its last key, "from".
std::string LastKey(std::string_view path) {
  size_t dot = path.rfind('.');
  std::string_view last = dot == std::string_view::npos ? path : path.substr(dot + 1);
  return std::string(last.substr(0, last.find('[')));
}

// Protobuf's message for a field problem: "(path) key: Cannot find field."
// or "(path): invalid value V for type T".
std::string FieldProblem(std::string_view line, std::string_view message) {
  // The path comes from the line's own keys: shown escaped, never raw.
  size_t close = message.find(')');
  std::string_view raw_path = message.substr(1, close - 1);
  std::string path = Printable(raw_path, 200);
  std::string_view rest = message.substr(close + 1);
  const google::protobuf::Descriptor* d = v1::PoolMemberUpdate::descriptor();
  constexpr std::string_view kUnknown = ": Cannot find field.";
  if (rest.ends_with(kUnknown) && rest.starts_with(" ")) {
    std::string key(rest.substr(1, rest.size() - 1 - kUnknown.size()));
    std::vector<std::string> fields;
    for (int i = 0; i < d->field_count(); ++i) fields.push_back(d->field(i)->name());
    std::string quoted;
    AppendJsonStringForMessage(key, 64, &quoted);
    return AtColumn(KeyColumn(line, key), StrCat("unknown field ", quoted, " in ", path, "; a pool_update has ",
                                                 absl::StrJoin(fields, ", ")));
  }
  size_t type_at = rest.rfind(" for type ");
  std::string_view type = type_at == std::string_view::npos ? "" : rest.substr(type_at + 10);
  std::string key = LastKey(raw_path);
  return AtColumn(KeyColumn(line, key), StrCat(path, " ", Expected(type)));
}

// Protobuf's message for a syntax error: a sentence, then a snippet of the
// line and a caret under the spot.
std::string SyntaxProblem(std::string_view line, std::string_view message) {
  std::vector<std::string_view> parts;
  for (size_t from = 0;;) {
    size_t end = message.find('\n', from);
    parts.push_back(message.substr(from, end == std::string_view::npos ? std::string_view::npos : end - from));
    if (end == std::string_view::npos) break;
    from = end + 1;
  }
  std::string sentence(parts[0].ends_with(".") ? parts[0].substr(0, parts[0].size() - 1) : parts[0]);
  if (!sentence.empty()) sentence[0] = absl::ascii_tolower(sentence[0]);
  size_t column = 0;
  if (parts.size() >= 3 && !parts[1].empty()) {
    size_t snippet = line.find(parts[1]);
    size_t caret = parts[2].find('^');
    if (snippet != std::string_view::npos && caret != std::string_view::npos) column = snippet + caret + 1;
  }
  if (column == 0 && sentence.starts_with("unexpected end")) column = line.size() + 1;
  return AtColumn(column, StrCat("not JSON: ", Printable(sentence, 200)));
}

}  // namespace

bool IsPoolUpdateLine(std::string_view line) {
  size_t at = line.find_first_not_of(" \t");
  if (at == std::string_view::npos || line[at] != '{') return false;
  at = line.find_first_not_of(" \t", at + 1);
  return at != std::string_view::npos && line.substr(at, 13) == "\"pool_update\"";
}

absl::Status ParsePoolUpdateLine(std::string_view line, v1::PoolUpdateLine* update) {
  update->Clear();
  auto parsed = google::protobuf::util::JsonStringToMessage(std::string(line), update);
  if (parsed.ok()) return absl::OkStatus();
  std::string text(parsed.message());
  std::string_view message = text;
  return absl::InvalidArgumentError(message.size() > 1 && message[0] == '(' && message.find(')') != std::string_view::npos
                                        ? FieldProblem(line, message)
                                        : SyntaxProblem(line, message));
}

}  // namespace demandcenter::replay
