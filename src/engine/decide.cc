// Deciding: the rules' candidates for a signal (or an inactivity tick), their
// channels and who takes them, scores, arbitration with the contact policy,
// experiment exposure, and the outputs and open task of each emitted action.
#include <algorithm>
#include <optional>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/engine/engine.h"
#include "demandcenter/journey/journey_model.h"
#include "demandcenter/outputs/prompt_text.h"

namespace demandcenter::engine {

using outputs::DecisionRecord;

// How a candidate is routed: `channel: auto`'s choice and who takes it.
struct Engine::Routed {
  std::optional<routing::AutoChoice> choice;
  condition::Facts auto_facts;
  bool person = false;  // someone is assigned (routing decision, maybe a prompt)
  bool to_owner = false;
  std::string pool;
};

// What every emitted candidate of one decision shares.
struct Engine::Decision {
  const v1::Signal& signal;
  condition::EvalContext& ctx;
  const rules::PolicyZone& zone;
  const std::vector<v1::Candidate>& listed;
  // Candidates ranked lower by arbitration.
  int32_t others = 0;
};

namespace {

bool IsPersonChannel(v1::Channel channel) { return channel != v1::DIGITAL && channel != v1::EMAIL; }

// Why the send is not now: the hours, or the hour that has worked best
// (contact_policy.send_time; the "send_time" check has the figures).
std::string ScheduledText(const rules::Candidate& c, const rules::PolicyZone& zone, int64_t now, int64_t send_at) {
  if (send_at == now) return "";
  std::string when = StrCat(" Scheduled for ", rules::LocalTimeText(send_at, zone), ": ");
  if (!c.timed || send_at == c.timed->earliest_ms) return StrCat(when, "outside allowed hours.");
  bool explored = c.timed->why == rules::SendTime::Why::kExplore;
  return StrCat(when, explored ? "another allowed hour, sent to keep every hour measured"
                               : "the allowed hour that has worked best",
                c.timed->earliest_ms != now ? " (outside allowed hours now)" : "", ".");
}

// The trace of an emitted candidate: the rule's facts, the decision's
// context, the auto-routing inputs, the policies, every candidate, and a
// readable paragraph.
v1::DecisionTrace CandidateTrace(const config::DecisionConfig& config, const v1::Signal& signal,
                                 const rules::Candidate& c, const condition::Facts& auto_facts,
                                 const std::optional<routing::AutoChoice>& choice,
                                 const routing::Assignment& assignment, const std::vector<v1::Candidate>& listed,
                                 int32_t others, condition::EvalContext& ctx, const rules::PolicyZone& zone,
                                 const v1::AccountState& account, int64_t send_at) {
  const config::Rule& rule = *c.rule;
  int64_t now = ctx.now_ms();
  const auto& cp = config.contact_policy;
  v1::DecisionTrace trace;
  outputs::AddFacts(c.facts, &trace);
  auto* facts = trace.mutable_facts();
  (*facts)["stage"] = account.stage();
  (*facts)["score"] = condition::FormatNumber(ctx.score());
  (*facts)["committee_size"] = std::to_string(ctx.committee().size);
  outputs::AddFacts(auto_facts, &trace);
  if (cp.business_hours || cp.send_hours) (*facts)["timezone"] = zone.Label();
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
  std::string used_facts =
      outputs::FactsSentence(c.facts.empty() ? condition::Facts(facts->begin(), facts->end()) : c.facts);
  trace.set_text(StrCat(
      "Rule ", rule.id, " fired on ", signal.type(), " for ", outputs::AccountLabel(account), " in stage ",
      account.stage(), ": ", reason, ". Facts: ", used_facts, ". Arbitration: score ", condition::FormatNumber(c.score),
      " = priority ", c.priority, " x propensity ", condition::FormatNumber(c.propensity),
      c.learned ? StrCat(" (drawn from what worked: mean ", condition::FormatNumber(c.posterior.mean()), " after ",
                         c.posterior.successes, " of ", c.posterior.trials, " succeeded)")
                : "",
      " x context ", context,
      others > 0 ? StrCat("; ", others, " other candidate(s) ranked lower") : "", ".", policy_note,
      c.experiment != nullptr ? StrCat(" Experiment ", c.experiment->id, ": arm ", c.arm, ".") : "", " Channel ",
      config::ChannelName(c.channel), choice ? StrCat(" (auto: ", choice->branch, ")") : "",
      assignment.assignee.empty() ? "" : StrCat(", assigned to ", assignment.assignee, " (", assignment.reason, ")"),
      ".", ScheduledText(c, zone, now, send_at)));
  return trace;
}

// An open task: the SLA clock and the prompt's life.
// What a prompt's later life needs of it: its title and "what happened".
struct PromptText {
  std::string title;
  std::string what;
};

void OpenTask(const DecisionRecord& d, const rules::Candidate& c, const routing::Assignment& assignment,
              const std::string& escalation_pool, const std::string& contact_email, int64_t expires,
              int64_t sla_due, const PromptText& text, v1::AccountState* account) {
  const config::Rule& rule = *c.rule;
  const config::Route* route = rule.route ? &*rule.route : nullptr;
  v1::OpenTask* task = account->add_tasks();
  task->set_task_id(d.task_id);
  task->set_rule_id(rule.id);
  task->set_action(c.action);
  task->set_channel(c.channel);
  task->set_role(c.role);
  task->set_pool(assignment.pool);
  task->set_assignee_id(assignment.assignee);
  task->add_assignees(assignment.assignee);
  if (!d.prompts.empty()) task->add_prompt_ids(d.prompts[0].prompt_id);
  task->set_contact_id(d.contact_id);
  task->set_contact_email(contact_email);
  task->set_decided_ms(d.decided_ms);
  task->set_expires_ms(expires);
  task->set_title(text.title);
  task->set_summary(text.what);
  task->set_manager_id(route != nullptr && !route->manager.empty() ? route->manager : assignment.manager);
  task->set_escalation_pool(escalation_pool);
  if (c.experiment != nullptr) {
    task->set_experiment_id(c.experiment->id);
    task->set_arm(c.arm);
  }
  if (sla_due > 0) task->set_sla_due_ms(sla_due);
}

}  // namespace

std::vector<Engine::Routed> Engine::RouteCandidates(condition::EvalContext& ctx,
                                                    std::vector<rules::Candidate>* candidates) {
  std::vector<Routed> routed(candidates->size());
  for (size_t i = 0; i < candidates->size(); ++i) {
    rules::Candidate& c = (*candidates)[i];
    Routed& r = routed[i];
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
  return routed;
}

std::vector<v1::Candidate> Engine::ListCandidates(const std::vector<rules::Candidate>& candidates, int64_t now,
                                                  v1::AccountState* account) {
  std::vector<v1::Candidate> listed;
  listed.reserve(candidates.size());
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
    }
    if (c.experiment != nullptr) *pc.mutable_experiment() = outputs::ArmOf(c.experiment->id, c.arm);
    if (c.priority != c.rule->priority) pc.set_priority(c.priority);
    if (c.learned) {
      pc.set_propensity(c.propensity);
      pc.set_propensity_mean(c.posterior.mean());
      pc.set_propensity_trials(c.posterior.trials);
      pc.set_propensity_successes(c.posterior.successes);
    }
    listed.push_back(std::move(pc));
    ++counters_.candidates[v1::CandidateOutcome_Name(c.outcome)];
    if (c.experiment == nullptr) continue;
    // Exposure: the account's arm, what it was shown, what it was spared.
    v1::ExperimentExposure* exposure = nullptr;
    for (auto& e : *account->mutable_experiments()) {
      if (e.experiment_id() == c.experiment->id) exposure = &e;
    }
    if (exposure == nullptr) {
      exposure = account->add_experiments();
      exposure->set_experiment_id(c.experiment->id);
      exposure->set_arm(c.arm);
      exposure->set_first_ms(now);
      ++counters_.experiment_exposed[StrCat(c.experiment->id, "/", c.arm)];
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
  return listed;
}

void Engine::Decide(const v1::Signal& signal, int64_t now, const std::vector<std::string>& entered,
                    v1::AccountState* account, size_t first_transition_output, std::vector<outputs::Output>* out) {
  condition::EvalContext ctx(config_, signal, *account, now, entered);
  std::vector<rules::Candidate> candidates = rules::Evaluate(config_, index_, ctx);
  if (candidates.empty()) return;
  std::vector<Routed> routed = RouteCandidates(ctx, &candidates);
  bool learning = config_.arbitration.learning.enabled;
  bool timing = config_.contact_policy.send_time.enabled;
  const v1::PropensityModel* model = learning || timing ? &PropensityModelOf(account->partition()) : nullptr;
  rules::Score(config_, ctx, &candidates, learning ? model : nullptr);
  rules::PolicyZone zone = tasks_.ZoneFor(*account);
  rules::Arbitrate(config_, zone, now, ctx.contact(), &candidates, account, timing ? model : nullptr);

  std::vector<v1::Candidate> listed = ListCandidates(candidates, now, account);
  if (learning || timing) RecordTrials(candidates, now, account);
  bool any_emitted = false;
  bool any_unsent = false;
  int32_t suppressed_arbitration = 0;
  for (const auto& c : candidates) {
    any_emitted = any_emitted || c.outcome == v1::EMITTED;
    any_unsent = any_unsent || c.outcome == v1::HOLDOUT || c.outcome == v1::SUPPRESSED_POLICY;
    suppressed_arbitration += c.outcome == v1::SUPPRESSED_ARBITRATION;
  }
  Decision decision{signal, ctx, zone, listed, suppressed_arbitration};
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].outcome == v1::EMITTED) Emit(decision, candidates[i], routed[i], account, out);
  }
  // Nothing went out, but something was held out or stopped: the signal's
  // transitions carry the candidates, so the decision stays auditable.
  if (!any_emitted && any_unsent) {
    for (size_t i = first_transition_output; i < out->size(); ++i) {
      outputs::Output& o = (*out)[i];
      if (o.kind != outputs::OutputKind::kTransition || o.account_id != account->account_id()) continue;
      auto* trace = std::get<v1::StageTransition>(o.message).mutable_trace();
      for (const auto& pc : listed) *trace->add_candidates() = pc;
    }
  }
}

