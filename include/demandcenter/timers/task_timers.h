// What the timers of an open task do when they fire: a missed SLA deadline
// escalates (re-route to the next available pool member or the manager,
// and tell the manager), a snoozed prompt comes back to its assignee, a
// prompt expires; each first checks whether do-not-contact now covers the
// task. Also the business-time arithmetic (SLA deadlines, the life of work
// for people) that deciding and feedback share, and the account's zone.
// Pure: time comes from the timers and the signals.
#ifndef DEMANDCENTER_TIMERS_TASK_TIMERS_H_
#define DEMANDCENTER_TIMERS_TASK_TIMERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/outputs/counters.h"
#include "demandcenter/outputs/output_builder.h"
#include "demandcenter/routing/routing.h"
#include "demandcenter/rules/contact_policy.h"
#include "demandcenter/timers/timers.h"

namespace demandcenter::timers {

// Not thread safe. Everything passed in must outlive the object.
class TaskTimers {
 public:
  TaskTimers(const config::DecisionConfig& config, const routing::PoolDirectory& pools, TimerIndex* timers,
             const outputs::OutputBuilder& builder, outputs::DecisionCounters* counters);

  // The SLA deadline `timer` passed: escalates the task one step (routing
  // decision, prompt to the new assignee, alert to the manager) and sets the
  // next deadline, or records the breach when nobody is left.
  void FireSla(const v1::TimerEntry& timer, v1::AccountState* account, std::vector<outputs::Output>* out);

  // A snoozed prompt's time came: it returns to its assignee with a fresh
  // SLA deadline.
  void FireSnooze(const v1::TimerEntry& timer, v1::AccountState* account, std::vector<outputs::Output>* out);

  // The task's prompt expired: the task closes (counted as expired).
  void FireExpiry(const v1::TimerEntry& timer, v1::AccountState* account);

  // Closes the task (counted as cancelled) when do-not-contact now covers
  // it: the account, or the task's contact by id or address. True if closed.
  bool CancelIfDoNotContact(const std::string& task_id, v1::AccountState* account);

  // The account's zone for the contact policy (an unknown CRM zone counts
  // as a fallback).
  rules::PolicyZone ZoneFor(const v1::AccountState& account);

  // When an SLA of `route` that starts at `start_ms` is due: in open hours
  // when sla.business_time and business hours are set, else plain time.
  int64_t SlaDue(int64_t start_ms, const config::Route& route, const rules::PolicyZone& zone) const;

  // When work for a person that starts at `start_ms` and lives `life_ms`
  // expires: whole days count open days and the rest open hours when
  // sla.business_time and business hours are set (a prompt sent on a Friday
  // evening does not expire over the weekend), else plain time.
  int64_t WorkExpiry(int64_t start_ms, int64_t life_ms, const rules::PolicyZone& zone) const;

  TimerIndex& timers() { return *timers_; }

 private:
  const config::DecisionConfig& config_;
  const routing::PoolDirectory& pools_;
  TimerIndex* timers_;
  const outputs::OutputBuilder& builder_;
  outputs::DecisionCounters* counters_;
  rules::AccountZones zones_;
};

}  // namespace demandcenter::timers

#endif  // DEMANDCENTER_TIMERS_TASK_TIMERS_H_
