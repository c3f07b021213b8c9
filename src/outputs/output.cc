// Output kinds and the message of an output.
#include "demandcenter/outputs/output.h"

namespace demandcenter::outputs {

std::string_view OutputKindName(OutputKind kind) {
  switch (kind) {
    case OutputKind::kTransition: return "transition";
    case OutputKind::kNextBestAction: return "nba";
    case OutputKind::kRouting: return "routing";
    case OutputKind::kPrompt: return "prompt";
    case OutputKind::kIdentityConflict: return "identity_conflict";
  }
  return "unknown";
}

const google::protobuf::Message& Output::proto() const {
  return std::visit([](const auto& m) -> const google::protobuf::Message& { return m; }, message);
}

}  // namespace demandcenter::outputs
