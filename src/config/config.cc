#include "demandcenter/config/config.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/time/time.h"
#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "yaml-cpp/yaml.h"

namespace demandcenter::config {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;

// Placeholders a prompt's "why now" template may use.
const std::set<std::string>& PromptPlaceholders() {
  static const std::set<std::string> kNames = {
      "account_name", "account_id", "contact", "contact_title", "stage",
      "score", "committee_size", "committee_roles", "amount",
      "opportunity_stage", "type", "count", "usage_drop", "owner", "due",
      "page"};
  return kNames;
}

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

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view file) : file_(file) {}

  std::vector<ConfigError>& errors() { return errors_; }

  void Error(const YAML::Node& node, std::string message) {
    SourceLocation loc;
    if (node.IsDefined()) {
      YAML::Mark mark = node.Mark();
      if (mark.line >= 0) loc = {mark.line + 1, mark.column + 1};
    }
    errors_.push_back({file_, loc, std::move(message)});
  }
  void Error(SourceLocation loc, std::string message) {
    errors_.push_back({file_, loc, std::move(message)});
  }

  static SourceLocation Loc(const YAML::Node& node) {
    YAML::Mark mark = node.Mark();
    return {mark.line + 1, mark.column + 1};
  }

  // Checks that `node` is a map whose keys are all in `allowed`.
  bool ExpectMap(const YAML::Node& node, std::string_view what,
                 const std::vector<std::string>& allowed) {
    if (!node.IsMap()) {
      Error(node, StrCat(what, " must be a mapping of key: value"));
      return false;
    }
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        Error(kv.first, StrCat("unknown field \"", key, "\" in ", what, Suggest(key, allowed),
                               "; allowed: ", JoinNames(allowed)));
      }
    }
    return true;
  }

  std::optional<std::string> String(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar()) {
      Error(node, StrCat(what, " must be a single value, not a ",
                         node.IsSequence() ? "list" : "mapping"));
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<std::string> RequiredString(const YAML::Node& parent, const char* key,
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
    return value;
  }

  std::optional<double> Number(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar()) {
      Error(node, StrCat(what, " must be a number"));
      return std::nullopt;
    }
    const std::string& s = node.Scalar();
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) {
      Error(node, StrCat(what, " must be a number, got \"", s, "\""));
      return std::nullopt;
    }
    return v;
  }

  std::optional<int64_t> Integer(const YAML::Node& node, std::string_view what, int64_t min,
                                 int64_t max) {
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

  std::optional<bool> Bool(const YAML::Node& node, std::string_view what) {
    if (node.IsScalar()) {
      const std::string& s = node.Scalar();
      if (s == "true" || s == "yes") return true;
      if (s == "false" || s == "no") return false;
    }
    Error(node, StrCat(what, " must be true or false"));
    return std::nullopt;
  }

  std::optional<int64_t> Duration(const YAML::Node& node, std::string_view what) {
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

  // A single value or a list of values.
  std::vector<std::string> StringList(const YAML::Node& node, std::string_view what) {
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

  // Stage references are checked after the stage list is known.
  void ReferStage(const YAML::Node& node, const std::string& stage, std::string what) {
    stage_refs_.push_back({Loc(node), stage, std::move(what)});
  }

  // Returns false when a reference names an unknown stage.
  bool CheckStageRefs(const DecisionConfig& config) {
    bool ok = true;
    for (const auto& ref : stage_refs_) {
      if (config.StageIndex(ref.stage) < 0) {
        Error(ref.location, StrCat("unknown stage \"", ref.stage, "\" in ", ref.what,
                                   Suggest(ref.stage, config.journey.stages),
                                   "; stages are: ", JoinNames(config.journey.stages)));
        ok = false;
      }
    }
    return ok;
  }

  Condition ParseCondition(const YAML::Node& node, const std::string& what, int depth);

  void ParseCount(const YAML::Node& node, const std::string& what, Condition* out) {
    if (!ExpectMap(node, what, {"type", "within", "at_least", "distinct_contacts"})) return;
    CountCondition count;
    if (node["type"]) {
      count.types = StringList(node["type"], StrCat(what, ".type"));
    } else {
      Error(node, StrCat(what, " needs \"type\" (the signal types to count)"));
    }
    if (node["within"]) {
      if (auto d = Duration(node["within"], StrCat(what, ".within"))) count.within_ms = *d;
    } else {
      Error(node, StrCat(what, " needs \"within\" (the window, e.g. 7d)"));
    }
    if (node["at_least"]) {
      if (auto n = Integer(node["at_least"], StrCat(what, ".at_least"), 1, 100000)) {
        count.at_least = static_cast<int32_t>(*n);
      }
    }
    if (node["distinct_contacts"]) {
      if (auto b = Bool(node["distinct_contacts"], StrCat(what, ".distinct_contacts"))) {
        count.distinct_contacts = *b;
      }
    }
    out->counts.push_back(std::move(count));
  }


  // A channel name or a list of them; `all` (alone) means every channel,
  // returned as an empty list with *all set.
  std::vector<v1::Channel> Channels(const YAML::Node& node, std::string_view what, bool allow_all,
                                    bool* all = nullptr) {
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
        for (int i = v1::DIGITAL; i <= v1::PARTNER; ++i) names.emplace_back(ChannelName(static_cast<v1::Channel>(i)));
        Error(node, StrCat(what, ": unknown channel \"", name, "\"", Suggest(name, names),
                           "; use one of ", JoinNames(names)));
        continue;
      }
      out.push_back(*c);
    }
    return out;
  }

  // "08:00" -> minutes since midnight; "24:00" is allowed as an end.
  std::optional<int32_t> TimeOfDay(const YAML::Node& node, std::string_view what) {
    auto s = String(node, what);
    if (!s) return std::nullopt;
    int h = -1, m = -1;
    char extra = 0;
    if (std::sscanf(s->c_str(), "%d:%d%c", &h, &m, &extra) != 2 || h < 0 || h > 24 || m < 0 ||
        m > 59 || (h == 24 && m != 0) || s->size() > 5) {
      Error(node, StrCat(what, " must be a local time like \"08:00\" or \"17:30\", got \"", *s, "\""));
      return std::nullopt;
    }
    return h * 60 + m;
  }

  // [mon, tue, ...], "weekdays", "weekends" or "every day" -> a weekday mask.
  std::optional<uint8_t> Days(const YAML::Node& node, std::string_view what) {
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
        Error(node, StrCat(what, ": \"", name, "\" is not a day; use mon, tue, wed, thu, fri, sat, sun, weekdays or weekends"));
        return std::nullopt;
      }
    }
    if (mask == 0) {
      Error(node, StrCat(what, " needs at least one day"));
      return std::nullopt;
    }
    return mask;
  }

  // "2026-12-25".
  std::optional<absl::CivilDay> Date(const YAML::Node& node, std::string_view what) {
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

  // A date (midnight UTC; as an end, the end of that day) or an RFC 3339
  // UTC time "2026-03-09T13:00:00Z" -> Unix ms.
  std::optional<int64_t> Instant(const YAML::Node& node, std::string_view what, bool end_of_day) {
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
    if (std::sscanf(s->c_str(), "%d-%d-%dT%d:%d:%d%c%c", &y, &mo, &d, &h, &mi, &se, &z, &extra) != 7 ||
        z != 'Z') {
      Error(node, StrCat(what, " must be a date (2026-03-09) or a UTC time (2026-03-09T13:00:00Z), got \"",
                         *s, "\""));
      return std::nullopt;
    }
    return absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, se), absl::UTCTimeZone()));
  }

  // Pool references are checked once every pool is known.
  void ReferPool(const YAML::Node& node, const std::string& pool) {
    pool_refs_.emplace_back(Loc(node), pool);
  }
  std::vector<std::pair<SourceLocation, std::string>> pool_refs_;

  std::string file_;
  std::vector<ConfigError> errors_;
  struct StageRef {
    SourceLocation location;
    std::string stage;
    std::string what;
  };
  std::vector<StageRef> stage_refs_;
  std::vector<std::pair<SourceLocation, std::string>> role_refs_;
};

