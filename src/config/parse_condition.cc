// The condition language's parser, shared by journey guards, rules,
// arbitration context weights and routing specialists (docs/rules.md).
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

// The keys a condition may have.
const std::vector<std::string>& ConditionKeys() {
  static const std::vector<std::string> kKeys = {
      "type", "match", "score_at_least", "score_below", "contact_score_at_least",
      "committee_size_at_least", "committee_roles", "count", "stage", "entered_stage",
      "time_in_stage_at_least", "amount_at_least", "usage_drop_at_least", "complex_deal", "any", "none"};
  return kKeys;
}

// Deeper any/none nesting is refused.
constexpr int kMaxDepth = 8;

// `count: {type, within, at_least, distinct_contacts}`.
void ParseCount(YamlReader& reader, const YAML::Node& node, const std::string& what,
                Condition* out) {
  if (!reader.ExpectMap(node, what, {"type", "within", "at_least", "distinct_contacts"})) return;
  CountCondition count;
  if (node["type"]) {
    count.types = reader.StringList(node["type"], StrCat(what, ".type"));
  } else {
    reader.Error(node, StrCat(what, " needs \"type\" (the signal types to count)"));
  }
  if (node["within"]) {
    if (auto d = reader.Duration(node["within"], StrCat(what, ".within"))) count.within_ms = *d;
  } else {
    reader.Error(node, StrCat(what, " needs \"within\" (the window, e.g. 7d)"));
  }
  if (node["at_least"]) {
    if (auto n = reader.Integer(node["at_least"], StrCat(what, ".at_least"), 1, 100000)) {
      count.at_least = static_cast<int32_t>(*n);
    }
  }
  if (node["distinct_contacts"]) {
    if (auto b = reader.Bool(node["distinct_contacts"], StrCat(what, ".distinct_contacts"))) {
      count.distinct_contacts = *b;
    }
  }
  out->counts.push_back(std::move(count));
}

// `match: {field: value-or-list}`; a field is a signal field or
// attributes.<name>.
void ParseMatch(YamlReader& reader, const YAML::Node& node, const std::string& what,
                Condition* out) {
  if (!node.IsMap()) {
    reader.Error(node,
                 StrCat(what, ".match must map fields to values, e.g. page_category: pricing"));
    return;
  }
  const auto& fields = MatchableFields();
  for (const auto& kv : node) {
    std::string field = kv.first.Scalar();
    bool known = field.starts_with("attributes.") && field.size() > 11;
    known = known || (field != "attributes.*" &&
                      std::find(fields.begin(), fields.end(), field) != fields.end());
    if (!known) {
      reader.Error(kv.first, StrCat("unknown field \"", field, "\" in ", what, ".match",
                                    Suggest(field, fields),
                                    "; fields are: ", absl::StrJoin(fields, ", ")));
      continue;
    }
    out->matches.push_back({field, reader.StringList(kv.second, StrCat(what, ".match.", field))});
  }
}

// The account's and signal's facts: scores, committee, counts, stages,
// amounts, usage.
void ParseFacts(YamlReader& reader, const YAML::Node& node, const std::string& what,
                Condition* c) {
  if (auto n = node["score_at_least"]) {
    c->score_at_least = reader.Number(n, StrCat(what, ".score_at_least"));
  }
  if (auto n = node["score_below"]) c->score_below = reader.Number(n, StrCat(what, ".score_below"));
  if (auto n = node["contact_score_at_least"]) {
    c->contact_score_at_least = reader.Number(n, StrCat(what, ".contact_score_at_least"));
  }
  if (auto n = node["committee_size_at_least"]) {
    if (auto v = reader.Integer(n, StrCat(what, ".committee_size_at_least"), 1, 1000)) {
      c->committee_size_at_least = static_cast<int32_t>(*v);
    }
  }
  if (auto n = node["committee_roles"]) {
    c->committee_roles = reader.StringList(n, StrCat(what, ".committee_roles"));
    for (const auto& role : c->committee_roles) reader.ReferRole(n, role);
  }
  if (auto n = node["count"]) {
    if (n.IsSequence()) {
      for (const auto& item : n) ParseCount(reader, item, StrCat(what, ".count"), c);
    } else {
      ParseCount(reader, n, StrCat(what, ".count"), c);
    }
  }
  if (auto n = node["stage"]) {
    c->stages = reader.StringList(n, StrCat(what, ".stage"));
    for (const auto& s : c->stages) reader.ReferStage(n, s, StrCat(what, ".stage"));
  }
  if (auto n = node["entered_stage"]) {
    c->entered_stages = reader.StringList(n, StrCat(what, ".entered_stage"));
    for (const auto& s : c->entered_stages) reader.ReferStage(n, s, StrCat(what, ".entered_stage"));
  }
  if (auto n = node["time_in_stage_at_least"]) {
    c->time_in_stage_at_least_ms = reader.Duration(n, StrCat(what, ".time_in_stage_at_least"));
  }
  if (auto n = node["amount_at_least"]) {
    c->amount_at_least = reader.Number(n, StrCat(what, ".amount_at_least"));
  }
  if (auto n = node["complex_deal"]) c->complex_deal = reader.Bool(n, StrCat(what, ".complex_deal"));
  if (auto n = node["usage_drop_at_least"]) {
    c->usage_drop_at_least = reader.Number(n, StrCat(what, ".usage_drop_at_least"));
    if (c->usage_drop_at_least && (*c->usage_drop_at_least <= 0 || *c->usage_drop_at_least > 1)) {
      reader.Error(n, StrCat(what, ".usage_drop_at_least is a fraction: between 0 and 1, e.g. 0.3 "
                                   "for 30%"));
    }
  }
}

}  // namespace

Condition ParseCondition(YamlReader& reader, const YAML::Node& node, const std::string& what,
                         int depth) {
  Condition c;
  if (depth > kMaxDepth) {
    reader.Error(node,
                 StrCat(what, " nests any/none too deeply (more than ", kMaxDepth, " levels)"));
    return c;
  }
  if (!reader.ExpectMap(node, what, ConditionKeys())) return c;
  if (auto n = node["type"]) c.types = reader.StringList(n, StrCat(what, ".type"));
  if (auto n = node["match"]) ParseMatch(reader, n, what, &c);
  ParseFacts(reader, node, what, &c);
  for (const char* key : {"any", "none"}) {
    YAML::Node list = node[key];
    if (!list) continue;
    if (!list.IsSequence() || list.size() == 0) {
      reader.Error(list, StrCat(what, ".", key, " must be a non-empty list of conditions"));
      continue;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      Condition sub =
          ParseCondition(reader, list[i], StrCat(what, ".", key, "[", i, "]"), depth + 1);
      (std::string_view(key) == "any" ? c.any : c.none).push_back(std::move(sub));
    }
  }
  return c;
}

}  // namespace demandcenter::config::internal
