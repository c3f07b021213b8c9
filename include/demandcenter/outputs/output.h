// The output messages: the four decisions the engine emits and the identity
// conflicts the pipeline reports; a kind, the record key (the account; the
// identifier for a conflict) and the message. Encoding them for a topic or a
// file is the pipeline's job (pipeline/output_encoder.h).
#ifndef DEMANDCENTER_OUTPUTS_OUTPUT_H_
#define DEMANDCENTER_OUTPUTS_OUTPUT_H_

#include <string>
#include <string_view>
#include <variant>

#include "demandcenter/v1/action.pb.h"
#include "demandcenter/v1/identity.pb.h"
#include "demandcenter/v1/journey.pb.h"
#include "demandcenter/v1/routing.pb.h"
#include "google/protobuf/message.h"

namespace demandcenter::outputs {

enum class OutputKind { kTransition, kNextBestAction, kRouting, kPrompt, kIdentityConflict };
inline constexpr int kOutputKinds = 5;

// "transition", "nba", "routing", "prompt", "identity_conflict".
std::string_view OutputKindName(OutputKind kind);

// One output record: its topic is chosen by kind, its key is the account
// (the identifier, for a conflict).
struct Output {
  OutputKind kind;
  std::string account_id;
  std::variant<v1::StageTransition, v1::NextBestAction, v1::RoutingDecision, v1::CrmPrompt, v1::IdentityConflict>
      message;

  const google::protobuf::Message& proto() const;
};

}  // namespace demandcenter::outputs

#endif  // DEMANDCENTER_OUTPUTS_OUTPUT_H_
