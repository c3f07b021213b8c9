// The condition language shared by journey guards and rules: evaluated
// against one signal and the account's state at one instant of event time.
// Pure: no I/O, no clock.
#ifndef DEMANDCENTER_CONDITION_CONDITION_H_
#define DEMANDCENTER_CONDITION_CONDITION_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/v1/signal.pb.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::condition {

// Facts a decision used, by name ("score", "committee_size", "count.web.pricing_view"...).
// Ordered, so traces are deterministic.
using Facts = std::map<std::string, std::string>;

// The buying committee at one instant: contacts engaged within the window.
struct Committee {
  int32_t size = 0;
  std::vector<std::string> roles;  // distinct, sorted
  std::vector<const v1::ContactState*> members;  // by contact_id
};

// Builds the committee of `account` at `now_ms`.
Committee BuildCommittee(const v1::AccountState& account, const config::DecisionConfig& config,
                         int64_t now_ms);

// The account's score decayed to `now_ms` (scores are stored as of their
// last update).
double DecayedValue(const v1::DecayedScore& score, int64_t half_life_ms, int64_t now_ms);

// Everything a condition may look at. The referenced objects must outlive it.
class EvalContext {
 public:
  EvalContext(const config::DecisionConfig& config, const v1::Signal& signal,
              const v1::AccountState& account, int64_t now_ms,
              const std::vector<std::string>& entered_stages);

  const config::DecisionConfig& config() const { return config_; }
  const v1::Signal& signal() const { return signal_; }
  const v1::AccountState& account() const { return account_; }
  int64_t now_ms() const { return now_ms_; }
  const std::vector<std::string>& entered_stages() const { return entered_stages_; }

  // Computed once per context, on first use.
  const Committee& committee();
  double score();
  // The signal's contact, or null.
  const v1::ContactState* contact() const { return contact_; }
  // Occurrences of count series `series` in the window ending now
  // (distinct contacts when asked).
  int32_t CountInWindow(int32_t series, int64_t within_ms, bool distinct_contacts) const;

  // Facts recorded by the conditions evaluated so far (for traces).
  Facts& facts() { return facts_; }

 private:
  const config::DecisionConfig& config_;
  const v1::Signal& signal_;
  const v1::AccountState& account_;
  int64_t now_ms_;
  const std::vector<std::string>& entered_stages_;
  const v1::ContactState* contact_ = nullptr;
  bool committee_ready_ = false;
  Committee committee_;
  bool score_ready_ = false;
  double score_ = 0;
  Facts facts_;
};

// The value of a matchable field (config::MatchableFields) for the signal
// and account; empty when absent.
std::string FieldValue(const v1::Signal& signal, const v1::AccountState& account,
                       std::string_view field);

// Why the account's deal is complex by routing.auto's measures — the latest
// opportunity amount at least `large_deal`, a buying committee of at least
// `large_committee`, at least `many_products` products, or a segment in
// `complex_segments` — e.g. "amount 250000 >= 100000"; "" for a routine
// deal. One definition for `channel: auto` and the `complex_deal` condition.
std::string ComplexWhy(EvalContext& context);

// True when every part of `condition` holds. Records the facts it used.
bool Evaluate(const config::Condition& condition, EvalContext& context);

// True when the signal type matches one of the patterns (empty = any).
bool TypeMatches(const std::vector<std::string>& patterns, std::string_view type);

// Formats a number for traces and prompts: at most two decimals, no
// trailing zeros ("42", "42.5", "0.33").
std::string FormatNumber(double value);

}  // namespace demandcenter::condition

#endif  // DEMANDCENTER_CONDITION_CONDITION_H_
