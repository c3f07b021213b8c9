#include "demandcenter/demo/demo.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/rfc3339.h"
#include "demandcenter/common/time.h"
#include "demandcenter/generate/generator.h"
#include "demandcenter/api/engine_api.h"
#include "demandcenter/http/http_server.h"
#include "demandcenter/kafka/runner.h"
#include "demandcenter/kafka/security.h"
#include "demandcenter/metrics/metrics.h"

namespace demandcenter::demo {
namespace {

using Clock = std::chrono::steady_clock;

std::string TopicForType(const config::KafkaTopics& topics, const std::string& value) {
  // The generator's JSON carries the type early; route by its namespace.
  size_t pos = value.find("\"type\":\"");
  std::string_view type = pos == std::string::npos ? "" : std::string_view(value).substr(pos + 8, 6);
  const auto& signals = topics.signals;
  if (signals.empty()) return "signals";
  if (type.rfind("web.", 0) == 0 || signals.size() < 2) return signals[0];
  if (type.rfind("email.", 0) == 0 || signals.size() < 3) return signals[1];
  return signals[2];
}

// What each dead-letter reason means, said once when it first appears.
std::string_view Explain(std::string_view reason) {
  if (reason == "UNRESOLVED_ACCOUNT") {
    return "an anonymous signal whose visitor or address no link on its partition ties to an account "
           "(it waited for a link, then gave up)";
  }
  if (reason == "EVENT_TIME_LATE") return "older than its partition's stream time allows (event_time.max_late)";
  if (reason == "EVENT_TIME_AHEAD") return "an event time too far after its record's timestamp";
  if (reason == "MISSING_IDENTITY") return "a signal naming no account, contact, address or visitor";
  return "one of the generator's deliberately malformed records (--malformed share)";
}

// Prints decisions as they are committed, and a status line every 2 s:
// the flow, how fast simulated time runs, the funnel of all accounts and
// the dead letters, each reason explained when it first appears.
class LiveView {
 public:
  explicit LiveView(std::ostream& out) : out_(out) {}

  void OnCommitted(const std::vector<outputs::Output>& outputs) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& o : outputs) {
      switch (o.kind) {
        case outputs::OutputKind::kTransition:
          ++transitions_;
          break;
        case outputs::OutputKind::kNextBestAction: {
          const auto& a = std::get<v1::NextBestAction>(o.message);
          ++actions_;
          if (a.channel() == v1::EMAIL || a.channel() == v1::DIGITAL) {
            Print(StrCat("  action  ", a.account_id(), " (", a.stage(), ") -> ", a.action(), " via ",
                         v1::Channel_Name(a.channel()), ": ", a.reason()));
          }
          break;
        }
        case outputs::OutputKind::kRouting:
          ++routings_;
          break;
        case outputs::OutputKind::kPrompt: {
          const auto& p = std::get<v1::CrmPrompt>(o.message);
          ++prompts_;
          Print(StrCat("  PROMPT  ", p.account_name(), " -> ", p.owner_id().empty() ? "unassigned" : p.owner_id(),
                       " [", p.rule_id(), "]: ", p.title(), "\n", p.body()));
          break;
        }
        case outputs::OutputKind::kIdentityConflict: {
          const auto& c = std::get<v1::IdentityConflict>(o.message);
          Print(StrCat("  CONFLICT ", c.identifier(), " stays with ", c.linked_to(), " ", c.kept_id(), "; ",
                       c.signal_type(), " ", c.trigger_event_ids(0), " tied it to ", c.refused_id()));
          break;
        }
      }
    }
  }

