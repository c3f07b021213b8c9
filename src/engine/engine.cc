#include "demandcenter/engine/engine.h"

#include <algorithm>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/condition/condition.h"
#include "demandcenter/journey/journey.h"
#include "demandcenter/routing/routing.h"

namespace demandcenter::engine {
namespace {

constexpr std::string_view kInactivityType = "journey.inactivity";

void FillFacts(const condition::Facts& facts, v1::DecisionTrace* trace) {
  auto* map = trace->mutable_facts();
  for (const auto& [k, v] : facts) (*map)[k] = v;
}

std::string ContactLabel(const v1::AccountState& account, const v1::Signal& signal) {
  for (const auto& c : account.contacts()) {
    bool same = (!signal.contact_id().empty() && c.contact_id() == signal.contact_id()) ||
                (signal.contact_id().empty() && !signal.email().empty() && c.email() == signal.email());
    if (!same) continue;
    std::string who = c.contact_id().empty() ? c.email() : c.contact_id();
    return c.title().empty() ? who : StrCat(who, " (", c.title(), ")");
  }
  return "";
}

std::string AccountLabel(const v1::AccountState& account) {
  return account.account_name().empty() ? account.account_id() : account.account_name();
}

// Values for the prompt template placeholders.
std::string Placeholder(std::string_view name, const v1::Signal& signal,
                        const v1::AccountState& account, const condition::Facts& facts,
                        double score, const condition::Committee& committee, int64_t due_ms) {
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
  if (name == "committee_roles") {
    if (committee.roles.empty()) return "no known roles";
    std::string out;
    for (size_t i = 0; i < committee.roles.size(); ++i) {
      if (i > 0) out += i + 1 == committee.roles.size() ? " and " : ", ";
      out += committee.roles[i];
    }
    return out;
  }
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
  if (name == "due") return FormatTime(due_ms);
  if (name == "page") {
    return signal.web_visit().path().empty() ? signal.web_visit().url() : signal.web_visit().path();
  }
  return "";
}

std::string Render(const std::string& text, const v1::Signal& signal, const v1::AccountState& account,
                   const condition::Facts& facts, double score, const condition::Committee& committee,
                   int64_t due_ms) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    if (open == std::string::npos) break;
    size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    out.append(text, pos, open - pos);
    out += Placeholder(std::string_view(text).substr(open + 1, close - open - 1), signal, account,
                       facts, score, committee, due_ms);
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

}  // namespace

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

const std::string& TopicFor(OutputKind kind, const config::KafkaTopics& topics) {
  switch (kind) {
    case OutputKind::kTransition: return topics.transitions;
    case OutputKind::kNextBestAction: return topics.nba;
    case OutputKind::kRouting: return topics.routing;
    case OutputKind::kPrompt: return topics.prompts;
  }
  return topics.nba;
}

Engine::Engine(const config::Config& config, state::StateStore* store)
    : config_(config), store_(store), index_(config) {}

int64_t Engine::StreamTime(int32_t partition) const {
  auto it = stream_time_.find(partition);
  return it == stream_time_.end() ? 0 : it->second;
}

size_t Engine::PendingTimers() const {
  size_t n = 0;
  for (const auto& [p, set] : timers_) n += set.size();
  return n;
}

void Engine::RebuildTimers() {
  timers_.clear();
  store_->ForEachAccount([&](const v1::AccountState& a) {
    if (a.inactivity_due_ms() > 0) timers_[a.partition()].emplace(a.inactivity_due_ms(), a.account_id());
  });
}

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
  if (account->inactivity_due_ms() > 0) {
    timers_[account->partition()].erase({account->inactivity_due_ms(), account->account_id()});
  }
  account->set_inactivity_due_ms(due);
  if (due > 0) timers_[account->partition()].emplace(due, account->account_id());
}

void Engine::AdvanceStreamTime(int32_t partition, int64_t now_ms, std::vector<Output>* out) {
  int64_t& stream = stream_time_[partition];
  if (now_ms <= stream) return;
  stream = now_ms;
  FireDueTimers(partition, out);
}

