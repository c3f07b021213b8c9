// Identity reach: of the signals that arrive without an account_id, how many
// reach their account, measured against what the whole stream could link
// them to. A signal is linkable when its identifiers are tied to an account
// anywhere in the stream, on any partition and at any time: a visitor id,
// address or contact id seen with an account_id, or with another identifier
// that is (a form fill), or an address whose domain a CRM account record or
// identity.domains names. The engine's share of the linkable signals is the
// figure to watch; the rest never had an account to reach.
//
// Takes: every decoded signal (by its line), and what became of the
// identity-only ones. Gives: a ReachReport. Depends on: the identity config
// and its rules for usable identifiers and domains (identity::IdentifierRules).
#ifndef DEMANDCENTER_REPLAY_IDENTITY_REACH_H_
#define DEMANDCENTER_REPLAY_IDENTITY_REACH_H_

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/identity/identity.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::replay {

struct ReachReport {
  int64_t identity_only = 0;     // signals without an account_id (duplicates, identity.link and privacy.erase aside)
  int64_t linkable = 0;          // ... whose identifiers the stream ties to an account
  int64_t linkable_reached = 0;  // ... of those, that reached their account
  int64_t reached = 0;           // all that reached an account
  int64_t dead_lettered = 0;     // UNRESOLVED_ACCOUNT, at once or past the wait bound
  int64_t still_waiting = 0;     // waiting when the input ended
};

// Not thread safe.
class IdentityReach {
 public:
  explicit IdentityReach(const config::IdentityConfig& config);

  // Every decoded signal: the links it shows. `line` identifies it later.
  void OnSignal(int64_t line, const v1::Signal& signal);
  // What became of an identity-only signal: its account took it (at once or
  // released from waiting), it was dead-lettered, or it was a duplicate.
  void Reached(int64_t line) { Settle(line, kReached); }
  void DeadLettered(int64_t line) { Settle(line, kDead); }
  void Duplicate(int64_t line) { pending_.erase(line); }

  // Call once, after the last signal.
  ReachReport Finish();

 private:
  enum State : uint8_t { kPending, kReached, kDead };
  struct Tracked {
    int32_t node;
    State state;
  };
  int32_t Node(const std::string& name);
  int32_t Find(int32_t node);
  void Union(int32_t a, int32_t b);
  void Settle(int64_t line, State state);
  bool Usable(const std::string& value) const;
  std::string Domain(const std::string& address) const;

  identity::IdentifierRules rules_;
  std::unordered_map<std::string, int32_t> nodes_;
  std::vector<int32_t> parent_;
  std::vector<bool> has_account_;  // by root
  // Address node -> its domain's node.
  std::map<int32_t, int32_t> address_domains_;
  std::unordered_map<int64_t, Tracked> pending_;
};

}  // namespace demandcenter::replay

#endif  // DEMANDCENTER_REPLAY_IDENTITY_REACH_H_
