#include "absl/strings/str_join.h"
#include "demandcenter/routing/routing.h"

#include <algorithm>
#include <cmath>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::routing {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// The weighted rendezvous score of a member for an account: -w / ln(u) with
// u uniform in (0, 1) from a stable hash.
double RendezvousScore(const config::PoolMember& m, std::string_view account_id) {
  uint64_t h = StableHash64(StrCat(m.id, "/", account_id), 7);
  double u = OpenUnitFraction(h);
  return -m.weight / std::log(u);
}

}  // namespace

bool MemberAvailable(const config::PoolMember& member, int64_t at_ms) {
  if (member.paused) return false;
  for (const auto& [from, to] : member.out_of_office) {
    if (at_ms >= from && at_ms < to) return false;
  }
  return true;
}

PoolDirectory::PoolDirectory(const config::DecisionConfig& config) : pools_(config.pools) {}

const config::Pool* PoolDirectory::Find(std::string_view id) const {
  for (const auto& p : pools_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

absl::Status PoolDirectory::Apply(const v1::PoolMemberUpdate& update) {
  if (update.pool_id().empty() || update.member_id().empty()) {
    return absl::InvalidArgumentError("a pool update needs pool_id and member_id");
  }
  if (update.weight() < 0) {
    return absl::InvalidArgumentError(StrCat("pool update for ", update.pool_id(), "/", update.member_id(),
                                             ": weight must not be negative"));
  }
  config::Pool* pool = nullptr;
  for (auto& p : pools_) {
    if (p.id == update.pool_id()) pool = &p;
  }
  if (pool == nullptr) {
    return absl::NotFoundError(StrCat("pool update for unknown pool \"", update.pool_id(), "\" ignored"));
  }
  auto it = std::find_if(pool->members.begin(), pool->members.end(),
                         [&](const config::PoolMember& m) { return m.id == update.member_id(); });
  if (update.removed()) {
    if (it != pool->members.end()) pool->members.erase(it);
    return absl::OkStatus();
  }
  config::PoolMember member;
  member.id = update.member_id();
  member.weight = update.weight() > 0 ? update.weight() : 1;
  member.paused = update.paused();
  for (const auto& w : update.out_of_office()) {
    int64_t from = ToMillis(w.from());
    int64_t to = w.has_to() ? ToMillis(w.to()) : INT64_MAX;
    if (to > from) member.out_of_office.emplace_back(from, to);
  }
  if (it != pool->members.end()) {
    *it = std::move(member);
  } else {
    pool->members.push_back(std::move(member));
  }
  return absl::OkStatus();
}

bool PoolDirectory::Available(std::string_view person, int64_t at_ms) const {
  for (const auto& p : pools_) {
    for (const auto& m : p.members) {
      if (m.id == person && !MemberAvailable(m, at_ms)) return false;
    }
  }
  return true;
}

std::string PickPoolMember(const config::Pool& pool, std::string_view account_id) {
  const config::PoolMember* best = nullptr;
  double best_score = 0;
  for (const auto& m : pool.members) {
    double score = RendezvousScore(m, account_id);
    if (best == nullptr || score > best_score) {
      best = &m;
      best_score = score;
    }
  }
  return best == nullptr ? "" : best->id;
}

std::string PickAvailableMember(const config::Pool& pool, std::string_view account_id, int64_t at_ms,
                                const std::vector<std::string>& exclude, std::vector<std::string>* skipped) {
  const config::PoolMember* best = nullptr;
  double best_score = 0;
  // Members ranked above the winner but unavailable, for the trace.
  std::vector<std::pair<double, const config::PoolMember*>> passed;
  for (const auto& m : pool.members) {
    if (Contains(exclude, m.id)) continue;
    double score = RendezvousScore(m, account_id);
    if (!MemberAvailable(m, at_ms)) {
      if (skipped != nullptr) passed.emplace_back(score, &m);
      continue;
    }
    if (best == nullptr || score > best_score) {
      best = &m;
      best_score = score;
    }
  }
  if (skipped != nullptr) {
    std::sort(passed.begin(), passed.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [score, m] : passed) {
      if (best == nullptr || score > best_score) skipped->push_back(m->id);
    }
  }
  return best == nullptr ? "" : best->id;
}

AutoChoice AutoChannel(const config::DecisionConfig& config, condition::EvalContext& context,
                       condition::Facts* facts) {
  const config::AutoRoutingConfig& model = config.routing.automatic;
  const v1::AccountState& account = context.account();
  const std::string& stage = account.stage();
  int32_t committee = context.committee().size;
  double amount = account.opportunity_amount();

  std::string group = Contains(model.customer, stage)     ? "customer"
                      : Contains(model.dormant, stage)    ? "dormant"
                      : Contains(model.late, stage)       ? "late"
                      : Contains(model.evaluation, stage) ? "evaluation"
                                                          : "early";
  std::string complex_why = condition::ComplexWhy(context);
  bool complex = !complex_why.empty();
  bool partner = !account.territory().empty() && Contains(model.partner_territories, account.territory());
  int32_t person = account.person_responses();
  int32_t digital = account.digital_responses();
  int32_t responses = person + digital;
  bool prefers_people = responses >= model.affinity_min_responses &&
                        static_cast<double>(person) >= model.person_share * responses;

  (*facts)["auto.stage"] = stage;
  (*facts)["auto.stage_group"] = group;
  (*facts)["auto.amount"] = condition::FormatNumber(amount);
  (*facts)["auto.committee_size"] = std::to_string(committee);
  (*facts)["auto.products"] = std::to_string(account.product_count());
  (*facts)["auto.segment"] = account.segment().empty() ? "unknown" : account.segment();
  (*facts)["auto.territory"] = account.territory().empty() ? "unknown" : account.territory();
  (*facts)["auto.partner_territory"] = partner ? "yes" : "no";
  (*facts)["auto.complex"] = complex ? StrCat("yes: ", complex_why) : "no";
  (*facts)["auto.affinity"] =
      StrCat(person, " of ", responses, " responses to people: ",
             responses < model.affinity_min_responses ? "too few to tell"
             : prefers_people                         ? "prefers people"
                                                      : "prefers digital");

  AutoChoice choice;
  const config::Specialist* specialist = nullptr;
  if (group == "customer") {
    choice.channel = partner && !complex ? v1::PARTNER : v1::CUSTOMER_SUCCESS;
  } else if (group == "dormant") {
    choice.channel = v1::EMAIL;
  } else if (group == "late") {
    choice.channel = complex ? v1::FIELD_SALES : v1::INSIDE_SALES;
  } else if (group == "evaluation" && complex) {
    // A specialist for a complex deal only. The specialist conditions use
    // the context's scratch facts: keep the rule's facts out of it.
    condition::Facts saved = std::move(context.facts());
    for (const auto& sp : model.specialists) {
      context.facts().clear();
      if (condition::Evaluate(sp.when, context)) {
        specialist = &sp;
        break;
      }
    }
    context.facts() = std::move(saved);
    choice.channel = specialist != nullptr ? v1::SPECIALIST : v1::FIELD_SALES;
  } else if (group == "evaluation") {
    choice.channel = v1::INSIDE_SALES;
  } else {
    choice.channel = complex || prefers_people ? v1::INSIDE_SALES : v1::DIGITAL;
  }
  // Partners take the person-led touches of their territories, unless the
  // deal is complex.
  if (choice.channel == v1::INSIDE_SALES && partner) choice.channel = v1::PARTNER;

  switch (choice.channel) {
    case v1::DIGITAL: choice.branch = "digital"; break;
    case v1::EMAIL: choice.branch = "email"; break;
    case v1::INSIDE_SALES: choice.branch = "inside_sales"; break;
    case v1::FIELD_SALES: choice.branch = "field_sales"; break;
    case v1::SPECIALIST: choice.branch = "specialist"; break;
    case v1::CUSTOMER_SUCCESS: choice.branch = "customer_success"; break;
    case v1::PARTNER: choice.branch = "partner"; break;
    default: choice.branch = "unknown"; break;
  }
  (*facts)["auto.branch"] = choice.branch;
  if (specialist != nullptr) {
    (*facts)["auto.specialist"] = specialist->role;
    choice.role = specialist->role;
    choice.pool = specialist->pool;
    choice.has_route = !specialist->pool.empty();
  }
  if (const config::AutoRoute* route = model.RouteFor(choice.channel)) {
    if (choice.role.empty()) choice.role = route->role;
    if (!choice.has_route && (route->to_owner || !route->pool.empty())) {
      choice.to_owner = route->to_owner;
      choice.pool = route->pool;
      choice.has_route = true;
    }
  }
  return choice;
}

Assignment Assign(const PoolDirectory& pools, bool to_owner, const std::string& pool_id,
                  const v1::AccountState& account, int64_t at_ms) {
  Assignment a;
  const config::Pool* pool = pool_id.empty() ? nullptr : pools.Find(pool_id);
  if (pool != nullptr) a.manager = pool->manager;
  bool owner_away = false;
  if (to_owner && !account.owner_id().empty()) {
    if (pools.Available(account.owner_id(), at_ms)) {
      a.assignee = account.owner_id();
      a.kind = "owner";
      a.reason = StrCat("account owner ", account.owner_id());
      return a;
    }
    owner_away = true;
  }
  if (pool != nullptr) {
    std::vector<std::string> skipped;
    a.pool = pool->id;
    std::vector<std::string> exclude;
    if (owner_away) exclude.push_back(account.owner_id());  // already named as unavailable
    a.assignee = PickAvailableMember(*pool, account.account_id(), at_ms, exclude, &skipped);
    std::string away = absl::StrJoin(skipped, ", ");
    std::string member = a.assignee.empty() ? StrCat("pool ", pool->id, " has nobody available")
                                            : StrCat("pool ", pool->id, " member ", a.assignee);
    if (!away.empty() && !a.assignee.empty()) member += StrCat(" (", away, " unavailable)");
    if (owner_away) {
      a.kind = "owner_unavailable_pool";
      a.reason = StrCat("account owner ", account.owner_id(), " unavailable; ", member);
    } else if (to_owner) {
      a.kind = "no_owner_pool";
      a.reason = StrCat("no account owner in CRM; ", member);
    } else {
      a.kind = "pool";
      a.reason = member;
    }
    if (a.assignee.empty()) a.kind = "none";
    return a;
  }
  a.kind = "none";
  a.reason = owner_away ? StrCat("account owner ", account.owner_id(), " unavailable and no pool to fall back on")
                        : "no account owner in CRM and no pool to fall back on";
  return a;
}

void RecordAffinity(const config::DecisionConfig& config, std::string_view type, v1::AccountState* account) {
  const auto& model = config.routing.automatic;
  for (const auto& p : model.person_signals) {
    if (GlobMatch(p, type)) {
      account->set_person_responses(account->person_responses() + 1);
      return;
    }
  }
  for (const auto& p : model.digital_signals) {
    if (GlobMatch(p, type)) {
      account->set_digital_responses(account->digital_responses() + 1);
      return;
    }
  }
}

}  // namespace demandcenter::routing
