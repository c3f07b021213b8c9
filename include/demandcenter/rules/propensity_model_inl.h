// CreditTrials' body (a template: the caller says which trials a success
// belongs to). Included by propensity_model.h only.
#ifndef DEMANDCENTER_RULES_PROPENSITY_MODEL_INL_H_
#define DEMANDCENTER_RULES_PROPENSITY_MODEL_INL_H_

#include <algorithm>

namespace demandcenter::rules {

template <typename Match>
int CreditTrials(const config::LearningConfig& learning, int64_t now_ms, Match match, v1::PropensityModel* model,
                 v1::AccountState* account, bool latest_only) {
  auto* trials = account->mutable_trials();
  int credited = 0;
  // Newest last: walk back so `latest_only` takes the most recent match.
  for (int i = trials->size() - 1; i >= 0; --i) {
    const v1::LearningTrial& t = trials->Get(i);
    if (t.at_ms() > now_ms || now_ms - t.at_ms() > learning.window_ms || !match(t)) continue;
    v1::ArmCounts& arm = (*model->mutable_arms())[t.key()];
    arm.set_successes(std::min(arm.trials(), arm.successes() + 1));
    trials->DeleteSubrange(i, 1);
    ++credited;
    if (latest_only) break;
  }
  return credited;
}

}  // namespace demandcenter::rules

#endif  // DEMANDCENTER_RULES_PROPENSITY_MODEL_INL_H_
