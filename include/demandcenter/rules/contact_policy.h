// The contact policy: do-not-contact, e-mail consent, feedback blocks,
// business and quiet hours in the account's time zone, action cool-downs and
// caps per channel and window. Checked for each candidate during
// arbitration, against everything already sent or scheduled, so a cap can
// never be overshot. Pure: the account's zone is resolved by the caller.
#ifndef DEMANDCENTER_RULES_CONTACT_POLICY_H_
#define DEMANDCENTER_RULES_CONTACT_POLICY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "demandcenter/common/calendar.h"
#include "demandcenter/config/decision_config.h"
#include "demandcenter/rules/send_time.h"
#include "demandcenter/v1/action.pb.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::rules {

// The account's time zone as the policy uses it.
struct PolicyZone {
  const absl::TimeZone* tz = nullptr;  // never null
  std::string name;                    // IANA name actually used
  // Non-empty when the CRM's zone was missing or unknown and the default
  // was used: why, for the trace ("CRM gave none").
  std::string fallback_note;
  // The CRM named a zone the time-zone database does not know.
  bool crm_zone_unknown = false;

  // "Europe/Berlin", or "UTC (default; no zone in CRM)" for traces.
  std::string Label() const { return fallback_note.empty() ? name : name + " (" + fallback_note + ")"; }
};

// The zones of accounts as the policy uses them: the CRM's zone, else the
// configured default (UTC when that is unknown too). Loads each IANA zone
// once. Not thread safe.
class AccountZones {
 public:
  explicit AccountZones(std::string default_zone) : default_zone_(std::move(default_zone)) {}
  PolicyZone For(const v1::AccountState& account);

 private:
  std::string default_zone_;
  calendar::TimeZones zones_;
};

// What the policy decided for one candidate.
struct PolicyOutcome {
  bool allowed = true;
  // When the action may go out: now, or the start of the next allowed window.
  int64_t send_at_ms = 0;
  // The policy that stopped it ("cap.email_weekly") and the figures.
  std::string stopped_by;
  std::string detail;
  // With contact_policy.send_time: the hour chosen and why.
  std::optional<SendTime> timed;
};

// Checks one action (channel, action name; `prompt` when a person gets a
// prompt for it, which follows business hours) for the account and its
// contact (may be null) decided at `now_ms`. Appends every check made to
// *checks. With `timing` (contact_policy.send_time applies), the send moves
// to the chosen hour before cool-downs and caps are checked at it.
PolicyOutcome CheckContactPolicy(const config::DecisionConfig& config, const PolicyZone& zone,
                                 const v1::AccountState& account, const v1::ContactState* contact,
                                 v1::Channel channel, std::string_view action, bool prompt,
                                 int64_t now_ms, std::vector<v1::PolicyCheck>* checks,
                                 const SendTimeInput* timing = nullptr);

// The first instant at or after `ms` allowed for a prompt (business hours)
// and, when `channel` is set, for that channel's hours.
int64_t NextAllowed(const config::DecisionConfig& config, const PolicyZone& zone, v1::Channel channel, bool prompt,
                    int64_t ms);

// Records an action sent (or scheduled) at `send_at_ms` for caps and action
// cool-downs, dropping records older than every window needs.
void RecordSent(const config::DecisionConfig& config, int64_t send_at_ms, v1::Channel channel,
                std::string_view action, int64_t now_ms, v1::AccountState* account);

// Blocks `action` for the account until `until_ms` ("dismissed", "snoozed").
void BlockAction(const std::string& action, int64_t until_ms, const std::string& reason,
                 const std::string& prompt_id, v1::AccountState* account);

// "Fri 6 Mar 18:30 Europe/London".
std::string LocalTimeText(int64_t ms, const PolicyZone& zone);

}  // namespace demandcenter::rules

#endif  // DEMANDCENTER_RULES_CONTACT_POLICY_H_
