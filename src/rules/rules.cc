#include "demandcenter/rules/rules.h"

#include <algorithm>
#include <optional>

#include "demandcenter/common/calendar.h"
#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::rules {
namespace {

bool AnyGlob(const std::vector<std::string>& patterns, std::string_view value) {
  for (const auto& p : patterns) {
    if (GlobMatch(p, value)) return true;
  }
  return false;
}

}  // namespace

RuleIndex::RuleIndex(const config::DecisionConfig& config) : config_(config) {}

const std::vector<int32_t>& RuleIndex::RulesFor(const std::string& type) {
  auto it = by_type_.find(type);
  if (it != by_type_.end()) return it->second;
  std::vector<int32_t> matching;
  for (size_t i = 0; i < config_.rules.size(); ++i) {
    if (condition::TypeMatches(config_.rules[i].when.types, type)) {
      matching.push_back(static_cast<int32_t>(i));
    }
  }
  return by_type_.emplace(type, std::move(matching)).first->second;
}

std::string AssignArm(const config::Experiment& experiment, std::string_view account_id) {
  uint64_t h = StableHash64(StrCat(experiment.id, "/", account_id), 11);
  double u = UnitFraction(h);  // [0, 1)
  if (u < experiment.holdout) return kHoldoutArm;
  if (experiment.arms.empty()) return kTreatmentArm;
  double rest = (u - experiment.holdout) / (1 - experiment.holdout);
  double total = 0;
  for (const auto& arm : experiment.arms) total += arm.share;
  double cumulative = 0;
  for (const auto& arm : experiment.arms) {
    cumulative += arm.share / total;
    if (rest < cumulative) return arm.id;
  }
  return experiment.arms.back().id;
}

void RecordFired(const std::string& rule_id, int64_t at_ms, v1::AccountState* account) {
  for (auto& f : *account->mutable_fired()) {
    if (f.rule_id() == rule_id) {
      f.set_at_ms(std::max(f.at_ms(), at_ms));
      return;
    }
  }
  v1::RuleFired* f = account->add_fired();
  f->set_rule_id(rule_id);
  f->set_at_ms(at_ms);
}

std::vector<Candidate> Evaluate(const config::DecisionConfig& config, RuleIndex& index,
                                condition::EvalContext& context) {
  std::vector<Candidate> candidates;
  // Seeds only where something draws from them.
  bool seeded = config.arbitration.learning.enabled || config.contact_policy.send_time.enabled;
  uint64_t signal_seed = 0;
  for (int32_t i : index.RulesFor(context.signal().type())) {
    const config::Rule& rule = config.rules[i];
    context.facts().clear();
    if (!condition::Evaluate(rule.when, context)) continue;
    Candidate c;
    c.rule = &rule;
    c.action = rule.action;
    c.channel_choice = rule.channel;
    c.role = rule.role;
    c.priority = rule.priority;
    c.prompt = rule.prompt.has_value();
    c.facts = std::move(context.facts());
    if (seeded) {
      if (signal_seed == 0) {
        signal_seed = StableHash64(context.account().account_id(), StableHash64(context.signal().event_id()));
      }
      c.seed = StableHash64(rule.id, signal_seed);
    }
    if (rule.experiment >= 0) {
      c.experiment = &config.experiments[rule.experiment];
      c.arm = AssignArm(*c.experiment, context.account().account_id());
      for (const auto& arm : c.experiment->arms) {
        if (arm.id != c.arm) continue;
        if (arm.action) c.action = *arm.action;
        if (arm.channel) c.channel_choice = *arm.channel;
        if (arm.priority) c.priority = *arm.priority;
        if (arm.role) c.role = *arm.role;
      }
    }
    c.channel = c.channel_choice.automatic ? v1::CHANNEL_UNSPECIFIED : c.channel_choice.channel;
    if (rule.cooldown_ms > 0) {
      int64_t last = -1;
      for (const auto& f : context.account().fired()) {
        if (f.rule_id() == rule.id) last = f.at_ms();
      }
      v1::PolicyCheck check;
      check.set_policy("cooldown");
      bool cooling = last >= 0 && context.now_ms() - last < rule.cooldown_ms;
      check.set_passed(!cooling);
      check.set_detail(last < 0 ? StrCat("never fired; cool-down ", FormatDuration(rule.cooldown_ms))
                                : StrCat("last fired ", FormatDuration(context.now_ms() - last),
                                         " ago; cool-down ", FormatDuration(rule.cooldown_ms)));
      if (cooling) {
        c.outcome = v1::SUPPRESSED_POLICY;
        c.stopped_by = "cooldown";
        c.stopped_detail = check.detail();
      }
      c.policies.push_back(std::move(check));
    }
    candidates.push_back(std::move(c));
  }
  return candidates;
}

