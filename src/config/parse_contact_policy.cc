// The contact_policy section's parser: the default time zone, holidays,
// business hours and quiet hours, contact caps per channel and action, and
// per-action cool-downs.
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "demandcenter/common/calendar.h"
#include "demandcenter/common/strings.h"
#include "src/config/section_parsers.h"

namespace demandcenter::config::internal {
namespace {

void ParseTimeZone(YamlReader& reader, const YAML::Node& n, ContactPolicyConfig* cp) {
  auto s = reader.String(n, "contact_policy.timezone");
  if (!s) return;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(*s, &tz)) {
    reader.Error(n, StrCat("contact_policy.timezone: \"", *s,
                           "\" is not an IANA time zone of this system's "
                           "tz database (e.g. Europe/London, America/New_York)"));
  } else {
    cp->timezone = *s;
  }
}

// {date, zones}: a holiday only in the zones that match.
std::optional<calendar::Holiday> ParseZonedHoliday(YamlReader& reader, const YAML::Node& item) {
  if (!reader.ExpectMap(item, "contact_policy.holidays item", {"date", "zones"})) {
    return std::nullopt;
  }
  if (!item["date"]) {
    reader.Error(item, "contact_policy.holidays item needs \"date\"");
    return std::nullopt;
  }
  auto d = reader.Date(item["date"], "contact_policy.holidays item.date");
  if (!d) return std::nullopt;
  calendar::Holiday h;
  h.day = *d;
  if (auto z = item["zones"]) {
    h.zones = reader.StringList(z, "contact_policy.holidays item.zones");
    for (const auto& zone : h.zones) {
      absl::TimeZone tz;
      if (zone.find('*') == std::string::npos && !absl::LoadTimeZone(zone, &tz)) {
        reader.Error(z, StrCat("contact_policy.holidays: \"", zone,
                               "\" is not an IANA time zone of this "
                               "system's tz database (patterns like \"America/*\" are allowed)"));
      }
    }
  }
  return h;
}

// holidays: [date, {date, zones}, ...].
std::vector<calendar::Holiday> ParseHolidays(YamlReader& reader, const YAML::Node& list) {
  std::vector<calendar::Holiday> holidays;
  if (!list.IsSequence()) {
    reader.Error(list, "contact_policy.holidays must be a list of dates or {date, zones}");
    return holidays;
  }
  for (const auto& item : list) {
    if (item.IsScalar()) {
      auto d = reader.Date(item, "contact_policy.holidays item");
      if (!d) continue;
      calendar::Holiday h;
      h.day = *d;
      holidays.push_back(std::move(h));
    } else if (auto h = ParseZonedHoliday(reader, item)) {
      holidays.push_back(std::move(*h));
    }
  }
  return holidays;
}

// Business hours ({days, from, to, holidays, channels}) are when contact is
// allowed; quiet hours ({from, to, weekends, holidays, channels}) are when
// it is not, and may cross midnight. Both give the weekly open windows.
std::optional<calendar::WeeklyHours> ParseHours(YamlReader& reader, const YAML::Node& node,
                                                const std::string& what, bool quiet) {
  std::vector<std::string> keys = {"days", "from", "to", "holidays"};
  if (quiet) {
    keys = {"from", "to", "weekends", "holidays", "channels"};
  } else {
    keys.push_back("channels");
  }
  if (!reader.ExpectMap(node, what, keys)) return std::nullopt;
  calendar::WeeklyHours hours;
  if (auto n = node["days"]) {
    if (auto d = reader.Days(n, StrCat(what, ".days"))) hours.days = *d;
  }
  if (!node["from"] || !node["to"]) {
    reader.Error(node, StrCat(what, " needs from and to, e.g. {from: \"08:00\", to: \"18:00\"}"));
    return std::nullopt;
  }
  auto from = reader.TimeOfDay(node["from"], StrCat(what, ".from"));
  auto to = reader.TimeOfDay(node["to"], StrCat(what, ".to"));
  if (!from || !to) return std::nullopt;
  if (*from == *to) {
    reader.Error(node, StrCat(what, ": from and to are the same time"));
    return std::nullopt;
  }
  if (!quiet) {
    if (*to < *from) {
      reader.Error(node,
                   StrCat(what, ": to must be after from (business hours do not cross midnight)"));
      return std::nullopt;
    }
    hours.windows = {{*from, *to}};
  } else if (*from > *to) {  // quiet 20:00-08:00: send 08:00-20:00
    hours.windows = {{*to, *from}};
  } else {  // quiet 12:00-14:00: send before 12:00 and from 14:00
    if (*from > 0) hours.windows.emplace_back(0, *from);
    if (*to < 1440) hours.windows.emplace_back(*to, 1440);
  }
  if (quiet) {
    if (auto n = node["weekends"]) {
      if (auto b = reader.Bool(n, StrCat(what, ".weekends"))) {
        hours.days = *b ? calendar::kWeekdays : calendar::kEveryDay;
      }
    }
  }
  if (auto n = node["holidays"]) {
    if (auto b = reader.Bool(n, StrCat(what, ".holidays"))) hours.closed_on_holidays = *b;
  }
  return hours;
}

// `n` is taken by value, as a handle that may be written to: yaml-cpp's
// operator[] differs between const and non-const nodes when `n` is not a
// map, and the parser keeps the non-const lookup it always had.
void ParseBusinessHours(YamlReader& reader, YAML::Node n,
                        const std::vector<calendar::Holiday>& holidays, ContactPolicyConfig* cp) {
  if (auto hours = ParseHours(reader, n, "contact_policy.business_hours", false)) {
    cp->business_hours.emplace(std::move(*hours), holidays);
  }
  if (!n.IsMap()) return;  // refused above; a plain value has no channels to read
  if (auto c = n["channels"]) {
    cp->business_channels = reader.Channels(c, "contact_policy.business_hours.channels", false);
  }
}

// As ParseBusinessHours; also keeps the quiet hours as written, for prompts.
void ParseQuietHours(YamlReader& reader, YAML::Node n,
                     const std::vector<calendar::Holiday>& holidays, ContactPolicyConfig* cp) {
  if (auto hours = ParseHours(reader, n, "contact_policy.quiet_hours", true)) {
    std::string text = StrCat(n["from"].Scalar(), "-", n["to"].Scalar());
    if (hours->days != calendar::kEveryDay) text += ", weekends";
    if (hours->closed_on_holidays && !holidays.empty()) text += ", holidays";
    cp->quiet_hours_text = text;
    cp->send_hours.emplace(std::move(*hours), holidays);
  }
  if (!n.IsMap()) return;  // refused above
  if (auto c = n["channels"]) {
    cp->quiet_channels = reader.Channels(c, "contact_policy.quiet_hours.channels", false);
  }
}

// {id, channel, action, except_action, max, per}; `ids` are the cap ids
// seen so far.
Cap ParseCap(YamlReader& reader, const YAML::Node& item, std::set<std::string>* ids) {
  std::string what = "cap";
  Cap cap;
  if (auto id = reader.RequiredString(item, "id", what)) {
    cap.id = *id;
    what = StrCat("cap \"", cap.id, "\"");
    if (!ids->insert(cap.id).second) {
      reader.Error(item["id"], StrCat("duplicate cap id \"", cap.id, "\""));
    }
  }
  if (auto n = item["channel"]) {
    bool all = false;
    cap.channels = reader.Channels(n, StrCat(what, ".channel"), true, &all);
    if (all && !cap.channels.empty()) {
      reader.Error(n, StrCat(what, ".channel: \"all\" stands alone"));
    }
  } else {
    reader.Error(item, StrCat(what, " needs \"channel\" (a channel, a list, or all)"));
  }
  if (auto n = item["action"]) cap.actions = reader.StringList(n, StrCat(what, ".action"));
  if (auto n = item["except_action"]) {
    cap.except_actions = reader.StringList(n, StrCat(what, ".except_action"));
  }
  if (auto n = item["max"]) {
    if (auto v = reader.Integer(n, StrCat(what, ".max"), 1, 1000)) {
      cap.max = static_cast<int32_t>(*v);
    }
  } else {
    reader.Error(item, StrCat(what, " needs \"max\""));
  }
  if (auto n = item["per"]) {
    if (auto d = reader.Duration(n, StrCat(what, ".per"))) cap.per_ms = *d;
  } else {
    reader.Error(item, StrCat(what, " needs \"per\" (the window, e.g. 7d)"));
  }
  return cap;
}

void ParseCaps(YamlReader& reader, const YAML::Node& list, ContactPolicyConfig* cp) {
  if (!list.IsSequence()) {
    reader.Error(list, "contact_policy.caps must be a list of {id, channel, max, per}");
    return;
  }
  std::set<std::string> ids;
  for (const auto& item : list) {
    if (!reader.ExpectMap(item, "cap",
                          {"id", "channel", "action", "except_action", "max", "per"})) {
      continue;
    }
    cp->caps.push_back(ParseCap(reader, item, &ids));
  }
}

// action_cooldowns: {action pattern: duration}.
void ParseActionCooldowns(YamlReader& reader, const YAML::Node& n, ContactPolicyConfig* cp) {
  if (!n.IsMap()) {
    reader.Error(n, "contact_policy.action_cooldowns must map actions to durations, e.g. "
                    "qualification_call: 7d");
    return;
  }
  for (const auto& kv : n) {
    if (auto d = reader.Duration(kv.second,
                                 StrCat("contact_policy.action_cooldowns.", kv.first.Scalar()))) {
      cp->action_cooldowns.emplace_back(kv.first.Scalar(), *d);
    }
  }
}

// A number in [low, high], or an error naming what it is.
std::optional<double> NumberIn(YamlReader& reader, const YAML::Node& n, const std::string& what, double low,
                               double high, std::string_view meaning) {
  auto v = reader.Number(n, what);
  if (!v) return std::nullopt;
  if (*v < low || *v > high) {
    reader.Error(n, StrCat(what, " is ", meaning));
    return std::nullopt;
  }
  return v;
}

// send_time: {channels, actions, min_evidence, explore, horizon, window,
// prior_weight}; present = on.
void ParseSendTime(YamlReader& reader, const YAML::Node& node, SendTimeConfig* st) {
  const std::string what = "contact_policy.send_time";
  if (!reader.ExpectMap(node, what,
                        {"channels", "actions", "min_evidence", "explore", "horizon", "window", "prior_weight"})) {
    return;
  }
  st->enabled = true;
  if (auto n = node["channels"]) {
    st->channels = reader.Channels(n, what + ".channels", false);
    if (st->channels.empty()) reader.Error(n, what + ".channels needs at least one channel, e.g. [EMAIL]");
  }
  if (auto n = node["actions"]) st->actions = reader.StringList(n, what + ".actions");
  if (auto n = node["min_evidence"]) {
    if (auto v = reader.Integer(n, what + ".min_evidence", 1, 1'000'000'000)) st->min_evidence = *v;
  }
  if (auto n = node["explore"]) {
    if (auto v = NumberIn(reader, n, what + ".explore", 0, 0.5,
                          "the share of sends at a random allowed hour: 0 to 0.5, e.g. 0.1")) {
      st->explore = *v;
    }
  }
  if (auto n = node["prior_weight"]) {
    if (auto v = NumberIn(reader, n, what + ".prior_weight", 0.1, 100000,
                          "how many sends an hour borrows from the broader estimate: 0.1 to 100000")) {
      st->prior_weight = *v;
    }
  }
  if (auto n = node["horizon"]) {
    if (auto d = reader.Duration(n, what + ".horizon")) {
      if (*d < 3'600'000 || *d > 7 * 86'400'000LL) {
        reader.Error(n, what + ".horizon is how far a send may move past its earliest allowed time: 1h to 7d");
      } else {
        st->horizon_ms = *d;
      }
    }
  }
  if (auto n = node["window"]) {
    if (auto d = reader.Duration(n, what + ".window")) st->window_ms = *d;
  }
}

}  // namespace

void ParseContactPolicy(YamlReader& reader, const YAML::Node& node, DecisionConfig* config) {
  if (!reader.ExpectMap(node, "contact_policy", {"timezone", "business_hours", "quiet_hours",
                                                 "holidays", "caps", "action_cooldowns", "send_time"})) {
    return;
  }
  auto& cp = config->contact_policy;
  if (auto n = node["timezone"]) ParseTimeZone(reader, n, &cp);
  std::vector<calendar::Holiday> holidays;
  if (auto list = node["holidays"]) holidays = ParseHolidays(reader, list);
  if (auto n = node["business_hours"]) ParseBusinessHours(reader, n, holidays, &cp);
  if (auto n = node["quiet_hours"]) ParseQuietHours(reader, n, holidays, &cp);
  if (auto list = node["caps"]) ParseCaps(reader, list, &cp);
  if (auto n = node["action_cooldowns"]) ParseActionCooldowns(reader, n, &cp);
  if (auto n = node["send_time"]) ParseSendTime(reader, n, &cp.send_time);
  for (const auto& cap : cp.caps) {
    cp.longest_window_ms = std::max(cp.longest_window_ms, cap.per_ms);
  }
  for (const auto& [pattern, ms] : cp.action_cooldowns) {
    cp.longest_window_ms = std::max(cp.longest_window_ms, ms);
  }
}

}  // namespace demandcenter::config::internal
