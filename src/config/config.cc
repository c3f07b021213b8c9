// ParseConfig and LoadConfig: load the YAML, check the root keys, run the
// section parsers and then the cross-reference pass, and return the config
// or every error in file order.
#include "demandcenter/config/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "demandcenter/common/hash.h"
#include "demandcenter/common/json_string.h"
#include "demandcenter/common/utf8.h"
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

// A config file is at most this big (the default one is 30 KB).
constexpr uintmax_t kMaxConfigBytes = 4 << 20;
// Flow collections ([...], {...}) nested deeper than this are refused
// before the YAML parser, which gives up on deep nesting with "bad file".
constexpr int kMaxFlowDepth = 64;

std::string HexByte(unsigned char c) { return absl::StrCat(absl::Hex(c, absl::kZeroPad2)); }

// Line and column (1-based, bytes) of `offset` in `text`.
SourceLocation LocationOf(std::string_view text, size_t offset) {
  SourceLocation at{1, 1};
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++at.line;
      at.column = 1;
    } else {
      ++at.column;
    }
  }
  return at;
}

// UTF-8 text with no control characters but tab, CR and LF, and flow
// nesting within kMaxFlowDepth (brackets in quotes and comments aside).
bool CheckText(YamlReader& reader, std::string_view text) {
  int depth = 0;
  char quote = 0;
  bool comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(text.data() + i, text.size() - i);
      if (n == 0) {
        reader.Error(LocationOf(text, i), StrCat("the config is not valid UTF-8 (byte 0x", HexByte(c),
                                                 " here); save it as UTF-8"));
        return false;
      }
      i += n - 1;
      continue;
    }
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      reader.Error(LocationOf(text, i), StrCat("the config holds a control character (0x", HexByte(c),
                                               "): is it a text file?"));
      return false;
    }
    if (c == '\n') comment = false;
    if (comment) continue;
    if (quote != 0) {
      if (quote == '"' && c == '\\') {
        // An escape: \" does not close the string (a non-ASCII byte after
        // it is left for the UTF-8 check).
        if (i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0x80) ++i;
      } else if (c == static_cast<unsigned char>(quote)) {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = static_cast<char>(c);
    } else if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
      comment = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) {
        reader.Error(LocationOf(text, i), StrCat("[ and { nested more than ", kMaxFlowDepth, " deep"));
        return false;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    if (c == '\n' && quote != 0 && depth == 0) quote = 0;  // a quote left open ends with its line
  }
  return true;
}

// A key given twice in one mapping: YAML keeps one of them silently, so a
// second `rules:` section or a repeated half_life would be lost.
void CheckDuplicateKeys(YamlReader& reader, const YAML::Node& node) {
  if (node.IsSequence()) {
    for (const auto& item : node) CheckDuplicateKeys(reader, item);
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, SourceLocation> seen;
  for (const auto& entry : node) {
    if (entry.first.IsScalar()) {
      SourceLocation at = YamlReader::Loc(entry.first);
      auto [it, fresh] = seen.emplace(entry.first.Scalar(), at);
      if (!fresh) {
        std::string key;
        AppendJsonStringForMessage(entry.first.Scalar(), 64, &key);
        reader.Error(at, StrCat("duplicate key ", key, " (first at line ", it->second.line, ", column ",
                                it->second.column, "): YAML would keep only one; merge them"));
      }
    }
    CheckDuplicateKeys(reader, entry.second);
  }
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
    // It names the consumer group, the transactional ids, the internal
    // topics and a directory under state.dir: what Kafka allows in a topic
    // name, and never a path.
    if (auto s = reader.String(n, "application_id")) {
      bool safe = !s->empty() && s->size() <= 100 && (*s)[0] != '.' &&
                  s->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
                      std::string::npos;
      if (safe) {
        whole->runtime.application_id = *s;
      } else {
        std::string quoted;
        AppendJsonStringForMessage(*s, 64, &quoted);
        reader.Error(n, StrCat("application_id ", quoted,
                               " must be 1 to 100 of a-z A-Z 0-9 . _ - (not starting with '.'): it names "
                               "Kafka topics and a state directory"));
      }
    }
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
  // A problem of the whole file has no line.
  if (location.line == 0) return StrCat(file, ": ", message);
  return StrCat(file, ":", location.line, ":", location.column, ": ", message);
}

ParseResult ParseConfig(std::string_view yaml_text, std::string_view file) {
  ParseResult result;
  YamlReader reader(file);
  // What the YAML parser would take badly or silently: bytes that are not
  // text, and nesting deep enough to exhaust it.
  if (!CheckText(reader, yaml_text)) {
    result.errors = std::move(reader.errors());
    return result;
  }
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
    reader.Error(root.IsNull() ? SourceLocation{} : YamlReader::Loc(root),
                 "the config must be a mapping with journey, scoring, committee and rules sections");
    result.errors = std::move(reader.errors());
    return result;
  }
  CheckDuplicateKeys(reader, root);
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
  ParseResult result;
  auto refuse = [&](std::string message) {
    result.errors.push_back({path, {0, 0}, std::move(message)});
    return result;
  };
  // Looked at before anything is read: /dev/zero or a directory never is.
  std::error_code error;
  std::filesystem::file_status status = std::filesystem::status(path, error);
  if (error || !std::filesystem::exists(status)) return refuse("cannot read the config file (does it exist?)");
  if (!std::filesystem::is_regular_file(status)) {
    return refuse("is not a regular file (a directory, device or pipe): name the YAML file itself");
  }
  uintmax_t size = std::filesystem::file_size(path, error);
  if (error) return refuse("cannot read the config file (does it exist?)");
  if (size > kMaxConfigBytes) {
    return refuse(StrCat("is ", size, " bytes; a config file is at most ", kMaxConfigBytes, " (4 MiB)"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return refuse("cannot read the config file (is it readable?)");
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  text.resize(static_cast<size_t>(in.gcount()));
  return ParseConfig(text, path);
}

}  // namespace demandcenter::config
