// Late binding: a signal none of whose identifiers is linked to an account
// yet waits in its partition's state, under its first usable identifier,
// until a later signal links that identifier; then the waiting signals go to
// the account in event-time order, once each. A wait is bounded per
// identifier by count (the oldest is pushed out when one more comes) and by
// age in stream time; what outlives its bound goes back to the caller to be
// dead-lettered as UNRESOLVED_ACCOUNT.
//
// Takes: waiting signals (with their original record), identifier keys,
// stream time. Gives: released and expired signals. Depends on: the
// identity config, the StateStore (waiting lists persist with the
// partition's state and its changelog).
#ifndef DEMANDCENTER_IDENTITY_WAITING_ROOM_H_
#define DEMANDCENTER_IDENTITY_WAITING_ROOM_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/state/state_store.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::identity {

struct WaitingCounters {
  int64_t parked = 0;
  int64_t released = 0;
  int64_t expired = 0;  // past the age or count bound: dead-lettered
  int64_t erased = 0;   // dropped by privacy.erase, never sent anywhere
};

// Not thread safe; `config` and `store` must outlive it.
class WaitingRoom {
 public:
  WaitingRoom(const config::IdentityConfig& config, state::StateStore* store) : config_(config), store_(store) {}

  // Parks `waiting` under `identifier` ("c:…", "e:…", "a:…"). Returns the
  // signals the count bound pushes out (oldest first), for dead letters.
  std::vector<v1::WaitingSignal> Park(int32_t partition, const std::string& identifier, v1::WaitingSignal waiting);

  // Removes and returns the signals waiting under `identifier`, in event
  // time order.
  std::vector<v1::WaitingSignal> Release(int32_t partition, const std::string& identifier);

  // Removes and returns the signals that have waited longer than the age
  // bound at stream time `now_ms`.
  std::vector<v1::WaitingSignal> Expire(int32_t partition, int64_t now_ms);

  // Drops the signals waiting under `identifier` (an erased person's):
  // neither released nor dead-lettered. Returns how many.
  int64_t Erase(int32_t partition, const std::string& identifier);

  // The identifiers of addresses at `domain` (lower-case) that signals wait
  // under ("e:…"), for when the domain is linked to an account.
  std::vector<std::string> AddressesAt(int32_t partition, const std::string& domain);

  // Signals waiting on `partition` now.
  int64_t Waiting(int32_t partition);
  const WaitingCounters& counters() const { return counters_; }

 private:
  struct Partition {
    bool loaded = false;
    // (event time of the oldest waiting signal, identifier)
    std::set<std::pair<int64_t, std::string>> by_oldest;
    std::map<std::string, int64_t> oldest_of;
    // Lower-case domain -> the waiting "e:" identifiers at it.
    std::map<std::string, std::set<std::string>> addresses_at;
    int64_t waiting = 0;
  };
  Partition& Load(int32_t partition);
  // Removes and returns the signals waiting under `identifier`, uncounted.
  std::vector<v1::WaitingSignal> Take(int32_t partition, const std::string& identifier);
  v1::WaitingList Read(int32_t partition, const std::string& identifier);
  void Write(int32_t partition, const std::string& identifier, const v1::WaitingList& list);

  const config::IdentityConfig& config_;
  state::StateStore* store_;
  std::map<int32_t, Partition> partitions_;
  WaitingCounters counters_;
};

}  // namespace demandcenter::identity

#endif  // DEMANDCENTER_IDENTITY_WAITING_ROOM_H_
