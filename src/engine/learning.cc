// Learning from outcomes, the engine's side: trials for emitted actions and
// successes for what the account did next, for the propensities
// (arbitration.learning) and the right hour (contact_policy.send_time), in
// the partition's model in its state. The arithmetic is in
// rules/propensity_model.h and rules/send_time.h.
#include <algorithm>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/engine/engine.h"

namespace demandcenter::engine {
namespace {

std::string SendTimeChoiceName(rules::SendTime::Why why) {
  switch (why) {
    case rules::SendTime::Why::kBest: return "best_hour";
    case rules::SendTime::Why::kExplore: return "explore";
    case rules::SendTime::Why::kNotEnoughEvidence: break;
  }
  return "earliest";
}

int StageIndex(const config::JourneyConfig& journey, const std::string& stage) {
  auto it = std::find(journey.stages.begin(), journey.stages.end(), stage);
  return it == journey.stages.end() ? -1 : static_cast<int>(it - journey.stages.begin());
}

}  // namespace

void Engine::RecordTrials(const std::vector<rules::Candidate>& candidates, int64_t now, v1::AccountState* account) {
  int32_t partition = account->partition();
  bool any = false;
  for (const auto& c : candidates) {
    if (c.outcome != v1::EMITTED) continue;
    if (c.learned) {
      rules::RecordTrial(config_.arbitration.learning, c.arm_key, c.action, c.channel, now, &Propensities(partition),
                         account);
      any = true;
    }
    if (c.timed) {
      rules::RecordTimedSend(config_.contact_policy.send_time, c.send_key, c.timed->hour_of_week, c.send_at_ms,
                             c.action, c.channel, now, &Propensities(partition), account);
      ++counters_.send_time[SendTimeChoiceName(c.timed->why)];
      any = true;
    }
  }
  if (any) dirty_models_.insert(partition);
}

void Engine::CreditPrompt(const v1::OpenTask& task, int64_t now, v1::AccountState* account) {
  int32_t partition = account->partition();
  if (!account->timed_sends().empty() &&
      rules::CreditTimedSend(config_.contact_policy.send_time, now, task.channel(), task.action(),
                             &Propensities(partition), account)) {
    ++counters_.send_time_credited;
    dirty_models_.insert(partition);
  }
  if (!config_.arbitration.learning.enabled || account->trials().empty()) return;
  auto same = [&](const v1::LearningTrial& t) { return t.action() == task.action() && t.channel() == task.channel(); };
  if (rules::CreditTrials(config_.arbitration.learning, now, same, &Propensities(partition), account, true) > 0) {
    dirty_models_.insert(partition);
  }
}

void Engine::CreditSuccesses(const v1::Signal& signal, const std::vector<journey::FiredTransition>& fired,
                             v1::AccountState* account) {
  int64_t now = ToMillis(signal.occurred_at());
  int32_t partition = account->partition();
  bool reply = signal.type() == "email.reply";
  // The right hour learns from replies only: opens mostly mirror the send
  // time, and stage progress says nothing of the hour.
  if (reply && !account->timed_sends().empty() &&
      rules::CreditTimedSend(config_.contact_policy.send_time, now, v1::EMAIL, "", &Propensities(partition),
                             account)) {
    ++counters_.send_time_credited;
    dirty_models_.insert(partition);
  }
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
  v1::PropensityModel* model = &Propensities(partition);
  int credited = 0;
  if (forward) {
    credited += rules::CreditTrials(config_.arbitration.learning, now, [](const v1::LearningTrial&) { return true; },
                                    model, account, false);
  } else if (reply) {
    credited += rules::CreditTrials(config_.arbitration.learning, now,
                                    [](const v1::LearningTrial& t) { return t.channel() == v1::EMAIL; }, model, account,
                                    true);
  }
  if (credited > 0) dirty_models_.insert(partition);
}

}  // namespace demandcenter::engine
