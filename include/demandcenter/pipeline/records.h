// The records that cross the pipeline's edges: what a source delivers (a
// Kafka record, a line of a replay file) and what a sink writes (an output,
// a dead letter). Plain data; no Kafka types.
#ifndef DEMANDCENTER_PIPELINE_RECORDS_H_
#define DEMANDCENTER_PIPELINE_RECORDS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace demandcenter::pipeline {

// One input record. The views stay valid while the record is processed.
struct Record {
  std::string_view value;
  std::string_view key;
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = -1;
  // The record's own timestamp, Unix ms (0: none).
  int64_t timestamp_ms = 0;
};

// A Record that owns its bytes: one kept past the source's next Poll.
struct OwnedRecord {
  std::string value;
  std::string key;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int64_t timestamp_ms = 0;

  // Copies `r` in, reusing this one's buffers.
  void Assign(const Record& r) {
    value.assign(r.value);
    key.assign(r.key);
    topic.assign(r.topic);
    partition = r.partition;
    offset = r.offset;
    timestamp_ms = r.timestamp_ms;
  }
  Record View() const { return {value, key, topic, partition, offset, timestamp_ms}; }
};

// One record to write. Partition -1: by key, as the producer's partitioner
// places it.
struct OutRecord {
  std::string topic;
  int32_t partition = -1;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  // A null value (`value` is ignored): on a compacted topic, the key's
  // delete marker.
  bool tombstone = false;
};

}  // namespace demandcenter::pipeline

#endif  // DEMANDCENTER_PIPELINE_RECORDS_H_
