// The YAML reader of the config parser: node helpers that turn YAML into
// values or into errors with file:line:column, and the "did you mean"
// suggestions.
#include "src/config/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "demandcenter/common/calendar.h"
#include "demandcenter/common/json_string.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::config::internal {
namespace {

// Levenshtein distance: insertions, deletions and substitutions.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] != b[j - 1])});
      prev = cur;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string Suggest(std::string_view word, const std::vector<std::string>& known) {
  std::string best;
  size_t best_distance = 3;
  for (const auto& k : known) {
    size_t d = EditDistance(word, k);
    if (d < best_distance) {
      best_distance = d;
      best = k;
    }
  }
  return best.empty() ? "" : StrCat(" (did you mean \"", best, "\"?)");
}

std::vector<std::string> ChannelNames() {
  std::vector<std::string> names;
  for (int i = v1::DIGITAL; i <= v1::PARTNER; ++i) {
    names.emplace_back(ChannelName(static_cast<v1::Channel>(i)));
  }
  return names;
}

void YamlReader::Error(const YAML::Node& node, std::string message) {
  SourceLocation loc;
  if (node.IsDefined()) {
    YAML::Mark mark = node.Mark();
    if (mark.line >= 0) loc = {mark.line + 1, mark.column + 1};
  }
  errors_.push_back({file_, loc, std::move(message)});
}

void YamlReader::Error(SourceLocation location, std::string message) {
  errors_.push_back({file_, location, std::move(message)});
}

SourceLocation YamlReader::Loc(const YAML::Node& node) {
  YAML::Mark mark = node.Mark();
  return {mark.line + 1, mark.column + 1};
}

bool YamlReader::ExpectMap(const YAML::Node& node, std::string_view what,
                           const std::vector<std::string>& allowed) {
  if (!node.IsMap()) {
    Error(node, StrCat(what, " must be a mapping of key: value"));
    return false;
  }
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      Error(kv.first, StrCat("unknown field \"", key, "\" in ", what, Suggest(key, allowed),
                             "; allowed: ", absl::StrJoin(allowed, ", ")));
    }
  }
  return true;
}

std::optional<std::string> YamlReader::String(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    Error(node, StrCat(what, " must be a single value, not a ",
                       node.IsSequence() ? "list" : "mapping"));
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::string> YamlReader::RequiredString(const YAML::Node& parent, const char* key,
                                                      std::string_view what) {
  YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) {
    Error(parent, StrCat(what, " needs \"", key, "\""));
    return std::nullopt;
  }
  auto value = String(node, StrCat(what, ".", key));
  if (value && value->empty()) {
    Error(node, StrCat(what, ".", key, " must not be empty"));
    return std::nullopt;
  }
  if (value && std::string_view(key) == "id" && !IsSafeId(node, *value, StrCat(what, ".id"))) return std::nullopt;
  return value;
}

bool YamlReader::IsSafeId(const YAML::Node& node, const std::string& value, std::string_view what) {
  constexpr size_t kMaxIdBytes = 128;
  bool safe = !value.empty() && value.size() <= kMaxIdBytes &&
              value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:@-") ==
                  std::string::npos;
  if (!safe) {
    std::string quoted;
    AppendJsonStringForMessage(value, 64, &quoted);
    Error(node, StrCat(what, " ", quoted, " must be 1 to ", kMaxIdBytes,
                       " of a-z A-Z 0-9 _ . : @ - (ids and names appear in outputs, metrics and logs)"));
  }
  return safe;
}

std::optional<double> YamlReader::Number(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    Error(node, StrCat(what, " must be a number"));
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string quoted;
  AppendJsonStringForMessage(s, 64, &quoted);
  if (s.empty() || end != s.c_str() + s.size() || std::isnan(v)) {
    Error(node, StrCat(what, " must be a number, got ", quoted));
    return std::nullopt;
  }
  // No count, weight, share or amount in a config comes near this; 1e308
  // would print as nonsense and overflow every sum it enters.
  constexpr double kMaxMagnitude = 1e12;
  if (!(std::fabs(v) <= kMaxMagnitude)) {
    Error(node, StrCat(what, " is ", quoted, "; numbers in a config are at most 1e12 in size"));
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> YamlReader::Integer(const YAML::Node& node, std::string_view what,
                                           int64_t min, int64_t max) {
  auto v = Number(node, what);
  if (!v) return std::nullopt;
  if (*v != static_cast<double>(static_cast<int64_t>(*v))) {
    Error(node, StrCat(what, " must be a whole number, got ", node.Scalar()));
    return std::nullopt;
  }
  auto i = static_cast<int64_t>(*v);
  if (i < min || i > max) {
    Error(node, StrCat(what, " must be between ", min, " and ", max, ", got ", i));
    return std::nullopt;
  }
  return i;
}

std::optional<bool> YamlReader::Bool(const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "yes") return true;
    if (s == "false" || s == "no") return false;
  }
  Error(node, StrCat(what, " must be true or false"));
  return std::nullopt;
}

