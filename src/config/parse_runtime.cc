// The runtime sections' parser: kafka (brokers, topics, commit interval;
// its security section in parse_kafka_security.cc),
// state (directory, dedup window, cache size) and http (bind address).
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_join.h"

#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

// kafka.topics.signals_by_type: {web: signals.web, ...}, every topic one of
// kafka.topics.signals.
void ParseSignalsByType(YamlReader& reader, const YAML::Node& n, KafkaTopics* topics) {
  if (!n.IsMap()) {
    reader.Error(n, "kafka.topics.signals_by_type must be a map of type prefix to signal topic, e.g. {web: signals.web}");
    return;
  }
  topics->signals_by_type.clear();
  for (const auto& entry : n) {
    std::string prefix = entry.first.as<std::string>();
    auto topic = reader.String(entry.second, StrCat("kafka.topics.signals_by_type.", prefix));
    if (!topic) continue;
    if (std::find(topics->signals.begin(), topics->signals.end(), *topic) == topics->signals.end()) {
      reader.Error(entry.second, StrCat("kafka.topics.signals_by_type.", prefix, ": '", *topic,
                                        "' is not one of kafka.topics.signals (", absl::StrJoin(topics->signals, ", "), ")"));
      continue;
    }
    topics->signals_by_type[prefix] = *topic;
  }
}

void ParseTopics(YamlReader& reader, const YAML::Node& t, KafkaTopics* topics) {
  if (!reader.ExpectMap(t, "kafka.topics",
                        {"signals", "signals_by_type", "dlq", "nba", "routing", "prompts", "transitions", "identity_conflicts",
                         "reps"})) {
    return;
  }
  if (auto n = t["signals"]) topics->signals = reader.StringList(n, "kafka.topics.signals");
  if (auto n = t["signals_by_type"]) ParseSignalsByType(reader, n, topics);
  for (auto [key, field] : {std::pair{"dlq", &topics->dlq}, {"nba", &topics->nba},
                            {"routing", &topics->routing}, {"prompts", &topics->prompts},
                            {"transitions", &topics->transitions},
                            {"identity_conflicts", &topics->identity_conflicts}, {"reps", &topics->reps}}) {
    if (auto n = t[key]) {
      if (auto s = reader.String(n, StrCat("kafka.topics.", key))) *field = *s;
    }
  }
}

// kafka.max_task_idle: a duration, 0 or -1 (never wait).
void ParseMaxTaskIdle(YamlReader& reader, const YAML::Node& n, KafkaConfig* kafka) {
  if (n.IsScalar() && (n.Scalar() == "0" || n.Scalar() == "-1")) {
    kafka->max_task_idle_ms = n.Scalar() == "0" ? 0 : -1;
    return;
  }
  if (auto d = reader.Duration(n, "kafka.max_task_idle (a duration, 0, or -1: never wait)")) {
    kafka->max_task_idle_ms = *d;
  }
}

void ParseKafka(YamlReader& reader, const YAML::Node& k, KafkaConfig* kafka) {
  if (!reader.ExpectMap(k, "kafka",
                        {"bootstrap_servers", "security", "topics", "commit_interval", "max_task_idle",
                         "processing_threads", "json_topics"})) {
    return;
  }
  if (auto n = k["bootstrap_servers"]) {
    if (auto s = reader.String(n, "kafka.bootstrap_servers")) kafka->bootstrap_servers = *s;
  }
  if (auto n = k["commit_interval"]) {
    if (auto d = reader.Duration(n, "kafka.commit_interval")) kafka->commit_interval_ms = *d;
  }
  if (auto n = k["max_task_idle"]) ParseMaxTaskIdle(reader, n, kafka);
  if (auto n = k["processing_threads"]) {
    if (auto v = reader.Integer(n, "kafka.processing_threads", 1, 64)) kafka->processing_threads = static_cast<int>(*v);
  }
  if (auto n = k["json_topics"]) kafka->json_topics = reader.StringList(n, "kafka.json_topics");
  if (auto t = k["topics"]) ParseTopics(reader, t, &kafka->topics);
  if (auto n = k["security"]) ParseKafkaSecurity(reader, n, &kafka->security);
}

// The dedup window is the decision core's (how long a signal id is
// remembered); the rest is the runtime's.
void ParseState(YamlReader& reader, const YAML::Node& s, Config* config) {
  if (!reader.ExpectMap(s, "state",
                        {"dir", "dedup_window", "cache_accounts", "min_free_mib", "block_cache_mib", "memtable_mib"})) {
    return;
  }
  if (auto n = s["dir"]) {
    if (auto v = reader.String(n, "state.dir")) {
      if (v->empty()) {
        reader.Error(n, "state.dir is empty: name the directory for the state (e.g. /var/lib/demandcenter)");
      } else {
        config->runtime.state.dir = *v;
      }
    }
  }
  if (auto n = s["dedup_window"]) {
    if (auto d = reader.Duration(n, "state.dedup_window")) config->decision.dedup_window_ms = *d;
  }
  if (auto n = s["cache_accounts"]) {
    if (auto v = reader.Integer(n, "state.cache_accounts", 1, 100'000'000)) {
      config->runtime.state.cache_accounts = *v;
    }
  }
  if (auto n = s["min_free_mib"]) {
    if (auto v = reader.Integer(n, "state.min_free_mib", 0, 1'000'000)) config->runtime.state.min_free_mib = *v;
  }
  if (auto n = s["block_cache_mib"]) {
    if (auto v = reader.Integer(n, "state.block_cache_mib", 1, 1'000'000)) config->runtime.state.block_cache_mib = *v;
  }
  if (auto n = s["memtable_mib"]) {
    if (auto v = reader.Integer(n, "state.memtable_mib", 4, 1'000'000)) config->runtime.state.memtable_mib = *v;
  }
}

void ParseHttp(YamlReader& reader, const YAML::Node& h, HttpConfig* http) {
  if (!reader.ExpectMap(h, "http", {"bind", "advertised_address", "token_env", "token_file", "reload"})) return;
  if (auto n = h["bind"]) {
    if (auto v = reader.String(n, "http.bind")) http->bind = *v;
  }
  if (auto n = h["advertised_address"]) {
    if (auto v = reader.String(n, "http.advertised_address")) {
      if (!v->starts_with("http://") && !v->starts_with("https://")) {
        reader.Error(n, "http.advertised_address: an address like http://10.0.0.5:8080 is expected");
      } else {
        http->advertised_address = *v;
      }
    }
  }
  if (auto n = h["token_env"]) {
    if (auto v = reader.String(n, "http.token_env")) http->token_env = *v;
  }
  if (auto n = h["token_file"]) {
    if (auto v = reader.String(n, "http.token_file")) http->token_file = *v;
  }
  if (!http->token_env.empty() && !http->token_file.empty()) {
    reader.Error(h, "http: token_env and token_file are exclusive: name one source of the token");
  }
  if (auto n = h["reload"]) {
    if (auto v = reader.Bool(n, "http.reload")) http->reload = *v;
  }
}

}  // namespace

void ParseRuntime(YamlReader& reader, const YAML::Node& root, Config* config) {
  if (auto k = root["kafka"]) ParseKafka(reader, k, &config->runtime.kafka);
  if (auto s = root["state"]) ParseState(reader, s, config);
  if (auto h = root["http"]) ParseHttp(reader, h, &config->runtime.http);
}

}  // namespace demandcenter::config::internal