const std::vector<std::string> kConditionKeys = {
    "type", "match", "score_at_least", "score_below", "contact_score_at_least",
    "committee_size_at_least", "committee_roles", "count", "stage", "entered_stage",
    "time_in_stage_at_least", "amount_at_least", "usage_drop_at_least", "any", "none"};

Condition Parser::ParseCondition(const YAML::Node& node, const std::string& what, int depth) {
  Condition c;
  if (depth > 8) {
    Error(node, StrCat(what, " nests any/none too deeply (more than 8 levels)"));
    return c;
  }
  if (!ExpectMap(node, what, kConditionKeys)) return c;
  if (auto n = node["type"]) c.types = StringList(n, StrCat(what, ".type"));
  if (auto n = node["match"]) {
    if (!n.IsMap()) {
      Error(n, StrCat(what, ".match must map fields to values, e.g. page_category: pricing"));
    } else {
      const auto& fields = MatchableFields();
      for (const auto& kv : n) {
        std::string field = kv.first.Scalar();
        bool known = field.rfind("attributes.", 0) == 0 && field.size() > 11;
        known = known || (field != "attributes.*" &&
                          std::find(fields.begin(), fields.end(), field) != fields.end());
        if (!known) {
          Error(kv.first, StrCat("unknown field \"", field, "\" in ", what, ".match",
                                 Suggest(field, fields), "; fields are: ", JoinNames(fields)));
          continue;
        }
        c.matches.push_back({field, StringList(kv.second, StrCat(what, ".match.", field))});
      }
    }
  }
  if (auto n = node["score_at_least"]) c.score_at_least = Number(n, StrCat(what, ".score_at_least"));
  if (auto n = node["score_below"]) c.score_below = Number(n, StrCat(what, ".score_below"));
  if (auto n = node["contact_score_at_least"]) {
    c.contact_score_at_least = Number(n, StrCat(what, ".contact_score_at_least"));
  }
  if (auto n = node["committee_size_at_least"]) {
    if (auto v = Integer(n, StrCat(what, ".committee_size_at_least"), 1, 1000)) {
      c.committee_size_at_least = static_cast<int32_t>(*v);
    }
  }
  if (auto n = node["committee_roles"]) {
    c.committee_roles = StringList(n, StrCat(what, ".committee_roles"));
    for (const auto& role : c.committee_roles) role_refs_.push_back({Loc(n), role});
  }
  if (auto n = node["count"]) {
    if (n.IsSequence()) {
      for (const auto& item : n) ParseCount(item, StrCat(what, ".count"), &c);
    } else {
      ParseCount(n, StrCat(what, ".count"), &c);
    }
  }
  if (auto n = node["stage"]) {
    c.stages = StringList(n, StrCat(what, ".stage"));
    for (const auto& s : c.stages) ReferStage(n, s, StrCat(what, ".stage"));
  }
  if (auto n = node["entered_stage"]) {
    c.entered_stages = StringList(n, StrCat(what, ".entered_stage"));
    for (const auto& s : c.entered_stages) ReferStage(n, s, StrCat(what, ".entered_stage"));
  }
  if (auto n = node["time_in_stage_at_least"]) {
    c.time_in_stage_at_least_ms = Duration(n, StrCat(what, ".time_in_stage_at_least"));
  }
  if (auto n = node["amount_at_least"]) c.amount_at_least = Number(n, StrCat(what, ".amount_at_least"));
  if (auto n = node["usage_drop_at_least"]) {
    c.usage_drop_at_least = Number(n, StrCat(what, ".usage_drop_at_least"));
    if (c.usage_drop_at_least && (*c.usage_drop_at_least <= 0 || *c.usage_drop_at_least > 1)) {
      Error(n, StrCat(what, ".usage_drop_at_least is a fraction: between 0 and 1, e.g. 0.3 for 30%"));
    }
  }
  for (const char* key : {"any", "none"}) {
    YAML::Node list = node[key];
    if (!list) continue;
    if (!list.IsSequence() || list.size() == 0) {
      Error(list, StrCat(what, ".", key, " must be a non-empty list of conditions"));
      continue;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      Condition sub = ParseCondition(list[i], StrCat(what, ".", key, "[", i, "]"), depth + 1);
      (std::string_view(key) == "any" ? c.any : c.none).push_back(std::move(sub));
    }
  }
  return c;
}


void CollectCounts(Condition* c, std::vector<CountSeries>* series) {
  for (auto& count : c->counts) {
    std::string name;
    for (const auto& t : count.types) {
      if (!name.empty()) name += '|';
      name += t;
    }
    auto it = std::find_if(series->begin(), series->end(),
                           [&](const CountSeries& s) { return s.name == name; });
    if (it == series->end()) {
      series->push_back({count.types, name, 0});
      it = series->end() - 1;
    }
    it->keep_ms = std::max(it->keep_ms, count.within_ms);
    count.series = static_cast<int32_t>(it - series->begin());
  }
  for (auto& sub : c->any) CollectCounts(&sub, series);
  for (auto& sub : c->none) CollectCounts(&sub, series);
}

void CheckPlaceholders(Parser& p, const YAML::Node& node, const std::string& text,
                       const std::string& what) {
  size_t pos = 0;
  while ((pos = text.find('{', pos)) != std::string::npos) {
    size_t end = text.find('}', pos);
    if (end == std::string::npos) {
      p.Error(node, StrCat(what, ": unclosed \"{\" in template"));
      return;
    }
    std::string name = text.substr(pos + 1, end - pos - 1);
    if (!PromptPlaceholders().count(name)) {
      std::vector<std::string> known(PromptPlaceholders().begin(), PromptPlaceholders().end());
      p.Error(node, StrCat(what, ": unknown placeholder {", name, "}", Suggest(name, known),
                           "; available: ", JoinNames(known)));
    }
    pos = end + 1;
  }
}

