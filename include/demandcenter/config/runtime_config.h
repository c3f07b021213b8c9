// The runtime config: how an instance runs — its Kafka cluster and topics,
// its local state directory, its HTTP endpoint. Read by the adapters and the
// app; the decision core never sees it (config/decision_config.h).
#ifndef DEMANDCENTER_CONFIG_RUNTIME_CONFIG_H_
#define DEMANDCENTER_CONFIG_RUNTIME_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace demandcenter::config {

struct KafkaTopics {
  std::vector<std::string> signals = {"signals.web", "signals.email", "signals.crm"};
  // The signal topic each type prefix is produced to ("web" for
  // web.page_view): replay places signals by it. Other prefixes, and those
  // mapped to a topic not in `signals`, go to the first signal topic.
  std::map<std::string, std::string> signals_by_type = {
      {"web", "signals.web"}, {"email", "signals.email"}, {"crm", "signals.crm"}};
  std::string dlq = "signals.dlq";
  std::string nba = "actions.nba";
  std::string routing = "actions.routing";
  std::string prompts = "crm.prompts";
  std::string transitions = "journey.transitions";
  // Links the engine refused (IdentityConflict records).
  std::string identity_conflicts = "identity.conflicts";
  // The compacted team-directory topic (PoolMemberUpdate records).
  std::string reps = "routing.reps";
};

// kafka.security: how every Kafka client of the engine connects and
// authenticates. The password is never written in the config: it is read at
// start-up from the environment variable `password_env` or the file
// `password_file` (ReadKafkaPassword, kafka_password.h).
struct KafkaSecurity {
  // librdkafka's security.protocol, lower case: plaintext (the default),
  // ssl, sasl_plaintext or sasl_ssl.
  std::string protocol = "plaintext";
  // With sasl_*: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, and the user.
  std::string sasl_mechanism;
  std::string username;
  // Exactly one of them with sasl_*.
  std::string password_env;
  std::string password_file;
  // With ssl and sasl_ssl, all optional: the CA certificates that verify the
  // brokers (default: the system's), and a client certificate and its key
  // (together).
  std::string ca_location;
  std::string certificate_location;
  std::string key_location;

  bool UsesSasl() const { return protocol == "sasl_plaintext" || protocol == "sasl_ssl"; }
  bool UsesTls() const { return protocol == "ssl" || protocol == "sasl_ssl"; }
};

struct KafkaConfig {
  std::string bootstrap_servers = "127.0.0.1:9092";
  KafkaSecurity security;
  KafkaTopics topics;
  int64_t commit_interval_ms = 100;
  // How long a task with records buffered waits for a caught-up, empty
  // input partition before it takes the smallest event time it has (Kafka
  // Streams' max.task.idle.ms). 0: it waits only for records the broker
  // already holds; -1: it never waits (arrival order wins).
  int64_t max_task_idle_ms = 0;
  // Threads that process the instance's tasks (Kafka Streams'
  // num.stream.threads, but one transaction per commit interval across
  // them). Default 1.
  int processing_threads = 1;
  // Output topics written as JSON instead of protobuf.
  std::vector<std::string> json_topics;
};

struct StateConfig {
  std::string dir = "/var/lib/demandcenter";
  // Accounts an instance keeps in its write-back cache, shared equally by
  // its partitions' stores. Default: 100000.
  int64_t cache_accounts = 100000;
  // Free space the state directory's disk keeps: below it, state writes
  // wait (back-pressure) until space is freed. Default: 256 MiB.
  int64_t min_free_mib = 256;
  // Shared by all of an instance's stores: RocksDB's block cache (data,
  // index and filter blocks) and its memtables. Defaults: 64 MiB each.
  int64_t block_cache_mib = 64;
  int64_t memtable_mib = 64;
};

struct HttpConfig {
  std::string bind = "127.0.0.1:8080";
  // How other instances and the console reach this one
  // ("http://10.0.0.5:8080"): shared through the consumer group, answered
  // for accounts this instance does not hold. Default: http://<bind>.
  std::string advertised_address;
  // A bearer token /v1 (the console's data) requires, from an environment
  // variable or a file (never the config itself); none by default.
  std::string token_env;
  std::string token_file;
  // POST /v1/reload re-reads the config (SIGHUP always does).
  bool reload = false;
};


struct RuntimeConfig {
  // The consumer group, the transactional id prefix and the prefix of the
  // internal topics (<application_id>-state-changelog).
  std::string application_id = "demandcenter";
  KafkaConfig kafka;
  StateConfig state;
  HttpConfig http;

  // The internal topics. The state's compacted changelog (a partition per
  // task), and with identity.scope global the identity task's input (one
  // partition) and the signals it resolved, by account (a partition per
  // task).
  std::string ChangelogTopic() const { return application_id + "-state-changelog"; }
  std::string IdentityTopic() const { return application_id + "-identity-repartition"; }
  std::string AccountTopic() const { return application_id + "-account-repartition"; }
};

}  // namespace demandcenter::config

#endif  // DEMANDCENTER_CONFIG_RUNTIME_CONFIG_H_