void Engine::FireDueTimers(int32_t partition, std::vector<Output>* out) {
  auto& queue = timers_[partition];
  int64_t now = stream_time_[partition];
  while (!queue.empty() && queue.begin()->first <= now) {
    auto [due, account_id] = *queue.begin();
    queue.erase(queue.begin());
    v1::AccountState* account = store_->Find(account_id);
    if (account == nullptr || account->inactivity_due_ms() != due) continue;
    account->set_inactivity_due_ms(0);
    auto fired = journey::FireInactivity(config_, due, account);
    if (fired) {
      ++counters_.timers_fired;
      v1::Signal tick;
      tick.set_event_id(StrCat("timer:", account_id, ":", fired->transition->id, ":", due));
      tick.set_type(std::string(kInactivityType));
      tick.set_account_id(account_id);
      *tick.mutable_occurred_at() = FromMillis(fired->at_ms);
      std::vector<std::string> entered = {fired->to};
      // The transition record.
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
      trace->set_text(StrCat(AccountLabel(*account), " moved from ", fired->from, " to ", fired->to,
                             " (", fired->transition->id, "): no engagement for ",
                             fired->facts["inactive_for"], " since ", fired->facts["last_engaged_at"], "."));
      FillFacts(fired->facts, trace);
      ++counters_.outputs[static_cast<int>(OutputKind::kTransition)];
      ++counters_.transitions_by_id[fired->transition->id];
      out->push_back(std::move(o));
      Decide(tick, entered, account, out);
    }
    Schedule(account);
    store_->MarkDirty(account_id);
  }
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
    // The account's signals moved partition (re-keyed or repartitioned input).
    if (account->inactivity_due_ms() > 0) {
      timers_[account->partition()].erase({account->inactivity_due_ms(), account_id});
      account->set_inactivity_due_ms(0);
    }
    account->set_partition(partition);
  }
  if (!journey::RecordEventId(config_, signal, account)) {
    ++counters_.duplicates;
    return SignalOutcome::kDuplicate;
  }
  ++counters_.applied;
  journey::ApplySignal(config_, signal, account);
  std::vector<journey::FiredTransition> fired = journey::Advance(config_, signal, account);
  std::vector<std::string> entered;
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
    ++counters_.outputs[static_cast<int>(OutputKind::kTransition)];
    ++counters_.transitions_by_id[f.transition->id];
    out->push_back(std::move(o));
  }
  Decide(signal, entered, account, out);
  Schedule(account);
  store_->MarkDirty(account_id);
  return SignalOutcome::kApplied;
}