void ParseJourney(Parser& p, const YAML::Node& node, DecisionConfig* config) {
  if (!p.ExpectMap(node, "journey", {"stages", "initial", "transitions", "max_chain"})) return;
  YAML::Node stages = node["stages"];
  if (!stages || !stages.IsSequence() || stages.size() == 0) {
    p.Error(stages ? stages : node, "journey.stages must be a non-empty list of stage names");
  } else {
    for (const auto& s : stages) {
      auto name = p.String(s, "journey.stages item");
      if (!name) continue;
      if (config->StageIndex(*name) >= 0) {
        p.Error(s, StrCat("stage \"", *name, "\" is listed twice in journey.stages"));
        continue;
      }
      config->journey.stages.push_back(*name);
    }
  }
  if (auto initial = node["initial"]) {
    if (auto s = p.String(initial, "journey.initial")) {
      config->journey.initial = *s;
      p.ReferStage(initial, *s, "journey.initial");
    }
  } else if (!config->journey.stages.empty()) {
    config->journey.initial = config->journey.stages.front();
  }
  config->journey.max_chain = static_cast<int32_t>(config->journey.stages.size());
  if (auto n = node["max_chain"]) {
    if (auto v = p.Integer(n, "journey.max_chain", 1, 100)) config->journey.max_chain = static_cast<int32_t>(*v);
  }
  YAML::Node transitions = node["transitions"];
  if (!transitions) return;
  if (!transitions.IsSequence()) {
    p.Error(transitions, "journey.transitions must be a list");
    return;
  }
  std::map<std::string, SourceLocation> ids;
  for (const auto& t : transitions) {
    std::string what = "transition";
    if (!p.ExpectMap(t, what, {"id", "from", "to", "when", "inactive_for"})) continue;
    Transition tr;
    tr.location = Parser::Loc(t);
    if (auto id = p.RequiredString(t, "id", what)) {
      tr.id = *id;
      what = StrCat("transition \"", tr.id, "\"");
      auto [it, inserted] = ids.emplace(tr.id, Parser::Loc(t["id"]));
      if (!inserted) {
        p.Error(t["id"], StrCat("duplicate transition id \"", tr.id, "\" (first defined at line ",
                                it->second.line, ")"));
      }
    }
    if (auto from = t["from"]) {
      tr.from = p.StringList(from, StrCat(what, ".from"));
      for (const auto& s : tr.from) p.ReferStage(from, s, StrCat(what, ".from"));
    }
    if (auto to = p.RequiredString(t, "to", what)) {
      tr.to = *to;
      p.ReferStage(t["to"], *to, StrCat(what, ".to"));
    }
    if (auto n = t["inactive_for"]) {
      if (auto d = p.Duration(n, StrCat(what, ".inactive_for"))) tr.inactive_for_ms = *d;
    }
    if (auto when = t["when"]) {
      tr.when = p.ParseCondition(when, StrCat(what, ".when"), 0);
    } else if (!t["inactive_for"]) {
      p.Error(t, StrCat(what, " needs \"when\" (its guard) or \"inactive_for\""));
    }
    config->journey.transitions.push_back(std::move(tr));
  }
}

void ParseScoring(Parser& p, const YAML::Node& node, DecisionConfig* config) {
  if (!p.ExpectMap(node, "scoring", {"half_life", "default_weight", "weights"})) return;
  if (auto n = node["half_life"]) {
    if (auto d = p.Duration(n, "scoring.half_life")) config->scoring.half_life_ms = *d;
  }
  if (auto n = node["default_weight"]) {
    if (auto v = p.Number(n, "scoring.default_weight")) config->scoring.default_weight = *v;
  }
  if (auto weights = node["weights"]) {
    if (!weights.IsMap()) {
      p.Error(weights, "scoring.weights must map signal types to weights, e.g. web.pricing_view: 8");
      return;
    }
    for (const auto& kv : weights) {
      if (auto v = p.Number(kv.second, StrCat("scoring.weights.", kv.first.Scalar()))) {
        config->scoring.weights.emplace_back(kv.first.Scalar(), *v);
      }
    }
  }
}

void ParseCommittee(Parser& p, const YAML::Node& node, DecisionConfig* config) {
  if (!p.ExpectMap(node, "committee", {"window", "roles"})) return;
  if (auto n = node["window"]) {
    if (auto d = p.Duration(n, "committee.window")) config->committee.window_ms = *d;
  }
  if (auto roles = node["roles"]) {
    if (!roles.IsMap()) {
      p.Error(roles, "committee.roles must map a role to title keywords, e.g. finance: [cfo, finance]");
      return;
    }
    for (const auto& kv : roles) {
      std::vector<std::string> words = p.StringList(kv.second, StrCat("committee.roles.", kv.first.Scalar()));
      for (auto& w : words) w = AsciiLower(w);
      config->committee.roles.emplace_back(kv.first.Scalar(), std::move(words));
    }
  }
}

void ParsePools(Parser& p, const YAML::Node& node, DecisionConfig* config) {
  if (!node.IsSequence()) {
    p.Error(node, "pools must be a list of {id, members}");
    return;
  }
  for (const auto& item : node) {
    if (!p.ExpectMap(item, "pool", {"id", "manager", "members"})) continue;
    Pool pool;
    auto id = p.RequiredString(item, "id", "pool");
    if (!id) continue;
    pool.id = *id;
    if (config->FindPool(pool.id)) {
      p.Error(item["id"], StrCat("duplicate pool id \"", pool.id, "\""));
      continue;
    }
    if (auto n = item["manager"]) {
      if (auto m = p.String(n, StrCat("pool \"", pool.id, "\".manager"))) pool.manager = *m;
    }
    YAML::Node members = item["members"];
    if (!members || !members.IsSequence() || members.size() == 0) {
      p.Error(members ? members : YAML::Node(item), StrCat("pool \"", pool.id, "\" needs a non-empty members list"));
    } else {
      for (const auto& m : members) {
        PoolMember member;
        if (m.IsScalar()) {
          member.id = m.Scalar();
        } else if (p.ExpectMap(m, StrCat("pool \"", pool.id, "\" member"),
                               {"id", "weight", "paused", "out_of_office"})) {
          if (auto mid = p.RequiredString(m, "id", "pool member")) member.id = *mid;
          if (auto w = m["weight"]) {
            if (auto v = p.Number(w, "pool member weight")) {
              if (*v <= 0) p.Error(w, "pool member weight must be greater than zero");
              else member.weight = *v;
            }
          }
          if (auto n = m["paused"]) {
            if (auto b = p.Bool(n, "pool member paused")) member.paused = *b;
          }
          if (auto ooo = m["out_of_office"]) {
            std::string what = StrCat("pool \"", pool.id, "\" member \"", member.id, "\".out_of_office");
            if (!ooo.IsSequence()) {
              p.Error(ooo, StrCat(what, " must be a list of {from, to}"));
            } else {
              for (const auto& w : ooo) {
                if (!p.ExpectMap(w, what, {"from", "to"})) continue;
                if (!w["from"] || !w["to"]) {
                  p.Error(w, StrCat(what, " needs from and to (dates or UTC times)"));
                  continue;
                }
                auto from = p.Instant(w["from"], StrCat(what, ".from"), false);
                auto to = p.Instant(w["to"], StrCat(what, ".to"), true);
                if (from && to) {
                  if (*to <= *from) p.Error(w, StrCat(what, ": to must be after from"));
                  else member.out_of_office.emplace_back(*from, *to);
                }
              }
            }
          }
        }
        for (const auto& other : pool.members) {
          if (other.id == member.id) p.Error(m, StrCat("pool \"", pool.id, "\" lists \"", member.id, "\" twice"));
        }
        if (!member.id.empty()) pool.members.push_back(member);
      }
    }
    config->pools.push_back(std::move(pool));
  }
}

