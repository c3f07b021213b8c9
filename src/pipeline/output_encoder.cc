// OutputEncoder: topic by kind, value as binary protobuf or JSON.
#include "demandcenter/pipeline/output_encoder.h"

#include "demandcenter/engine/output_json.h"

namespace demandcenter::pipeline {

OutputEncoder::OutputEncoder(const config::KafkaTopics& topics, const std::vector<std::string>& json_topics)
    : topics_(topics), json_topics_(json_topics.begin(), json_topics.end()) {}

OutputEncoder OutputEncoder::AllJson(const config::KafkaTopics& topics) { return OutputEncoder(topics, true); }

const std::string& OutputEncoder::TopicFor(outputs::OutputKind kind) const {
  return engine::TopicFor(kind, topics_);
}

OutRecord OutputEncoder::Encode(const outputs::Output& output) const {
  OutRecord r;
  r.topic = TopicFor(output.kind);
  r.key = output.account_id;
  r.value = all_json_ || json_topics_.count(r.topic) ? engine::ToJson(output.proto())
                                                     : engine::SerializeDeterministic(output.proto());
  return r;
}

}  // namespace demandcenter::pipeline
