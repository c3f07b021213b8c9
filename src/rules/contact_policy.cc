#include "demandcenter/rules/contact_policy.h"

#include <algorithm>
#include <optional>

#include "demandcenter/common/calendar.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::rules {
namespace {

// Sent actions are kept this much longer than the longest window, for
// signals that arrive a little late.
constexpr int64_t kSentMarginMs = kMillisPerDay;

v1::PolicyCheck Check(std::string policy, bool passed, std::string detail) {
  v1::PolicyCheck c;
  c.set_policy(std::move(policy));
  c.set_passed(passed);
  c.set_detail(std::move(detail));
  return c;
}

std::string ContactName(const v1::ContactState& c) {
  return c.contact_id().empty() ? c.email() : c.contact_id();
}

// The most sends of `times` (sorted) in one window of length `per` that
// also contains `at`, not counting `at` itself.
int32_t MostInAWindowWith(const std::vector<int64_t>& times, int64_t at, int64_t per) {
  int32_t best = 0;
  auto count_from = [&](int64_t start) {
    int32_t n = 0;
    for (int64_t t : times) n += (t >= start && t < start + per);
    return n;
  };
  best = count_from(at);
  for (int64_t t : times) {
    if (t > at - per && t <= at) best = std::max(best, count_from(t));
  }
  return best;
}

}  // namespace

std::string LocalTimeText(int64_t ms, const PolicyZone& zone) {
  return StrCat(calendar::FormatLocal(ms, *zone.tz), " ", zone.name);
}

int64_t NextAllowed(const config::DecisionConfig& config, const PolicyZone& zone, v1::Channel channel, bool prompt,
                    int64_t ms) {
  const auto& cp = config.contact_policy;
  const calendar::Calendar* business =
      cp.business_hours && (prompt || cp.IsBusinessChannel(channel)) ? &*cp.business_hours : nullptr;
  const calendar::Calendar* send = cp.send_hours && cp.IsQuietChannel(channel) ? &*cp.send_hours : nullptr;
  int64_t t = ms;
  // Both calendars must be open: move to the next opening of each until
  // neither moves (a handful of rounds for any sane pair of calendars).
  for (int round = 0; round < 16; ++round) {
    int64_t before = t;
    if (business != nullptr) t = business->NextOpen(t, *zone.tz, zone.name);
    if (send != nullptr) t = send->NextOpen(t, *zone.tz, zone.name);
    if (t == before) break;
  }
  return t;
}

