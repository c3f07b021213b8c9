#include "demandcenter/routing/routing.h"

#include <cmath>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"

namespace demandcenter::routing {
namespace {

constexpr double kLargeDealAmount = 100000;
constexpr int32_t kLargeCommittee = 4;

}  // namespace

v1::Channel AutoChannel(const v1::AccountState& account, int32_t committee_size,
                        condition::Facts* facts) {
  const std::string& stage = account.stage();
  (*facts)["auto.stage"] = stage;
  (*facts)["auto.amount"] = condition::FormatNumber(account.opportunity_amount());
  (*facts)["auto.committee_size"] = std::to_string(committee_size);
  if (stage == "customer" || stage == "expanding" || stage == "at_risk") return v1::CUSTOMER_SUCCESS;
  if (stage == "negotiating") return v1::FIELD_SALES;
  if (stage == "evaluating") {
    bool complex = account.opportunity_amount() >= kLargeDealAmount ||
                   committee_size >= kLargeCommittee || account.segment() == "enterprise";
    return complex ? v1::FIELD_SALES : v1::INSIDE_SALES;
  }
  if (stage == "dormant") return v1::EMAIL;
  return v1::DIGITAL;
}

std::string PickPoolMember(const config::Pool& pool, std::string_view account_id) {
  const config::PoolMember* best = nullptr;
  double best_score = 0;
  for (const auto& m : pool.members) {
    uint64_t h = StableHash64(StrCat(m.id, "/", account_id), 7);
    // Uniform in (0, 1); -w / ln(u) is the weighted rendezvous score.
    double u = (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;
    double score = -m.weight / std::log(u);
    if (best == nullptr || score > best_score) {
      best = &m;
      best_score = score;
    }
  }
  return best == nullptr ? "" : best->id;
}

RouteResult Route(const config::Config& config, const config::Rule& rule,
                  const v1::AccountState& account, int32_t committee_size,
                  condition::Facts* facts) {
  RouteResult r;
  r.role = rule.role;
  r.channel = rule.channel.automatic ? AutoChannel(account, committee_size, facts)
                                     : rule.channel.channel;
  if (!rule.route) return r;
  if (rule.route->to_owner && !account.owner_id().empty()) {
    r.assignee = account.owner_id();
    r.reason = StrCat("account owner ", account.owner_id());
    return r;
  }
  if (!rule.route->pool.empty()) {
    if (const config::Pool* pool = config.FindPool(rule.route->pool)) {
      r.pool = pool->id;
      r.assignee = PickPoolMember(*pool, account.account_id());
      r.reason = rule.route->to_owner
                     ? StrCat("no account owner in CRM; pool ", pool->id, " member ", r.assignee)
                     : StrCat("pool ", pool->id, " member ", r.assignee);
      return r;
    }
  }
  r.reason = "no account owner in CRM and no pool to fall back on";
  return r;
}

}  // namespace demandcenter::routing
