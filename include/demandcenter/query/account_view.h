// One account's journey as the API shows it: GET /v1/accounts/{id} on a
// running instance and `demandcenter inspect` on a stopped one's store.
//
// Takes: an AccountState, the decision config, the partition's stream time.
// Gives: a v1::AccountView. Depends on: config, condition (score decay),
// timers (timer names); no I/O.
#ifndef DEMANDCENTER_QUERY_ACCOUNT_VIEW_H_
#define DEMANDCENTER_QUERY_ACCOUNT_VIEW_H_

#include <cstdint>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/v1/query.pb.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::query {

// The score is decayed to `stream_time_ms` (the account's own last signal
// when 0); recent history newest first.
// `model` (may be null): the partition's journey model, for the outlook.
v1::AccountView ViewOf(const v1::AccountState& account, const config::DecisionConfig& config,
                       int64_t stream_time_ms, const v1::JourneyModel* model = nullptr);

}  // namespace demandcenter::query

#endif  // DEMANDCENTER_QUERY_ACCOUNT_VIEW_H_