void Score(const config::DecisionConfig& config, condition::EvalContext& context,
           std::vector<Candidate>* candidates, const v1::PropensityModel* learned) {
  const auto& arb = config.arbitration;
  // Context conditions are evaluated once per signal, and only when a
  // candidate could use them.
  std::vector<int8_t> holds(arb.context.size(), -1);
  const std::string& stage = context.account().stage();
  for (auto& c : *candidates) {
    c.propensity = arb.default_propensity;
    for (const auto& prior : arb.propensity) {
      if (!prior.actions.empty() && !AnyGlob(prior.actions, c.action)) continue;
      if (!prior.channels.empty() &&
          std::find(prior.channels.begin(), prior.channels.end(), c.channel) == prior.channels.end()) {
        continue;
      }
      if (!prior.stages.empty() && std::find(prior.stages.begin(), prior.stages.end(), stage) == prior.stages.end()) {
        continue;
      }
      c.propensity = prior.value;
      break;
    }
    if (learned != nullptr && arb.learning.enabled) {
      const v1::AccountState& account = context.account();
      c.arm_key = ArmKey(c.action, c.channel, stage, account.segment());
      c.posterior = PosteriorOf(arb.learning, c.propensity, *learned, c.arm_key);
      c.propensity = DrawPropensity(arb.learning, c.posterior, c.seed);
      c.learned = true;
    }
    c.context_weight = 1;
    c.context_ids.clear();
    for (size_t i = 0; i < arb.context.size(); ++i) {
      const auto& w = arb.context[i];
      if (!w.channels.empty() && std::find(w.channels.begin(), w.channels.end(), c.channel) == w.channels.end()) {
        continue;
      }
      if (!w.actions.empty() && !AnyGlob(w.actions, c.action)) continue;
      if (holds[i] < 0) {
        context.facts().clear();
        holds[i] = condition::Evaluate(w.when, context) ? 1 : 0;
      }
      if (holds[i] == 0) continue;
      c.context_weight *= w.weight;
      if (!c.context_ids.empty()) c.context_ids += ",";
      c.context_ids += w.id;
    }
    c.score = static_cast<double>(c.priority) * c.propensity * c.context_weight;
  }
  context.facts().clear();
}

void Arbitrate(const config::DecisionConfig& config, const PolicyZone& zone, int64_t now_ms,
               const v1::ContactState* contact, std::vector<Candidate>* candidates,
               v1::AccountState* account, const v1::PropensityModel* learned) {
  const config::SendTimeConfig& st = config.contact_policy.send_time;
  std::vector<Candidate*> order;
  for (auto& c : *candidates) {
    if (c.outcome == v1::CANDIDATE_OUTCOME_UNSPECIFIED) order.push_back(&c);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const Candidate* a, const Candidate* b) { return a->score > b->score; });
  int32_t slots = config.arbitration.max_actions;
  for (Candidate* c : order) {
    if (slots == 0) {
      c->outcome = v1::SUPPRESSED_ARBITRATION;
      continue;
    }
    std::optional<SendTimeInput> timing;
    if (learned != nullptr && st.Applies(c->channel, c->action)) {
      timing.emplace();
      timing->key = SendTimeKey(c->channel, account->segment(), contact != nullptr ? contact->role() : "");
      if (auto it = learned->hours().find(timing->key); it != learned->hours().end()) timing->counts = &it->second;
      timing->seed = c->seed;
    }
    PolicyOutcome p = CheckContactPolicy(config, zone, *account, contact, c->channel, c->action, c->prompt,
                                         now_ms, &c->policies, timing ? &*timing : nullptr);
    if (!p.allowed) {
      c->outcome = v1::SUPPRESSED_POLICY;
      c->stopped_by = std::move(p.stopped_by);
      c->stopped_detail = std::move(p.detail);
      continue;
    }
    --slots;
    c->send_at_ms = p.send_at_ms;
    if (p.timed) {
      c->timed = p.timed;
      c->send_key = std::move(timing->key);
    }
    RecordFired(c->rule->id, now_ms, account);
    if (c->arm == kHoldoutArm) {
      c->outcome = v1::HOLDOUT;
      continue;
    }
    c->outcome = v1::EMITTED;
    RecordSent(config, p.send_at_ms, c->channel, c->action, now_ms, account);
  }
}

std::vector<Candidate> Decide(const config::DecisionConfig& config, RuleIndex& index,
                              condition::EvalContext& context) {
  std::vector<Candidate> candidates = Evaluate(config, index, context);
  if (candidates.empty()) return candidates;
  for (auto& c : candidates) {
    if (c.channel_choice.automatic) c.channel = v1::DIGITAL;
  }
  Score(config, context, &candidates);
  static const absl::TimeZone kUtc = absl::UTCTimeZone();
  calendar::TimeZones zones;
  PolicyZone zone;
  zone.name = config.contact_policy.timezone;
  zone.tz = zones.Find(zone.name);
  if (zone.tz == nullptr) {
    zone.tz = &kUtc;
    zone.name = "UTC";
  }
  v1::AccountState account = context.account();
  const v1::ContactState* contact = nullptr;
  if (context.contact() != nullptr) {
    for (const auto& c : account.contacts()) {
      if (c.contact_id() == context.contact()->contact_id() && c.email() == context.contact()->email()) contact = &c;
    }
  }
  Arbitrate(config, zone, context.now_ms(), contact, &candidates, &account);
  return candidates;
}

}  // namespace demandcenter::rules
