// kafka::Runner: the Kafka adapters, RocksDB stores and the system clock
// wired into the processing loop.
#include "demandcenter/kafka/runner.h"

#include "demandcenter/common/strings.h"
#include "demandcenter/kafka/security.h"
#include "demandcenter/state/rocksdb_kv.h"
#include "src/kafka/kafka_changelog.h"
#include "src/kafka/kafka_directory.h"
#include "src/kafka/kafka_sink.h"
#include "src/kafka/kafka_source.h"
#include "src/kafka/group_owners.h"

namespace demandcenter::kafka {
namespace {

absl::StatusOr<runner::Seams> KafkaSeams(const config::Config& config, const RunOptions& options,
                                         metrics::Metrics* metrics, Clock* clock,
                                         std::unique_ptr<GroupOwners>* owners) {
  const config::RuntimeConfig& rt = config.runtime;
  ClientSettings settings;
  settings.bootstrap_servers = options.bootstrap_servers.empty() ? rt.kafka.bootstrap_servers : options.bootstrap_servers;
  settings.client_id = StrCat(rt.application_id, "-", options.instance_id);
  settings.application_id = rt.application_id;
  settings.properties = options.client_properties;
  // Every client gets kafka.security; the password is read now, once.
  auto security = SecurityProperties(rt.kafka.security);
  if (!security.ok()) return security.status();
  settings.security = std::move(*security);
  settings.security_summary = DescribeSecurity(rt.kafka.security);
  settings.sasl_mechanism = rt.kafka.security.sasl_mechanism;
  std::string state_dir =
      StrCat(options.state_dir.empty() ? rt.state.dir : options.state_dir, "/", rt.application_id);

  runner::Seams seams;
  // The consumer's client.id carries the advertised address (account
  // queries find each partition's owner through the group).
  if (!options.advertised_address.empty()) {
    settings.member_client_id = MemberClientId(settings.client_id, options.advertised_address);
    auto lookup = GroupOwners::Create(settings, rt.kafka.topics.signals.front(), settings.member_client_id);
    if (!lookup.ok()) return lookup.status();
    *owners = std::move(*lookup);
  }
  std::vector<std::string> inputs = rt.kafka.topics.signals;
  if (config.decision.identity.global) {
    // The two-stage topology's internal topics (runner/stages.cc).
    inputs.push_back(rt.IdentityTopic());
    inputs.push_back(rt.AccountTopic());
  }
  auto source = KafkaSource::Create(settings, inputs, metrics, clock);
  if (!source.ok()) return source.status();
  auto changelog = KafkaChangelog::Create(settings, rt.ChangelogTopic(), metrics, clock);
  if (!changelog.ok()) return changelog.status();
  seams.sink = std::make_unique<KafkaSink>(settings, (*source)->consumer(), metrics, clock);
  seams.directory = KafkaDirectory::Open(settings, rt.kafka.topics.reps, (*changelog)->prober(), metrics, clock);
  seams.source = std::move(*source);
  seams.changelog = std::move(*changelog);
  size_t cache = static_cast<size_t>(rt.state.cache_accounts);
  std::string dir = StrCat(state_dir, "/", options.instance_id);
  uint64_t min_free = static_cast<uint64_t>(rt.state.min_free_mib) << 20;
  auto memory = state::NewRocksDbMemory(static_cast<uint64_t>(rt.state.block_cache_mib) << 20,
                                       static_cast<uint64_t>(rt.state.memtable_mib) << 20);
  // state.cache_accounts is the instance's, shared by its partitions.
  auto budget = std::make_shared<state::CacheBudget>(cache);
  seams.stores = [dir, budget, min_free, memory](int32_t partition) {
    return state::OpenRocksDbPartitionStore(StrCat(dir, "/p", partition), budget, min_free, memory);
  };
  seams.store_memory = [memory]() -> std::vector<std::pair<std::string, uint64_t>> {
    state::RocksDbMemoryUsage usage = state::UsageOf(*memory);
    return {{"block_cache", usage.block_cache}, {"memtables", usage.memtables}};
  };
  seams.clock = clock;
  LogLine(StrCat("brokers ", settings.bootstrap_servers, " (", settings.security_summary, "), state ", state_dir));
  return seams;
}

}  // namespace

Runner::Runner(const config::Config& config, RunOptions options, metrics::Metrics* metrics) {
  clock_.WatchStop(options.stop);
  auto seams = KafkaSeams(config, options, metrics, &clock_, &owners_);
  if (!seams.ok()) {
    created_ = seams.status();
    return;
  }
  runner::RunnerOptions run_options;
  run_options.instance_id = options.instance_id;
  run_options.on_committed = std::move(options.on_committed);
  runner_ = std::make_unique<runner::Runner>(config, std::move(*seams), metrics, std::move(run_options));
}

Runner::~Runner() = default;

std::function<std::optional<std::string>(const std::string&)> Runner::owners() {
  if (!owners_) return nullptr;
  GroupOwners* owners = owners_.get();
  return [owners](const std::string& account_id) { return owners->OwnerOf(account_id); };
}

absl::Status Runner::Run(const std::atomic<bool>& stop) {
  if (!created_.ok()) return created_;
  return runner_->Run(stop);
}

}  // namespace demandcenter::kafka
