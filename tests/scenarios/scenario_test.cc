// Runs every scenario file in tests/scenarios/*.yaml. A scenario is a list
// of steps — signals piped into the decision core, stream-time advances and
// expectations on outputs and state — readable by rule authors. Format:
// tests/scenarios/README.md.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/config/config.h"
#include "demandcenter/common/proto_json.h"
#include "demandcenter/pipeline/output_encoder.h"
#include "support/test_driver.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace demandcenter {
namespace {

constexpr char kScenarioDir[] = "tests/scenarios";
constexpr char kDefaultConfig[] = "deploy/config/demandcenter.yaml";

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kScenarioDir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool LooksNumeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

void AppendJsonString(std::string* out, const std::string& s) {
  *out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') *out += '\\';
    *out += c;
  }
  *out += '"';
}

// YAML written in a scenario -> the JSON a producer would send.
std::string ToJson(const YAML::Node& node) {
  std::string out;
  if (node.IsMap()) {
    out += '{';
    bool first = true;
    for (const auto& kv : node) {
      if (!first) out += ',';
      first = false;
      AppendJsonString(&out, kv.first.Scalar());
      out += ':';
      out += ToJson(kv.second);
    }
    out += '}';
  } else if (node.IsSequence()) {
    out += '[';
    for (size_t i = 0; i < node.size(); ++i) {
      if (i > 0) out += ',';
      out += ToJson(node[i]);
    }
    out += ']';
  } else if (node.IsNull()) {
    out += "null";
  } else {
    const std::string& s = node.Scalar();
    bool quoted = node.Tag() == "!";
    if (!quoted && (s == "true" || s == "false" || LooksNumeric(s))) {
      out += s;
    } else {
      AppendJsonString(&out, s);
    }
  }
  return out;
}

// Finds a dotted path ("trace.facts.score") in a JSON output parsed as YAML.
YAML::Node Lookup(const YAML::Node& root, const std::string& path) {
  YAML::Node node = YAML::Clone(root);
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    // Map keys may themselves contain dots (facts "count.web.pricing_view"):
    // try the longest key first.
    if (node.IsMap()) {
      YAML::Node next;
      std::string rest = path.substr(start);
      size_t len = rest.size();
      while (true) {
        std::string key = rest.substr(0, len);
        if (node[key]) {
          next = node[key];
          start += len + 1;
          break;
        }
        size_t prev = rest.rfind('.', len - 1);
        if (prev == std::string::npos || len == 0) return YAML::Node();
        len = prev;
      }
      node = next;
      if (start > path.size()) return node;
      continue;
    }
    if (node.IsSequence() && LooksNumeric(part)) {
      size_t index = std::stoul(part);
      if (index >= node.size()) return YAML::Node();
      node = node[index];
      start = dot == std::string::npos ? path.size() + 1 : dot + 1;
      continue;
    }
    return YAML::Node();
  }
  return node;
}

// The engine's counters by name: scalars ("sla_breached") and map entries
// ("suppressed_by_policy.cap.marketing_email").
std::map<std::string, std::string> FlattenCounters(const outputs::DecisionCounters& c) {
  std::map<std::string, std::string> out;
  for (auto [name, value] : {std::pair<const char*, int64_t>{"applied", c.applied},
                             {"duplicates", c.duplicates},
                             {"timers_fired", c.timers_fired},
                             {"scheduled", c.scheduled},
                             {"zone_fallbacks", c.zone_fallbacks},
                             {"sla_started", c.sla_started},
                             {"sla_met", c.sla_met},
                             {"sla_breached", c.sla_breached},
                             {"tasks_expired", c.tasks_expired},
                             {"tasks_cancelled", c.tasks_cancelled},
                             {"snoozes_returned", c.snoozes_returned},
                             {"unmatched_outcomes", c.unmatched_outcomes}}) {
    out[name] = std::to_string(value);
  }
  for (auto [name, map] : {std::pair<const char*, const std::map<std::string, int64_t>*>{"candidates", &c.candidates},
                           {"emitted_by_rule", &c.emitted_by_rule},
                           {"timers_by_kind", &c.timers_by_kind},
                           {"suppressed_by_policy", &c.suppressed_by_policy},
                           {"auto_branches", &c.auto_branches},
                           {"assignments", &c.assignments},
                           {"outcomes", &c.outcomes},
                           {"experiment_emitted", &c.experiment_emitted},
                           {"experiment_held_out", &c.experiment_held_out},
                           {"experiment_outcomes", &c.experiment_outcomes},
                           {"experiment_stages", &c.experiment_stages},
                           {"experiment_exposed", &c.experiment_exposed},
                           {"experiment_reached", &c.experiment_reached}}) {
    for (const auto& [key, value] : *map) out[StrCat(name, ".", key)] = std::to_string(value);
  }
  return out;
}