void Engine::Emit(const Decision& d, const rules::Candidate& c, const Routed& routed, v1::AccountState* account,
                  std::vector<outputs::Output>* out) {
  const config::Rule& rule = *c.rule;
  const std::string& account_id = account->account_id();
  const v1::Signal& signal = d.signal;
  int64_t now = d.ctx.now_ms();
  int64_t send_at = c.send_at_ms;
  ++counters_.emitted_by_rule[rule.id];
  if ((c.timed ? c.timed->earliest_ms : send_at) != now) ++counters_.scheduled;
  if (routed.choice) ++counters_.auto_branches[routed.choice->branch];

  // Who takes it.
  routing::Assignment assignment;
  if (routed.person) {
    assignment = routing::Assign(pools_, routed.to_owner, routed.pool, *account, send_at);
    ++counters_.assignments[assignment.kind];
  }
  const config::Route* route = rule.route ? &*rule.route : nullptr;
  bool has_sla = routed.person && route != nullptr && route->sla_ms > 0 && !assignment.assignee.empty();
  bool prompted = c.prompt && !assignment.assignee.empty();
  int64_t expires = routed.person ? tasks_.WorkExpiry(send_at, rule.expires_ms, d.zone) : send_at + rule.expires_ms;
  int64_t sla_due = has_sla ? tasks_.SlaDue(send_at, *route, d.zone) : 0;
  const v1::ContactState* contact = d.ctx.contact();
  std::string contact_email = contact != nullptr ? contact->email() : signal.email();
  std::string reason = rule.reason.empty() ? rule.action : rule.reason;
  std::string routing_id = routed.person ? DeterministicId("rte", {account_id, rule.id, signal.event_id()}) : "";

  DecisionRecord rec;
  rec.account_id = account_id;
  rec.contact_id = signal.contact_id();
  rec.rule_id = rule.id;
  rec.trigger_event_id = signal.event_id();
  if (c.experiment != nullptr) rec.experiment = outputs::ArmOf(c.experiment->id, c.arm);
  rec.trace = CandidateTrace(config_, signal, c, routed.auto_facts, routed.choice, assignment, d.listed, d.others,
                             d.ctx, d.zone, *account, send_at);
  rec.decided_ms = now;
  rec.send_ms = send_at;
  rec.action = c.action;
  rec.channel = c.channel;
  rec.priority = c.priority;
  rec.task_id = has_sla || prompted ? routing_id : "";
  rec.nba = DecisionRecord::Action{.action_id = DeterministicId("nba", {account_id, rule.id, signal.event_id()}),
                                   .role = c.role,
                                   .stage = account->stage(),
                                   .reason = reason,
                                   .contact_email = contact_email,
                                   .expires_ms = expires};
  std::string prompt_id = prompted ? DeterministicId("prm", {account_id, rule.id, signal.event_id()}) : "";
  if (routed.person) {
    rec.routing = DecisionRecord::Routing{.routing_id = routing_id,
                                          .role = c.role,
                                          .pool = assignment.pool,
                                          .assignee_id = assignment.assignee,
                                          .reason = StrCat(reason, "; ", assignment.reason),
                                          .sla_due_ms = sla_due,
                                          .prompt_id = prompt_id};
  }
  PromptText text;
  if (prompted) {
    int64_t due = sla_due > 0 ? sla_due : expires;
    const config::PromptTemplate& tmpl = *rule.prompt;
    outputs::PromptFacts facts{signal, *account, c.facts, d.ctx.score(), d.ctx.committee(), due, d.zone};
    text.title = outputs::Render(tmpl.title, facts);
    text.what = tmpl.why.empty() ? outputs::GeneratedWhat(signal, *account) : outputs::Render(tmpl.why, facts);
    // The outlook is the prompt's own: the task keeps `what` for its
    // escalations, which say what happened since.
    std::string what = text.what;
    if (auto outlook = journey::OutlookOf(config_.journey, JourneyModelOf(account->partition()), account->segment(),
                                          account->stage())) {
      what += StrCat("\nOutlook: ", journey::OutlookSentence(*outlook), ".");
    }
    std::string suggested = tmpl.suggested_action.empty() ? c.action : tmpl.suggested_action;
    std::string who = outputs::WhoLine(*account, signal, d.ctx.committee(), config_.committee.window_ms);
    rec.prompts.push_back(DecisionRecord::Prompt{.prompt_id = prompt_id,
                                                 .account_name = outputs::AccountLabel(*account),
                                                 .owner_id = assignment.assignee,
                                                 .role = c.role,
                                                 .pool = assignment.pool,
                                                 .title = text.title,
                                                 .body = outputs::PromptBody(what, who, suggested, due, d.zone),
                                                 .suggested_action = suggested,
                                                 .reason = assignment.reason,
                                                 .kind = "task",
                                                 .due_ms = due,
                                                 .expires_ms = expires});
  }
  if (has_sla || prompted) OpenTask(rec, c, assignment, routed.pool, contact_email, expires, sla_due, text, account);
  builder_.Build(std::move(rec), out);
  if (has_sla) {
    timers_.Set(sla_due, v1::TIMER_SLA, routing_id, 0, account);
    ++counters_.sla_started;
  }
  if (has_sla || prompted) timers_.Set(expires, v1::TIMER_EXPIRY, routing_id, 0, account);
}

}  // namespace demandcenter::engine
