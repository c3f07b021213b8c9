// Feedback: what salespeople and the CRM say back. A prompt outcome
// (accepted, completed, dismissed, snoozed) meets the task's SLA, closes it,
// blocks its action for a while or brings it back later; CRM activity meets
// the SLAs of the account's open tasks; do-not-contact cancels them.
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/engine/engine.h"

namespace demandcenter::engine {
namespace {

constexpr std::string_view kPromptOutcomeType = "crm.prompt_outcome";

}  // namespace

void Engine::ApplyFeedback(const v1::Signal& signal, v1::AccountState* account) {
  if (signal.type() == kPromptOutcomeType) HandleOutcome(signal, account);
  if (account->tasks_size() == 0) return;
  const auto& crm = signal.crm_activity();
  if (crm.do_not_contact()) {
    // Nothing more for that contact (or the whole account): open tasks close.
    // (Ids first: closing a task erases it from the list being read.)
    std::vector<std::string> ids;
    for (const auto& t : account->tasks()) ids.push_back(t.task_id());
    for (const auto& id : ids) tasks_.CancelIfDoNotContact(id, account);
  }
  if (!config_.sla.met_by.empty() && condition::TypeMatches(config_.sla.met_by, signal.type())) {
    for (auto& t : *account->mutable_tasks()) {
      if (t.sla_due_ms() == 0) continue;
      if (!crm.owner_id().empty() && crm.owner_id() != t.assignee_id()) continue;
      timers_.DropTask(t.task_id(), v1::TIMER_SLA, account);
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
  ++counters_.outcomes[StrCat(task->rule_id(), "/", task->action(), "/", config::ChannelName(task->channel()), "/",
                              outcome)];
  if (!task->experiment_id().empty()) {
    ++counters_.experiment_outcomes[StrCat(task->experiment_id(), "/", task->arm(), "/", outcome)];
  }
  auto meet_sla = [&] {
    if (task->sla_due_ms() == 0) return;
    timers_.DropTask(task_id, v1::TIMER_SLA, account);
    task->set_sla_due_ms(0);
    ++counters_.sla_met;
  };
  // What worked: the propensity model hears of it (the task may close below).
  if (outcome == "accepted" || outcome == "completed") CreditPrompt(*task, now, account);
  if (outcome == "accepted") {
    meet_sla();
    task->set_accepted(true);
  } else if (outcome == "completed") {
    meet_sla();
    timers_.CloseTask(task_id, account);
  } else if (outcome == "dismissed") {
    meet_sla();
    rules::BlockAction(task->action(), now + config_.feedback.dismissed_cooldown_ms, "dismissed", crm.prompt_id(),
                       account);
    timers_.CloseTask(task_id, account);
  } else if (outcome == "snoozed") {
    int64_t until = crm.has_snooze_until() ? ToMillis(crm.snooze_until()) : 0;
    if (until <= now) return;  // a snooze into the past changes nothing
    // The SLA clock stops; the prompt comes back at `until` with a fresh one.
    if (task->sla_due_ms() > 0) {
      timers_.DropTask(task_id, v1::TIMER_SLA, account);
      task->set_sla_due_ms(0);
    }
    timers_.DropTask(task_id, v1::TIMER_SNOOZE, account);
    task->set_snoozed_until_ms(until);
    timers_.Set(until, v1::TIMER_SNOOZE, task_id, task->escalation_level(), account);
    rules::BlockAction(task->action(), until, "snoozed", crm.prompt_id(), account);
    if (task->expires_ms() <= until) {
      // Keep the prompt alive past its return.
      const config::Rule* rule = config_.FindRule(task->rule_id());
      int64_t life = rule != nullptr ? rule->expires_ms : kMillisPerDay;
      int64_t expires = until + life;
      // (The zone is looked up, and an unknown one counted, only when needed.)
      if (config_.sla.business_time && config_.contact_policy.business_hours) {
        expires = tasks_.WorkExpiry(until, life, tasks_.ZoneFor(*account));
      }
      timers_.DropTask(task_id, v1::TIMER_EXPIRY, account);
      task->set_expires_ms(expires);
      timers_.Set(expires, v1::TIMER_EXPIRY, task_id, task->escalation_level(), account);
    }
  }
}

}  // namespace demandcenter::engine
