// Rules: which candidate actions a signal qualifies for, the policies that
// stop some of them (cool-down), and arbitration between the rest. Pure.
#ifndef DEMANDCENTER_RULES_RULES_H_
#define DEMANDCENTER_RULES_RULES_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "demandcenter/condition/condition.h"
#include "demandcenter/config/config.h"
#include "demandcenter/v1/action.pb.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::rules {

// Rules by signal type, so a signal evaluates only the rules that can match
// it. Exact types are indexed up front; a type seen for the first time is
// resolved against the wildcard patterns once and remembered. Not thread
// safe: one index per processing thread.
class RuleIndex {
 public:
  explicit RuleIndex(const config::Config& config);

  // Indexes (into config.rules) of the rules whose type patterns can match
  // `type`, in config order.
  const std::vector<int32_t>& RulesFor(const std::string& type);

 private:
  const config::Config& config_;
  std::unordered_map<std::string, std::vector<int32_t>> by_type_;
};

// One rule whose condition held, and what became of it.
struct Candidate {
  const config::Rule* rule = nullptr;
  // priority x propensity x context weight (propensity and context weight
  // are 1 until learning and context are configured).
  double score = 0;
  v1::CandidateOutcome outcome = v1::CANDIDATE_OUTCOME_UNSPECIFIED;
  std::vector<v1::PolicyCheck> policies;
  condition::Facts facts;
};

// Evaluates the rules for the signal in `context`, applies the cool-down
// policy and arbitrates: the best `arbitration.max_actions` eligible
// candidates are EMITTED, the other eligible ones SUPPRESSED_ARBITRATION.
// Ties keep config order. Candidates come back in config order.
std::vector<Candidate> Decide(const config::Config& config, RuleIndex& index,
                              condition::EvalContext& context);

// Records that `rule_id` fired at `at_ms` (for cool-downs).
void RecordFired(const std::string& rule_id, int64_t at_ms, v1::AccountState* account);

}  // namespace demandcenter::rules

#endif  // DEMANDCENTER_RULES_RULES_H_
