#include "demandcenter/journey/journey.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::journey {
namespace {

void AddToScore(v1::DecayedScore* score, double weight, int64_t at_ms, int64_t half_life_ms) {
  if (weight == 0) return;
  if (at_ms >= score->as_of_ms()) {
    score->set_value(condition::DecayedValue(*score, half_life_ms, at_ms) + weight);
    score->set_as_of_ms(at_ms);
  } else {
    // A late signal: add its weight decayed to the score's current instant.
    double elapsed = static_cast<double>(score->as_of_ms() - at_ms);
    score->set_value(score->value() + weight * std::exp2(-elapsed / static_cast<double>(half_life_ms)));
  }
}

// A contact first seen by address alone and later linked to a CRM id by a
// signal that carries both is one person: fold the address-only record into
// `keep` (consent flags, score, engagement), so consent follows the person.
v1::ContactState* MergeDuplicateAddress(v1::AccountState* account, v1::ContactState* keep, int64_t half_life_ms) {
  if (keep->email().empty() || keep->contact_id().empty()) return keep;
  auto* contacts = account->mutable_contacts();
  for (int i = 0; i < contacts->size(); ++i) {
    v1::ContactState& other = *contacts->Mutable(i);
    if (&other == keep || !other.contact_id().empty() || other.email() != keep->email()) continue;
    keep->set_unsubscribed(keep->unsubscribed() || other.unsubscribed());
    keep->set_bounced(keep->bounced() || other.bounced());
    keep->set_do_not_contact(keep->do_not_contact() || other.do_not_contact());
    if (keep->title().empty()) keep->set_title(other.title());
    if (keep->role().empty()) keep->set_role(other.role());
    keep->set_last_engaged_ms(std::max(keep->last_engaged_ms(), other.last_engaged_ms()));
    // Scores: both decayed to the later of their instants, then added.
    int64_t at = std::max(keep->score().as_of_ms(), other.score().as_of_ms());
    double value = condition::DecayedValue(keep->score(), half_life_ms, at) +
                   condition::DecayedValue(other.score(), half_life_ms, at);
    keep->mutable_score()->set_value(value);
    keep->mutable_score()->set_as_of_ms(at);
    // `keep` may move when the record before it is removed: swap the
    // duplicate to the end first.
    std::string keep_id = keep->contact_id();
    contacts->SwapElements(i, contacts->size() - 1);
    contacts->RemoveLast();
    for (auto& c : *contacts) {
      if (c.contact_id() == keep_id) return &c;
    }
    return nullptr;  // unreachable: keep has a contact id
  }
  return keep;
}

v1::ContactState* FindOrAddContact(const v1::Signal& signal, v1::AccountState* account, int64_t half_life_ms) {
  if (signal.contact_id().empty() && signal.email().empty()) return nullptr;
  for (auto& c : *account->mutable_contacts()) {
    bool same = (!signal.contact_id().empty() && c.contact_id() == signal.contact_id()) ||
                (signal.contact_id().empty() && !signal.email().empty() && c.email() == signal.email()) ||
                (!signal.contact_id().empty() && c.contact_id().empty() && !signal.email().empty() &&
                 c.email() == signal.email());
    if (same) {
      if (c.contact_id().empty()) c.set_contact_id(signal.contact_id());
      if (c.email().empty()) c.set_email(signal.email());
      return MergeDuplicateAddress(account, &c, half_life_ms);
    }
  }
  v1::ContactState* c = account->add_contacts();
  c->set_contact_id(signal.contact_id());
  c->set_email(signal.email());
  return c;
}

void RecordCounts(const config::DecisionConfig& config, const v1::Signal& signal, int64_t at_ms,
                  const std::string& contact_key, v1::AccountState* account) {
  for (const auto& series : config.count_series) {
    if (!condition::TypeMatches(series.types, signal.type())) continue;
    v1::CountSeries* s = nullptr;
    for (auto& existing : *account->mutable_counts()) {
      if (existing.pattern() == series.name) s = &existing;
    }
    if (s == nullptr) {
      s = account->add_counts();
      s->set_pattern(series.name);
    }
    // Drop occurrences older than the longest window, then insert in time order.
    int64_t keep_from = at_ms - series.keep_ms;
    int drop = 0;
    while (drop < s->at_ms_size() && s->at_ms(drop) <= keep_from) ++drop;
    if (drop > 0) {
      s->mutable_at_ms()->erase(s->mutable_at_ms()->begin(), s->mutable_at_ms()->begin() + drop);
      s->mutable_contact()->DeleteSubrange(0, drop);
    }
    if (at_ms <= keep_from) continue;
    int pos = s->at_ms_size();
    while (pos > 0 && s->at_ms(pos - 1) > at_ms) --pos;
    s->mutable_at_ms()->Add(0);
    s->add_contact();
    for (int i = s->at_ms_size() - 1; i > pos; --i) {
      s->set_at_ms(i, s->at_ms(i - 1));
      s->mutable_contact()->SwapElements(i, i - 1);
    }
    s->set_at_ms(pos, at_ms);
    s->set_contact(pos, contact_key);
  }
}

bool FromMatches(const config::Transition& t, const std::string& stage) {
  if (t.from.empty()) return t.to != stage;
  return std::find(t.from.begin(), t.from.end(), stage) != t.from.end();
}

// True when `keyword` occurs in `text` at the start of a word: "engineer"
// matches "engineering manager" and "cto" matches "cto", but "cto" does not
// match "director" nor "it manager" "audit manager".
bool StartsAWord(std::string_view text, std::string_view keyword) {
  if (keyword.empty()) return false;
  for (size_t pos = text.find(keyword); pos != std::string_view::npos;
       pos = text.find(keyword, pos + 1)) {
    if (pos == 0 || !std::isalnum(static_cast<unsigned char>(text[pos - 1]))) return true;
  }
  return false;
}

void EnterStage(const std::string& to, int64_t at_ms, v1::AccountState* account) {
  account->set_stage(to);
  account->set_stage_entered_ms(at_ms);
}

}  // namespace

