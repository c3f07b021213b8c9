// The config parser's cross-reference pass (private to src/config): the
// checks and derived values that need the whole file, run once every
// section has been parsed.
#ifndef DEMANDCENTER_SRC_CONFIG_CROSS_REFERENCE_H_
#define DEMANDCENTER_SRC_CONFIG_CROSS_REFERENCE_H_

#include <cstddef>
#include <set>

#include "demandcenter/config/decision_config.h"
#include "src/config/yaml_reader.h"
#include "yaml-cpp/yaml.h"

namespace demandcenter::config::internal {

// In this order: every stage reference names a stage, and then every stage
// is reachable from the initial one; every pool reference names a pool;
// every committee role is a CRM role or a configured one; count conditions
// get their count series; routes with an SLA get their escalation steps
// (the defaults unless the rule's index is in `explicit_escalation`), and
// their SLA must be shorter than the rule's expiry. `root` is the file's
// root map (for the locations of unreachable stages).
void CrossReference(YamlReader& reader, const YAML::Node& root,
                    const std::set<size_t>& explicit_escalation, DecisionConfig* config);

}  // namespace demandcenter::config::internal

#endif  // DEMANDCENTER_SRC_CONFIG_CROSS_REFERENCE_H_
