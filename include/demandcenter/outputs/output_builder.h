// The one place output messages are made. A decision — a rule's action, an
// SLA escalation, a snoozed prompt's return — is described once, as a
// DecisionRecord; a stage change as a TransitionRecord; the builder turns
// each into its messages (NextBestAction, RoutingDecision, CrmPrompts,
// StageTransition) and counts them. Pure.
#ifndef DEMANDCENTER_OUTPUTS_OUTPUT_BUILDER_H_
#define DEMANDCENTER_OUTPUTS_OUTPUT_BUILDER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "demandcenter/condition/condition.h"
#include "demandcenter/outputs/counters.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/v1/action.pb.h"

namespace demandcenter::outputs {

// One decision and everything its messages carry. Fields shared by every
// message (account, contact, rule, trigger, experiment, trace, times) are
// set once; `nba`, `routing` and `prompts` say which messages it makes.
struct DecisionRecord {
  std::string account_id;
  std::string contact_id;
  // The config's rule id (also for escalations and snooze returns).
  std::string rule_id;
  // The signal's event id, or the timer's id ("timer:<account>:sla:...").
  std::string trigger_event_id;
  std::optional<v1::ExperimentArm> experiment;
  // Copied into every message (moved into the last).
  v1::DecisionTrace trace;
  int64_t decided_ms = 0;
  int64_t send_ms = 0;
  // The action and who does it.
  std::string action;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  int32_t priority = 0;
  // 0 for a first routing.
  int32_t escalation_level = 0;
  // The open task the routing and prompts belong to ("" when none).
  std::string task_id;

  // A NextBestAction (a rule's action).
  struct Action {
    std::string action_id;
    std::string role;
    std::string stage;
    std::string reason;
    std::string contact_email;
    int64_t expires_ms = 0;
  };
  std::optional<Action> nba;

  // A RoutingDecision: someone is assigned.
  struct Routing {
    std::string routing_id;
    std::string role;
    std::string pool;
    std::string assignee_id;
    std::string previous_assignee_id;
    std::string reason;
    int64_t sla_due_ms = 0;  // 0: no SLA
    std::string prompt_id;   // the prompt that goes with it, if any
  };
  std::optional<Routing> routing;

  // CrmPrompts, in emission order.
  struct Prompt {
    std::string prompt_id;
    std::string account_name;
    std::string owner_id;
    std::string role;
    std::string pool;
    std::string title;
    std::string body;
    std::string suggested_action;
    std::string reason;
    // "task", "escalation", "manager_alert", "snooze_return".
    std::string kind;
    int64_t due_ms = 0;
    int64_t expires_ms = 0;
  };
  std::vector<Prompt> prompts;
};

// Adds `facts` to the trace's facts (a later value for a key wins).
void AddFacts(const condition::Facts& facts, v1::DecisionTrace* trace);

// {experiment id, arm} as outputs carry it.
v1::ExperimentArm ArmOf(const std::string& experiment_id, const std::string& arm);

// One stage change.
struct TransitionRecord {
  std::string transition_id;
  std::string account_id;
  std::string from_stage;
  std::string to_stage;
  int64_t at_ms = 0;
  // The transition's id in the config.
  std::string rule_id;
  int64_t dwell_ms = 0;
  std::string trigger_event_id;
  v1::DecisionTrace trace;
  // The experiment arms the account is exposed to (progression by arm).
  std::vector<v1::ExperimentArm> experiments;
};

// Not thread safe; `counters` must outlive the builder.
class OutputBuilder {
 public:
  OutputBuilder(std::string rules_version, DecisionCounters* counters)
      : rules_version_(std::move(rules_version)), counters_(counters) {}

  // Appends the record's messages to *out: the NextBestAction, then the
  // RoutingDecision, then the prompts; counts each by kind.
  void Build(DecisionRecord record, std::vector<Output>* out) const;

  // Appends the StageTransition; counts it and the transition's id.
  void Build(TransitionRecord record, std::vector<Output>* out) const;

 private:
  std::string rules_version_;
  DecisionCounters* counters_;
};

}  // namespace demandcenter::outputs

#endif  // DEMANDCENTER_OUTPUTS_OUTPUT_BUILDER_H_