v1::AccountState NewAccount(const config::DecisionConfig& config, const std::string& account_id,
                            int64_t now_ms) {
  v1::AccountState a;
  a.set_account_id(account_id);
  a.set_stage(config.journey.initial);
  a.set_stage_entered_ms(now_ms);
  a.set_first_signal_ms(now_ms);
  return a;
}

double SignalWeight(const config::DecisionConfig& config, std::string_view type) {
  for (const auto& [pattern, weight] : config.scoring.weights) {
    if (GlobMatch(pattern, type)) return weight;
  }
  return config.scoring.default_weight;
}

bool RecordEventId(const config::DecisionConfig& config, const v1::Signal& signal,
                   v1::AccountState* account) {
  int64_t at = ToMillis(signal.occurred_at());
  int64_t horizon = std::max(at, account->last_signal_ms()) - config.dedup_window_ms;
  auto* seen = account->mutable_seen();
  for (const auto& s : *seen) {
    if (s.event_id() == signal.event_id() && s.at_ms() >= horizon) return false;
  }
  auto end = std::remove_if(seen->begin(), seen->end(),
                            [&](const v1::SeenEvent& s) { return s.at_ms() < horizon; });
  seen->erase(end, seen->end());
  v1::SeenEvent* e = seen->Add();
  e->set_event_id(signal.event_id());
  e->set_at_ms(at);
  return true;
}

std::string RoleForTitle(const config::DecisionConfig& config, std::string_view title) {
  if (title.empty()) return "";
  std::string lower = AsciiLower(title);
  for (const auto& [role, keywords] : config.committee.roles) {
    for (const auto& k : keywords) {
      if (StartsAWord(lower, k)) return role;
    }
  }
  return "";
}