std::string Describe(const YAML::Node& node) {
  YAML::Emitter e;
  e << YAML::Flow << node;
  return e.c_str();
}

class Scenario {
 public:
  // `global_identity`: the same story with identity.scope global (one
  // identity task; with the test driver its hops are taken at once).
  explicit Scenario(const std::string& file, bool global_identity = false)
      : file_(file), global_identity_(global_identity) {}

  void Run() {
    YAML::Node doc = YAML::LoadFile(StrCat(kScenarioDir, "/", file_));
    std::string config_text;
    if (doc["config_yaml"]) {
      config_text = doc["config_yaml"].Scalar();
      parsed_ = config::ParseConfig(config_text, file_ + " (config_yaml)");
    } else {
      parsed_ = config::LoadConfig(doc["config"] ? doc["config"].Scalar() : kDefaultConfig);
    }
    ASSERT_TRUE(parsed_.errors.empty()) << parsed_.errors[0].ToString();
    if (global_identity_) parsed_.config->decision.identity.global = true;
    // Stories that each start again from `start` on one partition go back
    // in its stream time further than event_time.max_late allows.
    if (doc["max_late"]) {
      auto ms = ParseDurationMillis(doc["max_late"].Scalar());
      ASSERT_TRUE(ms.ok()) << ms.status();
      parsed_.config->decision.event_time.max_late_ms = *ms;
    }
    pipeline::PartitionModel model;
    if (doc["partitions"]) model.partitions = doc["partitions"].as<int>();
    check_conflicts_ = doc["identity_conflicts"] && doc["identity_conflicts"].Scalar() == "expected";
    driver_ = std::make_unique<testing::TestDriver>(*parsed_.config, model);
    if (doc["start"]) start_ms_ = ParseTime(doc["start"].Scalar());
    ASSERT_TRUE(doc["steps"] && doc["steps"].IsSequence()) << "scenario needs a list of steps";
    int index = 0;
    for (const auto& step : doc["steps"]) {
      ++index;
      SCOPED_TRACE(StrCat(file_, ": step ", index, " (line ", step.Mark().line + 1, ")"));
      RunStep(step, index);
      if (::testing::Test::HasFatalFailure()) return;
    }
    Drain();
    EXPECT_TRUE(late_rejects_.empty()) << "dead letters no expect_dead_letters step checked, the first: "
                                       << (late_rejects_.empty() ? "" : late_rejects_.front().waiting.signal().event_id());
    EXPECT_TRUE(unchecked_.empty()) << "outputs no expect step checked, the first: "
                                    << (unchecked_.empty() ? "" : unchecked_.front().second);
  }

 private:
  // RFC 3339 or "+<duration>" from the scenario's start.
  int64_t ParseTime(const std::string& text) {
    if (!text.empty() && text[0] == '+') {
      auto d = ParseDurationMillis(text.substr(1));
      EXPECT_TRUE(d.ok()) << text;
      return start_ms_ + (d.ok() ? *d : 0);
    }
    google::protobuf::Timestamp ts;
    std::tm tm{};
    const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    EXPECT_TRUE(end != nullptr && *end == '\0') << "bad time " << text;
    return static_cast<int64_t>(timegm(&tm)) * 1000;
  }