namespace {

// Why the policy stops a candidate.
struct Stop {
  std::string policy;
  std::string detail;
};

// Do-not-contact stops everything for the account or the contact.
std::optional<Stop> DoNotContact(const v1::AccountState& account, const v1::ContactState* contact) {
  if (account.do_not_contact()) return Stop{"do_not_contact", "the account is do-not-contact in CRM"};
  if (contact == nullptr) return std::nullopt;
  if (contact->do_not_contact()) {
    return Stop{"do_not_contact", StrCat("contact ", ContactName(*contact), " is do-not-contact in CRM")};
  }
  // The flag is the person's: another CRM record with the same address
  // (a duplicate) that is flagged stops this one too.
  if (contact->email().empty()) return std::nullopt;
  for (const auto& other : account.contacts()) {
    if (other.do_not_contact() && other.email() == contact->email()) {
      return Stop{"do_not_contact", StrCat("contact ", ContactName(*contact), " shares the address ",
                                           contact->email(), " with do-not-contact ", ContactName(other))};
    }
  }
  return std::nullopt;
}

// Marketing e-mail needs consent and a working address.
std::optional<Stop> EmailConsent(const v1::AccountState& account, const v1::ContactState* contact,
                                 v1::Channel channel, std::vector<v1::PolicyCheck>* checks) {
  if (channel != v1::EMAIL || contact == nullptr) return std::nullopt;
  // Consent is per person and per address: any record of the same address
  // counts.
  bool unsubscribed = contact->unsubscribed();
  bool bounced = contact->bounced();
  if (!contact->email().empty()) {
    for (const auto& other : account.contacts()) {
      if (other.email() != contact->email()) continue;
      unsubscribed = unsubscribed || other.unsubscribed();
      bounced = bounced || other.bounced();
    }
  }
  if (unsubscribed) {
    return Stop{"consent.unsubscribed", StrCat(ContactName(*contact), " unsubscribed from marketing e-mail")};
  }
  if (bounced) return Stop{"consent.bounced", StrCat("the address of ", ContactName(*contact), " bounced hard")};
  checks->push_back(Check("consent", true, StrCat(ContactName(*contact), " subscribed; address not bounced")));
  return std::nullopt;
}

// Salespeople's answers: dismissed actions cool down, snoozed ones wait.
std::optional<Stop> FeedbackBlock(const v1::AccountState& account, std::string_view action, int64_t now_ms,
                                  const PolicyZone& zone) {
  for (const auto& b : account.blocks()) {
    if (b.action() != action || b.until_ms() <= now_ms) continue;
    return Stop{StrCat("feedback.", b.reason()),
                StrCat(action, " was ", b.reason(), " in CRM (", b.prompt_id(), "); not proposed again before ",
                       LocalTimeText(b.until_ms(), zone))};
  }
  return std::nullopt;
}

// Hours: outside them the action is scheduled for the next allowed window.
// Returns when it may go out.
int64_t CheckHours(const config::DecisionConfig& config, const PolicyZone& zone, v1::Channel channel, bool prompt,
                   int64_t now_ms, std::vector<v1::PolicyCheck>* checks) {
  const auto& cp = config.contact_policy;
  bool business = cp.business_hours && (prompt || cp.IsBusinessChannel(channel));
  bool quiet = cp.send_hours && cp.IsQuietChannel(channel);
  if (!business && !quiet) return now_ms;
  int64_t send_at = NextAllowed(config, zone, channel, prompt, now_ms);
  std::string when = StrCat(calendar::FormatLocal(now_ms, *zone.tz), " ", zone.Label());
  auto scheduled = [&] { return StrCat(": scheduled for ", calendar::FormatLocal(send_at, *zone.tz)); };
  if (business) {
    std::string hours = cp.business_hours->hours().ToString();
    bool open = cp.business_hours->IsOpen(now_ms, *zone.tz, zone.name);
    checks->push_back(Check("business_hours", true,
                            open && send_at == now_ms ? StrCat(when, " is within business hours (", hours, ")")
                            : open                    ? StrCat(when, scheduled())
                                   : StrCat(when, " is outside business hours (", hours, ")", scheduled())));
  }
  if (quiet) {
    bool open = cp.send_hours->IsOpen(now_ms, *zone.tz, zone.name);
    checks->push_back(Check("quiet_hours", true,
                            open && send_at == now_ms
                                ? StrCat(when, " is outside quiet hours (", cp.quiet_hours_text, ")")
                            : open ? StrCat(when, scheduled())
                                   : StrCat(when, " is in quiet hours (", cp.quiet_hours_text, ")", scheduled())));
  }
  return send_at;
}

// The same action not twice within its cool-down.
std::optional<Stop> ActionCooldown(const config::ContactPolicyConfig& cp, const v1::AccountState& account,
                                   std::string_view action, int64_t send_at, std::vector<v1::PolicyCheck>* checks) {
  int64_t cooldown = cp.ActionCooldown(action);
  if (cooldown <= 0) return std::nullopt;
  int64_t nearest = -1;
  for (const auto& s : account.sent()) {
    if (s.action() != action) continue;
    int64_t gap = std::abs(send_at - s.at_ms());
    if (nearest < 0 || gap < nearest) nearest = gap;
  }
  if (nearest >= 0 && nearest < cooldown) {
    return Stop{"cooldown.action",
                StrCat(action, " sent ", FormatDuration(nearest), " apart; cool-down ", FormatDuration(cooldown))};
  }
  checks->push_back(Check("cooldown.action", true,
                          nearest < 0 ? StrCat(action, " not sent recently; cool-down ", FormatDuration(cooldown))
                                      : StrCat(action, " sent ", FormatDuration(nearest), " apart; cool-down ",
                                               FormatDuration(cooldown))));
  return std::nullopt;
}

// Caps: at most `max` in any window of `per`, counting scheduled sends.
std::optional<Stop> Caps(const config::ContactPolicyConfig& cp, const v1::AccountState& account, v1::Channel channel,
                         std::string_view action, int64_t send_at, std::vector<v1::PolicyCheck>* checks) {
  std::vector<int64_t> times;
  for (const auto& cap : cp.caps) {
    if (!cap.Covers(channel, action)) continue;
    times.clear();
    for (const auto& s : account.sent()) {
      if (cap.Covers(s.channel(), s.action())) times.push_back(s.at_ms());
    }
    int32_t already = MostInAWindowWith(times, send_at, cap.per_ms);
    if (already >= cap.max) {
      return Stop{StrCat("cap.", cap.id), StrCat(already, " of ", cap.max, " in ", FormatDuration(cap.per_ms),
                                                 " already")};
    }
    checks->push_back(Check(StrCat("cap.", cap.id), true,
                            StrCat(already + 1, " of ", cap.max, " in ", FormatDuration(cap.per_ms))));
  }
  return std::nullopt;
}

}  // namespace