void ApplySignal(const config::DecisionConfig& config, const v1::Signal& signal,
                 v1::AccountState* account) {
  int64_t at = ToMillis(signal.occurred_at());
  account->set_last_signal_ms(std::max(account->last_signal_ms(), at));
  account->set_signals_applied(account->signals_applied() + 1);

  v1::ContactState* contact = FindOrAddContact(signal, account, config.scoring.half_life_ms);
  const std::string& type = signal.type();

  if (signal.has_crm_activity()) {
    const auto& crm = signal.crm_activity();
    if (!crm.account_name().empty()) account->set_account_name(crm.account_name());
    // Prompt outcomes, meetings and tasks name who did them, not the
    // account's owner.
    bool names_owner = type != "crm.prompt_outcome" && crm.object() != "task" && crm.object() != "meeting";
    if (names_owner && !crm.owner_id().empty()) account->set_owner_id(crm.owner_id());
    if (!crm.territory().empty()) account->set_territory(crm.territory());
    if (!crm.account_timezone().empty()) account->set_timezone(crm.account_timezone());
    if (!crm.account_segment().empty()) account->set_segment(crm.account_segment());
    if (!crm.opportunity_id().empty()) account->set_opportunity_id(crm.opportunity_id());
    if (!crm.opportunity_stage().empty()) account->set_opportunity_stage(crm.opportunity_stage());
    if (crm.amount() > 0) account->set_opportunity_amount(crm.amount());
    if (crm.product_count() > 0) account->set_product_count(crm.product_count());
    if (crm.do_not_contact()) {
      if (contact != nullptr) contact->set_do_not_contact(true);
      else account->set_do_not_contact(true);
    }
    if (contact != nullptr) {
      if (!crm.contact_title().empty()) contact->set_title(crm.contact_title());
      if (!crm.contact_role().empty()) {
        contact->set_role(crm.contact_role());
      } else if (!crm.contact_title().empty()) {
        std::string role = RoleForTitle(config, crm.contact_title());
        if (!role.empty()) contact->set_role(role);
      }
    }
  }
  if (signal.has_product_usage()) {
    const auto& u = signal.product_usage();
    double drop = u.previous_value() > 0 ? (u.previous_value() - u.value()) / u.previous_value() : 0;
    account->set_usage_drop(std::max(0.0, drop));
  }
  if (contact != nullptr) {
    if (type == "email.unsubscribe") contact->set_unsubscribed(true);
    if (type == "email.bounce" && signal.email_engagement().bounce_kind() == v1::HARD) {
      contact->set_bounced(true);
    }
  }

  double weight = SignalWeight(config, type);
  int64_t half_life = config.scoring.half_life_ms;
  AddToScore(account->mutable_score(), weight, at, half_life);
  if (contact != nullptr) AddToScore(contact->mutable_score(), weight, at, half_life);
  if (weight > 0) {
    account->set_last_engaged_ms(std::max(account->last_engaged_ms(), at));
    if (contact != nullptr) contact->set_last_engaged_ms(std::max(contact->last_engaged_ms(), at));
  }
  std::string contact_key = signal.contact_id().empty() ? signal.email() : signal.contact_id();
  RecordCounts(config, signal, at, contact_key, account);
}

std::vector<FiredTransition> Advance(const config::DecisionConfig& config, const v1::Signal& signal,
                                     v1::AccountState* account) {
  std::vector<FiredTransition> fired;
  std::vector<std::string> entered;
  int64_t now = ToMillis(signal.occurred_at());
  for (int step = 0; step < config.journey.max_chain; ++step) {
    const config::Transition* next = nullptr;
    condition::Facts facts;
    for (const auto& t : config.journey.transitions) {
      if (t.inactive_for_ms > 0 || !FromMatches(t, account->stage())) continue;
      bool already = std::any_of(fired.begin(), fired.end(),
                                 [&](const FiredTransition& f) { return f.transition == &t; });
      if (already) continue;
      condition::EvalContext ctx(config, signal, *account, now, entered);
      if (condition::Evaluate(t.when, ctx)) {
        next = &t;
        facts = std::move(ctx.facts());
        break;
      }
    }
    if (next == nullptr) break;
    FiredTransition f;
    f.transition = next;
    f.from = account->stage();
    f.to = next->to;
    f.at_ms = std::max(now, account->stage_entered_ms());
    f.dwell_ms = f.at_ms - account->stage_entered_ms();
    f.facts = std::move(facts);
    EnterStage(next->to, f.at_ms, account);
    entered.push_back(next->to);
    fired.push_back(std::move(f));
  }
  return fired;
}

int64_t NextInactivityDue(const config::DecisionConfig& config, const v1::AccountState& account) {
  int64_t best = 0;
  int64_t since = std::max(account.last_engaged_ms(), account.stage_entered_ms());
  for (const auto& t : config.journey.transitions) {
    if (t.inactive_for_ms == 0 || !FromMatches(t, account.stage())) continue;
    int64_t due = since + t.inactive_for_ms;
    if (best == 0 || due < best) best = due;
  }
  return best;
}

std::optional<FiredTransition> FireInactivity(const config::DecisionConfig& config, int64_t now_ms,
                                              v1::AccountState* account) {
  int64_t since = std::max(account->last_engaged_ms(), account->stage_entered_ms());
  const config::Transition* best = nullptr;
  for (const auto& t : config.journey.transitions) {
    if (t.inactive_for_ms == 0 || !FromMatches(t, account->stage())) continue;
    if (since + t.inactive_for_ms > now_ms) continue;
    if (best == nullptr || t.inactive_for_ms < best->inactive_for_ms) best = &t;
  }
  if (best == nullptr) return std::nullopt;
  FiredTransition f;
  f.transition = best;
  f.from = account->stage();
  f.to = best->to;
  f.at_ms = since + best->inactive_for_ms;
  f.dwell_ms = f.at_ms - account->stage_entered_ms();
  f.facts["inactive_for"] = FormatDuration(best->inactive_for_ms);
  f.facts["last_engaged_at"] = account->last_engaged_ms() > 0 ? FormatTime(account->last_engaged_ms()) : "never";
  EnterStage(best->to, f.at_ms, account);
  return f;
}

}  // namespace demandcenter::journey
