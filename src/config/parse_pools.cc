// The pools section's parser: the teams work is routed to, their managers
// and members, with weights, pauses and out-of-office periods.
#include <string>
#include <utility>

#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

// out_of_office: [{from, to}, ...]: dates (to inclusive) or UTC times.
void ParseOutOfOffice(YamlReader& reader, const YAML::Node& ooo, const std::string& what,
                      PoolMember* member) {
  if (!ooo.IsSequence()) {
    reader.Error(ooo, StrCat(what, " must be a list of {from, to}"));
    return;
  }
  for (const auto& w : ooo) {
    if (!reader.ExpectMap(w, what, {"from", "to"})) continue;
    if (!w["from"] || !w["to"]) {
      reader.Error(w, StrCat(what, " needs from and to (dates or UTC times)"));
      continue;
    }
    auto from = reader.Instant(w["from"], StrCat(what, ".from"), false);
    auto to = reader.Instant(w["to"], StrCat(what, ".to"), true);
    if (from && to) {
      if (*to <= *from) {
        reader.Error(w, StrCat(what, ": to must be after from"));
      } else {
        member->out_of_office.emplace_back(*from, *to);
      }
    }
  }
}

// A member: an id, or {id, weight, paused, out_of_office}.
PoolMember ParseMember(YamlReader& reader, const YAML::Node& m, const std::string& pool_id) {
  PoolMember member;
  if (m.IsScalar()) {
    member.id = m.Scalar();
    return member;
  }
  if (!reader.ExpectMap(m, StrCat("pool \"", pool_id, "\" member"),
                        {"id", "weight", "paused", "out_of_office"})) {
    return member;
  }
  if (auto mid = reader.RequiredString(m, "id", "pool member")) member.id = *mid;
  if (auto w = m["weight"]) {
    if (auto v = reader.Number(w, "pool member weight")) {
      if (*v <= 0) {
        reader.Error(w, "pool member weight must be greater than zero");
      } else {
        member.weight = *v;
      }
    }
  }
  if (auto n = m["paused"]) {
    if (auto b = reader.Bool(n, "pool member paused")) member.paused = *b;
  }
  if (auto ooo = m["out_of_office"]) {
    ParseOutOfOffice(reader, ooo,
                     StrCat("pool \"", pool_id, "\" member \"", member.id, "\".out_of_office"),
                     &member);
  }
  return member;
}

}  // namespace

void ParsePools(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!node.IsSequence()) {
    reader.Error(node, "pools must be a list of {id, members}");
    return;
  }
  for (const auto& item : node) {
    if (!reader.ExpectMap(item, "pool", {"id", "manager", "members"})) continue;
    Pool pool;
    auto id = reader.RequiredString(item, "id", "pool");
    if (!id) continue;
    pool.id = *id;
    if (config->FindPool(pool.id)) {
      reader.Error(item["id"], StrCat("duplicate pool id \"", pool.id, "\""));
      continue;
    }
    if (auto n = item["manager"]) {
      if (auto m = reader.String(n, StrCat("pool \"", pool.id, "\".manager"))) pool.manager = *m;
    }
    YAML::Node members = item["members"];
    if (!members || !members.IsSequence() || members.size() == 0) {
      reader.Error(members ? members : YAML::Node(item),
                   StrCat("pool \"", pool.id, "\" needs a non-empty members list"));
    } else {
      for (const auto& m : members) {
        PoolMember member = ParseMember(reader, m, pool.id);
        for (const auto& other : pool.members) {
          if (other.id == member.id) {
            reader.Error(m, StrCat("pool \"", pool.id, "\" lists \"", member.id, "\" twice"));
          }
        }
        if (!member.id.empty()) pool.members.push_back(member);
      }
    }
    config->pools.push_back(std::move(pool));
  }
}

}  // namespace demandcenter::config::internal
