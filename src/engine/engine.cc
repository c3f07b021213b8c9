#include "demandcenter/engine/engine.h"

#include <algorithm>
#include <optional>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/condition/condition.h"
#include "demandcenter/journey/journey.h"
#include "demandcenter/routing/routing.h"

namespace demandcenter::engine {
namespace {

constexpr std::string_view kInactivityType = "journey.inactivity";
constexpr std::string_view kPromptOutcomeType = "crm.prompt_outcome";

void FillFacts(const condition::Facts& facts, v1::DecisionTrace* trace) {
  auto* map = trace->mutable_facts();
  for (const auto& [k, v] : facts) (*map)[k] = v;
}

const v1::ContactState* FindContact(const v1::AccountState& account, const v1::Signal& signal) {
  for (const auto& c : account.contacts()) {
    bool same = (!signal.contact_id().empty() && c.contact_id() == signal.contact_id()) ||
                (signal.contact_id().empty() && !signal.email().empty() && c.email() == signal.email());
    if (same) return &c;
  }
  return nullptr;
}

std::string ContactLabel(const v1::AccountState& account, const v1::Signal& signal) {
  const v1::ContactState* c = FindContact(account, signal);
  if (c == nullptr) return "";
  std::string who = c->contact_id().empty() ? c->email() : c->contact_id();
  return c->title().empty() ? who : StrCat(who, " (", c->title(), ")");
}

// True when the CRM flagged the account, or the task's contact (by id or
// address), do-not-contact: nothing more goes out for it.
bool TaskBlockedByDoNotContact(const v1::AccountState& account, const v1::OpenTask& task) {
  if (account.do_not_contact()) return true;
  for (const auto& c : account.contacts()) {
    bool same = (!task.contact_id().empty() && c.contact_id() == task.contact_id()) ||
                (!task.contact_email().empty() && c.email() == task.contact_email());
    if (same && c.do_not_contact()) return true;
  }
  return false;
}

std::string AccountLabel(const v1::AccountState& account) {
  return account.account_name().empty() ? account.account_id() : account.account_name();
}

std::string JoinRoles(const std::vector<std::string>& roles, std::string_view none) {
  if (roles.empty()) return std::string(none);
  std::string out;
  for (size_t i = 0; i < roles.size(); ++i) {
    if (i > 0) out += i + 1 == roles.size() ? " and " : ", ";
    out += roles[i];
  }
  return out;
}

std::string DueText(int64_t due_ms, const rules::PolicyZone& zone) {
  return StrCat(calendar::FormatLocal(due_ms, *zone.tz), " (", zone.name, ")");
}

// Values for the prompt template placeholders.
std::string Placeholder(std::string_view name, const v1::Signal& signal,
                        const v1::AccountState& account, const condition::Facts& facts,
                        double score, const condition::Committee& committee, int64_t due_ms,
                        const rules::PolicyZone& zone) {
  if (name == "account_name") return AccountLabel(account);
  if (name == "account_id") return account.account_id();
  if (name == "contact") {
    std::string label = ContactLabel(account, signal);
    return label.empty() ? "someone at the account" : label;
  }
  if (name == "contact_title") {
    for (const auto& c : account.contacts()) {
      if (!signal.contact_id().empty() && c.contact_id() == signal.contact_id() && !c.title().empty()) {
        return c.title();
      }
    }
    return "a contact";
  }
  if (name == "stage") return account.stage();
  if (name == "score") return condition::FormatNumber(score);
  if (name == "committee_size") return std::to_string(committee.size);
  if (name == "committee_roles") return JoinRoles(committee.roles, "no known roles");
  if (name == "amount") return condition::FormatNumber(account.opportunity_amount());
  if (name == "opportunity_stage") return account.opportunity_stage();
  if (name == "type") return signal.type();
  if (name == "count") {
    for (const auto& [k, v] : facts) {
      if (k.rfind("count.", 0) == 0 || k.rfind("contacts.", 0) == 0) return v;
    }
    return "0";
  }
  if (name == "usage_drop") return StrCat(condition::FormatNumber(account.usage_drop() * 100), "%");
  if (name == "owner") return account.owner_id().empty() ? "unassigned" : account.owner_id();
  if (name == "due") return DueText(due_ms, zone);
  if (name == "page") {
    // The page visited; for an e-mail click the link; else the signal type,
    // so the sentence never has a hole.
    if (!signal.web_visit().path().empty()) return signal.web_visit().path();
    if (!signal.web_visit().url().empty()) return signal.web_visit().url();
    if (!signal.email_engagement().link_url().empty()) return signal.email_engagement().link_url();
    return signal.type();
  }
  return "";
}

std::string Render(const std::string& text, const v1::Signal& signal, const v1::AccountState& account,
                   const condition::Facts& facts, double score, const condition::Committee& committee,
                   int64_t due_ms, const rules::PolicyZone& zone) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    out.append(text, pos, open - pos);
    out += Placeholder(std::string_view(text).substr(open + 1, close - open - 1), signal, account,
                       facts, score, committee, due_ms, zone);
    pos = close + 1;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

std::string FactsSentence(const condition::Facts& facts) {
  std::string out;
  for (const auto& [k, v] : facts) {
    if (!out.empty()) out += ", ";
    out += StrCat(k, " ", v);
  }
  return out;
}

// "What happened" when the rule's prompt has no `why`: from the signal.
std::string GeneratedWhat(const v1::Signal& signal, const v1::AccountState& account) {
  std::string who = ContactLabel(account, signal);
  if (who.empty()) who = "Someone";
  std::string at = StrCat(" at ", AccountLabel(account));
  const std::string& type = signal.type();
  std::string page = signal.web_visit().path().empty() ? signal.web_visit().url() : signal.web_visit().path();
  if (type == "web.demo_request") return StrCat(who, at, " requested a demo.");
  if (type == "web.pricing_view") return StrCat(who, at, " viewed pricing (", page, ").");
  if (type == "web.form_submit") return StrCat(who, at, " filled in a form (", page, ").");
  if (type.rfind("web.", 0) == 0) return StrCat(who, at, " visited ", page.empty() ? "the site" : page, ".");
  if (type == "email.reply") return StrCat(who, at, " replied to an e-mail.");
  if (type == "email.click") return StrCat(who, at, " clicked a link in an e-mail.");
  if (type == "crm.opportunity_stage") {
    return StrCat("The opportunity at ", AccountLabel(account), " moved to ", account.opportunity_stage(), ".");
  }
  if (type == "crm.deal_won") return StrCat(AccountLabel(account), " signed.");
  if (type == "crm.deal_lost") return StrCat(AccountLabel(account), " decided not to buy.");
  if (type == "crm.meeting_held") return StrCat("A meeting was held with ", AccountLabel(account), ".");
  if (type == "product.usage") {
    return StrCat("Usage at ", AccountLabel(account), " changed (drop ",
                  condition::FormatNumber(account.usage_drop() * 100), "%).");
  }
  if (type == kInactivityType) return StrCat(AccountLabel(account), " moved to ", account.stage(), " after a silence.");
  return StrCat(type, " from ", who == "Someone" ? "the account" : who, at, ".");
}

// "Who": the contact (title, buying role) and the buying committee.
std::string WhoLine(const config::DecisionConfig& config, const v1::AccountState& account, const v1::Signal& signal,
                    const condition::Committee& committee) {
  std::string contact;
  if (const v1::ContactState* c = FindContact(account, signal)) {
    contact = c->contact_id().empty() ? c->email() : c->contact_id();
    std::string about = c->title();
    if (!c->role().empty()) about += StrCat(about.empty() ? "" : ", ", c->role());
    if (!about.empty()) contact += StrCat(" (", about, ")");
  } else {
    contact = "no contact named";
  }
  std::string window = FormatDuration(config.committee.window_ms);
  std::string engaged = committee.size == 0
                            ? StrCat("nobody engaged in the last ", window)
                            : StrCat(committee.size, committee.size == 1 ? " person" : " people",
                                     " engaged in the last ", window,
                                     committee.roles.empty() ? "" : StrCat(" (", JoinRoles(committee.roles, ""), ")"));
  return StrCat(contact, "; ", engaged, ".");
}

std::string PromptBody(const std::string& what, const std::string& who, const std::string& todo, int64_t due_ms,
                       const rules::PolicyZone& zone) {
  return StrCat(what, "\nWho: ", who, "\nDo: ", todo, "\nBy: ", DueText(due_ms, zone), ".");
}

v1::ExperimentArm ArmOf(const std::string& experiment_id, const std::string& arm) {
  v1::ExperimentArm a;
  a.set_id(experiment_id);
  a.set_arm(arm);
  return a;
}

bool IsPersonChannel(v1::Channel channel) { return channel != v1::DIGITAL && channel != v1::EMAIL; }

}  // namespace

// How a candidate is routed: `channel: auto`'s choice and who takes it.
struct Engine::Resolved {
  std::optional<routing::AutoChoice> choice;
  condition::Facts auto_facts;
  bool person = false;  // someone is assigned (routing decision, maybe a prompt)
  bool to_owner = false;
  std::string pool;
};

std::string_view OutputKindName(OutputKind kind) {
  switch (kind) {
    case OutputKind::kTransition: return "transition";
    case OutputKind::kNextBestAction: return "nba";
    case OutputKind::kRouting: return "routing";
    case OutputKind::kPrompt: return "prompt";
  }
  return "unknown";
}

const google::protobuf::Message& Output::proto() const {
  return std::visit([](const auto& m) -> const google::protobuf::Message& { return m; }, message);
}

Engine::Engine(const config::DecisionConfig& config, state::StateStore* store)
    : config_(config), store_(store), index_(config), pools_(config) {}

int64_t Engine::StreamTime(int32_t partition) const {
  auto it = stream_time_.find(partition);
  return it == stream_time_.end() ? 0 : it->second;
}

size_t Engine::PendingTimers() const {
  size_t n = 0;
  for (const auto& [p, queue] : timers_) n += queue.size();
  return n;
}

void Engine::RebuildTimers() {
  timers_.clear();
  store_->ForEachAccount([&](const v1::AccountState& a) {
    for (auto& key : timers::AccountTimers(a)) timers_[a.partition()].Add(std::move(key));
  });
}

absl::Status Engine::ApplyPoolUpdate(const v1::PoolMemberUpdate& update) { return pools_.Apply(update); }

namespace {

// Identity keys are scoped to the partition: state, identities included,
// lives with its partition, exactly as it does on Kafka.
std::string IdentityKey(int32_t partition, const char* kind, const std::string& value) {
  return StrCat(partition, "/", kind, value);
}

}  // namespace

std::string Engine::ResolveAccount(const v1::Signal& signal, int32_t partition) {
  if (!signal.account_id().empty()) return signal.account_id();
  for (auto [kind, value] : {std::pair<const char*, const std::string*>{"c:", &signal.contact_id()},
                             {"e:", &signal.email()},
                             {"a:", &signal.anonymous_id()}}) {
    if (value->empty()) continue;
    if (auto account = store_->ResolveIdentity(IdentityKey(partition, kind, *value))) return *account;
  }
  return "";
}

void Engine::LearnIdentities(const v1::Signal& signal, int32_t partition) {
  for (auto [kind, value] : {std::pair<const char*, const std::string*>{"c:", &signal.contact_id()},
                             {"e:", &signal.email()},
                             {"a:", &signal.anonymous_id()}}) {
    if (value->empty()) continue;
    std::string key = IdentityKey(partition, kind, *value);
    auto known = store_->ResolveIdentity(key);
    if (!known || *known != signal.account_id()) store_->PutIdentity(key, signal.account_id());
  }
}

void Engine::Schedule(v1::AccountState* account) {
  int64_t due = journey::NextInactivityDue(config_, *account);
  if (due == account->inactivity_due_ms()) return;
  auto& queue = timers_[account->partition()];
  if (account->inactivity_due_ms() > 0) {
    queue.Remove({account->inactivity_due_ms(), account->account_id(), v1::TIMER_INACTIVITY, 0});
  }
  account->set_inactivity_due_ms(due);
  if (due > 0) queue.Add({due, account->account_id(), v1::TIMER_INACTIVITY, 0});
}

void Engine::AddTimer(int64_t due, v1::TimerKind kind, const std::string& task_id, int32_t level,
                      v1::AccountState* account) {
  timers_[account->partition()].Add(timers::SetTimer(due, kind, task_id, level, account));
}

void Engine::DropTaskTimers(const std::string& task_id, v1::TimerKind kind, v1::AccountState* account) {
  auto& queue = timers_[account->partition()];
  for (const auto& key : timers::RemoveTaskTimers(task_id, kind, account)) queue.Remove(key);
}

void Engine::CloseTask(const std::string& task_id, v1::AccountState* account) {
  DropTaskTimers(task_id, v1::TIMER_KIND_UNSPECIFIED, account);
  timers::EraseTask(task_id, account);
}

bool Engine::CancelIfDoNotContact(const std::string& task_id, v1::AccountState* account) {
  const v1::OpenTask* task = timers::FindTask(task_id, account);
  if (task == nullptr || !TaskBlockedByDoNotContact(*account, *task)) return false;
  CloseTask(task_id, account);
  ++counters_.tasks_cancelled;
  return true;
}

void Engine::MoveTimers(int32_t from, int32_t to, v1::AccountState* account) {
  for (auto& key : timers::AccountTimers(*account)) {
    timers_[from].Remove(key);
    // Inactivity is rescheduled by the caller.
    if (key.kind != v1::TIMER_INACTIVITY) timers_[to].Add(std::move(key));
  }
}

void Engine::AdvanceStreamTime(int32_t partition, int64_t now_ms, std::vector<Output>* out) {
  int64_t& stream = stream_time_[partition];
  if (now_ms <= stream) return;
  stream = now_ms;
  FireDueTimers(partition, out);
}

void Engine::CountStageEntry(const std::string& to_stage, const v1::AccountState& account,
                             google::protobuf::RepeatedPtrField<v1::ExperimentArm>* arms) {
  for (const auto& e : account.experiments()) {
    ++counters_.experiment_stages[StrCat(e.experiment_id(), "/", e.arm(), "/", to_stage)];
    *arms->Add() = ArmOf(e.experiment_id(), e.arm());
  }
}

void Engine::FireDueTimers(int32_t partition, std::vector<Output>* out) {
  auto& queue = timers_[partition];
  int64_t now = stream_time_[partition];
  while (!queue.Empty() && queue.Next().due_ms <= now) {
    timers::TimerKey key = queue.PopNext();
    v1::AccountState* account = store_->Find(key.account_id);
    if (account == nullptr) continue;
    if (key.kind == v1::TIMER_INACTIVITY) {
      if (account->inactivity_due_ms() != key.due_ms) continue;
      account->set_inactivity_due_ms(0);
      FireInactivity(key.due_ms, account, out);
      Schedule(account);
    } else {
      v1::TimerEntry entry;
      if (!timers::TakeTimer(key, account, &entry)) continue;  // closed meanwhile
      ++counters_.timers_by_kind[std::string(timers::TimerKindName(key.kind))];
      switch (key.kind) {
        case v1::TIMER_SLA: FireSla(entry, account, out); break;
        case v1::TIMER_SNOOZE: FireSnooze(entry, account, out); break;
        case v1::TIMER_EXPIRY: FireExpiry(entry, account); break;
        default: break;
      }
    }
    store_->MarkDirty(key.account_id);
  }
}

void Engine::FireInactivity(int64_t due, v1::AccountState* account, std::vector<Output>* out) {
  const std::string& account_id = account->account_id();
  auto fired = journey::FireInactivity(config_, due, account);
  if (!fired) return;
  ++counters_.timers_fired;
  ++counters_.timers_by_kind["inactivity"];
  v1::Signal tick;
  tick.set_event_id(StrCat("timer:", account_id, ":", fired->transition->id, ":", due));
  tick.set_type(std::string(kInactivityType));
  tick.set_account_id(account_id);
  *tick.mutable_occurred_at() = FromMillis(fired->at_ms);
  std::vector<std::string> entered = {fired->to};
  size_t first = out->size();
  Output o{OutputKind::kTransition, account_id, v1::StageTransition{}};
  auto& t = std::get<v1::StageTransition>(o.message);
  t.set_transition_id(DeterministicId("trn", {account_id, fired->transition->id, tick.event_id()}));
  t.set_account_id(account_id);
  t.set_from_stage(fired->from);
  t.set_to_stage(fired->to);
  *t.mutable_at() = FromMillis(fired->at_ms);
  t.set_rule_id(fired->transition->id);
  t.set_dwell_seconds(fired->dwell_ms / 1000);
  t.add_trigger_event_ids(tick.event_id());
  t.set_rules_version(config_.rules_version);
  auto* trace = t.mutable_trace();
  trace->set_text(StrCat(AccountLabel(*account), " moved from ", fired->from, " to ", fired->to, " (",
                         fired->transition->id, "): no engagement for ", fired->facts["inactive_for"], " since ",
                         fired->facts["last_engaged_at"], "."));
  FillFacts(fired->facts, trace);
  CountStageEntry(fired->to, *account, t.mutable_experiments());
  ++counters_.outputs[static_cast<int>(OutputKind::kTransition)];
  ++counters_.transitions_by_id[fired->transition->id];
  out->push_back(std::move(o));
  Decide(tick, entered, account, first, out);
}

SignalOutcome Engine::Process(const v1::Signal& signal, int32_t partition, std::vector<Output>* out) {
  std::string account_id = ResolveAccount(signal, partition);
  if (account_id.empty()) {
    ++counters_.unresolved;
    return SignalOutcome::kUnresolved;
  }
  if (!signal.account_id().empty()) LearnIdentities(signal, partition);
  int64_t now = ToMillis(signal.occurred_at());
  AdvanceStreamTime(partition, now, out);

  v1::AccountState* account = store_->Find(account_id);
  if (account == nullptr) {
    account = store_->Insert(journey::NewAccount(config_, account_id, now));
    account->set_partition(partition);
  } else if (account->partition() != partition) {
    // The account's signals moved partition (re-keyed or repartitioned input):
    // its timers move with it.
    MoveTimers(account->partition(), partition, account);
    account->set_inactivity_due_ms(0);
    account->set_partition(partition);
  }
  if (!journey::RecordEventId(config_, signal, account)) {
    ++counters_.duplicates;
    return SignalOutcome::kDuplicate;
  }
  ++counters_.applied;
  journey::ApplySignal(config_, signal, account);
  routing::RecordAffinity(config_, signal.type(), account);
  ApplyFeedback(signal, account);
  std::vector<journey::FiredTransition> fired = journey::Advance(config_, signal, account);
  std::vector<std::string> entered;
  size_t first = out->size();
  for (auto& f : fired) {
    entered.push_back(f.to);
    Output o{OutputKind::kTransition, account_id, v1::StageTransition{}};
    auto& t = std::get<v1::StageTransition>(o.message);
    t.set_transition_id(DeterministicId("trn", {account_id, f.transition->id, signal.event_id()}));
    t.set_account_id(account_id);
    t.set_from_stage(f.from);
    t.set_to_stage(f.to);
    *t.mutable_at() = FromMillis(f.at_ms);
    t.set_rule_id(f.transition->id);
    t.set_dwell_seconds(f.dwell_ms / 1000);
    t.add_trigger_event_ids(signal.event_id());
    t.set_rules_version(config_.rules_version);
    auto* trace = t.mutable_trace();
    std::string why = FactsSentence(f.facts);
    trace->set_text(StrCat(AccountLabel(*account), " moved from ", f.from, " to ", f.to, " (",
                           f.transition->id, ") on ", signal.type(),
                           why.empty() ? "" : StrCat(": ", why), ", after ",
                           FormatDuration(f.dwell_ms), " in ", f.from, "."));
    FillFacts(f.facts, trace);
    CountStageEntry(f.to, *account, t.mutable_experiments());
    ++counters_.outputs[static_cast<int>(OutputKind::kTransition)];
    ++counters_.transitions_by_id[f.transition->id];
    out->push_back(std::move(o));
  }
  Decide(signal, entered, account, first, out);
  Schedule(account);
  store_->MarkDirty(account_id);
  return SignalOutcome::kApplied;
}

// ---------------------------------------------------------------------------
// Feedback: prompt outcomes, CRM activity that meets SLAs, do-not-contact.

void Engine::ApplyFeedback(const v1::Signal& signal, v1::AccountState* account) {
  if (signal.type() == kPromptOutcomeType) HandleOutcome(signal, account);
  if (account->tasks_size() == 0) return;
  const auto& crm = signal.crm_activity();
  if (crm.do_not_contact()) {
    // Nothing more for that contact (or the whole account): open tasks close.
    // (Ids first: closing a task erases it from the list being read.)
    std::vector<std::string> ids;
    for (const auto& t : account->tasks()) ids.push_back(t.task_id());
    for (const auto& id : ids) CancelIfDoNotContact(id, account);
  }
  if (!config_.sla.met_by.empty() && condition::TypeMatches(config_.sla.met_by, signal.type())) {
    for (auto& t : *account->mutable_tasks()) {
      if (t.sla_due_ms() == 0) continue;
      if (!crm.owner_id().empty() && crm.owner_id() != t.assignee_id()) continue;
      DropTaskTimers(t.task_id(), v1::TIMER_SLA, account);
      t.set_sla_due_ms(0);
      t.set_accepted(true);
      ++counters_.sla_met;
    }
  }
}

void Engine::HandleOutcome(const v1::Signal& signal, v1::AccountState* account) {
  const auto& crm = signal.crm_activity();
  const std::string& outcome = crm.prompt_outcome();
  v1::OpenTask* task = timers::FindTaskByPrompt(crm.prompt_id(), account);
  if (task == nullptr) {
    ++counters_.unmatched_outcomes;
    return;
  }
  int64_t now = ToMillis(signal.occurred_at());
  std::string task_id = task->task_id();
  ++counters_.outcomes[StrCat(task->rule_id(), "/", task->action(), "/",
                              config::ChannelName(task->channel()), "/", outcome)];
  if (!task->experiment_id().empty()) {
    ++counters_.experiment_outcomes[StrCat(task->experiment_id(), "/", task->arm(), "/", outcome)];
  }
  auto meet_sla = [&] {
    if (task->sla_due_ms() == 0) return;
    DropTaskTimers(task_id, v1::TIMER_SLA, account);
    task->set_sla_due_ms(0);
    ++counters_.sla_met;
  };
  if (outcome == "accepted") {
    meet_sla();
    task->set_accepted(true);
  } else if (outcome == "completed") {
    meet_sla();
    CloseTask(task_id, account);
  } else if (outcome == "dismissed") {
    meet_sla();
    rules::BlockAction(task->action(), now + config_.feedback.dismissed_cooldown_ms, "dismissed", crm.prompt_id(),
                       account);
    CloseTask(task_id, account);
  } else if (outcome == "snoozed") {
    int64_t until = crm.has_snooze_until() ? ToMillis(crm.snooze_until()) : 0;
    if (until <= now) return;  // a snooze into the past changes nothing
    // The SLA clock stops; the prompt comes back at `until` with a fresh one.
    if (task->sla_due_ms() > 0) {
      DropTaskTimers(task_id, v1::TIMER_SLA, account);
      task->set_sla_due_ms(0);
    }
    DropTaskTimers(task_id, v1::TIMER_SNOOZE, account);
    task->set_snoozed_until_ms(until);
    AddTimer(until, v1::TIMER_SNOOZE, task_id, task->escalation_level(), account);
    rules::BlockAction(task->action(), until, "snoozed", crm.prompt_id(), account);
    if (task->expires_ms() <= until) {
      // Keep the prompt alive past its return.
      const config::Rule* rule = config_.FindRule(task->rule_id());
      int64_t life = rule != nullptr ? rule->expires_ms : kMillisPerDay;
      int64_t expires = until + life;
      const auto& cp = config_.contact_policy;
      if (config_.sla.business_time && cp.business_hours) {
        rules::PolicyZone zone = ZoneFor(*account);
        expires = cp.business_hours->AddOpenTime(until, static_cast<int32_t>(life / kMillisPerDay),
                                                 life % kMillisPerDay, *zone.tz, zone.name);
      }
      DropTaskTimers(task_id, v1::TIMER_EXPIRY, account);
      task->set_expires_ms(expires);
      AddTimer(expires, v1::TIMER_EXPIRY, task_id, task->escalation_level(), account);
    }
  }
}

// ---------------------------------------------------------------------------
// Timers of tasks.

rules::PolicyZone Engine::ZoneFor(const v1::AccountState& account) {
  rules::PolicyZone zone;
  const std::string& crm = account.timezone();
  if (!crm.empty()) {
    if (const absl::TimeZone* tz = zones_.Find(crm)) {
      zone.tz = tz;
      zone.name = crm;
      return zone;
    }
    ++counters_.zone_fallbacks;
    zone.fallback_note = StrCat("default; CRM zone \"", crm, "\" unknown");
  } else {
    zone.fallback_note = "default; no zone in CRM";
  }
  zone.name = config_.contact_policy.timezone;
  zone.tz = zones_.Find(zone.name);
  if (zone.tz == nullptr) {
    static const absl::TimeZone kUtc = absl::UTCTimeZone();
    zone.tz = &kUtc;
    zone.name = "UTC";
  }
  return zone;
}

int64_t Engine::SlaDue(int64_t start_ms, const config::Route& route, const rules::PolicyZone& zone) const {
  const auto& cp = config_.contact_policy;
  if (config_.sla.business_time && cp.business_hours) {
    return cp.business_hours->AddOpenTime(start_ms, route.sla_days, route.sla_open_ms, *zone.tz, zone.name);
  }
  return start_ms + route.sla_ms;
}

void Engine::FireSla(const v1::TimerEntry& key, v1::AccountState* account, std::vector<Output>* out) {
  v1::OpenTask* task = timers::FindTask(key.task_id(), account);
  if (task == nullptr || task->sla_due_ms() != key.due_ms()) return;
  int32_t level = key.escalation_level();
  if (CancelIfDoNotContact(key.task_id(), account)) return;  // flagged meanwhile: stop here
  ++counters_.sla_breached;
  task->set_sla_due_ms(0);
  const config::Rule* rule = config_.FindRule(task->rule_id());
  if (rule == nullptr || !rule->route) return;
  const config::Route& route = *rule->route;
  if (level >= static_cast<int32_t>(route.escalate.size())) return;  // nobody left to escalate to
  const std::string& account_id = account->account_id();
  int64_t now = key.due_ms();
  rules::PolicyZone zone = ZoneFor(*account);
  std::string trigger = StrCat("timer:", account_id, ":sla:", task->task_id(), ":", level);

  // The next person: the pool's next available member, or the manager.
  config::EscalationStep step = route.escalate[level];
  std::string manager = !route.manager.empty() ? route.manager : task->manager_id();
  std::string previous = task->assignee_id();
  std::string next;
  std::string how;
  if (step == config::EscalationStep::kNextMember) {
    if (const config::Pool* pool = pools_.Find(task->escalation_pool())) {
      std::vector<std::string> tried(task->assignees().begin(), task->assignees().end());
      next = routing::PickAvailableMember(*pool, account_id, now, tried);
      if (!next.empty()) how = StrCat("next available member of pool ", pool->id);
    }
  }
  if (next.empty() && !manager.empty()) {
    next = manager;
    how = step == config::EscalationStep::kManager ? "the manager" : "the manager (no other pool member available)";
  }
  if (next.empty()) return;
  ++counters_.assignments[next == manager ? "escalation_manager" : "escalation_next_member"];

  int32_t new_level = level + 1;
  bool more = new_level < static_cast<int32_t>(route.escalate.size());
  int64_t send_at = rules::NextAllowed(config_, zone, task->channel(), /*prompt=*/true, now);
  int64_t new_due = more ? SlaDue(send_at, route, zone) : 0;
  int64_t due_shown = new_due > 0 ? new_due : std::max(send_at, task->expires_ms());
  std::string sla_text = FormatDuration(route.sla_ms);
  std::string title = task->title().empty() ? StrCat(task->action(), " at ", AccountLabel(*account)) : task->title();

  condition::Facts facts;
  facts["sla"] = sla_text;
  facts["sla_due_at"] = FormatTime(key.due_ms());
  facts["escalation_level"] = std::to_string(new_level);
  facts["escalation_step"] = step == config::EscalationStep::kManager ? "manager" : "next_member";
  facts["previous_assignee"] = previous;
  facts["assignee"] = next;
  facts["timezone"] = zone.fallback_note.empty() ? zone.name : StrCat(zone.name, " (", zone.fallback_note, ")");
  v1::DecisionTrace trace;
  FillFacts(facts, &trace);
  std::string breach = StrCat(previous, " did not act on ", task->action(), " for ", AccountLabel(*account),
                              " within ", sla_text, " (due ", DueText(key.due_ms(), zone), ")");
  trace.set_text(StrCat("SLA missed: ", breach, ". Escalation ", new_level, ": re-routed to ", next, ", ", how,
                        more ? StrCat("; new deadline ", DueText(new_due, zone)) : "; no further escalation",
                        ". Rule ", task->rule_id(), ", task ", task->task_id(), "."));
  if (send_at != now) {
    v1::PolicyCheck* p = trace.add_policies();
    p->set_policy("business_hours");
    p->set_passed(true);
    p->set_detail(StrCat(calendar::FormatLocal(now, *zone.tz), " ", zone.name,
                         " is outside business hours: scheduled for ", calendar::FormatLocal(send_at, *zone.tz)));
  }
  v1::ExperimentArm arm = task->experiment_id().empty() ? v1::ExperimentArm{} : ArmOf(task->experiment_id(), task->arm());

  std::string routing_id = DeterministicId("rte", {account_id, task->task_id(), "escalation", std::to_string(new_level)});
  std::string prompt_id = DeterministicId("prm", {account_id, task->task_id(), "escalation", std::to_string(new_level)});
  Output r_out{OutputKind::kRouting, account_id, v1::RoutingDecision{}};
  auto& r = std::get<v1::RoutingDecision>(r_out.message);
  r.set_routing_id(routing_id);
  r.set_account_id(account_id);
  r.set_contact_id(task->contact_id());
  r.set_channel(task->channel());
  r.set_role(next == manager ? "manager" : task->role());
  r.set_pool(next == manager ? "" : task->escalation_pool());
  r.set_assignee_id(next);
  r.set_reason(StrCat("SLA missed by ", previous, "; escalated to ", how, " ", next));
  *r.mutable_decided_at() = FromMillis(now);
  if (new_due > 0) *r.mutable_sla_due_at() = FromMillis(new_due);
  r.set_escalation_level(new_level);
  r.set_rule_id(task->rule_id());
  *r.mutable_trace() = trace;
  r.add_trigger_event_ids(trigger);
  r.set_rules_version(config_.rules_version);
  if (!task->experiment_id().empty()) *r.mutable_experiment() = arm;
  r.set_prompt_id(prompt_id);
  r.set_previous_assignee_id(previous);
  r.set_task_id(task->task_id());
  out->push_back(std::move(r_out));
  ++counters_.outputs[static_cast<int>(OutputKind::kRouting)];

  std::string suggested = rule->prompt && !rule->prompt->suggested_action.empty() ? rule->prompt->suggested_action
                                                                                   : task->action();
  std::string who = StrCat(!task->contact_id().empty()      ? task->contact_id()
                           : !task->contact_email().empty() ? task->contact_email()
                                                            : "no contact named",
                           "; account ",
                           AccountLabel(*account), ", stage ", account->stage(), ".");
  auto make_prompt = [&](const std::string& id, const std::string& owner, const std::string& role,
                         const std::string& pool, const std::string& kind, const std::string& prompt_title,
                         const std::string& todo) {
    Output p_out{OutputKind::kPrompt, account_id, v1::CrmPrompt{}};
    auto& p = std::get<v1::CrmPrompt>(p_out.message);
    p.set_prompt_id(id);
    p.set_account_id(account_id);
    p.set_account_name(AccountLabel(*account));
    p.set_contact_id(task->contact_id());
    p.set_owner_id(owner);
    p.set_title(prompt_title);
    p.set_body(PromptBody(StrCat(task->summary(), task->summary().empty() ? "" : " ", "SLA missed: ", breach, "."),
                          who, todo, due_shown, zone));
    p.set_suggested_action(suggested);
    p.set_priority(rule->priority);
    *p.mutable_due_at() = FromMillis(due_shown);
    *p.mutable_send_at() = FromMillis(send_at);
    *p.mutable_expires_at() = FromMillis(std::max(task->expires_ms(), due_shown));
    p.set_rule_id(task->rule_id());
    *p.mutable_trace() = trace;
    p.add_trigger_event_ids(trigger);
    p.set_rules_version(config_.rules_version);
    p.set_role(role);
    p.set_reason(StrCat("escalated to ", how, " ", next, " after ", previous, " missed the SLA"));
    p.set_pool(pool);
    if (!task->experiment_id().empty()) *p.mutable_experiment() = arm;
    p.set_escalation_level(new_level);
    p.set_kind(kind);
    *p.mutable_decided_at() = FromMillis(now);
    p.set_task_id(task->task_id());
    out->push_back(std::move(p_out));
    ++counters_.outputs[static_cast<int>(OutputKind::kPrompt)];
  };
  if (send_at != now) ++counters_.scheduled;
  make_prompt(prompt_id, next, next == manager ? "manager" : task->role(),
              next == manager ? "" : task->escalation_pool(), "escalation", StrCat("Escalated: ", title),
              StrCat(suggested, " ", previous, " did not act in time; it is yours now."));
  if (!manager.empty() && next != manager) {
    std::string alert_id = DeterministicId("prm", {account_id, task->task_id(), "manager", std::to_string(new_level)});
    make_prompt(alert_id, manager, "manager", "", "manager_alert", StrCat("SLA missed: ", title),
                StrCat("Re-routed to ", next, "; make sure it is handled."));
    task->add_prompt_ids(alert_id);
  }

  task->set_assignee_id(next);
  task->add_assignees(next);
  task->set_escalation_level(new_level);
  task->add_prompt_ids(prompt_id);
  task->set_pool(next == manager ? "" : task->escalation_pool());
  if (more) {
    task->set_sla_due_ms(new_due);
    AddTimer(new_due, v1::TIMER_SLA, task->task_id(), new_level, account);
    ++counters_.sla_started;
  }
}

void Engine::FireSnooze(const v1::TimerEntry& key, v1::AccountState* account, std::vector<Output>* out) {
  v1::OpenTask* task = timers::FindTask(key.task_id(), account);
  if (task == nullptr || task->snoozed_until_ms() != key.due_ms()) return;
  if (CancelIfDoNotContact(key.task_id(), account)) return;
  ++counters_.snoozes_returned;
  task->set_snoozed_until_ms(0);
  const config::Rule* rule = config_.FindRule(task->rule_id());
  if (rule == nullptr) return;
  const std::string& account_id = account->account_id();
  int64_t now = key.due_ms();
  rules::PolicyZone zone = ZoneFor(*account);
  int64_t send_at = rules::NextAllowed(config_, zone, task->channel(), /*prompt=*/true, now);
  if (send_at != now) ++counters_.scheduled;
  int64_t due = 0;
  if (rule->route && rule->route->sla_ms > 0) {
    due = SlaDue(send_at, *rule->route, zone);
    task->set_sla_due_ms(due);
    AddTimer(due, v1::TIMER_SLA, task->task_id(), task->escalation_level(), account);
    ++counters_.sla_started;
  }
  int64_t due_shown = due > 0 ? due : std::max(send_at, task->expires_ms());
  std::string trigger = StrCat("timer:", account_id, ":snooze:", task->task_id(), ":", key.due_ms());
  std::string prompt_id = DeterministicId("prm", {account_id, task->task_id(), "snooze", std::to_string(key.due_ms())});
  condition::Facts facts;
  facts["snoozed_until"] = FormatTime(key.due_ms());
  facts["assignee"] = task->assignee_id();
  facts["timezone"] = zone.name;
  v1::DecisionTrace trace;
  FillFacts(facts, &trace);
  trace.set_text(StrCat("Snoozed prompt back: ", task->action(), " for ", AccountLabel(*account), " returns to ",
                        task->assignee_id(), " at ", DueText(send_at, zone), ". Rule ", task->rule_id(), ", task ",
                        task->task_id(), "."));
  std::string suggested = rule->prompt && !rule->prompt->suggested_action.empty() ? rule->prompt->suggested_action
                                                                                   : task->action();
  Output p_out{OutputKind::kPrompt, account_id, v1::CrmPrompt{}};
  auto& p = std::get<v1::CrmPrompt>(p_out.message);
  p.set_prompt_id(prompt_id);
  p.set_account_id(account_id);
  p.set_account_name(AccountLabel(*account));
  p.set_contact_id(task->contact_id());
  p.set_owner_id(task->assignee_id());
  std::string title = task->title().empty() ? StrCat(task->action(), " at ", AccountLabel(*account)) : task->title();
  p.set_title(StrCat("Back from snooze: ", title));
  p.set_body(PromptBody(StrCat(task->summary(), task->summary().empty() ? "" : " ", "You snoozed this until ",
                               DueText(key.due_ms(), zone), "."),
                        StrCat(!task->contact_id().empty()      ? task->contact_id()
                               : !task->contact_email().empty() ? task->contact_email()
                                                                : "no contact named",
                               "; account ",
                               AccountLabel(*account), ", stage ", account->stage(), "."),
                        suggested, due_shown, zone));
  p.set_suggested_action(suggested);
  p.set_priority(rule->priority);
  *p.mutable_due_at() = FromMillis(due_shown);
  *p.mutable_send_at() = FromMillis(send_at);
  *p.mutable_expires_at() = FromMillis(std::max(task->expires_ms(), due_shown));
  p.set_rule_id(task->rule_id());
  *p.mutable_trace() = trace;
  p.add_trigger_event_ids(trigger);
  p.set_rules_version(config_.rules_version);
  p.set_role(task->role());
  p.set_reason(StrCat("snoozed by ", task->assignee_id(), " until ", FormatTime(key.due_ms())));
  p.set_pool(task->pool());
  if (!task->experiment_id().empty()) *p.mutable_experiment() = ArmOf(task->experiment_id(), task->arm());
  p.set_escalation_level(task->escalation_level());
  p.set_kind("snooze_return");
  *p.mutable_decided_at() = FromMillis(now);
  p.set_task_id(task->task_id());
  out->push_back(std::move(p_out));
  ++counters_.outputs[static_cast<int>(OutputKind::kPrompt)];
  task->add_prompt_ids(prompt_id);
}

void Engine::FireExpiry(const v1::TimerEntry& key, v1::AccountState* account) {
  v1::OpenTask* task = timers::FindTask(key.task_id(), account);
  if (task == nullptr) return;
  ++counters_.tasks_expired;
  ++counters_.outcomes[StrCat(task->rule_id(), "/", task->action(), "/", config::ChannelName(task->channel()),
                              "/expired")];
  if (!task->experiment_id().empty()) {
    ++counters_.experiment_outcomes[StrCat(task->experiment_id(), "/", task->arm(), "/expired")];
  }
  CloseTask(key.task_id(), account);
}

// ---------------------------------------------------------------------------
// Decisions.

void Engine::Decide(const v1::Signal& signal, const std::vector<std::string>& entered, v1::AccountState* account,
                    size_t first_transition_output, std::vector<Output>* out) {
  int64_t now = ToMillis(signal.occurred_at());
  condition::EvalContext ctx(config_, signal, *account, now, entered);
  std::vector<rules::Candidate> candidates = rules::Evaluate(config_, index_, ctx);
  if (candidates.empty()) return;

  // Channels and who takes them.
  std::vector<Resolved> resolved(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    rules::Candidate& c = candidates[i];
    Resolved& r = resolved[i];
    const config::Rule& rule = *c.rule;
    if (c.channel_choice.automatic) {
      r.choice = routing::AutoChannel(config_, ctx, &r.auto_facts);
      c.channel = r.choice->channel;
      if (c.role.empty()) c.role = r.choice->role;
      bool person_channel = IsPersonChannel(c.channel);
      if (r.choice->has_route) {
        r.person = person_channel;
        r.to_owner = r.choice->to_owner;
        r.pool = r.choice->pool;
      } else if (rule.route) {
        r.person = person_channel;
        r.to_owner = rule.route->to_owner;
        r.pool = rule.route->pool;
      }
    } else if (rule.route) {
      r.person = true;
      r.to_owner = rule.route->to_owner;
      r.pool = rule.route->pool;
    }
    c.prompt = rule.prompt.has_value() && r.person;
  }
  rules::Score(config_, ctx, &candidates);
  rules::PolicyZone zone = ZoneFor(*account);
  rules::Arbitrate(config_, zone, now, ctx.contact(), &candidates, account);

  std::vector<v1::Candidate> listed;
  listed.reserve(candidates.size());
  bool any_emitted = false;
  bool any_unsent = false;
  int32_t suppressed_arbitration = 0;
  for (const auto& c : candidates) {
    v1::Candidate pc;
    pc.set_rule_id(c.rule->id);
    pc.set_action(c.action);
    pc.set_channel(c.channel);
    pc.set_score(c.score);
    pc.set_outcome(c.outcome);
    if (c.outcome == v1::SUPPRESSED_POLICY) {
      pc.set_policy(c.stopped_by);
      pc.set_detail(c.stopped_detail);
      ++counters_.suppressed_by_policy[c.stopped_by];
      any_unsent = true;
    }
    if (c.experiment != nullptr) *pc.mutable_experiment() = ArmOf(c.experiment->id, c.arm);
    if (c.priority != c.rule->priority) pc.set_priority(c.priority);
    listed.push_back(std::move(pc));
    ++counters_.candidates[v1::CandidateOutcome_Name(c.outcome)];
    any_emitted = any_emitted || c.outcome == v1::EMITTED;
    any_unsent = any_unsent || c.outcome == v1::HOLDOUT;
    suppressed_arbitration += c.outcome == v1::SUPPRESSED_ARBITRATION;
    if (c.experiment != nullptr) {
      v1::ExperimentExposure* exposure = nullptr;
      for (auto& e : *account->mutable_experiments()) {
        if (e.experiment_id() == c.experiment->id) exposure = &e;
      }
      if (exposure == nullptr) {
        exposure = account->add_experiments();
        exposure->set_experiment_id(c.experiment->id);
        exposure->set_arm(c.arm);
        exposure->set_first_ms(now);
      }
      std::string key = StrCat(c.experiment->id, "/", c.arm);
      if (c.outcome == v1::HOLDOUT) {
        exposure->set_held_out(exposure->held_out() + 1);
        exposure->set_last_held_rule(c.rule->id);
        exposure->set_last_held_ms(now);
        ++counters_.experiment_held_out[key];
      } else if (c.outcome == v1::EMITTED) {
        exposure->set_emitted(exposure->emitted() + 1);
        ++counters_.experiment_emitted[key];
      }
    }
  }
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].outcome != v1::EMITTED) continue;
    Emit(signal, candidates[i], resolved[i], listed, zone, ctx, suppressed_arbitration, account, out);
  }
  // Nothing went out, but something was held out or stopped: the signal's
  // transitions carry the candidates, so the decision stays auditable.
  if (!any_emitted && any_unsent) {
    for (size_t i = first_transition_output; i < out->size(); ++i) {
      Output& o = (*out)[i];
      if (o.kind != OutputKind::kTransition || o.account_id != account->account_id()) continue;
      auto* trace = std::get<v1::StageTransition>(o.message).mutable_trace();
      for (const auto& pc : listed) *trace->add_candidates() = pc;
    }
  }
}

