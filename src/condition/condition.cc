#include "absl/strings/str_join.h"
#include "demandcenter/condition/condition.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include "demandcenter/common/strings.h"

namespace demandcenter::condition {
namespace {

bool ValueMatches(const std::vector<std::string>& patterns, std::string_view value) {
  for (const auto& p : patterns) {
    if (GlobMatch(p, value)) return true;
  }
  return false;
}

std::string JoinRoles(const std::vector<std::string>& roles) { return absl::StrJoin(roles, ","); }

}  // namespace

std::string FormatNumber(double value) {
  // Fixed, two decimals, correctly rounded (as printf's "%.2f"), without
  // printf's cost: traces format several numbers per decision.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed, 2);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

double DecayedValue(const v1::DecayedScore& score, int64_t half_life_ms, int64_t now_ms) {
  if (score.value() == 0 || now_ms <= score.as_of_ms()) return score.value();
  double elapsed = static_cast<double>(now_ms - score.as_of_ms());
  return score.value() * std::exp2(-elapsed / static_cast<double>(half_life_ms));
}

Committee BuildCommittee(const v1::AccountState& account, const config::DecisionConfig& config,
                         int64_t now_ms) {
  Committee c;
  std::set<std::string> roles;
  for (const auto& contact : account.contacts()) {
    if (contact.last_engaged_ms() == 0) continue;
    if (contact.last_engaged_ms() < now_ms - config.committee.window_ms) continue;
    ++c.size;
    c.members.push_back(&contact);
    if (!contact.role().empty()) roles.insert(contact.role());
  }
  c.roles.assign(roles.begin(), roles.end());
  return c;
}

bool TypeMatches(const std::vector<std::string>& patterns, std::string_view type) {
  return patterns.empty() || ValueMatches(patterns, type);
}

EvalContext::EvalContext(const config::DecisionConfig& config, const v1::Signal& signal,
                         const v1::AccountState& account, int64_t now_ms,
                         const std::vector<std::string>& entered_stages)
    : config_(config),
      signal_(signal),
      account_(account),
      now_ms_(now_ms),
      entered_stages_(entered_stages) {
  // The same contact the journey applied the signal to: by contact_id, or by
  // email when the signal carries only an address.
  for (const auto& c : account.contacts()) {
    bool same = !signal.contact_id().empty()
                    ? c.contact_id() == signal.contact_id()
                    : !signal.email().empty() && c.email() == signal.email();
    if (same) {
      contact_ = &c;
      break;
    }
  }
}

const Committee& EvalContext::committee() {
  if (!committee_ready_) {
    committee_ = BuildCommittee(account_, config_, now_ms_);
    committee_ready_ = true;
  }
  return committee_;
}

double EvalContext::score() {
  if (!score_ready_) {
    score_ = DecayedValue(account_.score(), config_.scoring.half_life_ms, now_ms_);
    score_ready_ = true;
  }
  return score_;
}

int32_t EvalContext::CountInWindow(int32_t series, int64_t within_ms,
                                   bool distinct_contacts) const {
  const std::string& name = config_.count_series[series].name;
  for (const auto& s : account_.counts()) {
    if (s.pattern() != name) continue;
    int64_t from = now_ms_ - within_ms;
    if (!distinct_contacts) {
      int32_t n = 0;
      for (int64_t at : s.at_ms()) n += (at > from && at <= now_ms_);
      return n;
    }
    std::set<std::string_view> contacts;
    for (int i = 0; i < s.at_ms_size(); ++i) {
      if (s.at_ms(i) > from && s.at_ms(i) <= now_ms_ && !s.contact(i).empty()) {
        contacts.insert(s.contact(i));
      }
    }
    return static_cast<int32_t>(contacts.size());
  }
  return 0;
}

std::string FieldValue(const v1::Signal& signal, const v1::AccountState& account,
                       std::string_view field) {
  if (field.rfind("attributes.", 0) == 0) {
    auto it = signal.attributes().find(std::string(field.substr(11)));
    return it == signal.attributes().end() ? "" : it->second;
  }
  if (field == "source_system") return signal.source_system();
  if (field == "segment") return account.segment();
  const auto& w = signal.web_visit();
  if (field == "url") return w.url();
  if (field == "path") return w.path();
  if (field == "referrer") return w.referrer();
  if (field == "page_category") return w.page_category();
  if (field == "session_id") return w.session_id();
  if (field == "utm_source") return w.utm_source();
  if (field == "utm_medium") return w.utm_medium();
  if (field == "utm_campaign") return w.utm_campaign();
  const auto& e = signal.email_engagement();
  if (field == "campaign_id") return e.campaign_id();
  if (field == "message_id") return e.message_id();
  if (field == "link_url") return e.link_url();
  if (field == "bounce_kind") {
    return e.bounce_kind() == v1::HARD ? "HARD" : e.bounce_kind() == v1::SOFT ? "SOFT" : "";
  }
  const auto& c = signal.crm_activity();
  if (field == "object") return c.object();
  if (field == "opportunity_stage") return c.opportunity_stage();
  if (field == "owner_id") return c.owner_id();
  if (field == "territory") return c.territory();
  if (field == "contact_title") return c.contact_title();
  if (field == "contact_role") return c.contact_role();
  if (field == "account_segment") return c.account_segment();
  if (field == "do_not_contact") return c.do_not_contact() ? "true" : "false";
  if (field == "prompt_outcome") return c.prompt_outcome();
  if (field == "metric") return signal.product_usage().metric();
  return "";
}

std::string ComplexWhy(EvalContext& ctx) {
  const config::AutoRoutingConfig& model = ctx.config().routing.automatic;
  const v1::AccountState& account = ctx.account();
  double amount = account.opportunity_amount();
  if (amount >= model.large_deal) {
    return StrCat("amount ", FormatNumber(amount), " >= ", FormatNumber(model.large_deal));
  }
  if (int32_t committee = ctx.committee().size; committee >= model.large_committee) {
    return StrCat("committee ", committee, " >= ", model.large_committee);
  }
  if (account.product_count() >= model.many_products) {
    return StrCat("products ", account.product_count(), " >= ", model.many_products);
  }
  const auto& segments = model.complex_segments;
  if (!account.segment().empty() && std::find(segments.begin(), segments.end(), account.segment()) != segments.end()) {
    return StrCat("segment ", account.segment());
  }
  return "";
}

bool Evaluate(const config::Condition& c, EvalContext& ctx) {
  Facts& facts = ctx.facts();
  if (!TypeMatches(c.types, ctx.signal().type())) return false;
  for (const auto& m : c.matches) {
    std::string value = FieldValue(ctx.signal(), ctx.account(), m.field);
    if (!ValueMatches(m.values, value)) return false;
    facts[m.field] = value;
  }
  if (!c.stages.empty()) {
    if (std::find(c.stages.begin(), c.stages.end(), ctx.account().stage()) == c.stages.end()) {
      return false;
    }
  }
  if (!c.entered_stages.empty()) {
    bool entered = false;
    for (const auto& s : ctx.entered_stages()) {
      entered = entered || std::find(c.entered_stages.begin(), c.entered_stages.end(), s) !=
                               c.entered_stages.end();
    }
    if (!entered) return false;
  }
  if (c.score_at_least || c.score_below) {
    double score = ctx.score();
    facts["score"] = FormatNumber(score);
    if (c.score_at_least && score < *c.score_at_least) return false;
    if (c.score_below && score >= *c.score_below) return false;
  }
  if (c.contact_score_at_least) {
    const v1::ContactState* contact = ctx.contact();
    if (contact == nullptr) return false;
    double score = DecayedValue(contact->score(), ctx.config().scoring.half_life_ms, ctx.now_ms());
    facts["contact_score"] = FormatNumber(score);
    if (score < *c.contact_score_at_least) return false;
  }
  if (c.committee_size_at_least || !c.committee_roles.empty()) {
    const Committee& committee = ctx.committee();
    facts["committee_size"] = std::to_string(committee.size);
    facts["committee_roles"] = JoinRoles(committee.roles);
    if (c.committee_size_at_least && committee.size < *c.committee_size_at_least) return false;
    for (const auto& role : c.committee_roles) {
      if (!std::binary_search(committee.roles.begin(), committee.roles.end(), role)) return false;
    }
  }
  for (const auto& count : c.counts) {
    int32_t n = ctx.CountInWindow(count.series, count.within_ms, count.distinct_contacts);
    facts[StrCat(count.distinct_contacts ? "contacts." : "count.",
                 ctx.config().count_series[count.series].name)] = std::to_string(n);
    if (n < count.at_least) return false;
  }
  if (c.time_in_stage_at_least_ms) {
    int64_t in_stage = ctx.now_ms() - ctx.account().stage_entered_ms();
    facts["time_in_stage_seconds"] = std::to_string(in_stage / 1000);
    if (in_stage < *c.time_in_stage_at_least_ms) return false;
  }
  if (c.amount_at_least) {
    double amount = ctx.account().opportunity_amount();
    facts["amount"] = FormatNumber(amount);
    if (amount < *c.amount_at_least) return false;
  }
  if (c.complex_deal) {
    std::string why = ComplexWhy(ctx);
    facts["complex_deal"] = why.empty() ? "no" : StrCat("yes: ", why);
    if (why.empty() == *c.complex_deal) return false;
  }
  if (c.usage_drop_at_least) {
    double drop = ctx.account().usage_drop();
    facts["usage_drop"] = FormatNumber(drop);
    if (drop < *c.usage_drop_at_least) return false;
  }
  if (!c.any.empty()) {
    bool one = false;
    for (const auto& sub : c.any) {
      if (Evaluate(sub, ctx)) {
        one = true;
        break;
      }
    }
    if (!one) return false;
  }
  for (const auto& sub : c.none) {
    if (Evaluate(sub, ctx)) return false;
  }
  return true;
}

}  // namespace demandcenter::condition
