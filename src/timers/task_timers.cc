// TaskTimers: SLA escalation, snooze return, expiry, do-not-contact cancel.
#include "demandcenter/timers/task_timers.h"

#include <algorithm>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/outputs/prompt_text.h"

namespace demandcenter::timers {
namespace {

using outputs::AccountLabel;
using outputs::DecisionRecord;

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

std::string TaskTitle(const v1::OpenTask& task, const v1::AccountState& account) {
  return task.title().empty() ? StrCat(task.action(), " at ", AccountLabel(account)) : task.title();
}

std::string SuggestedAction(const config::Rule& rule, const v1::OpenTask& task) {
  return rule.prompt && !rule.prompt->suggested_action.empty() ? rule.prompt->suggested_action : task.action();
}

// The fields every later prompt of a task shares (escalation, snooze).
DecisionRecord TaskRecord(const v1::OpenTask& task, const config::Rule& rule, const v1::AccountState& account,
                          std::string trigger, int64_t now, int64_t send_at) {
  DecisionRecord d;
  d.account_id = account.account_id();
  d.contact_id = task.contact_id();
  d.rule_id = task.rule_id();
  d.trigger_event_id = std::move(trigger);
  if (!task.experiment_id().empty()) d.experiment = outputs::ArmOf(task.experiment_id(), task.arm());
  d.decided_ms = now;
  d.send_ms = send_at;
  d.action = task.action();
  d.channel = task.channel();
  d.priority = rule.priority;
  d.task_id = task.task_id();
  return d;
}

// Who an escalation goes to, and how that was decided.
struct Escalation {
  std::string next;
  std::string how;
};

// The next person: the pool's next available member (for a next_member
// step), else the manager; nobody when neither is there.
Escalation NextAssignee(const routing::PoolDirectory& pools, const v1::OpenTask& task, config::EscalationStep step,
                        const std::string& manager, const std::string& account_id, int64_t now) {
  Escalation to;
  if (step == config::EscalationStep::kNextMember) {
    if (const config::Pool* pool = pools.Find(task.escalation_pool())) {
      std::vector<std::string> tried(task.assignees().begin(), task.assignees().end());
      to.next = routing::PickAvailableMember(*pool, account_id, now, tried);
      if (!to.next.empty()) to.how = StrCat("next available member of pool ", pool->id);
    }
  }
  if (to.next.empty() && !manager.empty()) {
    to.next = manager;
    to.how = step == config::EscalationStep::kManager ? "the manager"
                                                      : "the manager (no other pool member available)";
  }
  return to;
}

// The business-hours check of an escalation sent later than it fell due.
void AddScheduledCheck(int64_t now, int64_t send_at, const rules::PolicyZone& zone, v1::DecisionTrace* trace) {
  v1::PolicyCheck* p = trace->add_policies();
  p->set_policy("business_hours");
  p->set_passed(true);
  p->set_detail(StrCat(calendar::FormatLocal(now, *zone.tz), " ", zone.name,
                       " is outside business hours: scheduled for ", calendar::FormatLocal(send_at, *zone.tz)));
}

}  // namespace

TaskTimers::TaskTimers(const config::DecisionConfig& config, const routing::PoolDirectory& pools,
                       TimerIndex* timers, const outputs::OutputBuilder& builder,
                       outputs::DecisionCounters* counters)
    : config_(config),
      pools_(pools),
      timers_(timers),
      builder_(builder),
      counters_(counters),
      zones_(config.contact_policy.timezone) {}

rules::PolicyZone TaskTimers::ZoneFor(const v1::AccountState& account) {
  rules::PolicyZone zone = zones_.For(account);
  if (zone.crm_zone_unknown) ++counters_->zone_fallbacks;
  return zone;
}

int64_t TaskTimers::SlaDue(int64_t start_ms, const config::Route& route, const rules::PolicyZone& zone) const {
  const auto& cp = config_.contact_policy;
  if (config_.sla.business_time && cp.business_hours) {
    return cp.business_hours->AddOpenTime(start_ms, route.sla_days, route.sla_open_ms, *zone.tz, zone.name);
  }
  return start_ms + route.sla_ms;
}

int64_t TaskTimers::WorkExpiry(int64_t start_ms, int64_t life_ms, const rules::PolicyZone& zone) const {
  const auto& cp = config_.contact_policy;
  if (config_.sla.business_time && cp.business_hours) {
    return cp.business_hours->AddOpenTime(start_ms, static_cast<int32_t>(life_ms / kMillisPerDay),
                                          life_ms % kMillisPerDay, *zone.tz, zone.name);
  }
  return start_ms + life_ms;
}

bool TaskTimers::CancelIfDoNotContact(const std::string& task_id, v1::AccountState* account) {
  const v1::OpenTask* task = FindTask(task_id, account);
  if (task == nullptr || !TaskBlockedByDoNotContact(*account, *task)) return false;
  timers_->CloseTask(task_id, account);
  ++counters_->tasks_cancelled;
  return true;
}

void TaskTimers::FireSla(const v1::TimerEntry& key, v1::AccountState* account, std::vector<outputs::Output>* out) {
  v1::OpenTask* task = FindTask(key.task_id(), account);
  if (task == nullptr || task->sla_due_ms() != key.due_ms()) return;
  int32_t level = key.escalation_level();
  if (CancelIfDoNotContact(key.task_id(), account)) return;  // flagged meanwhile: stop here
  ++counters_->sla_breached;
  task->set_sla_due_ms(0);
  const config::Rule* rule = config_.FindRule(task->rule_id());
  if (rule == nullptr || !rule->route) return;
  const config::Route& route = *rule->route;
  if (level >= static_cast<int32_t>(route.escalate.size())) return;  // nobody left to escalate to
  const std::string& account_id = account->account_id();
  int64_t now = key.due_ms();
  rules::PolicyZone zone = ZoneFor(*account);

  config::EscalationStep step = route.escalate[level];
  std::string manager = !route.manager.empty() ? route.manager : task->manager_id();
  std::string previous = task->assignee_id();
  Escalation to = NextAssignee(pools_, *task, step, manager, account_id, now);
  if (to.next.empty()) return;
  bool to_manager = to.next == manager;
  ++counters_->assignments[to_manager ? "escalation_manager" : "escalation_next_member"];

  int32_t new_level = level + 1;
  bool more = new_level < static_cast<int32_t>(route.escalate.size());
  int64_t send_at = rules::NextAllowed(config_, zone, task->channel(), /*prompt=*/true, now);
  int64_t new_due = more ? SlaDue(send_at, route, zone) : 0;
  int64_t due_shown = new_due > 0 ? new_due : std::max(send_at, task->expires_ms());
  std::string sla_text = FormatDuration(route.sla_ms);
  std::string title = TaskTitle(*task, *account);

  DecisionRecord d = TaskRecord(*task, *rule, *account, StrCat("timer:", account_id, ":sla:", task->task_id(), ":", level),
                                now, send_at);
  d.escalation_level = new_level;
  condition::Facts facts;
  facts["sla"] = sla_text;
  facts["sla_due_at"] = FormatTime(key.due_ms());
  facts["escalation_level"] = std::to_string(new_level);
  facts["escalation_step"] = step == config::EscalationStep::kManager ? "manager" : "next_member";
  facts["previous_assignee"] = previous;
  facts["assignee"] = to.next;
  facts["timezone"] = zone.Label();
  outputs::AddFacts(facts, &d.trace);
  std::string breach = StrCat(previous, " did not act on ", task->action(), " for ", AccountLabel(*account),
                              " within ", sla_text, " (due ", outputs::DueText(key.due_ms(), zone), ")");
  d.trace.set_text(StrCat("SLA missed: ", breach, ". Escalation ", new_level, ": re-routed to ", to.next, ", ",
                          to.how,
                          more ? StrCat("; new deadline ", outputs::DueText(new_due, zone)) : "; no further escalation",
                          ". Rule ", task->rule_id(), ", task ", task->task_id(), "."));
  if (send_at != now) AddScheduledCheck(now, send_at, zone, &d.trace);

  std::string level_text = std::to_string(new_level);
  std::string prompt_id = DeterministicId("prm", {account_id, task->task_id(), "escalation", level_text});
  std::string pool = to_manager ? "" : task->escalation_pool();
  std::string role = to_manager ? "manager" : task->role();
  d.routing = DecisionRecord::Routing{
      .routing_id = DeterministicId("rte", {account_id, task->task_id(), "escalation", level_text}),
      .role = role,
      .pool = pool,
      .assignee_id = to.next,
      .previous_assignee_id = previous,
      .reason = StrCat("SLA missed by ", previous, "; escalated to ", to.how, " ", to.next),
      .sla_due_ms = new_due,
      .prompt_id = prompt_id};
  std::string suggested = SuggestedAction(*rule, *task);
  std::string who = outputs::TaskWhoLine(*task, *account);
  std::string what = StrCat(task->summary(), task->summary().empty() ? "" : " ", "SLA missed: ", breach, ".");
  auto prompt = [&](std::string id, std::string owner, std::string prompt_role, std::string prompt_pool,
                    std::string kind, std::string prompt_title, std::string todo) {
    d.prompts.push_back(DecisionRecord::Prompt{
        .prompt_id = std::move(id),
        .account_name = AccountLabel(*account),
        .owner_id = std::move(owner),
        .role = std::move(prompt_role),
        .pool = std::move(prompt_pool),
        .title = std::move(prompt_title),
        .body = outputs::PromptBody(what, who, todo, due_shown, zone),
        .suggested_action = suggested,
        .reason = StrCat("escalated to ", to.how, " ", to.next, " after ", previous, " missed the SLA"),
        .kind = std::move(kind),
        .due_ms = due_shown,
        .expires_ms = std::max(task->expires_ms(), due_shown)});
  };
  if (send_at != now) ++counters_->scheduled;
  prompt(prompt_id, to.next, role, pool, "escalation", StrCat("Escalated: ", title),
         StrCat(suggested, " ", previous, " did not act in time; it is yours now."));
  if (!manager.empty() && !to_manager) {
    std::string alert_id = DeterministicId("prm", {account_id, task->task_id(), "manager", level_text});
    prompt(alert_id, manager, "manager", "", "manager_alert", StrCat("SLA missed: ", title),
           StrCat("Re-routed to ", to.next, "; make sure it is handled."));
    task->add_prompt_ids(alert_id);
  }
  builder_.Build(std::move(d), out);

  task->set_assignee_id(to.next);
  task->add_assignees(to.next);
  task->set_escalation_level(new_level);
  task->add_prompt_ids(prompt_id);
  task->set_pool(pool);
  if (more) {
    task->set_sla_due_ms(new_due);
    timers_->Set(new_due, v1::TIMER_SLA, task->task_id(), new_level, account);
    ++counters_->sla_started;
  }
}

void TaskTimers::FireSnooze(const v1::TimerEntry& key, v1::AccountState* account,
                            std::vector<outputs::Output>* out) {
  v1::OpenTask* task = FindTask(key.task_id(), account);
  if (task == nullptr || task->snoozed_until_ms() != key.due_ms()) return;
  if (CancelIfDoNotContact(key.task_id(), account)) return;
  ++counters_->snoozes_returned;
  task->set_snoozed_until_ms(0);
  const config::Rule* rule = config_.FindRule(task->rule_id());
  if (rule == nullptr) return;
  const std::string& account_id = account->account_id();
  int64_t now = key.due_ms();
  rules::PolicyZone zone = ZoneFor(*account);
  int64_t send_at = rules::NextAllowed(config_, zone, task->channel(), /*prompt=*/true, now);
  if (send_at != now) ++counters_->scheduled;
  int64_t due = 0;
  if (rule->route && rule->route->sla_ms > 0) {
    due = SlaDue(send_at, *rule->route, zone);
    task->set_sla_due_ms(due);
    timers_->Set(due, v1::TIMER_SLA, task->task_id(), task->escalation_level(), account);
    ++counters_->sla_started;
  }
  int64_t due_shown = due > 0 ? due : std::max(send_at, task->expires_ms());
  std::string prompt_id = DeterministicId("prm", {account_id, task->task_id(), "snooze", std::to_string(key.due_ms())});

  DecisionRecord d = TaskRecord(*task, *rule, *account,
                                StrCat("timer:", account_id, ":snooze:", task->task_id(), ":", key.due_ms()), now,
                                send_at);
  d.escalation_level = task->escalation_level();
  condition::Facts facts;
  facts["snoozed_until"] = FormatTime(key.due_ms());
  facts["assignee"] = task->assignee_id();
  facts["timezone"] = zone.name;
  outputs::AddFacts(facts, &d.trace);
  d.trace.set_text(StrCat("Snoozed prompt back: ", task->action(), " for ", AccountLabel(*account), " returns to ",
                          task->assignee_id(), " at ", outputs::DueText(send_at, zone), ". Rule ", task->rule_id(),
                          ", task ", task->task_id(), "."));
  std::string suggested = SuggestedAction(*rule, *task);
  std::string what = StrCat(task->summary(), task->summary().empty() ? "" : " ", "You snoozed this until ",
                            outputs::DueText(key.due_ms(), zone), ".");
  d.prompts.push_back(DecisionRecord::Prompt{
      .prompt_id = prompt_id,
      .account_name = AccountLabel(*account),
      .owner_id = task->assignee_id(),
      .role = task->role(),
      .pool = task->pool(),
      .title = StrCat("Back from snooze: ", TaskTitle(*task, *account)),
      .body = outputs::PromptBody(what, outputs::TaskWhoLine(*task, *account), suggested, due_shown, zone),
      .suggested_action = suggested,
      .reason = StrCat("snoozed by ", task->assignee_id(), " until ", FormatTime(key.due_ms())),
      .kind = "snooze_return",
      .due_ms = due_shown,
      .expires_ms = std::max(task->expires_ms(), due_shown)});
  builder_.Build(std::move(d), out);
  task->add_prompt_ids(prompt_id);
}

void TaskTimers::FireExpiry(const v1::TimerEntry& key, v1::AccountState* account) {
  v1::OpenTask* task = FindTask(key.task_id(), account);
  if (task == nullptr) return;
  ++counters_->tasks_expired;
  ++counters_->outcomes[StrCat(task->rule_id(), "/", task->action(), "/", config::ChannelName(task->channel()),
                               "/expired")];
  if (!task->experiment_id().empty()) {
    ++counters_->experiment_outcomes[StrCat(task->experiment_id(), "/", task->arm(), "/expired")];
  }
  timers_->CloseTask(key.task_id(), account);
}

}  // namespace demandcenter::timers