PolicyOutcome CheckContactPolicy(const config::DecisionConfig& config, const PolicyZone& zone,
                                 const v1::AccountState& account, const v1::ContactState* contact,
                                 v1::Channel channel, std::string_view action, bool prompt,
                                 int64_t now_ms, std::vector<v1::PolicyCheck>* checks,
                                 const SendTimeInput* timing) {
  PolicyOutcome out;
  out.send_at_ms = now_ms;
  auto stopped = [&](Stop stop) {
    checks->push_back(Check(stop.policy, false, stop.detail));
    out.allowed = false;
    out.stopped_by = std::move(stop.policy);
    out.detail = std::move(stop.detail);
    return out;
  };
  if (auto stop = DoNotContact(account, contact)) return stopped(std::move(*stop));
  if (auto stop = EmailConsent(account, contact, channel, checks)) return stopped(std::move(*stop));
  if (auto stop = FeedbackBlock(account, action, now_ms, zone)) return stopped(std::move(*stop));
  out.send_at_ms = CheckHours(config, zone, channel, prompt, now_ms, checks);
  if (timing != nullptr) {
    SendTimeChoice choice = ChooseSendTime(config, zone, channel, prompt, out.send_at_ms, *timing);
    checks->push_back(Check("send_time", true, std::move(choice.detail)));
    out.timed = choice.at;
    out.send_at_ms = choice.at.send_ms;
  }
  const auto& cp = config.contact_policy;
  if (auto stop = ActionCooldown(cp, account, action, out.send_at_ms, checks)) return stopped(std::move(*stop));
  if (auto stop = Caps(cp, account, channel, action, out.send_at_ms, checks)) return stopped(std::move(*stop));
  return out;
}

void RecordSent(const config::DecisionConfig& config, int64_t send_at_ms, v1::Channel channel,
                std::string_view action, int64_t now_ms, v1::AccountState* account) {
  int64_t keep = config.contact_policy.longest_window_ms;
  if (keep == 0) return;  // no caps, no action cool-downs: nothing to remember
  auto* sent = account->mutable_sent();
  int64_t horizon = std::min(now_ms, send_at_ms) - keep - kSentMarginMs;
  auto end = std::remove_if(sent->begin(), sent->end(),
                            [&](const v1::SentAction& s) { return s.at_ms() < horizon; });
  sent->erase(end, sent->end());
  v1::SentAction* s = sent->Add();
  s->set_at_ms(send_at_ms);
  s->set_channel(channel);
  s->set_action(std::string(action));
}

void BlockAction(const std::string& action, int64_t until_ms, const std::string& reason,
                 const std::string& prompt_id, v1::AccountState* account) {
  v1::ActionBlock* block = nullptr;
  for (auto& b : *account->mutable_blocks()) {
    if (b.action() == action) block = &b;
  }
  if (block == nullptr) {
    block = account->add_blocks();
    block->set_action(action);
  } else if (block->until_ms() > until_ms && block->reason() == reason) {
    return;
  }
  block->set_until_ms(until_ms);
  block->set_reason(reason);
  block->set_prompt_id(prompt_id);
}

PolicyZone AccountZones::For(const v1::AccountState& account) {
  PolicyZone zone;
  const std::string& crm = account.timezone();
  if (!crm.empty()) {
    if (const absl::TimeZone* tz = zones_.Find(crm)) {
      zone.tz = tz;
      zone.name = crm;
      return zone;
    }
    zone.crm_zone_unknown = true;
    zone.fallback_note = StrCat("default; CRM zone \"", crm, "\" unknown");
  } else {
    zone.fallback_note = "default; no zone in CRM";
  }
  zone.name = default_zone_;
  zone.tz = zones_.Find(zone.name);
  if (zone.tz == nullptr) {
    static const absl::TimeZone kUtc = absl::UTCTimeZone();
    zone.tz = &kUtc;
    zone.name = "UTC";
  }
  return zone;
}

}  // namespace demandcenter::rules
