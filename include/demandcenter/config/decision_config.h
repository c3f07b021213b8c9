// The decision config: everything the decision core reads — journey stages
// and transitions, scores, buying committee, rules, pools, arbitration, the
// contact policy, routing, SLAs, feedback and experiments. It knows nothing
// of Kafka, local state or HTTP (config/runtime_config.h), so the core can
// be built, tested and reasoned about without them. Plain values, validated
// once by the parser (config/config.h) and passed by const& afterwards.
#ifndef DEMANDCENTER_CONFIG_DECISION_CONFIG_H_
#define DEMANDCENTER_CONFIG_DECISION_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "demandcenter/common/calendar.h"
#include "demandcenter/v1/action.pb.h"

namespace demandcenter::config {

// Where something was written in the config file (1-based).
struct SourceLocation {
  int line = 0;
  int column = 0;
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
  // The deal is complex (true) or routine (false) by routing.auto's measures.
  std::optional<bool> complex_deal;
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
  // The journey model's outlook (journey/journey_model.h): the stage that
  // counts as won ("" for none; default "customer" when it is a stage), and
  // how many accounts must have left a stage before its outlook is shown.
  std::string won_stage;
  int32_t outlook_min_exits = 20;
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

// A pool of people serving a role (SDR team, pricing desk...). Members can
// change at run time (routing.reps, see routing::PoolDirectory).
struct PoolMember {
  std::string id;
  double weight = 1;
  // Takes no new work while set.
  bool paused = false;
  // Out-of-office periods [from, to) in Unix ms: no new work while one
  // covers the decision time.
  std::vector<std::pair<int64_t, int64_t>> out_of_office;
};
struct Pool {
  std::string id;
  // Who escalations go to (`manager`). Default: none.
  std::string manager;
  std::vector<PoolMember> members;
};

// What happens at each missed SLA deadline, in order.
enum class EscalationStep {
  kNextMember,  // re-route to the next available pool member
  kManager,     // re-route to the manager
};

// Who gets a routed action: the account's CRM owner, or a pool member.
struct Route {
  bool to_owner = false;     // `owner: account`
  std::string pool;          // pool id; with to_owner, the fallback
  int64_t sla_ms = 0;        // 0 = no SLA
  // The SLA split for business time: whole days count open days, the rest
  // counts open hours (sla.business_time).
  int32_t sla_days = 0;
  int64_t sla_open_ms = 0;
  // Escalation steps, one per missed deadline; the manager is told of each.
  // Default: [next_member, manager] for pools (manager only when the pool
  // has one), [manager] for owner routes whose fallback pool has one.
  std::vector<EscalationStep> escalate;
  // Overrides the pool's manager for escalations.
  std::string manager;
};

// A CrmPrompt's text. The body is "what happened" (`why`, or a sentence
// made from the signal when empty), then who, what to do and by when.
struct PromptTemplate {
  std::string title;
  std::string why;  // "what happened" template with {placeholders}; optional
  std::string suggested_action;
};

// Channel: one of the enum values, or auto (picked by routing).
struct ChannelChoice {
  bool automatic = false;
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
};

struct Rule {
  std::string id;
  // Index into Config::experiments, or -1.
  int32_t experiment = -1;
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

// A prior for how likely an action works, by action x channel x stage.
// Fields left empty match anything; the first matching entry wins.
struct Propensity {
  std::vector<std::string> actions;  // patterns
  std::vector<v1::Channel> channels;
  std::vector<std::string> stages;
  double value = 1;
};

// A context weight: multiplies the score of candidates (optionally only
// those on some channels or with some actions) while its condition holds.
struct ContextWeight {
  std::string id;
  Condition when;
  std::vector<v1::Channel> channels;  // empty = every channel
  std::vector<std::string> actions;   // patterns; empty = every action
  double weight = 1;
};

// Propensity learned online (rules/propensity_model.h): present in the
// config to turn it on.
struct LearningConfig {
  bool enabled = false;
  // How many outcomes the configured prior counts for.
  double prior_weight = 10;
  // No sampled propensity is below this: every action keeps a chance.
  double exploration_floor = 0.02;
  // How long after an action a success is credited to it.
  int64_t window_ms = 14LL * 86'400'000;
};

struct ArbitrationConfig {
  // Actions emitted per signal and account. Default: 1.
  int32_t max_actions = 1;
  LearningConfig learning;
  // Priors; a candidate no entry matches gets `default_propensity`.
  std::vector<Propensity> propensity;
  double default_propensity = 1;
  std::vector<ContextWeight> context;
};

// A cap: at most `max` actions on these channels (and actions) with send_at
// in any window of length `per`.
struct Cap {
  std::string id;                       // policy "cap.<id>"
  std::vector<v1::Channel> channels;    // empty = every channel
  std::vector<std::string> actions;     // patterns; empty = every action
  std::vector<std::string> except_actions;
  int32_t max = 1;
  int64_t per_ms = 0;

