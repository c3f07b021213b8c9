// Where a producer puts a signal: the partition its key maps to. Replay
// models the signal topic's partitions with it, so stream time (per
// partition) and identities (scoped to the partition) behave as on Kafka.
#ifndef DEMANDCENTER_PIPELINE_PARTITIONS_H_
#define DEMANDCENTER_PIPELINE_PARTITIONS_H_

#include <cstdint>

#include "demandcenter/common/hash.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::pipeline {

// How signals are spread over partitions, exactly as a Kafka producer
// would: by the record key (the signal's account_id).
struct PartitionModel {
  int32_t partitions = 1;
  Partitioner partitioner = Partitioner::kMurmur2;
};

// The partition of a signal. Records with an empty key go to a partition a
// producer would pick at random; here it is derived from the event id so
// replays stay deterministic.
int32_t PartitionOf(const v1::Signal& signal, const PartitionModel& model);

}  // namespace demandcenter::pipeline

#endif  // DEMANDCENTER_PIPELINE_PARTITIONS_H_
