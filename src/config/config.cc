// ParseConfig and LoadConfig: load the YAML, check the root keys, run the
// section parsers and then the cross-reference pass, and return the config
// or every error in file order.
#include "demandcenter/config/config.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "src/config/cross_reference.h"
#include "src/config/section_parsers.h"
#include "src/config/yaml_reader.h"
#include "yaml-cpp/yaml.h"

namespace demandcenter::config {
namespace {

using internal::YamlReader;

// "sha-" and the first 12 hex digits of the text's hash: a rules_version
// that changes whenever the file does.
std::string ContentVersion(std::string_view yaml_text) {
  std::string hex = absl::StrCat(absl::Hex(StableHash64(yaml_text), absl::kZeroPad16));
  return StrCat("sha-", std::string_view(hex).substr(0, 12));
}

// The top-level keys: application_id and rules_version, then each section
// in the order its dependencies need (experiments after rules).
void ParseSections(YamlReader& reader, const YAML::Node& root, std::string_view yaml_text,
                   Config* whole, std::set<size_t>* explicit_escalation) {
  DecisionConfig& config = whole->decision;
  reader.ExpectMap(root, "the config",
                   {"application_id", "rules_version", "journey", "scoring", "committee", "rules",
                    "pools", "arbitration", "contact_policy", "routing", "sla", "feedback",
                    "experiments", "identity", "event_time", "kafka", "state", "http"});
  if (auto n = root["application_id"]) {
    if (auto s = reader.String(n, "application_id")) whole->runtime.application_id = *s;
  }
  if (auto n = root["rules_version"]) {
    if (auto s = reader.String(n, "rules_version")) config.rules_version = *s;
  }
  if (config.rules_version.empty()) config.rules_version = ContentVersion(yaml_text);
  if (auto j = root["journey"]) {
    internal::ParseJourney(reader, j, &config);
  } else {
    reader.Error(root, "the config needs a journey section (stages and transitions)");
  }
  if (auto n = root["scoring"]) internal::ParseScoring(reader, n, &config);
  if (auto n = root["committee"]) internal::ParseCommittee(reader, n, &config);
  if (auto n = root["pools"]) internal::ParsePools(reader, n, &config);
  if (auto n = root["rules"]) internal::ParseRules(reader, n, &config, explicit_escalation);
  internal::ParseRuntime(reader, root, whole);
  if (auto n = root["arbitration"]) internal::ParseArbitration(reader, n, &config);
  if (auto n = root["contact_policy"]) internal::ParseContactPolicy(reader, n, &config);
  if (auto n = root["routing"]) internal::ParseRouting(reader, n, &config);
  if (auto n = root["sla"]) internal::ParseSla(reader, n, &config);
  if (auto n = root["feedback"]) internal::ParseFeedback(reader, n, &config);
  if (auto n = root["experiments"]) internal::ParseExperiments(reader, n, &config);
  if (auto n = root["identity"]) internal::ParseIdentity(reader, n, &config);
  // Unset, the lateness bound follows a shorter dedup window.
  config.event_time.max_late_ms = std::min(config.event_time.max_late_ms, config.dedup_window_ms);
  if (auto n = root["event_time"]) internal::ParseEventTime(reader, n, &config);
}

}  // namespace

std::string ConfigError::ToString() const {
  return StrCat(file, ":", location.line, ":", location.column, ": ", message);
}

ParseResult ParseConfig(std::string_view yaml_text, std::string_view file) {
  ParseResult result;
  YamlReader reader(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    reader.Error(SourceLocation{e.mark.line + 1, e.mark.column + 1},
                 StrCat("YAML syntax: ", e.msg));
    result.errors = std::move(reader.errors());
    return result;
  }
  if (!root.IsMap()) {
    reader.Error(root, "the config must be a mapping with journey, scoring, committee and rules "
                       "sections");
    result.errors = std::move(reader.errors());
    return result;
  }
  Config whole;
  whole.file = std::string(file);
  std::set<size_t> explicit_escalation;
  ParseSections(reader, root, yaml_text, &whole, &explicit_escalation);
  internal::CrossReference(reader, root, explicit_escalation, &whole.decision);

  std::vector<ConfigError>& errors = reader.errors();
  std::stable_sort(errors.begin(), errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::pair(a.location.line, a.location.column) <
           std::pair(b.location.line, b.location.column);
  });
  result.errors = std::move(errors);
  if (result.errors.empty()) result.config = std::move(whole);
  return result;
}

ParseResult LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ParseResult result;
    result.errors.push_back({path, {0, 0}, "cannot read the config file (does it exist?)"});
    return result;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseConfig(buffer.str(), path);
}

}  // namespace demandcenter::config
