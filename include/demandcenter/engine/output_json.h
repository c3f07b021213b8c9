// Serialisation of outputs, deterministic byte for byte: binary protobuf
// with sorted map entries, and protobuf-JSON (proto field names) built from
// that binary form.
#ifndef DEMANDCENTER_ENGINE_OUTPUT_JSON_H_
#define DEMANDCENTER_ENGINE_OUTPUT_JSON_H_

#include <string>

#include "demandcenter/config/runtime_config.h"
#include "demandcenter/outputs/output.h"
#include "google/protobuf/message.h"

namespace demandcenter::engine {

using outputs::Output;
using outputs::OutputKind;

// The configured topic for an output kind.
const std::string& TopicFor(OutputKind kind, const config::KafkaTopics& topics);

// Binary protobuf with map entries in key order.
std::string SerializeDeterministic(const google::protobuf::Message& message);

// Compact protobuf-JSON with proto field names ("account_id"), enums by
// name, map keys sorted: byte for byte what protobuf's own printer writes for
// the deterministic binary form (tests hold it to that), several times faster.
std::string ToJson(const google::protobuf::Message& message);

// One replay line: {"topic": "...", "key": "<account_id>", "value": {...}}.
std::string ToJsonLine(const Output& output, const config::KafkaTopics& topics);

}  // namespace demandcenter::engine

#endif  // DEMANDCENTER_ENGINE_OUTPUT_JSON_H_