  void Drain() {
    // DC_SCENARIO_PRINT=1 prints every output (for writing expectations).
    static const bool print = std::getenv("DC_SCENARIO_PRINT") != nullptr;
    for (const auto& o : driver_->ReadOutputs()) {
      std::string json = pipeline::OutputEncoder::AllJson(parsed_.config->runtime.kafka.topics).JsonLine(o);
      if (print) std::cout << "output: " << json << '\n';
      if (o.kind == outputs::OutputKind::kIdentityConflict && !check_conflicts_) continue;
      unchecked_.emplace_back(YAML::Load(json), json);
    }
  }

  void RunStep(const YAML::Node& step, int index) {
    if (step["signal"]) {
      YAML::Node signal = YAML::Clone(step["signal"]);
      if (signal["at"]) {
        signal["occurred_at"] = FormatTime(ParseTime(signal["at"].Scalar()));
        signal.remove("at");
      }
      if (!signal["event_id"]) signal["event_id"] = StrCat("evt-", index);
      ingest::Reject r = driver_->PipeBytes(ToJson(signal));
      if (step["rejected"]) {
        EXPECT_EQ(ingest::RejectCodeName(r.code), step["rejected"].Scalar()) << r.message;
      } else {
        EXPECT_TRUE(r.ok()) << ingest::RejectCodeName(r.code) << ": " << r.message;
      }
      bool waits = step["waits"] && step["waits"].as<bool>();
      EXPECT_EQ(driver_->last_outcome() == pipeline::Outcome::kWaiting, waits)
          << "step " << index << (waits ? " should wait for its account" : " waits for its account");
      for (auto& late : driver_->ReadLateRejects()) late_rejects_.push_back(std::move(late));
    } else if (step["raw"]) {
      ingest::Reject r = driver_->PipeBytes(step["raw"].Scalar());
      ASSERT_TRUE(step["rejected"]) << "a raw step needs `rejected: CODE`";
      EXPECT_EQ(ingest::RejectCodeName(r.code), step["rejected"].Scalar()) << r.message;
    } else if (step["advance"]) {
      driver_->AdvanceStreamTime(ParseTime(step["advance"].Scalar()));
    } else if (step["pool_update"]) {
      v1::PoolMemberUpdate update;
      auto parsed = google::protobuf::util::JsonStringToMessage(ToJson(step["pool_update"]), &update);
      ASSERT_TRUE(parsed.ok()) << parsed.message();
      absl::Status applied = driver_->ApplyPoolUpdate(update);
      if (step["error"]) {
        EXPECT_NE(std::string(applied.message()).find(step["error"].Scalar()), std::string::npos) << applied.message();
      } else {
        EXPECT_TRUE(applied.ok()) << applied.message();
      }
    } else if (step["expect_counters"]) {
      std::map<std::string, std::string> counters = FlattenCounters(driver_->engine().counters());
      for (const auto& kv : step["expect_counters"]) {
        std::string key = kv.first.Scalar();
        auto it = counters.find(key);
        std::string got = it == counters.end() ? "0" : it->second;
        EXPECT_EQ(kv.second.Scalar(), got) << "counter " << key;
      }
    } else if (step["expect"]) {
      Drain();
      const YAML::Node& expected = step["expect"];
      ASSERT_TRUE(expected.IsSequence()) << "expect takes a list of outputs (use [] for none)";
      std::string got;
      for (const auto& [node, json] : unchecked_) got += "\n  " + json;
      ASSERT_EQ(expected.size(), unchecked_.size()) << "outputs were:" << got;
      for (size_t i = 0; i < expected.size(); ++i) MatchOutput(expected[i], unchecked_[i], i);
      unchecked_.clear();
    } else if (step["expect_dead_letters"]) {
      // Waiting signals dead-lettered since the last check: event ids, in
      // order, each with a piece of its message.
      const YAML::Node& expected = step["expect_dead_letters"];
      std::string got;
      for (const auto& late : late_rejects_) got += StrCat("\n  ", late.waiting.signal().event_id(), ": ", late.reject.message);
      ASSERT_EQ(expected.size(), late_rejects_.size()) << "dead letters were:" << got;
      for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(late_rejects_[i].waiting.signal().event_id(), expected[i]["event_id"].Scalar()) << got;
        EXPECT_EQ(ingest::RejectCodeName(late_rejects_[i].reject.code), "UNRESOLVED_ACCOUNT");
        if (expected[i]["message~"]) {
          EXPECT_NE(late_rejects_[i].reject.message.find(expected[i]["message~"].Scalar()), std::string::npos) << got;
        }
      }
      late_rejects_.clear();
    } else if (step["expect_state"]) {
      const YAML::Node& e = step["expect_state"];
      const v1::AccountState* account = driver_->Account(e["account"].Scalar());
      ASSERT_NE(account, nullptr) << "no state for account " << e["account"].Scalar();
      YAML::Node state = YAML::Load(demandcenter::ToJson(*account));
      for (const auto& kv : e) {
        std::string key = kv.first.Scalar();
        if (key == "account") continue;
        CompareValue(state, key, kv.second, demandcenter::ToJson(*account));
      }
    } else {
      FAIL() << "unknown step " << Describe(step)
             << "; steps are signal, raw, advance, pool_update, expect, expect_dead_letters, expect_state, "
                "expect_counters";
    }
  }

  void CompareValue(const YAML::Node& root, std::string key, const YAML::Node& want,
                    const std::string& context) {
    bool contains = !key.empty() && key.back() == '~';
    bool absent = want.IsNull();
    if (contains) key.pop_back();
    YAML::Node got = Lookup(root, key);
    if (absent) {
      EXPECT_FALSE(got.IsDefined() && !got.IsNull()) << key << " should be absent in " << context;
      return;
    }
    ASSERT_TRUE(got.IsDefined()) << "no field " << key << " in " << context;
    if (want.IsSequence()) {
      EXPECT_EQ(Describe(want), Describe(got)) << key << " in " << context;
    } else if (contains) {
      EXPECT_NE(got.Scalar().find(want.Scalar()), std::string::npos)
          << key << " should contain \"" << want.Scalar() << "\" in " << context;
    } else {
      EXPECT_EQ(want.Scalar(), got.Scalar()) << key << " in " << context;
    }
  }

  void MatchOutput(const YAML::Node& want, const std::pair<YAML::Node, std::string>& got, size_t i) {
    SCOPED_TRACE(StrCat("output #", i + 1));
    for (const auto& kv : want) {
      std::string key = kv.first.Scalar();
      if (key == "topic" || key == "key") {
        EXPECT_EQ(kv.second.Scalar(), got.first[key].Scalar()) << got.second;
      } else {
        CompareValue(got.first["value"], key, kv.second, got.second);
      }
    }
  }

  std::string file_;
  bool global_identity_ = false;
  config::ParseResult parsed_;
  std::unique_ptr<testing::TestDriver> driver_;
  int64_t start_ms_ = 0;
  std::vector<std::pair<YAML::Node, std::string>> unchecked_;
  // identity.conflicts outputs are expected like the others only in the
  // scenarios that say `identity_conflicts: expected`.
  bool check_conflicts_ = false;
  std::vector<pipeline::LateReject> late_rejects_;
};

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, Passes) { Scenario(GetParam()).Run(); }

// Every story holds with identity.scope global as well.
TEST_P(ScenarioTest, PassesWithGlobalIdentity) { Scenario(GetParam(), /*global_identity=*/true).Run(); }

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioTest, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.size() - 5);
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(ScenarioSuiteTest, HasAtLeastSeventyScenarios) { EXPECT_GE(ScenarioFiles().size(), 70u); }

}  // namespace
}  // namespace demandcenter