void ParseRules(Parser& p, const YAML::Node& node, DecisionConfig* config,
                std::vector<std::pair<SourceLocation, std::string>>* pool_refs,
                std::set<size_t>* escalate_set) {
  if (!node.IsSequence()) {
    p.Error(node, "rules must be a list");
    return;
  }
  std::map<std::string, SourceLocation> ids;
  for (const auto& r : node) {
    std::string what = "rule";
    if (!p.ExpectMap(r, what, {"id", "when", "action", "channel", "role", "priority", "cooldown",
                               "expires", "reason", "route", "prompt"})) {
      continue;
    }
    Rule rule;
    rule.location = Parser::Loc(r);
    if (auto id = p.RequiredString(r, "id", what)) {
      rule.id = *id;
      what = StrCat("rule \"", rule.id, "\"");
      auto [it, inserted] = ids.emplace(rule.id, Parser::Loc(r["id"]));
      if (!inserted) {
        p.Error(r["id"], StrCat("duplicate rule id \"", rule.id, "\" (first defined at line ",
                                it->second.line, ")"));
      }
    }
    if (auto when = r["when"]) {
      rule.when = p.ParseCondition(when, StrCat(what, ".when"), 0);
    } else {
      p.Error(r, StrCat(what, " needs \"when\" (the condition that triggers it)"));
    }
    if (auto action = p.RequiredString(r, "action", what)) rule.action = *action;
    if (auto ch = r["channel"]) {
      if (auto s = p.String(ch, StrCat(what, ".channel"))) {
        if (*s == "auto") {
          rule.channel.automatic = true;
        } else if (auto c = ParseChannel(*s)) {
          rule.channel.channel = *c;
        } else {
          std::vector<std::string> names = {"auto"};
          for (int i = v1::DIGITAL; i <= v1::PARTNER; ++i) {
            names.emplace_back(ChannelName(static_cast<v1::Channel>(i)));
          }
          p.Error(ch, StrCat(what, ": unknown channel \"", *s, "\"", Suggest(*s, names),
                             "; use one of ", JoinNames(names)));
        }
      }
    } else {
      p.Error(r, StrCat(what, " needs \"channel\" (e.g. INSIDE_SALES, or auto)"));
    }
    if (auto role = r["role"]) {
      if (auto s = p.String(role, StrCat(what, ".role"))) rule.role = *s;
    }
    if (auto n = r["priority"]) {
      if (auto v = p.Integer(n, StrCat(what, ".priority"), 0, 100)) rule.priority = static_cast<int32_t>(*v);
    }
    if (auto n = r["cooldown"]) {
      if (auto d = p.Duration(n, StrCat(what, ".cooldown"))) rule.cooldown_ms = *d;
    }
    if (auto n = r["expires"]) {
      if (auto d = p.Duration(n, StrCat(what, ".expires"))) rule.expires_ms = *d;
    }
    if (auto n = r["reason"]) {
      if (auto s = p.String(n, StrCat(what, ".reason"))) rule.reason = *s;
    }
    if (auto route = r["route"]) {
      if (p.ExpectMap(route, StrCat(what, ".route"), {"owner", "pool", "sla", "escalate", "manager"})) {
        Route rt;
        if (auto o = route["owner"]) {
          auto s = p.String(o, StrCat(what, ".route.owner"));
          if (s && *s != "account") {
            p.Error(o, StrCat(what, ".route.owner: only \"account\" (the CRM owner) is supported"));
          }
          rt.to_owner = true;
        }
        if (auto pool = route["pool"]) {
          if (auto s = p.String(pool, StrCat(what, ".route.pool"))) {
            rt.pool = *s;
            pool_refs->emplace_back(Parser::Loc(pool), *s);
          }
        }
        if (!rt.to_owner && rt.pool.empty()) {
          p.Error(route, StrCat(what, ".route needs \"owner: account\" or \"pool\""));
        }
        if (auto sla = route["sla"]) {
          if (auto d = p.Duration(sla, StrCat(what, ".route.sla"))) {
            rt.sla_ms = *d;
            rt.sla_days = static_cast<int32_t>(*d / kDay);
            rt.sla_open_ms = *d % kDay;
          }
        }
        if (auto m = route["manager"]) {
          if (auto s = p.String(m, StrCat(what, ".route.manager"))) rt.manager = *s;
        }
        if (auto esc = route["escalate"]) {
          if (!route["sla"]) p.Error(esc, StrCat(what, ".route.escalate needs an sla (the deadline that escalates)"));
          for (const auto& step : p.StringList(esc, StrCat(what, ".route.escalate"))) {
            if (step == "next_member") {
              rt.escalate.push_back(EscalationStep::kNextMember);
            } else if (step == "manager") {
              rt.escalate.push_back(EscalationStep::kManager);
            } else if (step != "none") {
              p.Error(esc, StrCat(what, ".route.escalate: unknown step \"", step,
                                  "\"; use next_member, manager, or none"));
            }
          }
          escalate_set->insert(config->rules.size());
        }
        rule.route = rt;
      }
    }
    if (auto prompt = r["prompt"]) {
      if (p.ExpectMap(prompt, StrCat(what, ".prompt"), {"title", "why", "suggested_action"})) {
        PromptTemplate t;
        if (auto s = p.RequiredString(prompt, "title", StrCat(what, ".prompt"))) t.title = *s;
        if (auto n = prompt["why"]) {
          if (auto s = p.String(n, StrCat(what, ".prompt.why"))) t.why = *s;
        }
        if (auto n = prompt["suggested_action"]) {
          if (auto s = p.String(n, StrCat(what, ".prompt.suggested_action"))) t.suggested_action = *s;
        }
        CheckPlaceholders(p, prompt["title"], t.title, StrCat(what, ".prompt.title"));
        if (prompt["why"]) CheckPlaceholders(p, prompt["why"], t.why, StrCat(what, ".prompt.why"));
        rule.prompt = t;
        if (!rule.route) {
          p.Error(prompt, StrCat(what, " has a prompt but no route: a prompt needs a salesperson "
                                       "(add route: {owner: account} or route: {pool: ...})"));
        }
      }
    }
    config->rules.push_back(std::move(rule));
  }
}

void ParseRuntime(Parser& p, const YAML::Node& root, Config* config) {
  if (auto k = root["kafka"]) {
    if (p.ExpectMap(k, "kafka", {"bootstrap_servers", "topics", "commit_interval", "json_topics"})) {
      if (auto n = k["bootstrap_servers"]) {
        if (auto s = p.String(n, "kafka.bootstrap_servers")) config->runtime.kafka.bootstrap_servers = *s;
      }
      if (auto n = k["commit_interval"]) {
        if (auto d = p.Duration(n, "kafka.commit_interval")) config->runtime.kafka.commit_interval_ms = *d;
      }
      if (auto n = k["json_topics"]) config->runtime.kafka.json_topics = p.StringList(n, "kafka.json_topics");
      if (auto t = k["topics"]) {
        if (p.ExpectMap(t, "kafka.topics",
                        {"signals", "dlq", "nba", "routing", "prompts", "transitions", "reps"})) {
          auto& topics = config->runtime.kafka.topics;
          if (auto n = t["signals"]) topics.signals = p.StringList(n, "kafka.topics.signals");
          for (auto [key, field] : {std::pair{"dlq", &topics.dlq}, {"nba", &topics.nba},
                                    {"routing", &topics.routing}, {"prompts", &topics.prompts},
                                    {"transitions", &topics.transitions}, {"reps", &topics.reps}}) {
            if (auto n = t[key]) {
              if (auto s = p.String(n, StrCat("kafka.topics.", key))) *field = *s;
            }
          }
        }
      }
    }
  }
  if (auto s = root["state"]) {
    if (p.ExpectMap(s, "state", {"dir", "dedup_window", "cache_accounts"})) {
      if (auto n = s["dir"]) {
        if (auto v = p.String(n, "state.dir")) config->runtime.state.dir = *v;
      }
      if (auto n = s["dedup_window"]) {
        if (auto d = p.Duration(n, "state.dedup_window")) config->decision.dedup_window_ms = *d;
      }
      if (auto n = s["cache_accounts"]) {
        if (auto v = p.Integer(n, "state.cache_accounts", 1, 100'000'000)) config->runtime.state.cache_accounts = *v;
      }
    }
  }
  if (auto h = root["http"]) {
    if (p.ExpectMap(h, "http", {"bind"})) {
      if (auto n = h["bind"]) {
        if (auto v = p.String(n, "http.bind")) config->runtime.http.bind = *v;
      }
    }
  }
}

