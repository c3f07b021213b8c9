// How outputs become records: the configured topic for each kind, and the
// value as deterministic binary protobuf or, for the topics configured so
// (kafka.json_topics; every topic in replay), protobuf-JSON.
#ifndef DEMANDCENTER_PIPELINE_OUTPUT_ENCODER_H_
#define DEMANDCENTER_PIPELINE_OUTPUT_ENCODER_H_

#include <set>
#include <string>
#include <vector>

#include "demandcenter/config/runtime_config.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/pipeline/records.h"

namespace demandcenter::pipeline {

// One replay line for a record with a JSON value:
// {"topic":"<topic>","key":"<key>","value":<value>}.
std::string JsonLine(const OutRecord& record);

// Immutable after construction; may be shared between threads.
class OutputEncoder {
 public:
  // Topics in `json_topics` get JSON values, the others binary protobuf.
  OutputEncoder(const config::KafkaTopics& topics, const std::vector<std::string>& json_topics);

  // Every topic gets JSON values (replay's lines).
  static OutputEncoder AllJson(const config::KafkaTopics& topics);

  const std::string& TopicFor(outputs::OutputKind kind) const;

  // The record for an output: its topic, the account as key, the value.
  OutRecord Encode(const outputs::Output& output) const;

  // Encode, then JsonLine: replay's line for an output (the encoder must
  // write JSON values: AllJson).
  std::string JsonLine(const outputs::Output& output) const { return pipeline::JsonLine(Encode(output)); }

 private:
  OutputEncoder(const config::KafkaTopics& topics, bool all_json) : topics_(topics), all_json_(all_json) {}

  config::KafkaTopics topics_;
  std::set<std::string> json_topics_;
  bool all_json_ = false;
};

}  // namespace demandcenter::pipeline

#endif  // DEMANDCENTER_PIPELINE_OUTPUT_ENCODER_H_