  bool Covers(v1::Channel channel, std::string_view action) const;
};

// When and how often accounts may be contacted. See docs/rules.md.
// The right hour (contact_policy.send_time): sends on these channels move
// to the allowed hour that has worked best for the contact's segment and
// buying role, once enough evidence exists (rules/send_time.h).
struct SendTimeConfig {
  bool enabled = false;
  std::vector<v1::Channel> channels = {v1::EMAIL};
  // Action patterns it applies to; empty = every action on those channels.
  std::vector<std::string> actions;
  // Sends of a (channel, segment, role) counted before its best hour is used.
  int64_t min_evidence = 40;
  // The share of sends that go at a random allowed hour instead, so every
  // hour keeps being measured.
  double explore = 0.1;
  // How far past its earliest allowed time a send may move.
  int64_t horizon_ms = 86'400'000;
  // A reply, or an accepted or completed prompt, within this after a send
  // credits its hour.
  int64_t window_ms = 3LL * 86'400'000;
  // How many sends an hour's estimate borrows from its hour of day, and that
  // from the overall rate.
  double prior_weight = 10;

  bool Applies(v1::Channel channel, std::string_view action) const;
};

struct ContactPolicyConfig {
  // IANA zone for accounts whose CRM gives none or an unknown one.
  // Default: UTC.
  std::string timezone = "UTC";
  // Business hours: prompts, person channels and SLA clocks. Default: none
  // (always open).
  std::optional<calendar::Calendar> business_hours;
  std::vector<v1::Channel> business_channels = {v1::INSIDE_SALES, v1::FIELD_SALES, v1::SPECIALIST,
                                                v1::CUSTOMER_SUCCESS, v1::PARTNER};
  // The hours automated channels may send: the complement of quiet hours.
  // Default: none (always).
  std::optional<calendar::Calendar> send_hours;
  std::string quiet_hours_text;  // "20:00-08:00, weekends, holidays"
  std::vector<v1::Channel> quiet_channels = {v1::EMAIL};
  std::vector<Cap> caps;
  // (action pattern, cool-down), first match wins: the same action is not
  // sent to the account twice within it.
  std::vector<std::pair<std::string, int64_t>> action_cooldowns;
  // Derived: how long sent actions must be remembered.
  int64_t longest_window_ms = 0;
  SendTimeConfig send_time;

  // The cool-down for an action, 0 when none.
  int64_t ActionCooldown(std::string_view action) const;
  bool IsBusinessChannel(v1::Channel channel) const;
  bool IsQuietChannel(v1::Channel channel) const;
};

// Specialists `channel: auto` can pick, first match wins.
struct Specialist {
  Condition when;
  std::string role;
  std::string pool;
};

// Where an auto-routed channel goes.
struct AutoRoute {
  std::string role;
  bool to_owner = false;
  std::string pool;
};

// The `channel: auto` model (docs/rules.md, "Channel routing").
struct AutoRoutingConfig {
  double large_deal = 100000;
  int32_t large_committee = 4;
  int32_t many_products = 3;
  std::vector<std::string> complex_segments = {"enterprise"};
  std::vector<std::string> partner_territories;
  // Stage groups.
  std::vector<std::string> early = {"unaware", "aware", "engaged"};
  std::vector<std::string> evaluation = {"evaluating"};
  std::vector<std::string> late = {"negotiating"};
  std::vector<std::string> customer = {"customer", "expanding", "at_risk"};
  std::vector<std::string> dormant = {"dormant"};
  std::vector<Specialist> specialists;
  // Per channel: the role and who takes it; channels without one have no
  // person (DIGITAL, EMAIL).
  std::vector<std::pair<v1::Channel, AutoRoute>> routes;
  // Channel affinity: signals that are responses to a person / to digital.
  std::vector<std::string> person_signals = {"email.reply", "crm.meeting_held", "web.demo_request"};
  std::vector<std::string> digital_signals = {"web.*", "email.open", "email.click"};
  // The account prefers people when it has at least this many responses
  // and this share of them went to people.
  int32_t affinity_min_responses = 3;
  double person_share = 0.25;

