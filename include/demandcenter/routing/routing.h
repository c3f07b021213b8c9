// Routing: the channel, role and person that take an action. Pure.
#ifndef DEMANDCENTER_ROUTING_ROUTING_H_
#define DEMANDCENTER_ROUTING_ROUTING_H_

#include <string>
#include <string_view>

#include "demandcenter/condition/condition.h"
#include "demandcenter/config/config.h"
#include "demandcenter/v1/action.pb.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::routing {

struct RouteResult {
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  std::string role;
  std::string pool;      // empty when routed to the account owner
  std::string assignee;  // empty when nobody could be chosen
  std::string reason;    // readable, e.g. "account owner rep-ae-07"
};

// The channel for `channel: auto`, from the stage and deal complexity:
// early stages digital, evaluation inside sales (field for large or
// committee-heavy deals), negotiation field, customers customer success.
// Writes the inputs it used to *facts.
v1::Channel AutoChannel(const v1::AccountState& account, int32_t committee_size,
                        condition::Facts* facts);

// Stable weighted choice of a pool member for an account (weighted
// rendezvous hashing): the same account gets the same member while the pool
// is unchanged, and each member gets a share proportional to its weight.
std::string PickPoolMember(const config::Pool& pool, std::string_view account_id);

// Routes a rule's action for the account.
RouteResult Route(const config::Config& config, const config::Rule& rule,
                  const v1::AccountState& account, int32_t committee_size,
                  condition::Facts* facts);

}  // namespace demandcenter::routing

#endif  // DEMANDCENTER_ROUTING_ROUTING_H_