  // `summary`: the engine's census (null when it did not answer in time).
  void Status(const runner::RunnerStats& stats, double seconds, const v1::Summary* summary) {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t signals = stats.signals.load();
    double span = std::max(0.001, seconds - last_seconds_);
    std::string line = StrCat("[", static_cast<int>(seconds), "s] ", signals, " signals (",
                              static_cast<int64_t>(static_cast<double>(signals - last_signals_) / span), "/s), ",
                              actions_, " actions, ", prompts_, " prompts, ", transitions_, " stage moves");
    if (summary != nullptr && summary->has_stream_time()) {
      int64_t stream_ms = ToMillis(summary->stream_time());
      if (last_stream_ms_ > 0 && stream_ms > last_stream_ms_) {
        double days = static_cast<double>(stream_ms - last_stream_ms_) / 86'400'000.0 / span;
        std::string date;
        AppendRfc3339(stream_ms / 1000, 0, &date);
        line += StrCat(" | simulated time ", date.substr(0, 10), ", running ",
                       static_cast<int64_t>(days * 10) / 10.0, " days per second");
      }
      last_stream_ms_ = stream_ms;
    }
    if (summary != nullptr) {
      line += " | all accounts by stage:";
      for (const auto& s : summary->stages()) line += StrCat(" ", s.stage(), "=", s.accounts());
      line += StrCat(" | ", static_cast<int64_t>(summary->totals().dead_letters()), " dead letters");
      std::map<std::string, double> reasons(summary->dead_letters_by_reason().begin(),
                                            summary->dead_letters_by_reason().end());
      for (const auto& [reason, n] : reasons) {
        line += StrCat(" ", reason, "=", static_cast<int64_t>(n));
      }
    }
    out_ << line << '\n';
    if (summary != nullptr) {
      for (const auto& [reason, n] : summary->dead_letters_by_reason()) {
        if (explained_.insert(reason).second) out_ << "  (" << reason << ": " << Explain(reason) << ")\n";
      }
    }
    if (!speed_said_ && last_stream_ms_ > 0 && transitions_ > 0) {
      out_ << "  (simulated time runs far faster than the wall clock here, so prompts' SLAs pass within seconds "
              "and escalations follow: on live traffic they take their configured hours)\n";
      speed_said_ = true;
    }
    out_ << std::flush;
    last_signals_ = signals;
    last_seconds_ = seconds;
    printed_this_tick_ = 0;
  }

 private:
  void Print(const std::string& text) {
    // Keep the view readable: at most 8 decisions per status period, each
    // whole, its further lines indented.
    if (printed_this_tick_++ >= 8) return;
    std::string indented;
    for (char c : text) {
      indented += c;
      if (c == '\n') indented += "          ";
    }
    out_ << indented << '\n';
  }

  std::ostream& out_;
  std::mutex mu_;
  int64_t actions_ = 0, prompts_ = 0, routings_ = 0, transitions_ = 0;
  int64_t last_signals_ = 0;
  double last_seconds_ = 0;
  int64_t last_stream_ms_ = 0;
  int printed_this_tick_ = 0;
  std::set<std::string> explained_;
  bool speed_said_ = false;
};

// The engine's census, asked between two of its transactions; nullopt
// when it does not answer within a second.
std::optional<v1::Summary> AskSummary(kafka::Runner& runner) {
  runner::Runner* loop = runner.loop();
  if (loop == nullptr) return std::nullopt;
  v1::Summary summary;
  std::function<void()> query = [&] {
    summary = loop->census().Summarize([&](int32_t p) { return loop->StreamTime(p); }, 0);
  };
  if (!loop->Ask(query, 1000).ok()) return std::nullopt;
  return summary;
}

// librdkafka's mock cluster with the config's topics, or nothing when the
// demo runs against a real cluster.
class EmbeddedKafka {
 public:
  ~EmbeddedKafka() {
    if (mock_ != nullptr) rd_kafka_mock_cluster_destroy(mock_);
    if (host_ != nullptr) rd_kafka_destroy(host_);
  }

