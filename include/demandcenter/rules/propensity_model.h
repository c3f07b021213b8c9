// Propensity learned online: per (action, channel, stage, segment) arm, a
// Beta posterior of "this action works here" — the configured prior
// (arbitration.propensity) counted as arbitration.learning.prior_weight
// outcomes, plus every emitted action as a trial and every success credited
// to it (an accepted or completed prompt, an e-mail reply after an e-mail,
// the account moving forward in its journey within the window). Arbitration
// draws each candidate's propensity from its posterior (Thompson sampling)
// with a random source seeded from the signal's event id, the rule and the
// account, so replay draws what `run` drew; an exploration floor keeps every
// action a chance.
//
// Takes: the learning config, the partition's model, a candidate's arm and
// prior. Gives: draws, posteriors; updates to the model. Depends on: config
// and the protos; pure, no I/O, no clock.
#ifndef DEMANDCENTER_RULES_PROPENSITY_MODEL_H_
#define DEMANDCENTER_RULES_PROPENSITY_MODEL_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::rules {

// "action|channel|stage|segment".
std::string ArmKey(std::string_view action, v1::Channel channel, std::string_view stage, std::string_view segment);

struct Posterior {
  double alpha = 1;
  double beta = 1;
  int64_t trials = 0;
  int64_t successes = 0;
  double mean() const { return alpha / (alpha + beta); }
};

// The arm's posterior: Beta(prior x weight + successes, (1 - prior) x
// weight + trials - successes), the prior clamped to [0.01, 0.99].
Posterior PosteriorOf(const config::LearningConfig& learning, double prior, const v1::PropensityModel& model,
                      const std::string& key);

// A draw from Beta(alpha, beta), a function of `seed` alone.
double SampleBeta(double alpha, double beta, uint64_t seed);

// The propensity arbitration uses: a draw from the posterior, at least the
// exploration floor.
double DrawPropensity(const config::LearningConfig& learning, const Posterior& posterior, uint64_t seed);

// An emitted action: one more trial of its arm, awaiting credit (kept in the
// account, pruned to the window).
void RecordTrial(const config::LearningConfig& learning, const std::string& key, std::string_view action,
                 v1::Channel channel, int64_t at_ms, v1::PropensityModel* model, v1::AccountState* account);

// Credits a success to the account's open trials within the window before
// `now_ms` that `match` (each once; they leave the account's list); returns
// how many.
int CreditTrials(const config::LearningConfig& learning, int64_t now_ms,
                 const std::function<bool(const v1::LearningTrial&)>& match, v1::PropensityModel* model,
                 v1::AccountState* account, bool latest_only);

}  // namespace demandcenter::rules

#endif  // DEMANDCENTER_RULES_PROPENSITY_MODEL_H_
