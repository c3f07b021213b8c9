#include "absl/strings/str_join.h"
#include "demandcenter/replay/policy_audit.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/ingest/decoder.h"
#include "google/protobuf/util/json_util.h"

namespace demandcenter::replay {
namespace {

constexpr size_t kMaxExamples = 20;

// What the audit knows about one account, from the signals alone.
struct AccountView {
  std::string zone;  // the CRM's latest account_timezone
  bool do_not_contact = false;
  // Contact identities ("c:<id>", "e:<address>") linked when a signal
  // carried both; flags are per linked group.
  std::unordered_map<std::string, std::string> parent;
  std::unordered_set<std::string> unsubscribed;
  std::unordered_set<std::string> bounced;
  std::unordered_set<std::string> dnc;

  std::string Root(std::string key) {
    for (int guard = 0; guard < 1000; ++guard) {
      auto it = parent.find(key);
      if (it == parent.end() || it->second == key) return key;
      key = it->second;
    }
    return key;
  }
  void Link(const std::string& a, const std::string& b) {
    std::string ra = Root(a), rb = Root(b);
    if (ra == rb) return;
    // Flags follow the group.
    for (auto* set : {&unsubscribed, &bounced, &dnc}) {
      if (set->erase(rb)) set->insert(ra);
    }
    parent[rb] = ra;
  }
  bool Flagged(const std::unordered_set<std::string>& set, const std::string& contact_id,
               const std::string& email) {
    if (!contact_id.empty() && set.count(Root("c:" + contact_id))) return true;
    return !email.empty() && set.count(Root("e:" + email));
  }
};

struct Send {
  int64_t at;
  v1::Channel channel;
  std::string action;
  std::string id;
};

// Local time of `ms` in `tz`.
absl::CivilSecond Local(int64_t ms, const absl::TimeZone& tz) {
  return absl::ToCivilSecond(absl::FromUnixMillis(ms), tz);
}

int Weekday(absl::CivilDay d) {
  static constexpr absl::Weekday kOrder[7] = {absl::Weekday::monday, absl::Weekday::tuesday,
                                              absl::Weekday::wednesday, absl::Weekday::thursday,
                                              absl::Weekday::friday, absl::Weekday::saturday,
                                              absl::Weekday::sunday};
  for (int i = 0; i < 7; ++i) {
    if (absl::GetWeekday(d) == kOrder[i]) return i;
  }
  return 0;
}

// Is `ms` inside the calendar's hours in `tz`? Written from the calendar's
// definition, not with its functions.
bool InsideHours(const calendar::Calendar& cal, int64_t ms, const absl::TimeZone& tz, const std::string& zone) {
  absl::CivilSecond cs = Local(ms, tz);
  absl::CivilDay day(cs);
  const auto& hours = cal.hours();
  if (!(hours.days & (1u << Weekday(day)))) return false;
  if (hours.closed_on_holidays) {
    for (const auto& h : cal.holidays()) {
      if (h.day != day) continue;
      bool applies = h.zones.empty();
      for (const auto& pattern : h.zones) applies = applies || GlobMatch(pattern, zone);
      if (applies) return false;
    }
  }
  int minute = cs.hour() * 60 + cs.minute();
  for (const auto& [from, to] : hours.windows) {
    if (minute >= from && minute < to) return true;
  }
  return false;
}

}  // namespace

struct PolicyAudit::State {
  explicit State(const config::DecisionConfig& c) : config(c) {
    if (!absl::LoadTimeZone(c.contact_policy.timezone, &default_tz)) default_tz = absl::UTCTimeZone();
  }

  const config::DecisionConfig& config;
  absl::TimeZone default_tz;
  std::unordered_map<std::string, absl::TimeZone> zones;
  std::unordered_set<std::string> bad_zones;
  std::unordered_map<std::string, AccountView> accounts;
  // contact id / address -> account, for signals without account_id.
  std::unordered_map<std::string, std::string> identities;
  std::unordered_map<std::string, std::vector<Send>> sends;  // by account
  // The address an action went to, by the hash its ids share
  // (nba-X, rte-X, prm-X): routings and prompts of the task name only the
  // contact id.
  std::unordered_map<std::string, std::string> email_by_decision;
  AuditReport report;

  static std::string Suffix(const std::string& id) {
    size_t dash = id.find('-');
    return dash == std::string::npos ? id : id.substr(dash + 1);
  }
  std::string TaskEmail(const std::string& task_id) {
    auto it = task_id.empty() ? email_by_decision.end() : email_by_decision.find(Suffix(task_id));
    return it == email_by_decision.end() ? "" : it->second;
  }

