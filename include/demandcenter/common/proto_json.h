// Deterministic serialisation of protobuf messages, byte for byte: binary
// with map entries in key order, and compact protobuf-JSON with proto field
// names, enums by name and map keys sorted — what protobuf's own printer
// writes for that binary form (tests hold it to that), several times faster.
// The one JSON writer for messages: output values, replay lines, state dumps.
#ifndef DEMANDCENTER_COMMON_PROTO_JSON_H_
#define DEMANDCENTER_COMMON_PROTO_JSON_H_

#include <string>

#include "google/protobuf/message.h"

namespace demandcenter {

// Binary protobuf with map entries in key order.
std::string SerializeDeterministic(const google::protobuf::Message& message);

// Compact protobuf-JSON ("account_id", not "accountId"), default values
// left out, Timestamps in RFC 3339, int64 quoted, as protobuf 3.21 prints.
std::string ToJson(const google::protobuf::Message& message);

// The same, appended to *out.
void AppendJson(const google::protobuf::Message& message, std::string* out);

}  // namespace demandcenter

#endif  // DEMANDCENTER_COMMON_PROTO_JSON_H_