  // Starts three brokers and creates the topics; returns their address.
  absl::StatusOr<std::string> Start(const config::Config& config, int32_t partitions) {
    char err[512];
    rd_kafka_conf_t* host_conf = rd_kafka_conf_new();
    rd_kafka_conf_set(host_conf, "log_level", "3", err, sizeof(err));
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, host_conf, err, sizeof(err));
    if (host_ == nullptr) {
      rd_kafka_conf_destroy(host_conf);
      return absl::InternalError(StrCat("starting the embedded Kafka: ", err));
    }
    mock_ = rd_kafka_mock_cluster_new(host_, 3);
    if (mock_ == nullptr) return absl::InternalError("starting the embedded Kafka cluster failed");
    const auto& topics = config.runtime.kafka.topics;
    for (const auto& t : topics.signals) rd_kafka_mock_topic_create(mock_, t.c_str(), partitions, 1);
    for (const auto& t : {topics.dlq, topics.nba, topics.routing, topics.prompts, topics.transitions,
                          topics.identity_conflicts}) {
      rd_kafka_mock_topic_create(mock_, t.c_str(), partitions, 1);
    }
    for (const auto& t : {config.runtime.ChangelogTopic(), config.runtime.AccountTopic()}) {
      rd_kafka_mock_topic_create(mock_, t.c_str(), partitions, 1);
    }
    rd_kafka_mock_topic_create(mock_, config.runtime.IdentityTopic().c_str(), 1, 1);
    return std::string(rd_kafka_mock_cluster_bootstraps(mock_));
  }

 private:
  // The embedded cluster lives in a client handle of its own.
  rd_kafka_t* host_ = nullptr;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
};

// Produces generated journeys into the signal topics at `options.rate` per
// second until `producing` turns false. Simulated time runs far ahead of the
// wall clock, so each record is stamped with its simulated time (as a sender
// does with its own clock), or the engine would refuse it as EVENT_TIME_AHEAD.
void ProduceJourneys(const config::Config& config, const DemoOptions& options, const std::string& bootstrap,
                     const std::atomic<bool>& producing) {
  // A real cluster's kafka.security, as the engine's clients have it (a
  // password that cannot be read stops the engine, which says why).
  auto security = kafka::SecurityProperties(config.runtime.kafka.security);
  if (!security.ok()) return;
  char err[512];
  rd_kafka_conf_t* pconf = rd_kafka_conf_new();
  rd_kafka_conf_set(pconf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  for (const auto& [key, value] : *security) rd_kafka_conf_set(pconf, key.c_str(), value.c_str(), err, sizeof(err));
  rd_kafka_conf_set(pconf, "partitioner", "murmur2_random", err, sizeof(err));
  rd_kafka_conf_set(pconf, "linger.ms", "20", err, sizeof(err));
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err));
  if (producer == nullptr) {
    rd_kafka_conf_destroy(pconf);
    return;
  }
  generate::GeneratorOptions g;
  g.accounts = options.accounts;
  g.signals = 2'000'000;
  g.seed = options.seed;
  g.malformed_share = 0.005;
  g.start_ms = generate::kDefaultStartMs;
  g.days = 365;
  std::atomic<bool> cancel{false};
  g.cancel = &cancel;
  auto started = Clock::now();
  int64_t sent = 0;
  auto send = [&](const generate::GeneratedRecord& r) {
    if (!producing.load()) {
      cancel = true;
      return;
    }
    std::string topic = TopicForType(config.runtime.kafka.topics, r.value);
    while (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                             RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                             RD_KAFKA_V_TIMESTAMP(r.occurred_ms), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL &&
           producing.load()) {
      rd_kafka_poll(producer, 10);
    }
    ++sent;
    rd_kafka_poll(producer, 0);
    auto due = started + std::chrono::microseconds(sent * 1'000'000 / std::max(1, options.rate));
    while (producing.load() && Clock::now() < due) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  (void)generate::Generate(g, send, nullptr);
  rd_kafka_flush(producer, 5000);
  rd_kafka_destroy(producer);
}

}  // namespace