  void Violation(const std::string& policy, const std::string& text) {
    ++report.violations;
    ++report.by_policy[policy];
    if (report.examples.size() < kMaxExamples) report.examples.push_back(StrCat(policy, ": ", text));
  }

  std::pair<const absl::TimeZone*, std::string> ZoneOf(const std::string& account_id) {
    auto it = accounts.find(account_id);
    std::string name = it == accounts.end() ? "" : it->second.zone;
    if (!name.empty() && !bad_zones.count(name)) {
      auto z = zones.find(name);
      if (z == zones.end()) {
        absl::TimeZone tz;
        if (absl::LoadTimeZone(name, &tz)) {
          z = zones.emplace(name, tz).first;
        } else {
          bad_zones.insert(name);
        }
      }
      if (z != zones.end()) return {&z->second, name};
    }
    return {&default_tz, config.contact_policy.timezone};
  }

  void CheckHours(const std::string& what, const std::string& account_id, v1::Channel channel, bool prompt,
                  int64_t send_at) {
    const auto& cp = config.contact_policy;
    auto [tz, zone] = ZoneOf(account_id);
    if (cp.business_hours && (prompt || cp.IsBusinessChannel(channel)) &&
        !InsideHours(*cp.business_hours, send_at, *tz, zone)) {
      Violation("business_hours", StrCat(what, " for ", account_id, " has send_at ", FormatTime(send_at),
                                         ", outside business hours in ", zone));
    }
    if (cp.send_hours && !prompt && cp.IsQuietChannel(channel) && !InsideHours(*cp.send_hours, send_at, *tz, zone)) {
      Violation("quiet_hours", StrCat(what, " for ", account_id, " has send_at ", FormatTime(send_at),
                                      ", in quiet hours in ", zone));
    }
  }

