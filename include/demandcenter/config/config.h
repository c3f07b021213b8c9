// The engine's configuration: one YAML file that describes the journey
// stages, scores, buying committee, rules, pools and the runtime sections.
// LoadConfig/ParseConfig validate everything once; the result is an
// immutable value passed by const& to every module.
#ifndef DEMANDCENTER_CONFIG_CONFIG_H_
#define DEMANDCENTER_CONFIG_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "demandcenter/v1/action.pb.h"

namespace demandcenter::config {

// Where something was written in the config file (1-based).
struct SourceLocation {
  int line = 0;
  int column = 0;
};

// One problem found in a config file.
struct ConfigError {
  std::string file;
  SourceLocation location;
  std::string message;
  // "file:line:column: message".
  std::string ToString() const;
};

// `match: {field: value-or-list}`: the signal's (or account's) field equals
// one of the values; values may use '*' wildcards.
struct FieldMatch {
  std::string field;  // e.g. "page_category", "attributes.plan"
  std::vector<std::string> values;
};

// `count: {type: ..., within: 7d, at_least: 3, distinct_contacts: true}`:
// how many matching signals the account had in the window ending now.
struct CountCondition {
  std::vector<std::string> types;  // patterns
  int64_t within_ms = 0;
  int32_t at_least = 1;
  bool distinct_contacts = false;
  // Index of the count series (Config::count_series) that records them.
  int32_t series = -1;
};

// The condition language shared by journey guards and rules. Every part that
// is set must hold (AND); `any` holds when one of its items holds; `none`
// holds when none of its items holds.
struct Condition {
  std::vector<std::string> types;  // signal type patterns; empty = any type
  std::vector<FieldMatch> matches;
  std::optional<double> score_at_least;
  std::optional<double> score_below;
  std::optional<double> contact_score_at_least;
  std::optional<int32_t> committee_size_at_least;
  std::vector<std::string> committee_roles;  // all must be present
  std::vector<CountCondition> counts;
  std::vector<std::string> stages;          // the account is in one of these
  std::vector<std::string> entered_stages;  // this signal moved it into one
  std::optional<int64_t> time_in_stage_at_least_ms;
  std::optional<double> amount_at_least;
  std::optional<double> usage_drop_at_least;
  std::vector<Condition> any;
  std::vector<Condition> none;
};

// A journey transition. Inactivity transitions (`inactive_for`) fire from a
// stream-time timer when the account had no engagement for that long; the
// others are checked on every signal.
struct Transition {
  std::string id;
  std::vector<std::string> from;  // empty = any stage
  std::string to;
  Condition when;
  int64_t inactive_for_ms = 0;  // > 0: an inactivity transition
  SourceLocation location;
};

struct JourneyConfig {
  std::vector<std::string> stages;
  std::string initial;
  std::vector<Transition> transitions;
  // Most transitions one signal may chain (unaware -> aware -> engaged).
  // Default: the number of stages.
  int32_t max_chain = 0;
};

struct ScoringConfig {
  // Half-life of the exponential decay. Default: 14d.
  int64_t half_life_ms = 14LL * 24 * 3600 * 1000;
  // Weight of a signal type no pattern matches. Default: 0.
  double default_weight = 0;
  // (pattern, weight), first match wins. A signal with weight > 0 counts as
  // engagement (resets inactivity timers).
  std::vector<std::pair<std::string, double>> weights;
};

struct CommitteeConfig {
  // A contact belongs to the buying committee while its last engagement is
  // this recent. Default: 30d.
  int64_t window_ms = 30LL * 24 * 3600 * 1000;
  // (role, title keywords), first match wins; CRM contact_role overrides.
  std::vector<std::pair<std::string, std::vector<std::string>>> roles;
};

// A pool of people serving a role (SDR team, pricing desk...).
struct PoolMember {
  std::string id;
  double weight = 1;
};
struct Pool {
  std::string id;
  std::vector<PoolMember> members;
};

// Who gets a routed action: the account's CRM owner, or a pool member.
struct Route {
  bool to_owner = false;     // `owner: account`
  std::string pool;          // pool id; with to_owner, the fallback
  int64_t sla_ms = 0;        // 0 = no SLA
};

struct PromptTemplate {
  std::string title;
  std::string why;  // "why now" template with {placeholders}
  std::string suggested_action;
};

// Channel: one of the enum values, or auto (picked by routing).
struct ChannelChoice {
  bool automatic = false;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
};

struct Rule {
  std::string id;
  Condition when;
  std::string action;
  ChannelChoice channel;
  std::string role;
  int32_t priority = 50;       // 0-100
  int64_t cooldown_ms = 0;     // per account
  int64_t expires_ms = 7LL * 24 * 3600 * 1000;
  std::string reason;
  std::optional<Route> route;
  std::optional<PromptTemplate> prompt;
  SourceLocation location;
};

struct ArbitrationConfig {
  // Actions emitted per signal. Default: 1.
  int32_t max_actions = 1;
};

struct KafkaTopics {
  std::vector<std::string> signals = {"signals.web", "signals.email", "signals.crm"};
  std::string dlq = "signals.dlq";
  std::string nba = "actions.nba";
  std::string routing = "actions.routing";
  std::string prompts = "crm.prompts";
  std::string transitions = "journey.transitions";
};

struct KafkaConfig {
  std::string bootstrap_servers = "127.0.0.1:9092";
  KafkaTopics topics;
  int64_t commit_interval_ms = 100;
  // Output topics written as JSON instead of protobuf.
  std::vector<std::string> json_topics;
};

struct StateConfig {
  std::string dir = "/var/lib/demandcenter";
  // Repeated event_ids within this window are ignored. Default: 7d.
  int64_t dedup_window_ms = 7LL * 24 * 3600 * 1000;
  // Accounts kept in the write-back cache. Default: 100000.
  int64_t cache_accounts = 100000;
};

struct HttpConfig {
  std::string bind = "127.0.0.1:8080";
};

// A pattern whose occurrences are recorded per account for count guards:
// one series per distinct type list, kept for the longest window using it.
struct CountSeries {
  std::vector<std::string> types;
  std::string name;  // types joined with '|'
  int64_t keep_ms = 0;
};

struct Config {
  std::string file;
  std::string application_id = "demandcenter";
  std::string rules_version;
  JourneyConfig journey;
  ScoringConfig scoring;
  CommitteeConfig committee;
  std::vector<Rule> rules;
  std::vector<Pool> pools;
  ArbitrationConfig arbitration;
  KafkaConfig kafka;
  StateConfig state;
  HttpConfig http;
  // Derived: every count series the guards and rules use.
  std::vector<CountSeries> count_series;

  const Pool* FindPool(std::string_view id) const;
  int StageIndex(std::string_view stage) const;  // -1 when unknown
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

// The fields rules may match with `match:` (signal fields and account facts).
const std::vector<std::string>& MatchableFields();

// Channel names as written in config and traces ("INSIDE_SALES").
std::string_view ChannelName(v1::Channel channel);

}  // namespace demandcenter::config

#endif  // DEMANDCENTER_CONFIG_CONFIG_H_
