// The engine's configuration file: one YAML file with the decision sections
// (journey, scoring, committee, rules, pools, arbitration, contact_policy,
// routing, sla, feedback, experiments) and the runtime sections (kafka,
// state, http). ParseConfig/LoadConfig validate everything once and report
// every problem with file:line:column; the result is an immutable value.
#ifndef DEMANDCENTER_CONFIG_CONFIG_H_
#define DEMANDCENTER_CONFIG_CONFIG_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/config/runtime_config.h"

namespace demandcenter::config {

// One problem found in a config file.
struct ConfigError {
  std::string file;
  SourceLocation location;
  std::string message;
  // "file:line:column: message".
  std::string ToString() const;
};

// A whole config file: what the core decides with, and how the instance
// runs.
struct Config {
  std::string file;
  DecisionConfig decision;
  RuntimeConfig runtime;
};

// Parses and validates YAML text. `file` names it in error messages. On
// failure returns every problem found, in file order.
struct ParseResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
};
ParseResult ParseConfig(std::string_view yaml_text, std::string_view file);

// Reads and parses a file; a file that cannot be read is one error.
ParseResult LoadConfig(const std::string& path);

}  // namespace demandcenter::config

#endif  // DEMANDCENTER_CONFIG_CONFIG_H_
