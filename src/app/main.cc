// demandcenter: one binary, one subcommand per job. This is the only place
// that names every concrete type and wires them together.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <csignal>
#include <unistd.h>

#include "CLI/CLI.hpp"
#include "jemalloc/jemalloc.h"
#include "demandcenter/api/engine_api.h"
#include "demandcenter/common/log.h"
#include "demandcenter/common/proto_json.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/config/config.h"
#include "demandcenter/demo/demo.h"
#include "demandcenter/generate/generator.h"
#include "demandcenter/http/http_server.h"
#include "demandcenter/kafka/runner.h"
#include "demandcenter/metrics/metrics.h"
#include "demandcenter/replay/replay.h"
#include "demandcenter/simulate/simulate.h"
#include "google/protobuf/stubs/logging.h"
#include "src/app/inspect.h"

namespace demandcenter {

// The default config, compiled in so `demo` runs from any directory.
const char* EmbeddedDefaultConfig();

namespace {

constexpr int kExitOk = 0;
constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;
// replay: the input had no line the engine could use.
constexpr int kExitNothingUsed = 3;
constexpr char kDefaultConfigPath[] = "deploy/config/demandcenter.yaml";

// Loads and validates the config; prints every problem as file:line:column.
std::optional<config::Config> LoadOrReport(const std::string& path) {
  config::ParseResult result = config::LoadConfig(path);
  for (const auto& e : result.errors) std::cerr << e.ToString() << '\n';
  if (!result.errors.empty()) {
    std::cerr << path << ": " << result.errors.size() << " problem(s); nothing was started\n";
  }
  return std::move(result.config);
}

int RunValidate(const std::string& path) {
  auto config = LoadOrReport(path);
  if (!config) return kExitInvalid;
  std::cout << path << ": ok: " << config->decision.journey.stages.size() << " stages, "
            << config->decision.journey.transitions.size() << " transitions, " << config->decision.rules.size()
            << " rules, " << config->decision.pools.size() << " pools; rules_version "
            << config->decision.rules_version << '\n';
  return kExitOk;
}

// "2026-01-05" or "2026-01-05T09:00:00Z" -> Unix milliseconds.
std::optional<int64_t> ParseDate(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') {
    tm = {};
    end = strptime(text.c_str(), "%Y-%m-%d", &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
  }
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

// --partitions and --partitioner (murmur2 or crc32, checked by the CLI).
pipeline::PartitionModel PartitionModelOf(int32_t partitions, const std::string& partitioner) {
  return {partitions, partitioner == "crc32" ? Partitioner::kCrc32 : Partitioner::kMurmur2};
}

struct ReplayArgs {
  std::string config;
  std::string input;
  std::string output;
  int32_t partitions = 1;
  std::string partitioner = "murmur2";
};

// Whether `a` and `b` name the same existing file.
bool SameFile(const std::string& a, const std::string& b) {
  std::error_code error;
  return std::filesystem::equivalent(a, b, error) && !error;
}

int RunReplay(const ReplayArgs& args) {
  auto config = LoadOrReport(args.config);
  if (!config) return kExitInvalid;
  if (!args.output.empty() && args.output != "-") {
    const char* clash = SameFile(args.output, args.input) ? "input" : SameFile(args.output, args.config) ? "config" : nullptr;
    if (clash != nullptr) {
      std::cerr << "replay: --output " << args.output << " is the " << clash
                << " file; writing would empty it first. Name another output file.\n";
      return kExitUsage;
    }
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (args.input != "-") {
    file.open(args.input, std::ios::binary);
    if (!file) {
      std::cerr << "replay: cannot read input file " << args.input << '\n';
      return kExitUsage;
    }
    in = &file;
  }
  std::ofstream out_file;
  std::ostream* out = &std::cout;
  if (!args.output.empty() && args.output != "-") {
    out_file.open(args.output, std::ios::binary | std::ios::trunc);
    if (!out_file) {
      std::cerr << "replay: cannot write output file " << args.output << '\n';
      return kExitUsage;
    }
    out = &out_file;
  }
  replay::ReplayOptions options;
  options.partitions = PartitionModelOf(args.partitions, args.partitioner);
  replay::ReplaySummary summary = replay::Replay(*config, *in, *out, std::cerr, options);
  out->flush();
  if (!*out) {
    std::cerr << "replay: writing the output failed\n";
    return kExitInvalid;
  }
  std::cerr << replay::FormatSummary(summary, *config);
  if (summary.used == 0) {
    std::cerr << "replay: no line of the input could be used (" << summary.rejected << " rejected of " << summary.lines
              << " lines)\n";
    return kExitNothingUsed;
  }
  return kExitOk;
}

struct SimulateArgs {
  std::string config;
  std::string baseline;
  std::string input;
  bool json = false;
  int32_t partitions = 1;
  std::string partitioner = "murmur2";
};

int RunSimulate(const SimulateArgs& args) {
  auto baseline = LoadOrReport(args.baseline);
  auto candidate = LoadOrReport(args.config);
  if (!baseline || !candidate) return kExitInvalid;
  if (args.input == "-") {
    std::cerr << "simulate: --input is read once per config; name a file, not stdin\n";
    return kExitUsage;
  }
  simulate::SimulateOptions options;
  options.partitions = PartitionModelOf(args.partitions, args.partitioner);
  options.baseline_name = args.baseline;
  options.candidate_name = args.config;
  auto report = simulate::Simulate(*baseline, *candidate, args.input, options);
  if (!report.ok()) {
    std::cerr << "simulate: " << report.status().message() << '\n';
    return kExitUsage;
  }
  std::cout << (args.json ? ToJson(*report) + "\n" : simulate::FormatTable(*report));
  if (report->applied().baseline() == 0 && report->applied().candidate() == 0) {
    std::cerr << "simulate: no signal of the input was applied (" << report->lines() << " lines)\n";
    return kExitNothingUsed;
  }
  return kExitOk;
}

struct GenerateArgs {
  generate::GeneratorOptions options;
  std::string start;
  std::string format = "json";
  std::string output;
};

int RunGenerate(GenerateArgs& args) {
  if (!args.start.empty()) {
    auto start = ParseDate(args.start);
    if (!start) {
      std::cerr << "generate: --start must be a date like 2026-01-05 or 2026-01-05T09:00:00Z, got \""
                << args.start << "\"\n";
      return kExitUsage;
    }
    args.options.start_ms = *start;
  }
  args.options.format =
      args.format == "binary" ? generate::OutputFormat::kBinary : generate::OutputFormat::kJson;
  std::ofstream out_file;
  std::ostream* out = &std::cout;
  if (!args.output.empty() && args.output != "-") {
    out_file.open(args.output, std::ios::binary | std::ios::trunc);
    if (!out_file) {
      std::cerr << "generate: cannot write " << args.output << '\n';
      return kExitUsage;
    }
    out = &out_file;
  }
  generate::GenerateStats stats;
  absl::Status status = generate::WriteStream(args.options, *out, &stats);
  if (!status.ok()) {
    std::cerr << "generate: " << status.message() << '\n';
    return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitInvalid;
  }
  std::cerr << "generate: " << stats.records << " records (" << stats.malformed << " malformed, "
            << stats.duplicates << " duplicates) for " << stats.accounts << " accounts\n";
  return kExitOk;
}

std::atomic<bool> g_stop{false};

// The first SIGINT/SIGTERM asks for a clean stop (the open transaction is
// finished or aborted within seconds); a second one exits at once.
void OnSignal(int signal) {
  if (g_stop.exchange(true)) {
    constexpr char kNow[] = "demandcenter: second signal: exiting now\n";
    (void)!write(2, kNow, sizeof(kNow) - 1);
    _exit(128 + signal);
  }
}

// SIGHUP asks `run` to reload its config.
std::atomic<bool> g_reload{false};
void OnHangUp(int) { g_reload.store(true); }

void InstallSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  struct sigaction hangup {};
  hangup.sa_handler = OnHangUp;
  sigemptyset(&hangup.sa_mask);
  sigaction(SIGHUP, &hangup, nullptr);
}

std::set<std::string> KnownTypes(const config::Config& config) {
  std::set<std::string> types;
  for (const auto& [pattern, weight] : config.decision.scoring.weights) {
    if (pattern.find('*') == std::string::npos) types.insert(pattern);
  }
  for (const auto& rule : config.decision.rules) {
    for (const auto& t : rule.when.types) {
      if (t.find('*') == std::string::npos) types.insert(t);
    }
  }
  return types;
}

struct RunArgs {
  std::string config;
  kafka::RunOptions options;
  std::string http_bind;
};

int RunEngine(RunArgs& args) {
  auto config = LoadOrReport(args.config);
  if (!config) return kExitInvalid;
  const config::HttpConfig& http_config = config->runtime.http;
  auto token = api::ReadHttpToken(http_config);
  if (!token.ok()) {
    std::cerr << "run: " << token.status().message() << '\n';
    return kExitInvalid;
  }
  std::string bind = args.http_bind.empty() ? http_config.bind : args.http_bind;
  if (!http::IsLoopbackBind(bind) && token->empty()) {
    LogLine(StrCat("HTTP on ", bind, " serves the console and /v1 to anyone who reaches it: set http.token_env "
                   "or http.token_file to require a bearer token"));
  }
  InstallSignalHandlers();
  metrics::Metrics metrics(KnownTypes(*config));
  args.options.stop = &g_stop;
  // The server first: the engine advertises the port it bound.
  std::atomic<kafka::Runner*> live{nullptr};
  http::HttpServer server(bind, metrics.registry(), [&live] {
    kafka::Runner* r = live.load();
    return r != nullptr && r->ready();
  }, {.bearer_token = *token, .reload = http_config.reload});
  std::unique_ptr<kafka::Runner> runner;
  absl::Status s = server.Start();
  if (!s.ok()) {
    std::cerr << "run: " << s.message() << '\n';
    return kExitInvalid;
  }
  args.options.advertised_address = http_config.advertised_address.empty()
                                        ? StrCat("http://", bind.substr(0, bind.rfind(':') + 1), server.port())
                                        : http_config.advertised_address;
  runner = std::make_unique<kafka::Runner>(*config, args.options, &metrics);
  live.store(runner.get());
  auto reload = [&]() -> absl::StatusOr<std::string> { return api::ReloadConfig(args.config, runner->loop(), &metrics); };
  std::optional<api::EngineApi> engine_api;
  if (runner->loop() != nullptr) {
    engine_api.emplace(runner->loop(), args.options.instance_id, runner->owners(), reload);
    server.SetApi(&*engine_api);
  }
  // SIGHUP: the config again, between two transactions.
  std::thread reloader([&] {
    while (!g_stop.load()) {
      if (g_reload.exchange(false) && runner->loop() != nullptr) (void)reload();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  s = runner->Run(g_stop);
  g_stop.store(true);
  reloader.join();
  server.Stop();
  if (!s.ok()) {
    std::cerr << "run: " << s.message() << '\n';
    return kExitInvalid;
  }
  return kExitOk;
}

struct InspectArgs {
  std::string config;
  std::string state_dir;
  std::string account;
};

int RunInspect(const InspectArgs& args) {
  std::optional<config::Config> config;
  if (args.config.empty()) {
    config::ParseResult embedded = config::ParseConfig(EmbeddedDefaultConfig(), "embedded default config");
    config = std::move(embedded.config);
  } else {
    config = LoadOrReport(args.config);
  }
  if (!config) return kExitInvalid;
  absl::StatusOr<std::string> json = InspectAccount(args.state_dir, args.account, *config);
  if (!json.ok()) {
    std::cerr << "inspect: " << json.status().message() << '\n';
    return kExitInvalid;
  }
  std::cout << *json << '\n';
  return kExitOk;
}

struct DemoArgs {
  std::string config;
  std::string duration;
  demo::DemoOptions options;
};

int RunDemoCommand(DemoArgs& args) {
  // --config, else the default config of the working directory; only when
  // there is none, the one built in. A broken file is refused, never replaced.
  std::optional<config::Config> config;
  if (!args.config.empty() || std::filesystem::exists(kDefaultConfigPath)) {
    config = LoadOrReport(args.config.empty() ? kDefaultConfigPath : args.config);
  } else {
    config::ParseResult embedded = config::ParseConfig(EmbeddedDefaultConfig(), "embedded default config");
    for (const auto& e : embedded.errors) std::cerr << e.ToString() << '\n';
    config = std::move(embedded.config);
    if (config) std::cout << "No " << kDefaultConfigPath << " here: using the built-in default config.\n";
  }
  if (!config) return kExitInvalid;
  if (!args.duration.empty()) {
    auto d = ParseDurationMillis(args.duration);
    if (!d.ok()) {
      std::cerr << "demo: --duration: " << d.status().message() << '\n';
      return kExitUsage;
    }
    args.options.duration_ms = *d;
  }
  InstallSignalHandlers();
  std::cout << "Demand Center demo: generated account journeys -> Kafka -> decisions. Ctrl-C stops.\n";
  absl::Status s = demo::RunDemo(*config, args.options, g_stop, std::cout);
  if (!s.ok()) {
    std::cerr << "demo: " << s.message() << '\n';
    return kExitInvalid;
  }
  return kExitOk;
}

// "demandcenter 0.1.0 (jemalloc 5.3.0-0-g…, 1 MiB allocated)": the
// allocator in use, and that it serves this process's allocations.
std::string VersionText() {
  const char* version = "unknown";
  size_t size = sizeof(version);
  mallctl("version", &version, &size, nullptr, 0);
  uint64_t epoch = 1;
  size_t epoch_size = sizeof(epoch);
  mallctl("epoch", &epoch, &epoch_size, &epoch, epoch_size);
  size_t allocated = 0;
  size_t allocated_size = sizeof(allocated);
  mallctl("stats.allocated", &allocated, &allocated_size, nullptr, 0);
  return StrCat("demandcenter 0.1.0 (jemalloc ", version, ", ", (allocated + (1 << 20) - 1) >> 20, " MiB allocated)");
}

}  // namespace
}  // namespace demandcenter

int main(int argc, char** argv) {
  using namespace demandcenter;
  CLI::App app{"Demand Center: real-time customer signals to next-best actions, routing and CRM prompts"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionText);

  std::string validate_config;
  CLI::App* validate = app.add_subcommand("validate", "Check a config file; print every problem as file:line:column");
  validate->add_option("--config", validate_config, "The YAML config")->required();

  ReplayArgs replay_args;
  CLI::App* replay = app.add_subcommand("replay", "Run signals (protobuf-JSON lines) through the rules offline; outputs as JSON lines");
  replay->add_option("--config", replay_args.config, "The YAML config")->required();
  replay->add_option("--input", replay_args.input, "Signals, one protobuf-JSON object per line ('-' for stdin)")->required();
  replay->add_option("--output", replay_args.output, "Where to write outputs (default: stdout)");
  replay->add_option("--partitions", replay_args.partitions, "Partitions of the signal topic to model (stream time is per partition)")
      ->check(CLI::Range(1, 10000));
  replay->add_option("--partitioner", replay_args.partitioner, "murmur2 (Java default, librdkafka murmur2_random) or crc32 (librdkafka consistent_random)")
      ->check(CLI::IsMember({"murmur2", "crc32"}));

  SimulateArgs sim_args;
  CLI::App* sim = app.add_subcommand("simulate", "What-if: replay signals under a candidate config and the baseline; report the differences");
  sim->add_option("--config", sim_args.config, "The candidate config")->required();
  sim->add_option("--baseline", sim_args.baseline, "The config in force")->required();
  sim->add_option("--input", sim_args.input, "Signals, one protobuf-JSON object per line (a file)")->required();
  sim->add_flag("--json", sim_args.json, "Print the report as JSON (v1.SimulationReport) instead of a table");
  sim->add_option("--partitions", sim_args.partitions, "Partitions of the signal topic to model, as replay")
      ->check(CLI::Range(1, 10000));
  sim->add_option("--partitioner", sim_args.partitioner, "murmur2 or crc32, as replay")
      ->check(CLI::IsMember({"murmur2", "crc32"}));

  GenerateArgs gen_args;
  CLI::App* gen = app.add_subcommand("generate", "Write a realistic, deterministic signal stream");
  gen->add_option("--accounts", gen_args.options.accounts, "Number of accounts")->check(CLI::Range(1, 100000000));
  gen->add_option("--signals", gen_args.options.signals, "Number of records")->check(CLI::Range(int64_t{1}, int64_t{1000000000}));
  gen->add_option("--seed", gen_args.options.seed, "Random seed");
  gen->add_option("--malformed", gen_args.options.malformed_share, "Share of malformed records, 0..1")->check(CLI::Range(0.0, 1.0));
  gen->add_option("--start", gen_args.start, "Event time of the first signal (2026-01-05)");
  gen->add_option("--days", gen_args.options.days, "Event-time span in days")->check(CLI::Range(1, 36500));
  gen->add_option("--format", gen_args.format, "json (lines) or binary (length-prefixed)")->check(CLI::IsMember({"json", "binary"}));
  gen->add_option("--output", gen_args.output, "Output file (default: stdout)");

  RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "The engine: signals from Kafka to decisions, exactly once");
  run->add_option("--config", run_args.config, "The YAML config")->required();
  run->add_option("--bootstrap-servers", run_args.options.bootstrap_servers, "Kafka brokers (overrides the config)");
  run->add_option("--state-dir", run_args.options.state_dir, "Local state directory (overrides the config)");
  run->add_option("--instance-id", run_args.options.instance_id, "This instance's id, unique in the application (default 0)");
  run->add_option("--http-bind", run_args.http_bind, "Address for the console, /v1, /metrics, /healthz, /readyz (overrides the config)");

  InspectArgs inspect_args;
  CLI::App* inspect = app.add_subcommand("inspect", "Print one account's journey (JSON) from a stopped instance's state");
  inspect->add_option("--state-dir", inspect_args.state_dir, "The instance's directory: <state.dir>/<application_id>/<instance id>")->required();
  inspect->add_option("--account", inspect_args.account, "The account id")->required();
  inspect->add_option("--config", inspect_args.config, "The config (stage order, score decay; default: the built-in one)");

  DemoArgs demo_args;
  CLI::App* demo_cmd = app.add_subcommand("demo", "Everything on one machine: embedded Kafka, generated journeys, the engine, a live view");
  demo_cmd->add_option("--duration", demo_args.duration, "Stop after this long, e.g. 30s (default: until Ctrl-C)");
  demo_cmd->add_option("--bootstrap-servers", demo_args.options.bootstrap_servers, "Use this Kafka cluster instead of the embedded one");
  demo_cmd->add_option("--config", demo_args.config, "Config (default: deploy/config/demandcenter.yaml)");
  demo_cmd->add_option("--rate", demo_args.options.rate, "Signals per second")->check(CLI::Range(1, 1000000));
  demo_cmd->add_option("--accounts", demo_args.options.accounts, "Accounts in the generated journeys")->check(CLI::Range(1, 10000000));
  demo_cmd->add_option("--http-bind", demo_args.options.http_bind, "Serve /metrics etc. here, e.g. 127.0.0.1:8080");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (*validate) return RunValidate(validate_config);
  if (*replay) return RunReplay(replay_args);
  if (*sim) return RunSimulate(sim_args);
  if (*gen) return RunGenerate(gen_args);
  if (*run) return RunEngine(run_args);
  if (*demo_cmd) return RunDemoCommand(demo_args);
  if (*inspect) return RunInspect(inspect_args);
  return kExitUsage;
}
