#include "demandcenter/rules/rules.h"

#include <algorithm>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::rules {

RuleIndex::RuleIndex(const config::Config& config) : config_(config) {}

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

std::vector<Candidate> Decide(const config::Config& config, RuleIndex& index,
                              condition::EvalContext& context) {
  std::vector<Candidate> candidates;
  for (int32_t i : index.RulesFor(context.signal().type())) {
    const config::Rule& rule = config.rules[i];
    context.facts().clear();
    if (!condition::Evaluate(rule.when, context)) continue;
    Candidate c;
    c.rule = &rule;
    c.score = static_cast<double>(rule.priority) * 1.0 * 1.0;
    c.facts = context.facts();
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
      c.policies.push_back(check);
      if (cooling) c.outcome = v1::SUPPRESSED_POLICY;
    }
    candidates.push_back(std::move(c));
  }
  std::vector<Candidate*> eligible;
  for (auto& c : candidates) {
    if (c.outcome == v1::CANDIDATE_OUTCOME_UNSPECIFIED) eligible.push_back(&c);
  }
  std::stable_sort(eligible.begin(), eligible.end(),
                   [](const Candidate* a, const Candidate* b) { return a->score > b->score; });
  for (size_t i = 0; i < eligible.size(); ++i) {
    eligible[i]->outcome = static_cast<int32_t>(i) < config.arbitration.max_actions
                               ? v1::EMITTED
                               : v1::SUPPRESSED_ARBITRATION;
  }
  return candidates;
}

}  // namespace demandcenter::rules
