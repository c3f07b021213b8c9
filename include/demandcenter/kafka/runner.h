// `demandcenter run`: the decision core on Kafka with exactly-once state.
//
// One consumer in the group <application_id> reads the signal topics with the
// range assignor, so an instance owns the same partition number of every
// signal topic; partition number p is one task with its own RocksDB store
// and changelog partition p of <application_id>-state-changelog.
//
// Per commit interval one Kafka transaction carries the outputs, the DLQ
// records, the changelog records of every changed account and the consumed
// offsets (KIP-447: fenced by the group generation). Only after it commits is
// the state written to RocksDB, in one WriteBatch with the checkpoint, so a
// crash never forces a full restore: on assignment a task restores just the
// changelog tail after its checkpoint. An aborted transaction discards the
// uncommitted state and rewinds the consumer to the committed offsets:
// nothing is skipped and nothing is applied twice.
#ifndef DEMANDCENTER_KAFKA_RUNNER_H_
#define DEMANDCENTER_KAFKA_RUNNER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "demandcenter/config/config.h"
#include "demandcenter/outputs/counters.h"
#include "demandcenter/metrics/metrics.h"

namespace demandcenter::kafka {

struct RunOptions {
  // Overrides of the config (empty = the config's value).
  std::string bootstrap_servers;
  std::string state_dir;
  // Distinguishes instances of one application: transactional id suffix and
  // state sub-directory. Default: "0".
  std::string instance_id = "0";
  // Extra librdkafka properties for every client.
  std::vector<std::pair<std::string, std::string>> client_properties;
  // Called on the processing thread with the outputs of each committed
  // transaction, in emission order (the demo prints them).
  std::function<void(const std::vector<outputs::Output>&)> on_committed;
};

// Counters readable from any thread (for the demo's live view).
struct RunnerStats {
  std::atomic<int64_t> signals{0};
  std::atomic<int64_t> rejected{0};
  std::atomic<int64_t> outputs{0};
  std::atomic<int64_t> transactions{0};
  std::atomic<int64_t> aborts{0};
};

class Runner {
 public:
  Runner(const config::Config& config, RunOptions options, metrics::Metrics* metrics);
  ~Runner();

  // Runs until `stop` becomes true — then commits the open transaction and
  // leaves the group cleanly — or until a fatal error, which it returns
  // (e.g. the state directory cannot be written). Broker outages and failed
  // transactions are retried, never skipped.
  absl::Status Run(const std::atomic<bool>& stop);

  // True when the instance has partitions and every one is restored.
  // Thread safe.
  bool ready() const { return ready_.load(); }
  const RunnerStats& stats() const { return stats_; }

  class Impl;  // public only so the client library's callbacks can reach it

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> ready_{false};
  RunnerStats stats_;
};

}  // namespace demandcenter::kafka

#endif  // DEMANDCENTER_KAFKA_RUNNER_H_
