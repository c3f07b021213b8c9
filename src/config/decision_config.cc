// The decision config's lookups and the channel names (no parsing here:
// the parser is the rest of src/config, see README.md).
#include "demandcenter/config/decision_config.h"

#include <algorithm>

#include "demandcenter/common/strings.h"

namespace demandcenter::config {

const Pool* DecisionConfig::FindPool(std::string_view id) const {
  for (const auto& p : pools) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const Rule* DecisionConfig::FindRule(std::string_view id) const {
  for (const auto& r : rules) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

bool Cap::Covers(v1::Channel channel, std::string_view action) const {
  if (!channels.empty() && std::find(channels.begin(), channels.end(), channel) == channels.end()) return false;
  if (!actions.empty() && std::none_of(actions.begin(), actions.end(),
                                       [&](const std::string& p) { return GlobMatch(p, action); })) {
    return false;
  }
  return std::none_of(except_actions.begin(), except_actions.end(),
                      [&](const std::string& p) { return GlobMatch(p, action); });
}

int64_t ContactPolicyConfig::ActionCooldown(std::string_view action) const {
  for (const auto& [pattern, ms] : action_cooldowns) {
    if (GlobMatch(pattern, action)) return ms;
  }
  return 0;
}

bool ContactPolicyConfig::IsBusinessChannel(v1::Channel channel) const {
  return std::find(business_channels.begin(), business_channels.end(), channel) != business_channels.end();
}

bool SendTimeConfig::Applies(v1::Channel channel, std::string_view action) const {
  if (!enabled || std::find(channels.begin(), channels.end(), channel) == channels.end()) return false;
  return actions.empty() ||
         std::any_of(actions.begin(), actions.end(), [&](const std::string& p) { return GlobMatch(p, action); });
}

bool ContactPolicyConfig::IsQuietChannel(v1::Channel channel) const {
  return std::find(quiet_channels.begin(), quiet_channels.end(), channel) != quiet_channels.end();
}

const AutoRoute* AutoRoutingConfig::RouteFor(v1::Channel channel) const {
  for (const auto& [c, r] : routes) {
    if (c == channel) return &r;
  }
  return nullptr;
}

int DecisionConfig::StageIndex(std::string_view stage) const {
  for (size_t i = 0; i < journey.stages.size(); ++i) {
    if (journey.stages[i] == stage) return static_cast<int>(i);
  }
  return -1;
}

const std::vector<std::string>& MatchableFields() {
  static const std::vector<std::string> kFields = {
      "source_system", "url", "path", "referrer", "page_category", "session_id",
      "utm_source", "utm_medium", "utm_campaign", "campaign_id", "message_id",
      "link_url", "bounce_kind", "object", "opportunity_stage", "owner_id", "territory",
      "contact_title", "contact_role", "account_segment", "do_not_contact", "prompt_outcome",
      "metric", "segment", "attributes.*"};
  return kFields;
}

std::optional<v1::Channel> ParseChannel(std::string_view name) {
  for (int i = v1::DIGITAL; i <= v1::PARTNER; ++i) {
    if (ChannelName(static_cast<v1::Channel>(i)) == name) return static_cast<v1::Channel>(i);
  }
  return std::nullopt;
}

std::string_view ChannelName(v1::Channel channel) {
  switch (channel) {
    case v1::DIGITAL: return "DIGITAL";
    case v1::EMAIL: return "EMAIL";
    case v1::INSIDE_SALES: return "INSIDE_SALES";
    case v1::FIELD_SALES: return "FIELD_SALES";
    case v1::SPECIALIST: return "SPECIALIST";
    case v1::CUSTOMER_SUCCESS: return "CUSTOMER_SUCCESS";
    case v1::PARTNER: return "PARTNER";
    default: return "CHANNEL_UNSPECIFIED";
  }
}

}  // namespace demandcenter::config
