// The right hour (contact_policy.send_time): each timed send is a trial of
// its hour of the week in the account's local time, per (channel, segment,
// contact's buying role); a reply to an e-mail, or an accepted or completed
// prompt, within the window credits it. Once a (channel, segment, role) has
// enough sends, a send moves to the allowed hour within the horizon whose
// estimate is best — the hour of the week's own rate, shrunk towards its
// hour of the day across weekdays, shrunk towards the overall rate — and a
// small share goes at another allowed hour, drawn from the candidate's
// seed, so every hour keeps being measured without the bias of always
// sending at the favourite.
//
// Takes: the config, the account's zone, the earliest allowed time, the
// partition's hour counts. Gives: when to send and why; updates to the
// counts and the account's timed sends. Depends on: config, common/calendar,
// contact_policy (allowed hours), the protos; pure, no I/O, no clock.
#ifndef DEMANDCENTER_RULES_SEND_TIME_H_
#define DEMANDCENTER_RULES_SEND_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::rules {

struct PolicyZone;  // contact_policy.h

inline constexpr int kHoursOfWeek = 168;

// "EMAIL|mid_market|champion" ("-" for a segment or role not known).
std::string SendTimeKey(v1::Channel channel, std::string_view segment, std::string_view role);

// What one candidate needs to be timed: the partition's counts for its key
// (null when none yet) and its seed.
struct SendTimeInput {
  const v1::HourCounts* counts = nullptr;
  std::string key;
  uint64_t seed = 0;
};

// When a timed send goes, and why (kept with its candidate).
struct SendTime {
  enum class Why { kNotEnoughEvidence, kBest, kExplore };
  int64_t send_ms = 0;
  // The earliest time the hours allowed (the send moved when it differs).
  int64_t earliest_ms = 0;
  int hour_of_week = 0;
  Why why = Why::kNotEnoughEvidence;
};

struct SendTimeChoice {
  SendTime at;
  // For the trace's "send_time" check.
  std::string detail;
};

// What the counts say: the sends and successes in all, by hour of the day
// across weekdays, and the estimated success rate of each hour of the week.
struct HourEstimates {
  int64_t trials = 0;
  int64_t successes = 0;
  int64_t day_trials[24] = {};
  int64_t day_successes[24] = {};
  // 168 entries; every hour at the uninformed 0.5 without counts.
  std::vector<double> rates;
};

// The estimates from `counts` (null = no evidence).
HourEstimates EstimateHours(const config::SendTimeConfig& st, const v1::HourCounts* counts);

// When to send, at or after `earliest` (already allowed by the hours) and
// at most the horizon later: `earliest` itself or the start of a later
// local hour that the hours allow.
SendTimeChoice ChooseSendTime(const config::DecisionConfig& config, const PolicyZone& zone, v1::Channel channel,
                              bool prompt, int64_t earliest, const SendTimeInput& input);

// A timed send: one more trial of its hour, awaiting credit in the account
// (pruned to the window).
void RecordTimedSend(const config::SendTimeConfig& st, const std::string& key, int hour_of_week, int64_t send_ms,
                     std::string_view action, v1::Channel channel, int64_t now_ms, v1::PropensityModel* model,
                     v1::AccountState* account);

// Credits the latest timed send on `channel` (and of `action`, unless
// empty) that went out at or before `now_ms` within the window: its hour
// gains a success and the send leaves the account. False when none.
bool CreditTimedSend(const config::SendTimeConfig& st, int64_t now_ms, v1::Channel channel,
                     std::string_view action, v1::PropensityModel* model, v1::AccountState* account);

}  // namespace demandcenter::rules

#endif  // DEMANDCENTER_RULES_SEND_TIME_H_
