// Propensity learned online (arbitration.learning): the engine's side —
// trials for emitted actions, successes for what the account did next, and
// the partition's model in its state. The arithmetic is in
// rules/propensity_model.h.
#include <algorithm>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/engine/engine.h"

namespace demandcenter::engine {
namespace {

int StageIndex(const config::JourneyConfig& journey, const std::string& stage) {
  auto it = std::find(journey.stages.begin(), journey.stages.end(), stage);
  return it == journey.stages.end() ? -1 : static_cast<int>(it - journey.stages.begin());
}

}  // namespace

void Engine::RecordTrials(const std::vector<rules::Candidate>& candidates, int64_t now, v1::AccountState* account) {
  int32_t partition = account->partition();
  bool any = false;
  for (const auto& c : candidates) {
    if (!c.learned || c.outcome != v1::EMITTED) continue;
    rules::RecordTrial(config_.arbitration.learning, c.arm_key, c.action, c.channel, now, &Propensities(partition),
                       account);
    any = true;
  }
  if (any) dirty_models_.insert(partition);
}

void Engine::CreditPrompt(const v1::OpenTask& task, int64_t now, v1::AccountState* account) {
  if (!config_.arbitration.learning.enabled || account->trials().empty()) return;
  int32_t partition = account->partition();
  auto same = [&](const v1::LearningTrial& t) { return t.action() == task.action() && t.channel() == task.channel(); };
  if (rules::CreditTrials(config_.arbitration.learning, now, same, &Propensities(partition), account, true) > 0) {
    dirty_models_.insert(partition);
  }
}

void Engine::CreditSuccesses(const v1::Signal& signal, const std::vector<journey::FiredTransition>& fired,
                             v1::AccountState* account) {
  if (!config_.arbitration.learning.enabled || account->trials().empty()) return;
  const config::JourneyConfig& journey = config_.journey;
  int won = journey.won_stage.empty() ? static_cast<int>(journey.stages.size()) : StageIndex(journey, journey.won_stage);
  // Moving forward: to a later stage, up to the won one (not at_risk or
  // dormant after it).
  bool forward = false;
  for (const auto& f : fired) {
    int from = StageIndex(journey, f.from), to = StageIndex(journey, f.to);
    forward = forward || (to > from && to <= won);
  }
  int64_t now = ToMillis(signal.occurred_at());
  int32_t partition = account->partition();
  v1::PropensityModel* model = &Propensities(partition);
  int credited = 0;
  if (forward) {
    credited += rules::CreditTrials(config_.arbitration.learning, now, [](const v1::LearningTrial&) { return true; },
                                    model, account, false);
  } else if (signal.type() == "email.reply") {
    credited += rules::CreditTrials(config_.arbitration.learning, now,
                                    [](const v1::LearningTrial& t) { return t.channel() == v1::EMAIL; }, model, account,
                                    true);
  }
  if (credited > 0) dirty_models_.insert(partition);
}

}  // namespace demandcenter::engine