std::optional<int64_t> YamlReader::Duration(const YAML::Node& node, std::string_view what) {
  auto s = String(node, what);
  if (!s) return std::nullopt;
  auto ms = ParseDurationMillis(*s);
  if (!ms.ok()) {
    Error(node, StrCat(what, ": ", std::string(ms.status().message())));
    return std::nullopt;
  }
  if (*ms <= 0) {
    Error(node, StrCat(what, " must be longer than zero"));
    return std::nullopt;
  }
  return *ms;
}

std::vector<std::string> YamlReader::StringList(const YAML::Node& node, std::string_view what) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      if (auto s = String(item, what)) out.push_back(*s);
    }
  } else {
    Error(node, StrCat(what, " must be a value or a list of values"));
  }
  for (const auto& s : out) {
    if (s.empty()) Error(node, StrCat(what, " has an empty value"));
  }
  return out;
}

std::vector<v1::Channel> YamlReader::Channels(const YAML::Node& node, std::string_view what,
                                              bool allow_all, bool* all) {
  std::vector<v1::Channel> out;
  for (const auto& name : StringList(node, what)) {
    if (allow_all && name == "all") {
      if (all) *all = true;
      continue;
    }
    auto c = ParseChannel(name);
    if (!c) {
      std::vector<std::string> names;
      if (allow_all) names.push_back("all");
      for (auto& channel : ChannelNames()) names.push_back(std::move(channel));
      Error(node, StrCat(what, ": unknown channel \"", name, "\"", Suggest(name, names),
                         "; use one of ", absl::StrJoin(names, ", ")));
      continue;
    }
    out.push_back(*c);
  }
  return out;
}

std::optional<int32_t> YamlReader::TimeOfDay(const YAML::Node& node, std::string_view what) {
  auto s = String(node, what);
  if (!s) return std::nullopt;
  int h = -1, m = -1;
  char extra = 0;
  if (std::sscanf(s->c_str(), "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 24 || m < 0 ||
      m > 59 || (h == 24 && m != 0) || s->size() > 5) {
    Error(node, StrCat(what, " must be a local time like \"08:00\" or \"17:30\", got \"", *s,
                       "\""));
    return std::nullopt;
  }
  return h * 60 + m;
}

std::optional<uint8_t> YamlReader::Days(const YAML::Node& node, std::string_view what) {
  uint8_t mask = 0;
  for (const auto& name : StringList(node, what)) {
    std::string lower = AsciiLower(name);
    if (lower == "weekdays") {
      mask |= calendar::kWeekdays;
    } else if (lower == "weekends") {
      mask |= 0x60;
    } else if (lower == "every day" || lower == "all") {
      mask |= calendar::kEveryDay;
    } else if (int d = calendar::ParseWeekday(name); d >= 0) {
      mask |= static_cast<uint8_t>(1u << d);
    } else {
      Error(node, StrCat(what, ": \"", name,
                         "\" is not a day; use mon, tue, wed, thu, fri, sat, sun, weekdays or "
                         "weekends"));
      return std::nullopt;
    }
  }
  if (mask == 0) {
    Error(node, StrCat(what, " needs at least one day"));
    return std::nullopt;
  }
  return mask;
}

std::optional<absl::CivilDay> YamlReader::Date(const YAML::Node& node, std::string_view what) {
  auto s = String(node, what);
  if (!s) return std::nullopt;
  int y = 0, mo = 0, d = 0;
  char extra = 0;
  if (std::sscanf(s->c_str(), "%d-%d-%d%c", &y, &mo, &d, &extra) != 3 || mo < 1 || mo > 12 ||
      d < 1 || d > 31) {
    Error(node, StrCat(what, " must be a date like 2026-12-25, got \"", *s, "\""));
    return std::nullopt;
  }
  absl::CivilDay day(y, mo, d);
  if (day.month() != mo || day.day() != d) {
    Error(node, StrCat(what, ": ", *s, " is not a day of the calendar"));
    return std::nullopt;
  }
  return day;
}

std::optional<int64_t> YamlReader::Instant(const YAML::Node& node, std::string_view what,
                                           bool end_of_day) {
  auto s = String(node, what);
  if (!s) return std::nullopt;
  if (s->size() == 10) {
    auto day = Date(node, what);
    if (!day) return std::nullopt;
    if (end_of_day) *day += 1;
    return absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(*day), absl::UTCTimeZone()));
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  char z = 0, extra = 0;
  if (std::sscanf(s->c_str(), "%d-%d-%dT%d:%d:%d%c%c", &y, &mo, &d, &h, &mi, &se, &z,
                  &extra) != 7 ||
      z != 'Z') {
    Error(node, StrCat(what,
                       " must be a date (2026-03-09) or a UTC time (2026-03-09T13:00:00Z), got \"",
                       *s, "\""));
    return std::nullopt;
  }
  return absl::ToUnixMillis(
      absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, se), absl::UTCTimeZone()));
}

void YamlReader::ReferStage(const YAML::Node& node, const std::string& stage, std::string what) {
  stage_refs_.push_back({Loc(node), stage, std::move(what)});
}

void YamlReader::ReferPool(const YAML::Node& node, const std::string& pool) {
  pool_refs_.push_back({Loc(node), pool, ""});
}

void YamlReader::ReferRole(const YAML::Node& node, const std::string& role) {
  role_refs_.push_back({Loc(node), role, ""});
}

}  // namespace demandcenter::config::internal