void Engine::Decide(const v1::Signal& signal, const std::vector<std::string>& entered,
                    v1::AccountState* account, std::vector<Output>* out) {
  const std::string& account_id = account->account_id();
  int64_t now = ToMillis(signal.occurred_at());
  condition::EvalContext ctx(config_, signal, *account, now, entered);
  std::vector<rules::Candidate> candidates = rules::Decide(config_, index_, ctx);
  if (candidates.empty()) return;

  std::vector<v1::Candidate> listed;
  for (const auto& c : candidates) {
    v1::Candidate pc;
    pc.set_rule_id(c.rule->id);
    pc.set_action(c.rule->action);
    pc.set_channel(c.rule->channel.channel);
    pc.set_score(c.score);
    pc.set_outcome(c.outcome);
    listed.push_back(std::move(pc));
    ++counters_.candidates[v1::CandidateOutcome_Name(c.outcome)];
  }
  const condition::Committee& committee = ctx.committee();
  double score = ctx.score();

  for (const auto& c : candidates) {
    if (c.outcome != v1::EMITTED) continue;
    const config::Rule& rule = *c.rule;
    rules::RecordFired(rule.id, now, account);
    ++counters_.emitted_by_rule[rule.id];

    condition::Facts facts = c.facts;
    facts["stage"] = account->stage();
    facts["score"] = condition::FormatNumber(score);
    facts["committee_size"] = std::to_string(committee.size);
    routing::RouteResult route = routing::Route(config_, rule, *account, committee.size, &facts);

    v1::DecisionTrace trace;
    FillFacts(facts, &trace);
    for (const auto& p : c.policies) *trace.add_policies() = p;
    for (const auto& pc : listed) {
      v1::Candidate* added = trace.add_candidates();
      *added = pc;
      if (pc.rule_id() == rule.id) added->set_channel(route.channel);
    }
    int suppressed = 0;
    for (const auto& other : candidates) suppressed += other.outcome == v1::SUPPRESSED_ARBITRATION;
    std::string reason = rule.reason.empty() ? rule.action : rule.reason;
    trace.set_text(StrCat(
        "Rule ", rule.id, " fired on ", signal.type(), " for ", AccountLabel(*account), " in stage ",
        account->stage(), ": ", reason, ". Facts: ", FactsSentence(c.facts.empty() ? facts : c.facts),
        ". Arbitration: score ", condition::FormatNumber(c.score), " = priority ", rule.priority,
        " x propensity 1 x context 1", suppressed > 0 ? StrCat("; ", suppressed, " other candidate(s) ranked lower") : "",
        ". Channel ", config::ChannelName(route.channel),
        route.assignee.empty() ? "" : StrCat(", assigned to ", route.assignee, " (", route.reason, ")"), "."));

    int64_t expires = now + rule.expires_ms;
    int64_t sla_due = rule.route && rule.route->sla_ms > 0 ? now + rule.route->sla_ms : 0;

    Output nba_out{OutputKind::kNextBestAction, account_id, v1::NextBestAction{}};
    auto& nba = std::get<v1::NextBestAction>(nba_out.message);
    nba.set_action_id(DeterministicId("nba", {account_id, rule.id, signal.event_id()}));
    nba.set_account_id(account_id);
    nba.set_contact_id(signal.contact_id());
    nba.set_action(rule.action);
    nba.set_channel(route.channel);
    nba.set_role(rule.role);
    nba.set_priority(rule.priority);
    nba.set_stage(account->stage());
    *nba.mutable_decided_at() = FromMillis(now);
    *nba.mutable_send_at() = FromMillis(now);
    *nba.mutable_expires_at() = FromMillis(expires);
    nba.set_rule_id(rule.id);
    *nba.mutable_trace() = trace;
    nba.add_trigger_event_ids(signal.event_id());
    nba.set_rules_version(config_.rules_version);
    nba.set_reason(reason);
    out->push_back(std::move(nba_out));
    ++counters_.outputs[static_cast<int>(OutputKind::kNextBestAction)];

    if (rule.route) {
      Output r_out{OutputKind::kRouting, account_id, v1::RoutingDecision{}};
      auto& r = std::get<v1::RoutingDecision>(r_out.message);
      r.set_routing_id(DeterministicId("rte", {account_id, rule.id, signal.event_id()}));
      r.set_account_id(account_id);
      r.set_contact_id(signal.contact_id());
      r.set_channel(route.channel);
      r.set_role(route.role);
      r.set_pool(route.pool);
      r.set_assignee_id(route.assignee);
      r.set_reason(StrCat(reason, "; ", route.reason));
      *r.mutable_decided_at() = FromMillis(now);
      if (sla_due > 0) *r.mutable_sla_due_at() = FromMillis(sla_due);
      r.set_escalation_level(0);
      r.set_rule_id(rule.id);
      *r.mutable_trace() = trace;
      r.add_trigger_event_ids(signal.event_id());
      r.set_rules_version(config_.rules_version);
      out->push_back(std::move(r_out));
      ++counters_.outputs[static_cast<int>(OutputKind::kRouting)];
    }
    if (rule.prompt) {
      int64_t due = sla_due > 0 ? sla_due : expires;
      Output p_out{OutputKind::kPrompt, account_id, v1::CrmPrompt{}};
      auto& p = std::get<v1::CrmPrompt>(p_out.message);
      p.set_prompt_id(DeterministicId("prm", {account_id, rule.id, signal.event_id()}));
      p.set_account_id(account_id);
      p.set_account_name(AccountLabel(*account));
      p.set_contact_id(signal.contact_id());
      p.set_owner_id(route.assignee);
      p.set_title(Render(rule.prompt->title, signal, *account, c.facts, score, committee, due));
      p.set_body(Render(rule.prompt->why, signal, *account, c.facts, score, committee, due));
      p.set_suggested_action(rule.prompt->suggested_action.empty() ? rule.action
                                                                   : rule.prompt->suggested_action);
      p.set_priority(rule.priority);
      *p.mutable_due_at() = FromMillis(due);
      *p.mutable_send_at() = FromMillis(now);
      *p.mutable_expires_at() = FromMillis(expires);
      p.set_rule_id(rule.id);
      *p.mutable_trace() = trace;
      p.add_trigger_event_ids(signal.event_id());
      p.set_rules_version(config_.rules_version);
      out->push_back(std::move(p_out));
      ++counters_.outputs[static_cast<int>(OutputKind::kPrompt)];
    }
  }
}

}  // namespace demandcenter::engine
