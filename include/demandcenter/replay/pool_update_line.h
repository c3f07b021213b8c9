// The `{"pool_update": {...}}` lines of a replay file (v1.PoolUpdateLine):
// a routing.reps record at that point of the stream. A bad one is reported
// in plain words with the column it starts at, never with the JSON parser's
// internals.
//
// Takes: one line. Gives: the parsed update or a message. Depends on the
// routing protos.
#ifndef DEMANDCENTER_REPLAY_POOL_UPDATE_LINE_H_
#define DEMANDCENTER_REPLAY_POOL_UPDATE_LINE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "demandcenter/v1/routing.pb.h"

namespace demandcenter::replay {

// Whether `line` is a pool update rather than a signal: its first key is
// "pool_update".
bool IsPoolUpdateLine(std::string_view line);

// Parses `line` into *update. InvalidArgument with one printable line when
// it is not a PoolUpdateLine, e.g.
//   column 41: pool_update.weight is not a number
//   column 39: unknown field pool_update.memberz; a pool_update has pool_id, member_id, ...
//   column 62: not JSON: unexpected token
absl::Status ParsePoolUpdateLine(std::string_view line, v1::PoolUpdateLine* update);

}  // namespace demandcenter::replay

#endif  // DEMANDCENTER_REPLAY_POOL_UPDATE_LINE_H_
