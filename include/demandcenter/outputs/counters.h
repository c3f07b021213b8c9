// What the decisions did, counted as they are made: the source of the
// replay summary and of the decision metrics. Plain data; keys are bounded
// by the config (rule, action, channel, policy, experiment and arm names).
#ifndef DEMANDCENTER_OUTPUTS_COUNTERS_H_
#define DEMANDCENTER_OUTPUTS_COUNTERS_H_

#include <cstdint>
#include <map>
#include <string>

#include "demandcenter/outputs/output.h"

namespace demandcenter::outputs {

// Counts of signals, outputs, candidates, policies, routing, SLAs, tasks,
// feedback and experiments since the engine started.
struct DecisionCounters {
  int64_t applied = 0;
  int64_t duplicates = 0;
  // Inactivity transitions fired by timers.
  int64_t timers_fired = 0;
  int64_t outputs[kOutputKinds] = {};
  // Candidates by outcome (EMITTED, SUPPRESSED_*, HOLDOUT).
  std::map<std::string, int64_t> candidates;
  // Emitted actions by rule id.
  std::map<std::string, int64_t> emitted_by_rule;
  // Transitions by transition id.
  std::map<std::string, int64_t> transitions_by_id;
  // Timers fired, by kind ("inactivity", "sla", "snooze", "expiry").
  std::map<std::string, int64_t> timers_by_kind;

  // Contact policy: candidates stopped, by policy ("cap.email_weekly",
  // "consent.unsubscribed", "do_not_contact"...); actions and prompts whose
  // send_at moved to the next allowed window.
  std::map<std::string, int64_t> suppressed_by_policy;
  int64_t scheduled = 0;
  // contact_policy.send_time: timed sends by how the hour was chosen
  // ("best_hour", "explore", "earliest": not enough evidence yet), and
  // those credited with a reply or an accepted or completed prompt.
  std::map<std::string, int64_t> send_time;
  int64_t send_time_credited = 0;
  // Accounts whose CRM time zone is unknown (the default zone was used).
  int64_t zone_fallbacks = 0;

  // `channel: auto` decisions by branch ("digital", "inside_sales",
  // "field_sales", "specialist", "customer_success", "partner", "email").
  std::map<std::string, int64_t> auto_branches;
  // Assignments by kind: "owner", "pool", "no_owner_pool",
  // "owner_unavailable_pool", "escalation_next_member",
  // "escalation_manager", "none".
  std::map<std::string, int64_t> assignments;

  // SLA deadlines set (first routings and escalations), met (outcome or CRM
  // activity before the deadline), breached (the deadline passed: escalated,
  // or nobody left to escalate to).
  int64_t sla_started = 0;
  int64_t sla_met = 0;
  int64_t sla_breached = 0;
  // Tasks closed by expiry / by do-not-contact; snoozed prompts returned.
  int64_t tasks_expired = 0;
  int64_t tasks_cancelled = 0;
  int64_t snoozes_returned = 0;

  // Prompt outcomes by "rule_id/action/channel/outcome" (for learning);
  // outcomes naming no open prompt.
  std::map<std::string, int64_t> outcomes;
  int64_t unmatched_outcomes = 0;

  // Experiments, by "experiment/arm": accounts exposed, actions emitted,
  // would-be actions held out, prompt outcomes ("experiment/arm/outcome"),
  // and stage progression after exposure ("experiment/arm/stage": entries
  // into it, and accounts that reached it at least once).
  std::map<std::string, int64_t> experiment_exposed;
  std::map<std::string, int64_t> experiment_emitted;
  std::map<std::string, int64_t> experiment_held_out;
  std::map<std::string, int64_t> experiment_outcomes;
  std::map<std::string, int64_t> experiment_stages;
  std::map<std::string, int64_t> experiment_reached;
};
}  // namespace demandcenter::outputs

#endif  // DEMANDCENTER_OUTPUTS_COUNTERS_H_
