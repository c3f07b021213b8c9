// PartitionOf: a signal's partition, as a producer keyed by account would
// choose it.
#include "demandcenter/pipeline/partitions.h"

namespace demandcenter::pipeline {

int32_t PartitionOf(const v1::Signal& signal, const PartitionModel& model) {
  const std::string& key = signal.account_id().empty() ? signal.event_id() : signal.account_id();
  return PartitionForKey(key, model.partitions, model.partitioner);
}

}  // namespace demandcenter::pipeline
