// Rules: which candidate actions a signal qualifies for, experiment arms,
// arbitration scores (priority x propensity x context weight), and the
// arbitration walk that applies the contact policy (contact_policy.h) in the
// same step, so that no cap can be overshot. Pure.
#ifndef DEMANDCENTER_RULES_RULES_H_
#define DEMANDCENTER_RULES_RULES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "demandcenter/rules/propensity_model.h"
#include "demandcenter/condition/condition.h"
#include "demandcenter/config/decision_config.h"
#include "demandcenter/rules/contact_policy.h"
#include "demandcenter/v1/action.pb.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::rules {

// Rules by signal type, so a signal evaluates only the rules that can match
// it. Exact types are indexed up front; a type seen for the first time is
// resolved against the wildcard patterns once and remembered. Not thread
// safe: one index per processing thread.
class RuleIndex {
 public:
  explicit RuleIndex(const config::DecisionConfig& config);

  // Indexes (into config.rules) of the rules whose type patterns can match
  // `type`, in config order.
  const std::vector<int32_t>& RulesFor(const std::string& type);

 private:
  const config::DecisionConfig& config_;
  std::unordered_map<std::string, std::vector<int32_t>> by_type_;
};

inline constexpr char kHoldoutArm[] = "holdout";
inline constexpr char kTreatmentArm[] = "treatment";

// The account's arm in an experiment, by a stable hash of (experiment id,
// account id): "holdout" for the holdout share, else one of the arms by
// their shares ("treatment" when the experiment has only a holdout).
std::string AssignArm(const config::Experiment& experiment, std::string_view account_id);

// One rule whose condition held, and what became of it.
struct Candidate {
  const config::Rule* rule = nullptr;
  // The action as proposed: the rule's, with its experiment arm's overrides.
  std::string action;
  config::ChannelChoice channel_choice;
  std::string role;
  int32_t priority = 0;
  const config::Experiment* experiment = nullptr;
  std::string arm;  // empty when the rule is in no experiment
  // The channel: the rule's, or `channel: auto`'s choice (set by the caller
  // before Score).
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  // A person gets a prompt for it (business hours apply): the rule has a
  // prompt, unless `channel: auto` chose a channel without a person.
  bool prompt = false;
  // priority x propensity x context weight.
  double propensity = 1;
  // With arbitration.learning: the posterior the propensity was drawn from.
  bool learned = false;
  Posterior posterior;
  std::string arm_key;
  double context_weight = 1;
  std::string context_ids;  // the context weights that applied, comma separated
  double score = 0;
  v1::CandidateOutcome outcome = v1::CANDIDATE_OUTCOME_UNSPECIFIED;
  // Every policy checked, and for SUPPRESSED_POLICY the one that stopped it.
  std::vector<v1::PolicyCheck> policies;
  std::string stopped_by;
  std::string stopped_detail;
  // When the action may go out (EMITTED and HOLDOUT).
  int64_t send_at_ms = 0;
  // From the rule, the account and the signal's event id: the source of
  // every random draw for this candidate (learning, send time).
  uint64_t seed = 0;
  // With contact_policy.send_time: the hour chosen (its trial is recorded
  // once the candidate is emitted) and its key.
  std::optional<SendTime> timed;
  std::string send_key;
  condition::Facts facts;
};

// Evaluates the rules for the signal in `context`: every rule whose
// condition holds becomes a candidate (in config order), with its
// experiment arm applied and the rule's cool-down checked (a cooling rule is
// SUPPRESSED_POLICY). Channels are the rule's (auto left unresolved).
std::vector<Candidate> Evaluate(const config::DecisionConfig& config, RuleIndex& index,
                                condition::EvalContext& context);

// Sets each candidate's propensity (the first matching prior for action x
// channel x stage), context weight (the product of the context weights whose
// condition holds) and score.
// With arbitration.learning and `learned` (the partition's model), the
// propensity is drawn from the arm's posterior around that prior instead
// (rules/propensity_model.h).
void Score(const config::DecisionConfig& config, condition::EvalContext& context,
           std::vector<Candidate>* candidates, const v1::PropensityModel* learned = nullptr);

// Arbitration with the contact policy: candidates not already suppressed
// are taken best score first (ties keep config order); each is checked
// against the contact policy with everything sent so far, this step
// included; the first `arbitration.max_actions` that pass are EMITTED (or
// HOLDOUT, in an experiment's holdout: the slot is used, nothing is sent),
// the rest SUPPRESSED_ARBITRATION. Emitted actions are recorded in
// account->sent and their rules' firing times for cool-downs (held-out ones
// too). With contact_policy.send_time and `learned` (the partition's model),
// each candidate it applies to is timed (rules/send_time.h).
void Arbitrate(const config::DecisionConfig& config, const PolicyZone& zone, int64_t now_ms,
               const v1::ContactState* contact, std::vector<Candidate>* candidates,
               v1::AccountState* account, const v1::PropensityModel* learned = nullptr);

// Evaluate + Score + Arbitrate with the rules' own channels and the
// config's default zone (tests, and callers without routing).
std::vector<Candidate> Decide(const config::DecisionConfig& config, RuleIndex& index,
                              condition::EvalContext& context);

// Records that `rule_id` fired at `at_ms` (for cool-downs).
void RecordFired(const std::string& rule_id, int64_t at_ms, v1::AccountState* account);

}  // namespace demandcenter::rules

#endif  // DEMANDCENTER_RULES_RULES_H_
