// The account's journey: what a signal changes in the account (CRM facts,
// contacts, scores, counters, dedup) and the stage machine. Pure: every
// function is a function of (config, signal, state, event time).
#ifndef DEMANDCENTER_JOURNEY_JOURNEY_H_
#define DEMANDCENTER_JOURNEY_JOURNEY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "demandcenter/condition/condition.h"
#include "demandcenter/config/decision_config.h"
#include "demandcenter/v1/signal.pb.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::journey {

// A fresh account in the initial stage, entered at `now_ms`.
v1::AccountState NewAccount(const config::DecisionConfig& config, const std::string& account_id,
                            int64_t now_ms);

// The weight of a signal type (first matching pattern, else the default).
// Signals with weight > 0 are engagement.
double SignalWeight(const config::DecisionConfig& config, std::string_view type);

// Records the signal's event id. Returns false (and changes nothing) when the
// same event id was already seen within the dedup window; prunes ids older
// than the window.
bool RecordEventId(const config::DecisionConfig& config, const v1::Signal& signal,
                   v1::AccountState* account);

// Applies what the signal says about the account: CRM facts, the contact and
// its buying role, consent flags, scores, engagement times and count series.
void ApplySignal(const config::DecisionConfig& config, const v1::Signal& signal,
                 v1::AccountState* account);

// The buying role for a CRM title, from the committee config ("" if none).
std::string RoleForTitle(const config::DecisionConfig& config, std::string_view title);

// One stage transition that fired.
struct FiredTransition {
  const config::Transition* transition = nullptr;
  std::string from;
  std::string to;
  int64_t at_ms = 0;
  int64_t dwell_ms = 0;
  condition::Facts facts;
};

// Runs the stage machine after a signal: fires the first transition (in
// config order) from the current stage whose guard holds, then again from
// the new stage, up to journey.max_chain times, each transition at most
// once. Inactivity transitions are not considered here.
std::vector<FiredTransition> Advance(const config::DecisionConfig& config, const v1::Signal& signal,
                                     v1::AccountState* account);

// When the next inactivity transition from the account's stage is due
// (last engagement + the shortest inactive_for), or 0 when none applies.
int64_t NextInactivityDue(const config::DecisionConfig& config, const v1::AccountState& account);

// Fires the inactivity transition that is due at `now_ms`, if any. The
// transition happens at its due time (last engagement + inactive_for).
std::optional<FiredTransition> FireInactivity(const config::DecisionConfig& config, int64_t now_ms,
                                              v1::AccountState* account);

}  // namespace demandcenter::journey

#endif  // DEMANDCENTER_JOURNEY_JOURNEY_H_
