// `demandcenter inspect`: one account's journey from a stopped instance's
// state directory, as GET /v1/accounts/{id} shows it on a running one.
#ifndef DEMANDCENTER_SRC_APP_INSPECT_H_
#define DEMANDCENTER_SRC_APP_INSPECT_H_

#include <string>

#include "absl/status/statusor.h"
#include "demandcenter/config/config.h"

namespace demandcenter {

// Looks for `account_id` in every partition store (p0, p1, ...) under
// `state_dir` (an instance's directory: <state.dir>/<application_id>/<instance
// id>) and returns its view as JSON. NotFound when no store holds it;
// FailedPrecondition when a store is in use (the instance is running: ask
// its /v1/accounts/{id}) or the directory holds no store.
absl::StatusOr<std::string> InspectAccount(const std::string& state_dir, const std::string& account_id,
                                           const config::Config& config);

}  // namespace demandcenter

#endif  // DEMANDCENTER_SRC_APP_INSPECT_H_
