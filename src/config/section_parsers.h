// The config file's section parsers (private to src/config), one per
// top-level section, and the condition language they share. Each reads its
// YAML node into the config and reports problems through the YamlReader;
// names defined elsewhere in the file (stages, pools, committee roles) are
// only recorded here and checked by the cross-reference pass.
#ifndef DEMANDCENTER_SRC_CONFIG_SECTION_PARSERS_H_
#define DEMANDCENTER_SRC_CONFIG_SECTION_PARSERS_H_

#include <cstddef>
#include <set>
#include <string>

#include "demandcenter/config/config.h"
#include "src/config/yaml_reader.h"
#include "yaml-cpp/yaml.h"

namespace demandcenter::config::internal {

// A condition (parse_condition.cc): journey guards, rules, arbitration
// context weights and routing specialists. `what` names it in messages;
// `depth` counts the any/none levels above it.
Condition ParseCondition(YamlReader& reader, const YAML::Node& node, const std::string& what,
                         int depth);

// journey: stages, initial, transitions, max_chain (parse_journey.cc).
void ParseJourney(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);

// scoring and committee (parse_scoring.cc).
void ParseScoring(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);
void ParseCommittee(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);

// pools: ids, managers, members, out-of-office periods (parse_pools.cc).
void ParsePools(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);

// rules (parse_rules.cc). Adds the index of every rule whose route names
// its escalation steps to `explicit_escalation`; the others get the default
// steps in the cross-reference pass.
void ParseRules(YamlReader& reader, const YAML::Node& node, DecisionConfig* config,
                std::set<size_t>* explicit_escalation);

// kafka, state and http, read from the root (parse_runtime.cc). Fills
// config->runtime, and config->decision.dedup_window_ms from state.
void ParseRuntime(YamlReader& reader, const YAML::Node& root, Config* config);
// kafka.security (parse_kafka_security.cc): protocol, SASL user and the
// source of its password, TLS files; a password in the file is refused.
void ParseKafkaSecurity(YamlReader& reader, const YAML::Node& node, KafkaSecurity* security);

// arbitration: max_actions, propensity priors, context weights
// (parse_arbitration.cc).
void ParseArbitration(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);

// contact_policy: time zone, holidays, business and quiet hours, caps,
// action cool-downs (parse_contact_policy.cc).
void ParseContactPolicy(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);

// routing: the `channel: auto` model (parse_routing.cc).
void ParseRouting(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);

// sla and feedback (parse_sla_feedback.cc).
void ParseSla(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);
// identity: blocklist, domains, free_mail.
void ParseIdentity(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);
// event_time: max_ahead, max_late (parse_identity.cc: when a signal is
// believed, next to whom it belongs to).
void ParseEventTime(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);
void ParseFeedback(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);

// experiments (parse_experiments.cc). Needs the rules parsed: it marks each
// covered rule with its experiment.
void ParseExperiments(YamlReader& reader, const YAML::Node& node, DecisionConfig* config);

}  // namespace demandcenter::config::internal

#endif  // DEMANDCENTER_SRC_CONFIG_SECTION_PARSERS_H_