void ParseArbitration(Parser& p, const YAML::Node& a, DecisionConfig* config) {
  if (!p.ExpectMap(a, "arbitration", {"max_actions", "propensity", "default_propensity", "context"})) return;
  auto& arb = config->arbitration;
  if (auto n = a["max_actions"]) {
    if (auto v = p.Integer(n, "arbitration.max_actions", 1, 20)) arb.max_actions = static_cast<int32_t>(*v);
  }
  if (auto n = a["default_propensity"]) {
    if (auto v = p.Number(n, "arbitration.default_propensity")) {
      if (*v <= 0) p.Error(n, "arbitration.default_propensity must be greater than zero");
      else arb.default_propensity = *v;
    }
  }
  if (auto list = a["propensity"]) {
    if (!list.IsSequence()) {
      p.Error(list, "arbitration.propensity must be a list of {action, channel, stage, value}");
    } else {
      for (const auto& item : list) {
        const std::string what = "arbitration.propensity item";
        if (!p.ExpectMap(item, what, {"action", "channel", "stage", "value"})) continue;
        Propensity prior;
        if (auto n = item["action"]) prior.actions = p.StringList(n, StrCat(what, ".action"));
        if (auto n = item["channel"]) prior.channels = p.Channels(n, StrCat(what, ".channel"), false);
        if (auto n = item["stage"]) {
          prior.stages = p.StringList(n, StrCat(what, ".stage"));
          for (const auto& st : prior.stages) p.ReferStage(n, st, StrCat(what, ".stage"));
        }
        if (auto n = item["value"]) {
          if (auto v = p.Number(n, StrCat(what, ".value"))) {
            if (*v <= 0) p.Error(n, StrCat(what, ".value must be greater than zero"));
            else prior.value = *v;
          }
        } else {
          p.Error(item, StrCat(what, " needs \"value\" (e.g. 0.6)"));
        }
        arb.propensity.push_back(std::move(prior));
      }
    }
  }
  if (auto list = a["context"]) {
    if (!list.IsSequence()) {
      p.Error(list, "arbitration.context must be a list of {id, when, weight}");
    } else {
      for (const auto& item : list) {
        std::string what = "arbitration.context item";
        if (!p.ExpectMap(item, what, {"id", "when", "channel", "action", "weight"})) continue;
        ContextWeight w;
        if (auto id = p.RequiredString(item, "id", what)) {
          w.id = *id;
          what = StrCat("context weight \"", w.id, "\"");
        }
        if (auto n = item["when"]) {
          w.when = p.ParseCondition(n, StrCat(what, ".when"), 0);
        } else {
          p.Error(item, StrCat(what, " needs \"when\""));
        }
        if (auto n = item["channel"]) w.channels = p.Channels(n, StrCat(what, ".channel"), false);
        if (auto n = item["action"]) w.actions = p.StringList(n, StrCat(what, ".action"));
        if (auto n = item["weight"]) {
          if (auto v = p.Number(n, StrCat(what, ".weight"))) {
            if (*v <= 0) p.Error(n, StrCat(what, ".weight must be greater than zero"));
            else w.weight = *v;
          }
        } else {
          p.Error(item, StrCat(what, " needs \"weight\" (e.g. 1.2)"));
        }
        arb.context.push_back(std::move(w));
      }
    }
  }
}

std::optional<calendar::WeeklyHours> ParseHours(Parser& p, const YAML::Node& node, const std::string& what,
                                                bool quiet) {
  std::vector<std::string> keys = {"days", "from", "to", "holidays"};
  if (quiet) keys = {"from", "to", "weekends", "holidays", "channels"};
  else keys.push_back("channels");
  if (!p.ExpectMap(node, what, keys)) return std::nullopt;
  calendar::WeeklyHours hours;
  if (auto n = node["days"]) {
    if (auto d = p.Days(n, StrCat(what, ".days"))) hours.days = *d;
  }
  if (!node["from"] || !node["to"]) {
    p.Error(node, StrCat(what, " needs from and to, e.g. {from: \"08:00\", to: \"18:00\"}"));
    return std::nullopt;
  }
  auto from = p.TimeOfDay(node["from"], StrCat(what, ".from"));
  auto to = p.TimeOfDay(node["to"], StrCat(what, ".to"));
  if (!from || !to) return std::nullopt;
  if (*from == *to) {
    p.Error(node, StrCat(what, ": from and to are the same time"));
    return std::nullopt;
  }
  if (!quiet) {
    if (*to < *from) {
      p.Error(node, StrCat(what, ": to must be after from (business hours do not cross midnight)"));
      return std::nullopt;
    }
    hours.windows = {{*from, *to}};
  } else if (*from > *to) {  // quiet 20:00-08:00: send 08:00-20:00
    hours.windows = {{*to, *from}};
  } else {  // quiet 12:00-14:00: send before 12:00 and from 14:00
    if (*from > 0) hours.windows.emplace_back(0, *from);
    if (*to < 1440) hours.windows.emplace_back(*to, 1440);
  }
  if (quiet) {
    if (auto n = node["weekends"]) {
      if (auto b = p.Bool(n, StrCat(what, ".weekends"))) hours.days = *b ? calendar::kWeekdays : calendar::kEveryDay;
    }
  }
  if (auto n = node["holidays"]) {
    if (auto b = p.Bool(n, StrCat(what, ".holidays"))) hours.closed_on_holidays = *b;
  }
  return hours;
}

