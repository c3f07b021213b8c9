// OutputEncoder: topic by kind, value as binary protobuf or JSON; replay's
// JSON lines.
#include "demandcenter/pipeline/output_encoder.h"

#include "demandcenter/common/json_string.h"
#include "demandcenter/common/proto_json.h"

namespace demandcenter::pipeline {

std::string JsonLine(const OutRecord& record) {
  std::string line = "{\"topic\":";
  AppendJsonString(record.topic, &line);
  line += ",\"key\":";
  AppendJsonString(record.key, &line);
  line += ",\"value\":";
  line += record.value;
  line += '}';
  return line;
}

OutputEncoder::OutputEncoder(const config::KafkaTopics& topics, const std::vector<std::string>& json_topics)
    : topics_(topics), json_topics_(json_topics.begin(), json_topics.end()) {}

OutputEncoder OutputEncoder::AllJson(const config::KafkaTopics& topics) { return OutputEncoder(topics, true); }

const std::string& OutputEncoder::TopicFor(outputs::OutputKind kind) const {
  switch (kind) {
    case outputs::OutputKind::kTransition: return topics_.transitions;
    case outputs::OutputKind::kNextBestAction: return topics_.nba;
    case outputs::OutputKind::kRouting: return topics_.routing;
    case outputs::OutputKind::kPrompt: return topics_.prompts;
    case outputs::OutputKind::kIdentityConflict: return topics_.identity_conflicts;
  }
  return topics_.nba;
}

OutRecord OutputEncoder::Encode(const outputs::Output& output) const {
  OutRecord r;
  r.topic = TopicFor(output.kind);
  r.key = output.account_id;
  r.value = all_json_ || json_topics_.count(r.topic) ? ToJson(output.proto()) : SerializeDeterministic(output.proto());
  return r;
}

}  // namespace demandcenter::pipeline