  const AutoRoute* RouteFor(v1::Channel channel) const;
};

struct RoutingConfig {
  AutoRoutingConfig automatic;
};

struct SlaConfig {
  // CRM activity that meets the SLAs of the account's open tasks (those
  // assigned to the signal's owner_id, or all when it has none).
  std::vector<std::string> met_by = {"crm.meeting_held"};
  // SLA clocks count business hours (when business hours are set).
  bool business_time = true;
};

struct FeedbackConfig {
  // A dismissed prompt's action is not proposed again for this long.
  int64_t dismissed_cooldown_ms = 14LL * 24 * 3600 * 1000;
};

// One arm of a champion/challenger experiment: overrides of the rule.
struct ExperimentArm {
  std::string id;
  double share = 1;
  std::optional<std::string> action;
  std::optional<ChannelChoice> channel;
  std::optional<int32_t> priority;
  std::optional<std::string> role;
};

// A holdout and/or arms over a group of rules. Accounts are assigned by a
// stable hash of (experiment id, account id).
struct Experiment {
  std::string id;
  std::vector<std::string> rules;
  double holdout = 0;
  std::vector<ExperimentArm> arms;  // empty: one implicit arm "treatment"
  SourceLocation location;
};

// A pattern whose occurrences are recorded per account for count guards:
// one series per distinct type list, kept for the longest window using it.
struct CountSeries {
  std::vector<std::string> types;
  std::string name;  // types joined with '|'
  int64_t keep_ms = 0;
};


// Identity resolution's guard rails and e-mail domains (`identity:`).
struct IdentityConfig {
  // `scope: partition`: each partition resolves what arrives on it, with
  // the links it has seen. `scope: global`: one identity task, fed by every
  // partition through an internal topic, resolves and links for all of
  // them and sends each resolved signal to its account's task.
  bool global = false;
  // Identifier values never used to resolve or link (compared lower-case):
  // junk that would merge unrelated people.
  std::set<std::string> blocklist = {"",          "null",      "undefined", "none",     "nil",
                                     "anonymous", "unknown",   "n/a",       "na",       "0",
                                     "-1",        "test",      "guest",     "test@test.com",
                                     "test@example.com",       "noreply@example.com"};
  // Late binding: a signal no identifier of which is linked yet waits, per
  // identifier, for at most this many signals (the oldest goes to the
  // dead-letter topic when one more comes) and this long in event time.
  int64_t wait_max_signals = 200;
  int64_t wait_max_age_ms = 90LL * 24 * 3600 * 1000;
  // E-mail domain -> account, for addresses no contact or link knows.
  std::map<std::string, std::string> domains;
  // Domains that never map to an account (people's private addresses).
  std::set<std::string> free_mail = {"gmail.com",   "googlemail.com", "yahoo.com",  "hotmail.com",
                                     "outlook.com", "live.com",       "aol.com",    "icloud.com",
                                     "me.com",      "proton.me",      "protonmail.com", "gmx.com",
                                     "gmx.de",      "web.de",         "mail.com",   "yandex.com",
                                     "qq.com",      "163.com"};
};

// How far a signal's event time may stray from the other clocks it is seen
// with (`event_time:`). An event time is a sender's claim: one bad clock
// must not move a partition's stream time (and fire every timer on it).
struct EventTimeConfig {
  // occurred_at later than the record's own timestamp (the Kafka record
  // timestamp; in replay, the line's neighbours) by more than this:
  // EVENT_TIME_AHEAD.
  int64_t max_ahead_ms = 3600LL * 1000;
  // occurred_at earlier than its partition's stream time by more than this:
  // EVENT_TIME_LATE. Longer than the dedup window, a re-sent duplicate the
  // engine has forgotten would count twice.
  int64_t max_late_ms = 7LL * 24 * 3600 * 1000;
};

struct DecisionConfig {
  // Stamped on every output.
  std::string rules_version;
  JourneyConfig journey;
  ScoringConfig scoring;
  CommitteeConfig committee;
  std::vector<Rule> rules;
  std::vector<Pool> pools;
  ArbitrationConfig arbitration;
  ContactPolicyConfig contact_policy;
  RoutingConfig routing;
  SlaConfig sla;
  FeedbackConfig feedback;
  std::vector<Experiment> experiments;
  IdentityConfig identity;
  EventTimeConfig event_time;
  // Repeated event_ids within this window are ignored (`state.dedup_window`
  // in the file). Default: 7d.
  int64_t dedup_window_ms = 7LL * 24 * 3600 * 1000;
  // Derived: every count series the guards and rules use.
  std::vector<CountSeries> count_series;

  const Pool* FindPool(std::string_view id) const;
  const Rule* FindRule(std::string_view id) const;
  int StageIndex(std::string_view stage) const;  // -1 when unknown
};

// The fields rules may match with `match:` (signal fields and account facts).
const std::vector<std::string>& MatchableFields();

// Channel names as written in config and traces ("INSIDE_SALES").
std::string_view ChannelName(v1::Channel channel);

// The channel for a name ("EMAIL"), if it is one.
std::optional<v1::Channel> ParseChannel(std::string_view name);

}  // namespace demandcenter::config

#endif  // DEMANDCENTER_CONFIG_DECISION_CONFIG_H_
