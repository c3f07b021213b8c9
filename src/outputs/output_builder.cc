// OutputBuilder: decision and transition records to output messages.
#include "demandcenter/outputs/output_builder.h"

#include "demandcenter/common/time.h"

namespace demandcenter::outputs {
namespace {

// The trace goes into every message: copied for each but the last, which
// takes it (it is the largest part of a message).
void PutTrace(v1::DecisionTrace* trace, bool last, v1::DecisionTrace* into) {
  if (last) {
    into->Swap(trace);
  } else {
    into->CopyFrom(*trace);
  }
}

void Count(OutputKind kind, DecisionCounters* counters) { ++counters->outputs[static_cast<int>(kind)]; }

}  // namespace

void AddFacts(const condition::Facts& facts, v1::DecisionTrace* trace) {
  auto* map = trace->mutable_facts();
  for (const auto& [k, v] : facts) (*map)[k] = v;
}

v1::ExperimentArm ArmOf(const std::string& experiment_id, const std::string& arm) {
  v1::ExperimentArm a;
  a.set_id(experiment_id);
  a.set_arm(arm);
  return a;
}

void OutputBuilder::Build(DecisionRecord d, std::vector<Output>* out) const {
  size_t remaining = (d.nba ? 1 : 0) + (d.routing ? 1 : 0) + d.prompts.size();
  if (d.nba) {
    const DecisionRecord::Action& a = *d.nba;
    Output o{OutputKind::kNextBestAction, d.account_id, v1::NextBestAction{}};
    auto& nba = std::get<v1::NextBestAction>(o.message);
    nba.set_action_id(a.action_id);
    nba.set_account_id(d.account_id);
    nba.set_contact_id(d.contact_id);
    nba.set_action(d.action);
    nba.set_channel(d.channel);
    nba.set_role(a.role);
    nba.set_priority(d.priority);
    nba.set_stage(a.stage);
    *nba.mutable_decided_at() = FromMillis(d.decided_ms);
    *nba.mutable_send_at() = FromMillis(d.send_ms);
    *nba.mutable_expires_at() = FromMillis(a.expires_ms);
    nba.set_rule_id(d.rule_id);
    if (d.experiment) *nba.mutable_experiment() = *d.experiment;
    nba.add_trigger_event_ids(d.trigger_event_id);
    nba.set_rules_version(rules_version_);
    nba.set_reason(a.reason);
    nba.set_contact_email(a.contact_email);
    PutTrace(&d.trace, --remaining == 0, nba.mutable_trace());
    out->push_back(std::move(o));
    Count(OutputKind::kNextBestAction, counters_);
  }
  if (d.routing) {
    const DecisionRecord::Routing& rt = *d.routing;
    Output o{OutputKind::kRouting, d.account_id, v1::RoutingDecision{}};
    auto& r = std::get<v1::RoutingDecision>(o.message);
    r.set_routing_id(rt.routing_id);
    r.set_account_id(d.account_id);
    r.set_contact_id(d.contact_id);
    r.set_channel(d.channel);
    r.set_role(rt.role);
    r.set_pool(rt.pool);
    r.set_assignee_id(rt.assignee_id);
    r.set_reason(rt.reason);
    *r.mutable_decided_at() = FromMillis(d.decided_ms);
    if (rt.sla_due_ms > 0) *r.mutable_sla_due_at() = FromMillis(rt.sla_due_ms);
    r.set_escalation_level(d.escalation_level);
    r.set_rule_id(d.rule_id);
    PutTrace(&d.trace, --remaining == 0, r.mutable_trace());
    r.add_trigger_event_ids(d.trigger_event_id);
    r.set_rules_version(rules_version_);
    if (d.experiment) *r.mutable_experiment() = *d.experiment;
    r.set_prompt_id(rt.prompt_id);
    r.set_previous_assignee_id(rt.previous_assignee_id);
    r.set_task_id(d.task_id);
    out->push_back(std::move(o));
    Count(OutputKind::kRouting, counters_);
  }
  for (const DecisionRecord::Prompt& pr : d.prompts) {
    Output o{OutputKind::kPrompt, d.account_id, v1::CrmPrompt{}};
    auto& p = std::get<v1::CrmPrompt>(o.message);
    p.set_prompt_id(pr.prompt_id);
    p.set_account_id(d.account_id);
    p.set_account_name(pr.account_name);
    p.set_contact_id(d.contact_id);
    p.set_owner_id(pr.owner_id);
    p.set_title(pr.title);
    p.set_body(pr.body);
    p.set_suggested_action(pr.suggested_action);
    p.set_priority(d.priority);
    *p.mutable_due_at() = FromMillis(pr.due_ms);
    *p.mutable_send_at() = FromMillis(d.send_ms);
    *p.mutable_expires_at() = FromMillis(pr.expires_ms);
    p.set_rule_id(d.rule_id);
    PutTrace(&d.trace, --remaining == 0, p.mutable_trace());
    p.add_trigger_event_ids(d.trigger_event_id);
    p.set_rules_version(rules_version_);
    p.set_role(pr.role);
    p.set_reason(pr.reason);
    p.set_pool(pr.pool);
    if (d.experiment) *p.mutable_experiment() = *d.experiment;
    p.set_escalation_level(d.escalation_level);
    p.set_kind(pr.kind);
    *p.mutable_decided_at() = FromMillis(d.decided_ms);
    p.set_task_id(d.task_id);
    out->push_back(std::move(o));
    Count(OutputKind::kPrompt, counters_);
  }
}

void OutputBuilder::Build(TransitionRecord tr, std::vector<Output>* out) const {
  Output o{OutputKind::kTransition, tr.account_id, v1::StageTransition{}};
  auto& t = std::get<v1::StageTransition>(o.message);
  t.set_transition_id(tr.transition_id);
  t.set_account_id(tr.account_id);
  t.set_from_stage(tr.from_stage);
  t.set_to_stage(tr.to_stage);
  *t.mutable_at() = FromMillis(tr.at_ms);
  t.set_rule_id(tr.rule_id);
  t.set_dwell_seconds(tr.dwell_ms / 1000);
  t.add_trigger_event_ids(tr.trigger_event_id);
  t.set_rules_version(rules_version_);
  t.mutable_trace()->Swap(&tr.trace);
  for (auto& arm : tr.experiments) *t.add_experiments() = std::move(arm);
  ++counters_->transitions_by_id[tr.rule_id];
  out->push_back(std::move(o));
  Count(OutputKind::kTransition, counters_);
}

}  // namespace demandcenter::outputs