void ParseContactPolicy(Parser& p, const YAML::Node& node, DecisionConfig* config) {
  if (!p.ExpectMap(node, "contact_policy", {"timezone", "business_hours", "quiet_hours", "holidays",
                                            "caps", "action_cooldowns"})) {
    return;
  }
  auto& cp = config->contact_policy;
  if (auto n = node["timezone"]) {
    if (auto s = p.String(n, "contact_policy.timezone")) {
      absl::TimeZone tz;
      if (!absl::LoadTimeZone(*s, &tz)) {
        p.Error(n, StrCat("contact_policy.timezone: \"", *s, "\" is not an IANA time zone of this system's "
                          "tz database (e.g. Europe/London, America/New_York)"));
      } else {
        cp.timezone = *s;
      }
    }
  }
  std::vector<calendar::Holiday> holidays;
  if (auto list = node["holidays"]) {
    if (!list.IsSequence()) {
      p.Error(list, "contact_policy.holidays must be a list of dates or {date, zones}");
    } else {
      for (const auto& item : list) {
        calendar::Holiday h;
        if (item.IsScalar()) {
          auto d = p.Date(item, "contact_policy.holidays item");
          if (!d) continue;
          h.day = *d;
        } else {
          if (!p.ExpectMap(item, "contact_policy.holidays item", {"date", "zones"})) continue;
          if (!item["date"]) {
            p.Error(item, "contact_policy.holidays item needs \"date\"");
            continue;
          }
          auto d = p.Date(item["date"], "contact_policy.holidays item.date");
          if (!d) continue;
          h.day = *d;
          if (auto z = item["zones"]) {
            h.zones = p.StringList(z, "contact_policy.holidays item.zones");
            for (const auto& zone : h.zones) {
              absl::TimeZone tz;
              if (zone.find('*') == std::string::npos && !absl::LoadTimeZone(zone, &tz)) {
                p.Error(z, StrCat("contact_policy.holidays: \"", zone, "\" is not an IANA time zone of this "
                                  "system's tz database (patterns like \"America/*\" are allowed)"));
              }
            }
          }
        }
        holidays.push_back(std::move(h));
      }
    }
  }
  if (auto n = node["business_hours"]) {
    if (auto hours = ParseHours(p, n, "contact_policy.business_hours", false)) {
      cp.business_hours.emplace(std::move(*hours), holidays);
    }
    if (auto c = n["channels"]) cp.business_channels = p.Channels(c, "contact_policy.business_hours.channels", false);
  }
  if (auto n = node["quiet_hours"]) {
    if (auto hours = ParseHours(p, n, "contact_policy.quiet_hours", true)) {
      std::string text = StrCat(n["from"].Scalar(), "-", n["to"].Scalar());
      if (hours->days != calendar::kEveryDay) text += ", weekends";
      if (hours->closed_on_holidays && !holidays.empty()) text += ", holidays";
      cp.quiet_hours_text = text;
      cp.send_hours.emplace(std::move(*hours), holidays);
    }
    if (auto c = n["channels"]) cp.quiet_channels = p.Channels(c, "contact_policy.quiet_hours.channels", false);
  }
  if (auto list = node["caps"]) {
    if (!list.IsSequence()) {
      p.Error(list, "contact_policy.caps must be a list of {id, channel, max, per}");
    } else {
      std::set<std::string> ids;
      for (const auto& item : list) {
        std::string what = "cap";
        if (!p.ExpectMap(item, what, {"id", "channel", "action", "except_action", "max", "per"})) continue;
        Cap cap;
        if (auto id = p.RequiredString(item, "id", what)) {
          cap.id = *id;
          what = StrCat("cap \"", cap.id, "\"");
          if (!ids.insert(cap.id).second) p.Error(item["id"], StrCat("duplicate cap id \"", cap.id, "\""));
        }
        if (auto n = item["channel"]) {
          bool all = false;
          cap.channels = p.Channels(n, StrCat(what, ".channel"), true, &all);
          if (all && !cap.channels.empty()) p.Error(n, StrCat(what, ".channel: \"all\" stands alone"));
        } else {
          p.Error(item, StrCat(what, " needs \"channel\" (a channel, a list, or all)"));
        }
        if (auto n = item["action"]) cap.actions = p.StringList(n, StrCat(what, ".action"));
        if (auto n = item["except_action"]) cap.except_actions = p.StringList(n, StrCat(what, ".except_action"));
        if (auto n = item["max"]) {
          if (auto v = p.Integer(n, StrCat(what, ".max"), 1, 1000)) cap.max = static_cast<int32_t>(*v);
        } else {
          p.Error(item, StrCat(what, " needs \"max\""));
        }
        if (auto n = item["per"]) {
          if (auto d = p.Duration(n, StrCat(what, ".per"))) cap.per_ms = *d;
        } else {
          p.Error(item, StrCat(what, " needs \"per\" (the window, e.g. 7d)"));
        }
        cp.caps.push_back(std::move(cap));
      }
    }
  }
  if (auto n = node["action_cooldowns"]) {
    if (!n.IsMap()) {
      p.Error(n, "contact_policy.action_cooldowns must map actions to durations, e.g. qualification_call: 7d");
    } else {
      for (const auto& kv : n) {
        if (auto d = p.Duration(kv.second, StrCat("contact_policy.action_cooldowns.", kv.first.Scalar()))) {
          cp.action_cooldowns.emplace_back(kv.first.Scalar(), *d);
        }
      }
    }
  }
  for (const auto& cap : cp.caps) cp.longest_window_ms = std::max(cp.longest_window_ms, cap.per_ms);
  for (const auto& [pattern, ms] : cp.action_cooldowns) cp.longest_window_ms = std::max(cp.longest_window_ms, ms);
}

void ParseRouting(Parser& p, const YAML::Node& node, DecisionConfig* config) {
  if (!p.ExpectMap(node, "routing", {"auto"})) return;
  YAML::Node a = node["auto"];
  if (!a) return;
  const std::string what = "routing.auto";
  if (!p.ExpectMap(a, what, {"large_deal", "large_committee", "many_products",
                             "complex_segments", "partner_territories", "stages", "specialists",
                             "routes", "affinity"})) {
    return;
  }
  auto& ar = config->routing.automatic;
  if (auto n = a["large_deal"]) {
    if (auto v = p.Number(n, StrCat(what, ".large_deal"))) ar.large_deal = *v;
  }
  if (auto n = a["large_committee"]) {
    if (auto v = p.Integer(n, StrCat(what, ".large_committee"), 1, 1000)) ar.large_committee = static_cast<int32_t>(*v);
  }
  if (auto n = a["many_products"]) {
    if (auto v = p.Integer(n, StrCat(what, ".many_products"), 1, 1000)) ar.many_products = static_cast<int32_t>(*v);
  }
  if (auto n = a["complex_segments"]) ar.complex_segments = p.StringList(n, StrCat(what, ".complex_segments"));
  if (auto n = a["partner_territories"]) ar.partner_territories = p.StringList(n, StrCat(what, ".partner_territories"));
  if (auto st = a["stages"]) {
    if (p.ExpectMap(st, StrCat(what, ".stages"), {"early", "evaluation", "late", "customer", "dormant"})) {
      for (auto [key, field] : {std::pair{"early", &ar.early}, {"evaluation", &ar.evaluation}, {"late", &ar.late},
                                {"customer", &ar.customer}, {"dormant", &ar.dormant}}) {
        if (auto n = st[key]) {
          *field = p.StringList(n, StrCat(what, ".stages.", key));
          for (const auto& stage : *field) p.ReferStage(n, stage, StrCat(what, ".stages.", key));
        }
      }
    }
  }
  if (auto list = a["specialists"]) {
    if (!list.IsSequence()) {
      p.Error(list, StrCat(what, ".specialists must be a list of {when, role, pool}"));
    } else {
      for (const auto& item : list) {
        if (!p.ExpectMap(item, StrCat(what, ".specialists item"), {"when", "role", "pool"})) continue;
        Specialist sp;
        if (auto n = item["when"]) sp.when = p.ParseCondition(n, StrCat(what, ".specialists.when"), 0);
        else p.Error(item, StrCat(what, ".specialists item needs \"when\""));
        if (auto r = p.RequiredString(item, "role", StrCat(what, ".specialists item"))) sp.role = *r;
        if (auto n = item["pool"]) {
          if (auto s = p.String(n, StrCat(what, ".specialists.pool"))) {
            sp.pool = *s;
            p.ReferPool(n, *s);
          }
        }
        ar.specialists.push_back(std::move(sp));
      }
    }
  }
  if (auto routes = a["routes"]) {
    if (!routes.IsMap()) {
      p.Error(routes, StrCat(what, ".routes must map channels to {role, owner, pool}"));
    } else {
      for (const auto& kv : routes) {
        std::string name = kv.first.Scalar();
        auto channel = ParseChannel(name);
        if (!channel) {
          p.Error(kv.first, StrCat(what, ".routes: unknown channel \"", name, "\""));
          continue;
        }
        if (!p.ExpectMap(kv.second, StrCat(what, ".routes.", name), {"role", "owner", "pool"})) continue;
        AutoRoute r;
        if (auto n = kv.second["role"]) {
          if (auto s = p.String(n, StrCat(what, ".routes.", name, ".role"))) r.role = *s;
        }
        if (auto n = kv.second["owner"]) {
          auto s = p.String(n, StrCat(what, ".routes.", name, ".owner"));
          if (s && *s != "account") p.Error(n, StrCat(what, ".routes.", name, ".owner: only \"account\" is supported"));
          r.to_owner = true;
        }
        if (auto n = kv.second["pool"]) {
          if (auto s = p.String(n, StrCat(what, ".routes.", name, ".pool"))) {
            r.pool = *s;
            p.ReferPool(n, *s);
          }
        }
        ar.routes.emplace_back(*channel, std::move(r));
      }
    }
  }
  if (auto af = a["affinity"]) {
    if (p.ExpectMap(af, StrCat(what, ".affinity"), {"person", "digital", "min_responses", "person_share"})) {
      if (auto n = af["person"]) ar.person_signals = p.StringList(n, StrCat(what, ".affinity.person"));
      if (auto n = af["digital"]) ar.digital_signals = p.StringList(n, StrCat(what, ".affinity.digital"));
      if (auto n = af["min_responses"]) {
        if (auto v = p.Integer(n, StrCat(what, ".affinity.min_responses"), 1, 100000)) {
          ar.affinity_min_responses = static_cast<int32_t>(*v);
        }
      }
      if (auto n = af["person_share"]) {
        if (auto v = p.Number(n, StrCat(what, ".affinity.person_share"))) {
          if (*v <= 0 || *v > 1) p.Error(n, StrCat(what, ".affinity.person_share is a fraction between 0 and 1"));
          else ar.person_share = *v;
        }
      }
    }
  }
}