absl::Status RunDemo(const config::Config& given, const DemoOptions& options,
                     const std::atomic<bool>& stop, std::ostream& out) {
  config::Config config = given;
  EmbeddedKafka embedded;
  std::string bootstrap = options.bootstrap_servers;
  if (bootstrap.empty()) {
    // The embedded cluster speaks plaintext only: kafka.security is for a
    // real one.
    if (config.runtime.kafka.security.protocol != "plaintext") {
      out << "kafka.security (" << config.runtime.kafka.security.protocol << ") is not used with the embedded Kafka\n";
    }
    config.runtime.kafka.security = config::KafkaSecurity();
    auto started = embedded.Start(config, options.partitions);
    if (!started.ok()) return started.status();
    bootstrap = *started;
    out << "embedded Kafka (librdkafka mock cluster, 3 brokers) at " << bootstrap << '\n';
  } else {
    out << "Kafka at " << bootstrap << '\n';
  }

  std::string state_dir = (std::filesystem::temp_directory_path() /
                           StrCat("demandcenter-demo-", ::getpid())).string();
  std::set<std::string> known_types;
  for (const auto& [pattern, w] : config.decision.scoring.weights) known_types.insert(pattern);
  metrics::Metrics metrics(known_types);
  LiveView view(out);
  kafka::RunOptions run_options;
  run_options.bootstrap_servers = bootstrap;
  run_options.state_dir = state_dir;
  run_options.instance_id = "demo";
  run_options.on_committed = [&view](const std::vector<outputs::Output>& outputs) { view.OnCommitted(outputs); };
  auto runner = std::make_unique<kafka::Runner>(config, run_options, &metrics);

  // The console: at --http-bind, else at 127.0.0.1:8080, else (taken) at
  // any free port.
  std::unique_ptr<api::EngineApi> engine_api;
  if (runner->loop() != nullptr) engine_api = std::make_unique<api::EngineApi>(runner->loop(), "demo", nullptr, nullptr);
  std::unique_ptr<http::HttpServer> server;
  for (const std::string& bind : options.http_bind.empty() ? std::vector<std::string>{"127.0.0.1:8080", "127.0.0.1:0"}
                                                           : std::vector<std::string>{options.http_bind}) {
    server = std::make_unique<http::HttpServer>(bind, metrics.registry(), [&runner] { return runner->ready(); },
                                                http::HttpOptions{.api = engine_api.get()});
    absl::Status s = server->Start();
    if (s.ok()) break;
    if (!options.http_bind.empty()) return s;
    server.reset();
  }
  if (server) {
    out << "console at http://127.0.0.1:" << server->port() << "/ (the funnel, prompts and each account's journey; "
        << "metrics at /metrics)\n";
  }

  std::atomic<bool> done{false};
  absl::Status engine_status;
  std::thread engine_thread([&] { engine_status = runner->Run(done); });
  std::atomic<bool> producing{true};
  std::thread producer_thread([&] { ProduceJourneys(config, options, bootstrap, producing); });

  auto started = Clock::now();
  auto next_status = started + std::chrono::seconds(2);
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto now = Clock::now();
    if (now >= next_status) {
      std::optional<v1::Summary> summary = AskSummary(*runner);
      view.Status(runner->stats(), std::chrono::duration<double>(now - started).count(),
                  summary ? &*summary : nullptr);
      next_status += std::chrono::seconds(2);
    }
    if (options.duration_ms > 0 && now - started >= std::chrono::milliseconds(options.duration_ms)) break;
    if (!engine_status.ok()) break;
  }
  producing = false;
  producer_thread.join();
  done = true;
  engine_thread.join();
  view.Status(runner->stats(), std::chrono::duration<double>(Clock::now() - started).count(), nullptr);
  if (server) server->Stop();
  std::string summary = StrCat("demo stopped: ", runner->stats().signals.load(), " signals, ",
                               runner->stats().outputs.load(), " outputs in ", runner->stats().transactions.load(),
                               " transactions\n");
  runner.reset();  // the engine's clients go before the cluster they talk to
  std::error_code ec;
  std::filesystem::remove_all(state_dir, ec);
  out << summary;
  return engine_status;
}

}  // namespace demandcenter::demo
