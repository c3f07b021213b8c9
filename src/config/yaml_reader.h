// The YAML reader of the config parser (private to src/config): turns YAML
// nodes into values, or into errors that say file:line:column, with a "did
// you mean" suggestion for near misses. It also collects the references to
// stages, pools and committee roles that can only be checked once the whole
// file has been read (see cross_reference.h).
#ifndef DEMANDCENTER_SRC_CONFIG_YAML_READER_H_
#define DEMANDCENTER_SRC_CONFIG_YAML_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/civil_time.h"
#include "demandcenter/config/config.h"
#include "yaml-cpp/yaml.h"

namespace demandcenter::config::internal {

// " (did you mean \"known\"?)" for the known word closest to `word` (at most
// two edits away), or "" when none is close.
std::string Suggest(std::string_view word, const std::vector<std::string>& known);

// The channel names a config may write (DIGITAL ... PARTNER), in enum order.
std::vector<std::string> ChannelNames();

// A name in the config that refers to something defined elsewhere in the
// file (a stage, a pool, a committee role), and where it was written.
struct Reference {
  SourceLocation location;
  std::string name;
  std::string what;  // the field, for the message; empty when unused
};

class YamlReader {
 public:
  explicit YamlReader(std::string_view file) : file_(file) {}

  YamlReader(const YamlReader&) = delete;
  YamlReader& operator=(const YamlReader&) = delete;

  // Every error so far, in the order they were found.
  std::vector<ConfigError>& errors() { return errors_; }

  // Records an error at `node` (0:0 when the node is not in the file).
  void Error(const YAML::Node& node, std::string message);
  void Error(SourceLocation location, std::string message);

  // Where `node` was written.
  static SourceLocation Loc(const YAML::Node& node);
  // Whether `value` (an id or name at `node`) is 1 to 128 of
  // a-z A-Z 0-9 _ . : @ -; reports it when not.
  bool IsSafeId(const YAML::Node& node, const std::string& value, std::string_view what);

  // Checks that `node` is a map whose keys are all in `allowed`; reports
  // each unknown key. False only when `node` is not a map.
  bool ExpectMap(const YAML::Node& node, std::string_view what,
                 const std::vector<std::string>& allowed);

  // A single value.
  std::optional<std::string> String(const YAML::Node& node, std::string_view what);
  // parent[key] as a non-empty single value; an error when it is missing.
  std::optional<std::string> RequiredString(const YAML::Node& parent, const char* key,
                                            std::string_view what);
  std::optional<double> Number(const YAML::Node& node, std::string_view what);
  // A whole number in [min, max].
  std::optional<int64_t> Integer(const YAML::Node& node, std::string_view what, int64_t min,
                                 int64_t max);
  // true/yes or false/no.
  std::optional<bool> Bool(const YAML::Node& node, std::string_view what);
  // "30m", "1h", "7d"... -> milliseconds, longer than zero.
  std::optional<int64_t> Duration(const YAML::Node& node, std::string_view what);
  // A single value or a list of values.
  std::vector<std::string> StringList(const YAML::Node& node, std::string_view what);

  // A channel name or a list of them; with `allow_all`, `all` means every
  // channel: it is left out of the list and sets *all.
  std::vector<v1::Channel> Channels(const YAML::Node& node, std::string_view what,
                                    bool allow_all, bool* all = nullptr);
  // "08:00" -> minutes since midnight; "24:00" is allowed as an end.
  std::optional<int32_t> TimeOfDay(const YAML::Node& node, std::string_view what);
  // [mon, tue, ...], "weekdays", "weekends" or "every day" -> a weekday mask.
  std::optional<uint8_t> Days(const YAML::Node& node, std::string_view what);
  // "2026-12-25".
  std::optional<absl::CivilDay> Date(const YAML::Node& node, std::string_view what);
  // A date (midnight UTC; with `end_of_day`, the end of that day) or an RFC
  // 3339 UTC time "2026-03-09T13:00:00Z" -> Unix ms.
  std::optional<int64_t> Instant(const YAML::Node& node, std::string_view what,
                                 bool end_of_day);

  // References, checked by the cross-reference pass once every stage, pool
  // and committee role is known.
  void ReferStage(const YAML::Node& node, const std::string& stage, std::string what);
  void ReferPool(const YAML::Node& node, const std::string& pool);
  void ReferRole(const YAML::Node& node, const std::string& role);
  const std::vector<Reference>& stage_refs() const { return stage_refs_; }
  const std::vector<Reference>& pool_refs() const { return pool_refs_; }
  const std::vector<Reference>& role_refs() const { return role_refs_; }

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::vector<Reference> stage_refs_;
  std::vector<Reference> pool_refs_;
  std::vector<Reference> role_refs_;
};

}  // namespace demandcenter::config::internal

#endif  // DEMANDCENTER_SRC_CONFIG_YAML_READER_H_