void ParseSla(Parser& p, const YAML::Node& node, DecisionConfig* config) {
  if (!p.ExpectMap(node, "sla", {"met_by", "business_time"})) return;
  if (auto n = node["met_by"]) config->sla.met_by = p.StringList(n, "sla.met_by");
  if (auto n = node["business_time"]) {
    if (auto b = p.Bool(n, "sla.business_time")) config->sla.business_time = *b;
  }
}

void ParseFeedback(Parser& p, const YAML::Node& node, DecisionConfig* config) {
  if (!p.ExpectMap(node, "feedback", {"dismissed_cooldown"})) return;
  if (auto n = node["dismissed_cooldown"]) {
    if (auto d = p.Duration(n, "feedback.dismissed_cooldown")) config->feedback.dismissed_cooldown_ms = *d;
  }
}

void ParseExperiments(Parser& p, const YAML::Node& node, DecisionConfig* config) {
  if (!node.IsSequence()) {
    p.Error(node, "experiments must be a list of {id, rules, holdout, arms}");
    return;
  }
  std::set<std::string> ids;
  for (const auto& item : node) {
    std::string what = "experiment";
    if (!p.ExpectMap(item, what, {"id", "rules", "holdout", "arms"})) continue;
    Experiment e;
    e.location = Parser::Loc(item);
    if (auto id = p.RequiredString(item, "id", what)) {
      e.id = *id;
      what = StrCat("experiment \"", e.id, "\"");
      if (!ids.insert(e.id).second) p.Error(item["id"], StrCat("duplicate experiment id \"", e.id, "\""));
    }
    if (auto n = item["rules"]) {
      e.rules = p.StringList(n, StrCat(what, ".rules"));
      for (const auto& rule_id : e.rules) {
        int index = -1;
        for (size_t i = 0; i < config->rules.size(); ++i) {
          if (config->rules[i].id == rule_id) index = static_cast<int>(i);
        }
        if (index < 0) {
          std::vector<std::string> names;
          for (const auto& r : config->rules) names.push_back(r.id);
          p.Error(n, StrCat(what, ": unknown rule \"", rule_id, "\"", Suggest(rule_id, names)));
        } else if (config->rules[index].experiment >= 0) {
          p.Error(n, StrCat(what, ": rule \"", rule_id, "\" is already in experiment \"",
                            config->experiments[config->rules[index].experiment].id, "\""));
        } else {
          config->rules[index].experiment = static_cast<int32_t>(config->experiments.size());
        }
      }
    } else {
      p.Error(item, StrCat(what, " needs \"rules\" (the rule ids it covers)"));
    }
    if (auto n = item["holdout"]) {
      if (auto v = p.Number(n, StrCat(what, ".holdout"))) {
        if (*v < 0 || *v >= 1) p.Error(n, StrCat(what, ".holdout is a share: at least 0 and below 1, e.g. 0.1"));
        else e.holdout = *v;
      }
    }
    if (auto arms = item["arms"]) {
      if (!arms.IsSequence() || arms.size() == 0) {
        p.Error(arms, StrCat(what, ".arms must be a non-empty list of {id, share, action, channel, priority}"));
      } else {
        std::set<std::string> arm_ids;
        for (const auto& a : arms) {
          if (!p.ExpectMap(a, StrCat(what, " arm"), {"id", "share", "action", "channel", "priority", "role"})) continue;
          ExperimentArm arm;
          if (auto id = p.RequiredString(a, "id", StrCat(what, " arm"))) {
            arm.id = *id;
            if (arm.id == "holdout") p.Error(a["id"], StrCat(what, ": \"holdout\" is reserved; use holdout: <share>"));
            if (!arm_ids.insert(arm.id).second) p.Error(a["id"], StrCat(what, ": duplicate arm \"", arm.id, "\""));
          }
          std::string arm_what = StrCat(what, " arm \"", arm.id, "\"");
          if (auto n = a["share"]) {
            if (auto v = p.Number(n, StrCat(arm_what, ".share"))) {
              if (*v <= 0) p.Error(n, StrCat(arm_what, ".share must be greater than zero"));
              else arm.share = *v;
            }
          }
          if (auto n = a["action"]) {
            if (auto s = p.String(n, StrCat(arm_what, ".action"))) arm.action = *s;
          }
          if (auto n = a["role"]) {
            if (auto s = p.String(n, StrCat(arm_what, ".role"))) arm.role = *s;
          }
          if (auto n = a["channel"]) {
            if (auto s = p.String(n, StrCat(arm_what, ".channel"))) {
              ChannelChoice choice;
              if (*s == "auto") {
                choice.automatic = true;
                arm.channel = choice;
              } else if (auto c = ParseChannel(*s)) {
                choice.channel = *c;
                arm.channel = choice;
              } else {
                p.Error(n, StrCat(arm_what, ": unknown channel \"", *s, "\""));
              }
            }
          }
          if (auto n = a["priority"]) {
            if (auto v = p.Integer(n, StrCat(arm_what, ".priority"), 0, 100)) arm.priority = static_cast<int32_t>(*v);
          }
          e.arms.push_back(std::move(arm));
        }
      }
    }
    if (e.holdout == 0 && e.arms.empty()) {
      p.Error(item, StrCat(what, " needs a holdout share, arms, or both"));
    }
    config->experiments.push_back(std::move(e));
  }
}

