// An independent check of a run's outputs against the contact policy of its
// config, from the outputs and the input signals alone — never the engine's
// state or counters. It keeps its own ledger of what was sent to whom and
// its own view of consent, do-not-contact flags and time zones from the
// signals, and verifies:
//   - caps: no window of `per` holds more than `max` covered actions (by
//     send_at);
//   - action cool-downs: the same action to the same account at least the
//     cool-down apart (by send_at);
//   - hours: business-hour channels and every prompt have send_at inside
//     business hours, quiet-hour channels outside quiet hours, in the
//     account's zone (from CRM signals; the config's default otherwise),
//     weekends and holidays included;
//   - consent: no EMAIL action to a contact (id or address) that
//     unsubscribed or bounced hard, nothing at all (actions, routings,
//     prompts) for a do-not-contact contact or account.
// `replay` runs it on every output; AuditFiles runs it on the files of a
// replay (signals in, JSON lines out).
#ifndef DEMANDCENTER_REPLAY_POLICY_AUDIT_H_
#define DEMANDCENTER_REPLAY_POLICY_AUDIT_H_

#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "demandcenter/config/config.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/v1/action.pb.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::replay {

struct AuditReport {
  int64_t actions = 0;   // NextBestActions checked
  int64_t routings = 0;
  int64_t prompts = 0;
  int64_t violations = 0;
  // Violations by rule broken: "cap.<id>", "cooldown.action",
  // "business_hours", "quiet_hours", "consent.unsubscribed",
  // "consent.bounced", "do_not_contact".
  std::map<std::string, int64_t> by_policy;
  // The first violations, readable.
  std::vector<std::string> examples;
};

class PolicyAudit {
 public:
  explicit PolicyAudit(const config::DecisionConfig& config);
  ~PolicyAudit();

  // Feed in processing order: each signal the engine was given, before the
  // outputs it caused (timer outputs that fired before it is applied come
  // before it).
  void OnSignal(const v1::Signal& signal);
  void OnAction(const v1::NextBestAction& action);
  void OnRouting(const v1::RoutingDecision& routing);
  void OnPrompt(const v1::CrmPrompt& prompt);
  void OnOutput(const outputs::Output& output);

  // Runs the checks that need every output (caps, cool-downs) and returns
  // the report. Call once.
  AuditReport Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Audits a replay from its files: `signals` (the input, protobuf-JSON lines)
// and `outputs` (replay's JSON lines). The processing order is rebuilt from
// the outputs' trigger_event_ids: a signal's outputs follow it; a timer's
// outputs come just before the first signal that moved stream time past
// the timer's due time (one partition). Returns InvalidArgument for an
// output line that is not a replay record.
absl::StatusOr<AuditReport> AuditFiles(const config::Config& config, std::istream& signals,
                                       std::istream& outputs);

// "contact policy audit: 29000 actions, 18000 routings, 17000 prompts checked; 0 violations".
std::string FormatAudit(const AuditReport& report);

}  // namespace demandcenter::replay

#endif  // DEMANDCENTER_REPLAY_POLICY_AUDIT_H_