  void CheckDoNotContact(const std::string& what, const std::string& account_id, const std::string& contact_id,
                         const std::string& email) {
    auto it = accounts.find(account_id);
    if (it == accounts.end()) return;
    if (it->second.do_not_contact) {
      Violation("do_not_contact", StrCat(what, " for do-not-contact account ", account_id));
    } else if (it->second.Flagged(it->second.dnc, contact_id, email)) {
      Violation("do_not_contact", StrCat(what, " for do-not-contact contact ",
                                         contact_id.empty() ? email : contact_id, " of ", account_id));
    }
  }
};

PolicyAudit::PolicyAudit(const config::DecisionConfig& config) : state_(std::make_unique<State>(config)) {}
PolicyAudit::~PolicyAudit() = default;

void PolicyAudit::OnSignal(const v1::Signal& signal) {
  State& s = *state_;
  std::string account_id = signal.account_id();
  if (account_id.empty()) {
    for (const std::string* key : {&signal.contact_id(), &signal.email()}) {
      auto it = key->empty() ? s.identities.end() : s.identities.find(*key);
      if (it != s.identities.end()) {
        account_id = it->second;
        break;
      }
    }
    if (account_id.empty()) return;
  } else {
    if (!signal.contact_id().empty()) s.identities[signal.contact_id()] = account_id;
    if (!signal.email().empty()) s.identities[signal.email()] = account_id;
  }
  AccountView& a = s.accounts[account_id];
  std::string c_key = signal.contact_id().empty() ? "" : "c:" + signal.contact_id();
  std::string e_key = signal.email().empty() ? "" : "e:" + signal.email();
  if (!c_key.empty() && !e_key.empty()) a.Link(c_key, e_key);
  std::string contact = !c_key.empty() ? a.Root(c_key) : !e_key.empty() ? a.Root(e_key) : "";
  if (signal.has_crm_activity()) {
    const auto& crm = signal.crm_activity();
    if (!crm.account_timezone().empty()) a.zone = crm.account_timezone();
    if (crm.do_not_contact()) {
      if (contact.empty()) a.do_not_contact = true;
      else a.dnc.insert(contact);
    }
  }
  if (contact.empty()) return;
  if (signal.type() == "email.unsubscribe") a.unsubscribed.insert(contact);
  if (signal.type() == "email.bounce" && signal.email_engagement().bounce_kind() == v1::HARD) a.bounced.insert(contact);
}

void PolicyAudit::OnAction(const v1::NextBestAction& action) {
  State& s = *state_;
  ++s.report.actions;
  const std::string& account_id = action.account_id();
  std::string what = StrCat("action ", action.action_id(), " (", action.rule_id(), ", ",
                            config::ChannelName(action.channel()), ")");
  int64_t send_at = ToMillis(action.send_at());
  s.CheckDoNotContact(what, account_id, action.contact_id(), action.contact_email());
  if (action.channel() == v1::EMAIL) {
    auto it = s.accounts.find(account_id);
    if (it != s.accounts.end()) {
      AccountView& a = it->second;
      if (a.Flagged(a.unsubscribed, action.contact_id(), action.contact_email())) {
        s.Violation("consent.unsubscribed", StrCat(what, " to a contact that unsubscribed"));
      } else if (a.Flagged(a.bounced, action.contact_id(), action.contact_email())) {
        s.Violation("consent.bounced", StrCat(what, " to an address that bounced hard"));
      }
    }
  }
  s.CheckHours(what, account_id, action.channel(), false, send_at);
  s.sends[account_id].push_back(Send{send_at, action.channel(), action.action(), action.action_id()});
  if (!action.contact_email().empty()) s.email_by_decision[State::Suffix(action.action_id())] = action.contact_email();
}

void PolicyAudit::OnRouting(const v1::RoutingDecision& routing) {
  State& s = *state_;
  ++s.report.routings;
  s.CheckDoNotContact(StrCat("routing ", routing.routing_id(), " (", routing.rule_id(), ")"), routing.account_id(),
                      routing.contact_id(), s.TaskEmail(routing.task_id().empty() ? routing.routing_id() : routing.task_id()));
}

void PolicyAudit::OnPrompt(const v1::CrmPrompt& prompt) {
  State& s = *state_;
  ++s.report.prompts;
  std::string what = StrCat("prompt ", prompt.prompt_id(), " (", prompt.rule_id(), ")");
  s.CheckDoNotContact(what, prompt.account_id(), prompt.contact_id(), s.TaskEmail(prompt.task_id()));
  s.CheckHours(what, prompt.account_id(), v1::CHANNEL_UNSPECIFIED, true, ToMillis(prompt.send_at()));
}

void PolicyAudit::OnOutput(const outputs::Output& output) {
  switch (output.kind) {
    case outputs::OutputKind::kNextBestAction: OnAction(std::get<v1::NextBestAction>(output.message)); break;
    case outputs::OutputKind::kRouting: OnRouting(std::get<v1::RoutingDecision>(output.message)); break;
    case outputs::OutputKind::kPrompt: OnPrompt(std::get<v1::CrmPrompt>(output.message)); break;
    case outputs::OutputKind::kTransition:
    case outputs::OutputKind::kIdentityConflict: break;
  }
}

AuditReport PolicyAudit::Finish() {
  State& s = *state_;
  const auto& cp = s.config.contact_policy;
  std::vector<std::string> ids;
  for (const auto& [id, list] : s.sends) ids.push_back(id);
  std::sort(ids.begin(), ids.end());  // deterministic examples
  std::vector<const Send*> covered;
  for (const auto& account_id : ids) {
    std::vector<Send>& list = s.sends[account_id];
    std::stable_sort(list.begin(), list.end(), [](const Send& a, const Send& b) { return a.at < b.at; });
    // Caps: in sorted order, the (max+1)-th send after any send is at least
    // `per` later.
    for (const auto& cap : cp.caps) {
      covered.clear();
      for (const auto& send : list) {
        if (cap.Covers(send.channel, send.action)) covered.push_back(&send);
      }
      for (size_t i = 0; i + cap.max < covered.size(); ++i) {
        if (covered[i + cap.max]->at - covered[i]->at < cap.per_ms) {
          s.Violation(StrCat("cap.", cap.id),
                      StrCat(account_id, ": ", cap.max + 1, " actions within ", FormatDuration(cap.per_ms), " (",
                             covered[i]->id, " at ", FormatTime(covered[i]->at), " ... ", covered[i + cap.max]->id,
                             " at ", FormatTime(covered[i + cap.max]->at), ")"));
          break;
        }
      }
    }
    // Action cool-downs: consecutive sends of one action.
    std::map<std::string, int64_t> last;
    for (const auto& send : list) {
      int64_t cooldown = cp.ActionCooldown(send.action);
      if (cooldown == 0) continue;
      auto it = last.find(send.action);
      if (it != last.end() && send.at - it->second < cooldown) {
        s.Violation("cooldown.action", StrCat(account_id, ": ", send.action, " twice within ",
                                              FormatDuration(cooldown), " (", send.id, ")"));
      }
      last[send.action] = send.at;
    }
  }
  return s.report;
}

absl::StatusOr<AuditReport> AuditFiles(const config::Config& config, std::istream& signals_in,
                                       std::istream& outputs_in) {
  std::vector<v1::Signal> signals;
  std::unordered_map<std::string, size_t> first_index;
  std::string line;
  while (std::getline(signals_in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    v1::Signal s;
    if (!ingest::DecodeSignal(line, ingest::DecodeOptions{}, &s).ok()) continue;  // rejected: changes nothing
    first_index.emplace(s.event_id(), signals.size());
    signals.push_back(std::move(s));
  }
  PolicyAudit audit(config.decision);
  size_t cursor = 0;
  int64_t stream = INT64_MIN;
  auto apply = [&] {
    audit.OnSignal(signals[cursor]);
    stream = std::max(stream, ToMillis(signals[cursor].occurred_at()));
    ++cursor;
  };
  google::protobuf::util::JsonParseOptions options;
  const auto& topics = config.runtime.kafka.topics;
  int64_t number = 0;
  while (std::getline(outputs_in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    size_t topic_at = line.find("\"topic\":\"");
    size_t value_at = line.find("\"value\":");
    if (topic_at == std::string::npos || value_at == std::string::npos || line.back() != '}') {
      return absl::InvalidArgumentError(StrCat("output line ", number, " is not a replay record"));
    }
    size_t topic_end = line.find('"', topic_at + 9);
    std::string topic = line.substr(topic_at + 9, topic_end - topic_at - 9);
    if (topic == config.runtime.kafka.topics.identity_conflicts) continue;  // not a decision: nothing to check
    std::string value = line.substr(value_at + 8, line.size() - value_at - 9);
    v1::NextBestAction nba;
    v1::RoutingDecision routing;
    v1::CrmPrompt prompt;
    v1::StageTransition transition;
    google::protobuf::Message* message = nullptr;
    if (topic == topics.nba) message = &nba;
    if (topic == topics.routing) message = &routing;
    if (topic == topics.prompts) message = &prompt;
    if (topic == topics.transitions) message = &transition;
    if (message == nullptr) return absl::InvalidArgumentError(StrCat("output line ", number, ": unknown topic ", topic));
    if (!google::protobuf::util::JsonStringToMessage(value, message, options).ok()) {
      return absl::InvalidArgumentError(StrCat("output line ", number, ": value does not parse as ", topic));
    }
    const google::protobuf::RepeatedPtrField<std::string>* triggers = &transition.trigger_event_ids();
    if (message == &nba) triggers = &nba.trigger_event_ids();
    if (message == &routing) triggers = &routing.trigger_event_ids();
    if (message == &prompt) triggers = &prompt.trigger_event_ids();
    int64_t decided = message == &nba       ? ToMillis(nba.decided_at())
                      : message == &routing ? ToMillis(routing.decided_at())
                      : message == &prompt  ? ToMillis(prompt.decided_at())
                                            : ToMillis(transition.at());
    auto it = triggers->empty() ? first_index.end() : first_index.find(triggers->Get(0));
    if (it != first_index.end()) {
      while (cursor <= it->second && cursor < signals.size()) apply();
      // A signal that waited for its account is decided when the signal
      // that linked it came: up to that one.
      if (decided > ToMillis(signals[it->second].occurred_at())) {
        while (cursor < signals.size() && std::max(stream, ToMillis(signals[cursor].occurred_at())) <= decided) apply();
      }
    } else {
      // A timer's output: it fired just before the signal that moved stream
      // time to its due time was applied.
      while (cursor < signals.size() && std::max(stream, ToMillis(signals[cursor].occurred_at())) < decided) apply();
    }
    if (message == &nba) audit.OnAction(nba);
    if (message == &routing) audit.OnRouting(routing);
    if (message == &prompt) audit.OnPrompt(prompt);
  }
  return audit.Finish();
}

std::string FormatAudit(const AuditReport& r) {
  std::string out = StrCat("contact policy audit: ", r.actions, " actions, ", r.routings, " routings, ", r.prompts,
                           " prompts checked; ", r.violations, " violations");
  if (!r.by_policy.empty()) out += StrCat(" ", absl::StrJoin(r.by_policy, " ", absl::PairFormatter("=")));
  out += '\n';
  for (const auto& e : r.examples) out += StrCat("  violation: ", e, '\n');
  return out;
}

}  // namespace demandcenter::replay