// Every stage must be reachable from the initial one through transitions.
void CheckReachability(Parser& p, const YAML::Node& journey, const DecisionConfig& config) {
  const auto& stages = config.journey.stages;
  if (stages.empty() || config.StageIndex(config.journey.initial) < 0) return;
  std::vector<bool> reached(stages.size(), false);
  reached[config.StageIndex(config.journey.initial)] = true;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& t : config.journey.transitions) {
      int to = config.StageIndex(t.to);
      if (to < 0 || reached[to]) continue;
      bool from_reached = t.from.empty();
      for (const auto& f : t.from) {
        int fi = config.StageIndex(f);
        if (fi >= 0 && reached[fi]) from_reached = true;
      }
      if (from_reached) {
        reached[to] = true;
        changed = true;
      }
    }
  }
  YAML::Node list = journey["stages"];
  for (size_t i = 0; i < stages.size(); ++i) {
    if (!reached[i]) {
      p.Error(list && list.IsSequence() && i < list.size() ? list[i] : journey,
              StrCat("stage \"", stages[i], "\" is unreachable: no chain of transitions leads to it "
                     "from the initial stage \"", config.journey.initial, "\""));
    }
  }
}

}  // namespace

std::string ConfigError::ToString() const {
  return StrCat(file, ":", location.line, ":", location.column, ": ", message);
}

ParseResult ParseConfig(std::string_view yaml_text, std::string_view file) {
  ParseResult result;
  Parser p(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    p.Error(SourceLocation{e.mark.line + 1, e.mark.column + 1}, StrCat("YAML syntax: ", e.msg));
    result.errors = std::move(p.errors());
    return result;
  }
  Config whole;
  whole.file = std::string(file);
  DecisionConfig& config = whole.decision;
  if (!root.IsMap()) {
    p.Error(root, "the config must be a mapping with journey, scoring, committee and rules sections");
    result.errors = std::move(p.errors());
    return result;
  }
  p.ExpectMap(root, "the config", {"application_id", "rules_version", "journey", "scoring",
                                   "committee", "rules", "pools", "arbitration", "contact_policy",
                                   "routing", "sla", "feedback", "experiments", "kafka",
                                   "state", "http"});
  if (auto n = root["application_id"]) {
    if (auto s = p.String(n, "application_id")) whole.runtime.application_id = *s;
  }
  if (auto n = root["rules_version"]) {
    if (auto s = p.String(n, "rules_version")) config.rules_version = *s;
  }
  if (config.rules_version.empty()) {
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx",
                  static_cast<unsigned long long>(StableHash64(yaml_text)));
    config.rules_version = StrCat("sha-", std::string_view(hex, 12));
  }
  if (auto j = root["journey"]) {
    ParseJourney(p, j, &config);
  } else {
    p.Error(root, "the config needs a journey section (stages and transitions)");
  }
  if (auto n = root["scoring"]) ParseScoring(p, n, &config);
  if (auto n = root["committee"]) ParseCommittee(p, n, &config);
  if (auto n = root["pools"]) ParsePools(p, n, &config);
  std::vector<std::pair<SourceLocation, std::string>> pool_refs;
  std::set<size_t> escalate_set;
  if (auto n = root["rules"]) ParseRules(p, n, &config, &pool_refs, &escalate_set);
  ParseRuntime(p, root, &whole);
  if (auto n = root["arbitration"]) ParseArbitration(p, n, &config);
  if (auto n = root["contact_policy"]) ParseContactPolicy(p, n, &config);
  if (auto n = root["routing"]) ParseRouting(p, n, &config);
  if (auto n = root["sla"]) ParseSla(p, n, &config);
  if (auto n = root["feedback"]) ParseFeedback(p, n, &config);
  if (auto n = root["experiments"]) ParseExperiments(p, n, &config);

  // Reachability is only meaningful once every stage reference is valid.
  if (p.CheckStageRefs(config)) {
    if (auto j = root["journey"]) CheckReachability(p, j, config);
  }
  pool_refs.insert(pool_refs.end(), p.pool_refs_.begin(), p.pool_refs_.end());
  for (const auto& [loc, pool] : pool_refs) {
    if (!config.FindPool(pool)) {
      std::vector<std::string> names;
      for (const auto& pl : config.pools) names.push_back(pl.id);
      p.Error(loc, StrCat("unknown pool \"", pool, "\"", Suggest(pool, names),
                          names.empty() ? "; no pools are defined" : StrCat("; pools are: ", JoinNames(names))));
    }
  }
  static const std::vector<std::string> kCrmRoles = {"decision_maker", "champion", "technical",
                                                     "finance", "procurement", "user"};
  for (const auto& [loc, role] : p.role_refs_) {
    bool known = std::find(kCrmRoles.begin(), kCrmRoles.end(), role) != kCrmRoles.end();
    for (const auto& r : config.committee.roles) known = known || r.first == role;
    if (!known) {
      std::vector<std::string> names = kCrmRoles;
      for (const auto& r : config.committee.roles) names.push_back(r.first);
      p.Error(loc, StrCat("unknown committee role \"", role, "\"", Suggest(role, names)));
    }
  }
  for (auto& t : config.journey.transitions) CollectCounts(&t.when, &config.count_series);
  for (auto& r : config.rules) CollectCounts(&r.when, &config.count_series);
  for (auto& w : config.arbitration.context) CollectCounts(&w.when, &config.count_series);
  for (auto& sp : config.routing.automatic.specialists) CollectCounts(&sp.when, &config.count_series);

  // Escalation steps: defaults, and managers for explicit ones.
  for (size_t i = 0; i < config.rules.size(); ++i) {
    Rule& rule = config.rules[i];
    if (!rule.route || rule.route->sla_ms == 0) continue;
    Route& rt = *rule.route;
    if (rt.sla_ms >= rule.expires_ms) {
      p.Error(rule.location, StrCat("rule \"", rule.id, "\": route.sla (", FormatDuration(rt.sla_ms),
                                    ") must be shorter than expires (", FormatDuration(rule.expires_ms),
                                    "): the prompt would expire before its deadline"));
    }
    const Pool* pool = rt.pool.empty() ? nullptr : config.FindPool(rt.pool);
    bool has_manager = !rt.manager.empty() || (pool != nullptr && !pool->manager.empty());
    if (!escalate_set.count(i)) {
      if (pool != nullptr && !rt.to_owner) rt.escalate.push_back(EscalationStep::kNextMember);
      if (has_manager) rt.escalate.push_back(EscalationStep::kManager);
      continue;
    }
    for (EscalationStep step : rt.escalate) {
      if (step == EscalationStep::kManager && !has_manager) {
        p.Error(rule.location, StrCat("rule \"", rule.id, "\".route.escalate names manager, but neither the route "
                                      "nor its pool has a manager (add manager: <id> to the pool or route)"));
        break;
      }
      if (step == EscalationStep::kNextMember && pool == nullptr) {
        p.Error(rule.location, StrCat("rule \"", rule.id, "\".route.escalate names next_member, but the route "
                                      "has no pool to take the next member from"));
        break;
      }
    }
  }

  std::stable_sort(p.errors().begin(), p.errors().end(), [](const ConfigError& a, const ConfigError& b) {
    return std::pair(a.location.line, a.location.column) < std::pair(b.location.line, b.location.column);
  });
  result.errors = std::move(p.errors());
  if (result.errors.empty()) result.config = std::move(whole);
  return result;
}

ParseResult LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ParseResult result;
    result.errors.push_back({path, {0, 0}, "cannot read the config file (does it exist?)"});
    return result;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseConfig(buffer.str(), path);
}

}  // namespace demandcenter::config