void Engine::Emit(const v1::Signal& signal, const rules::Candidate& c, const Resolved& resolved,
                  const std::vector<v1::Candidate>& listed, const rules::PolicyZone& zone,
                  condition::EvalContext& ctx, int32_t others, v1::AccountState* account,
                  std::vector<Output>* out) {
  const config::Rule& rule = *c.rule;
  const std::string& account_id = account->account_id();
  int64_t now = ToMillis(signal.occurred_at());
  int64_t send_at = c.send_at_ms;
  ++counters_.emitted_by_rule[rule.id];
  if (send_at != now) ++counters_.scheduled;
  if (resolved.choice) ++counters_.auto_branches[resolved.choice->branch];

  const condition::Committee& committee = ctx.committee();
  double score = ctx.score();
  const auto& cp = config_.contact_policy;

  // Who takes it.
  routing::Assignment assignment;
  if (resolved.person) {
    assignment = routing::Assign(pools_, resolved.to_owner, resolved.pool, *account, send_at);
    ++counters_.assignments[assignment.kind];
  }
  const config::Route* route = rule.route ? &*rule.route : nullptr;
  bool routed = resolved.person;
  bool has_sla = routed && route != nullptr && route->sla_ms > 0 && !assignment.assignee.empty();

  // The trace: the rule's facts, the decision's context, the auto-routing
  // inputs, the policies and every candidate.
  v1::DecisionTrace trace;
  auto* facts = trace.mutable_facts();
  for (const auto& [k, v] : c.facts) (*facts)[k] = v;
  (*facts)["stage"] = account->stage();
  (*facts)["score"] = condition::FormatNumber(score);
  (*facts)["committee_size"] = std::to_string(committee.size);
  for (const auto& [k, v] : resolved.auto_facts) (*facts)[k] = v;
  if (cp.business_hours || cp.send_hours) {
    (*facts)["timezone"] = zone.fallback_note.empty() ? zone.name : StrCat(zone.name, " (", zone.fallback_note, ")");
  }
  for (const auto& p : c.policies) *trace.add_policies() = p;
  for (const auto& pc : listed) *trace.add_candidates() = pc;
  std::string reason = rule.reason.empty() ? rule.action : rule.reason;
  std::string context = c.context_ids.empty() ? condition::FormatNumber(c.context_weight)
                                              : StrCat(condition::FormatNumber(c.context_weight), " (", c.context_ids, ")");
  std::string policy_note;
  for (const auto& pc : listed) {
    if (pc.outcome() == v1::SUPPRESSED_POLICY) {
      policy_note += StrCat(policy_note.empty() ? " Stopped by policy: " : "; ", pc.rule_id(), " (", pc.policy(), ")");
    }
  }
  if (!policy_note.empty()) policy_note += ".";
  trace.set_text(StrCat(
      "Rule ", rule.id, " fired on ", signal.type(), " for ", AccountLabel(*account), " in stage ",
      account->stage(), ": ", reason, ". Facts: ", c.facts.empty() ? FactsSentence(condition::Facts(facts->begin(), facts->end())) : FactsSentence(c.facts),
      ". Arbitration: score ", condition::FormatNumber(c.score), " = priority ", c.priority, " x propensity ",
      condition::FormatNumber(c.propensity), " x context ", context,
      others > 0 ? StrCat("; ", others, " other candidate(s) ranked lower") : "", ".", policy_note,
      c.experiment != nullptr ? StrCat(" Experiment ", c.experiment->id, ": arm ", c.arm, ".") : "", " Channel ",
      config::ChannelName(c.channel),
      resolved.choice ? StrCat(" (auto: ", resolved.choice->branch, ")") : "",
      assignment.assignee.empty() ? "" : StrCat(", assigned to ", assignment.assignee, " (", assignment.reason, ")"),
      ".",
      send_at != now ? StrCat(" Scheduled for ", rules::LocalTimeText(send_at, zone), ": outside allowed hours.") : ""));

  // Work for people lives in business time, like its SLA: a prompt sent on
  // a Friday evening does not expire over the weekend.
  int64_t expires = send_at + rule.expires_ms;
  if (routed && config_.sla.business_time && cp.business_hours) {
    expires = cp.business_hours->AddOpenTime(send_at, static_cast<int32_t>(rule.expires_ms / kMillisPerDay),
                                             rule.expires_ms % kMillisPerDay, *zone.tz, zone.name);
  }
  int64_t sla_due = has_sla ? SlaDue(send_at, *route, zone) : 0;
  const v1::ContactState* contact = ctx.contact();
  std::string contact_email = contact != nullptr ? contact->email() : signal.email();
  bool prompted = c.prompt && !assignment.assignee.empty();
  std::string routing_id = routed ? DeterministicId("rte", {account_id, rule.id, signal.event_id()}) : "";
  std::string prompt_id = prompted ? DeterministicId("prm", {account_id, rule.id, signal.event_id()}) : "";
  v1::ExperimentArm arm = c.experiment != nullptr ? ArmOf(c.experiment->id, c.arm) : v1::ExperimentArm{};

  Output nba_out{OutputKind::kNextBestAction, account_id, v1::NextBestAction{}};
  auto& nba = std::get<v1::NextBestAction>(nba_out.message);
  nba.set_action_id(DeterministicId("nba", {account_id, rule.id, signal.event_id()}));
  nba.set_account_id(account_id);
  nba.set_contact_id(signal.contact_id());
  nba.set_action(c.action);
  nba.set_channel(c.channel);
  nba.set_role(c.role);
  nba.set_priority(c.priority);
  nba.set_stage(account->stage());
  *nba.mutable_decided_at() = FromMillis(now);
  *nba.mutable_send_at() = FromMillis(send_at);
  *nba.mutable_expires_at() = FromMillis(expires);
  nba.set_rule_id(rule.id);
  if (c.experiment != nullptr) *nba.mutable_experiment() = arm;
  nba.add_trigger_event_ids(signal.event_id());
  nba.set_rules_version(config_.rules_version);
  nba.set_reason(reason);
  nba.set_contact_email(contact_email);
  out->push_back(std::move(nba_out));
  // The trace is the largest part: copied for each output but the last,
  // which takes it.
  if (routed || prompted) {
    std::get<v1::NextBestAction>(out->back().message).mutable_trace()->CopyFrom(trace);
  } else {
    std::get<v1::NextBestAction>(out->back().message).mutable_trace()->Swap(&trace);
  }
  ++counters_.outputs[static_cast<int>(OutputKind::kNextBestAction)];

  if (routed) {
    Output r_out{OutputKind::kRouting, account_id, v1::RoutingDecision{}};
    auto& r = std::get<v1::RoutingDecision>(r_out.message);
    r.set_routing_id(routing_id);
    r.set_account_id(account_id);
    r.set_contact_id(signal.contact_id());
    r.set_channel(c.channel);
    r.set_role(c.role);
    r.set_pool(assignment.pool);
    r.set_assignee_id(assignment.assignee);
    r.set_reason(StrCat(reason, "; ", assignment.reason));
    *r.mutable_decided_at() = FromMillis(now);
    if (sla_due > 0) *r.mutable_sla_due_at() = FromMillis(sla_due);
    r.set_escalation_level(0);
    r.set_rule_id(rule.id);
    if (prompted) {
      *r.mutable_trace() = trace;
    } else {
      r.mutable_trace()->Swap(&trace);
    }
    r.add_trigger_event_ids(signal.event_id());
    r.set_rules_version(config_.rules_version);
    if (c.experiment != nullptr) *r.mutable_experiment() = arm;
    if (prompted) r.set_prompt_id(prompt_id);
    if (has_sla || prompted) r.set_task_id(routing_id);
    out->push_back(std::move(r_out));
    ++counters_.outputs[static_cast<int>(OutputKind::kRouting)];
  }
  std::string title;
  std::string what;
  if (prompted) {
    int64_t due = sla_due > 0 ? sla_due : expires;
    const config::PromptTemplate& tmpl = *rule.prompt;
    title = Render(tmpl.title, signal, *account, c.facts, score, committee, due, zone);
    what = tmpl.why.empty() ? GeneratedWhat(signal, *account)
                            : Render(tmpl.why, signal, *account, c.facts, score, committee, due, zone);
    std::string suggested = tmpl.suggested_action.empty() ? c.action : tmpl.suggested_action;
    Output p_out{OutputKind::kPrompt, account_id, v1::CrmPrompt{}};
    auto& p = std::get<v1::CrmPrompt>(p_out.message);
    p.set_prompt_id(prompt_id);
    p.set_account_id(account_id);
    p.set_account_name(AccountLabel(*account));
    p.set_contact_id(signal.contact_id());
    p.set_owner_id(assignment.assignee);
    p.set_title(title);
    p.set_body(PromptBody(what, WhoLine(config_, *account, signal, committee), suggested, due, zone));
    p.set_suggested_action(suggested);
    p.set_priority(c.priority);
    *p.mutable_due_at() = FromMillis(due);
    *p.mutable_send_at() = FromMillis(send_at);
    *p.mutable_expires_at() = FromMillis(expires);
    p.set_rule_id(rule.id);
    p.mutable_trace()->Swap(&trace);
    p.add_trigger_event_ids(signal.event_id());
    p.set_rules_version(config_.rules_version);
    p.set_role(c.role);
    p.set_reason(assignment.reason);
    p.set_pool(assignment.pool);
    if (c.experiment != nullptr) *p.mutable_experiment() = arm;
    p.set_kind("task");
    *p.mutable_decided_at() = FromMillis(now);
    p.set_task_id(routing_id);
    out->push_back(std::move(p_out));
    ++counters_.outputs[static_cast<int>(OutputKind::kPrompt)];
  }

  // An open task: the SLA clock and the prompt's life.
  if (has_sla || prompted) {
    v1::OpenTask* task = account->add_tasks();
    task->set_task_id(routing_id);
    task->set_rule_id(rule.id);
    task->set_action(c.action);
    task->set_channel(c.channel);
    task->set_role(c.role);
    task->set_pool(assignment.pool);
    task->set_assignee_id(assignment.assignee);
    task->add_assignees(assignment.assignee);
    if (prompted) task->add_prompt_ids(prompt_id);
      task->set_contact_id(signal.contact_id());
    task->set_contact_email(contact_email);
    task->set_decided_ms(now);
    task->set_expires_ms(expires);
    task->set_title(title);
    task->set_summary(what);
    task->set_manager_id(route != nullptr && !route->manager.empty() ? route->manager : assignment.manager);
    task->set_escalation_pool(resolved.pool);
    if (c.experiment != nullptr) {
      task->set_experiment_id(c.experiment->id);
      task->set_arm(c.arm);
    }
    if (has_sla) {
      task->set_sla_due_ms(sla_due);
      AddTimer(sla_due, v1::TIMER_SLA, routing_id, 0, account);
      ++counters_.sla_started;
    }
    AddTimer(expires, v1::TIMER_EXPIRY, routing_id, 0, account);
  }
}

}  // namespace demandcenter::engine
