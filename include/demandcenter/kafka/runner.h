// `demandcenter run`: the processing loop (runner/runner.h) on Kafka. This
// is where the Kafka adapters — source, transactional sink, changelog
// reader, team directory — the RocksDB partition stores and the system
// clock are wired together; nothing else in the engine names them.
//
// One consumer in the group <application_id> reads the signal topics with
// the range assignor; partition number p is one task with its RocksDB store
// under <state dir>/<application_id>/<instance id>/p<p> and changelog
// partition p of <application_id>-state-changelog.
#ifndef DEMANDCENTER_KAFKA_RUNNER_H_
#define DEMANDCENTER_KAFKA_RUNNER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "demandcenter/common/clock.h"
#include "demandcenter/config/config.h"
#include "demandcenter/metrics/metrics.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/runner/runner.h"

namespace demandcenter::kafka {

class GroupOwners;

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
  // How other instances reach this one's HTTP API ("http://10.0.0.5:8080"),
  // shared through the consumer group; empty: not shared.
  std::string advertised_address;
  // The flag a signal sets (null: none), watched from the clients' creation
  // on, so a stop is seen even before Run. Must outlive the Runner.
  const std::atomic<bool>* stop = nullptr;
};

class Runner {
 public:
  // Creates the clients; a bad client setting is returned by Run.
  Runner(const config::Config& config, RunOptions options, metrics::Metrics* metrics);
  ~Runner();

  // See runner::Runner::Run.
  absl::Status Run(const std::atomic<bool>& stop);

  // True when the instance has partitions and every one is restored.
  // Thread safe.
  bool ready() const { return runner_ != nullptr && runner_->ready(); }
  const runner::RunnerStats& stats() const { return runner_ != nullptr ? runner_->stats() : no_stats_; }
  // The processing loop (null when the clients could not be created).
  runner::Runner* loop() { return runner_.get(); }
  // Who owns an account's partition, when another member does (null
  // without an advertised address). Thread safe.
  std::function<std::optional<std::string>(const std::string&)> owners();

 private:
  SystemClock clock_;
  absl::Status created_;
  std::unique_ptr<GroupOwners> owners_;
  std::unique_ptr<runner::Runner> runner_;
  runner::RunnerStats no_stats_;
};

}  // namespace demandcenter::kafka

#endif  // DEMANDCENTER_KAFKA_RUNNER_H_
