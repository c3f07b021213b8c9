// ValidateSignal and the stable names of formats and reject codes.
#include <cstdint>
#include <string>
#include <string_view>

#include "demandcenter/common/json_string.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/ingest/decoder.h"

namespace demandcenter::ingest {
namespace {

// 9999-12-31T23:59:59Z, the last second RFC 3339 (and protobuf-JSON) can
// write.
constexpr int64_t kMaxTimestampSeconds = 253402300799;
// Bytes of a user-supplied value quoted in a message.
constexpr size_t kMaxQuotedBytes = 64;

// `value` in double quotes for a reject message: printable ASCII, at most
// kMaxQuotedBytes of input then "...".
std::string Quote(std::string_view value) {
  std::string out;
  AppendJsonStringForMessage(value, kMaxQuotedBytes, &out);
  return out;
}

Reject Fail(RejectCode code, std::string message) {
  return Reject{code, std::move(message)};
}

bool IsTypeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// At least two non-empty dot-separated parts of [a-z0-9_-].
bool IsNamespacedType(std::string_view type) {
  size_t parts = 0;
  size_t part_len = 0;
  for (char c : type) {
    if (c == '.') {
      if (part_len == 0) return false;
      ++parts;
      part_len = 0;
    } else if (IsTypeChar(c)) {
      ++part_len;
    } else {
      return false;
    }
  }
  return part_len > 0 && parts >= 1;
}

// Sets *reject and returns false when `value` is longer than `limit`.
bool WithinLimit(std::string_view field, const std::string& value, size_t limit,
                 Reject* reject) {
  if (value.size() <= limit) return true;
  *reject = Fail(RejectCode::kFieldTooLong,
                 StrCat("field ", field, " is ", value.size(),
                        " bytes; the limit is ", limit));
  return false;
}

bool CheckDetail(const v1::WebVisit& d, Reject* r) {
  return WithinLimit("web_visit.url", d.url(), kMaxTextBytes, r) &&
         WithinLimit("web_visit.path", d.path(), kMaxTextBytes, r) &&
         WithinLimit("web_visit.referrer", d.referrer(), kMaxTextBytes, r) &&
         WithinLimit("web_visit.page_category", d.page_category(), kMaxTextBytes, r) &&
         WithinLimit("web_visit.session_id", d.session_id(), kMaxTextBytes, r) &&
         WithinLimit("web_visit.utm_source", d.utm_source(), kMaxTextBytes, r) &&
         WithinLimit("web_visit.utm_medium", d.utm_medium(), kMaxTextBytes, r) &&
         WithinLimit("web_visit.utm_campaign", d.utm_campaign(), kMaxTextBytes, r);
}

bool CheckDetail(const v1::EmailEngagement& d, Reject* r) {
  return WithinLimit("email_engagement.campaign_id", d.campaign_id(), kMaxTextBytes, r) &&
         WithinLimit("email_engagement.message_id", d.message_id(), kMaxTextBytes, r) &&
         WithinLimit("email_engagement.link_url", d.link_url(), kMaxTextBytes, r);
}

bool CheckDetail(const v1::CrmActivity& d, Reject* r) {
  return WithinLimit("crm_activity.object", d.object(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.opportunity_id", d.opportunity_id(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.opportunity_stage", d.opportunity_stage(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.currency", d.currency(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.owner_id", d.owner_id(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.territory", d.territory(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.contact_title", d.contact_title(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.contact_role", d.contact_role(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.account_name", d.account_name(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.account_timezone", d.account_timezone(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.account_segment", d.account_segment(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.prompt_id", d.prompt_id(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.prompt_outcome", d.prompt_outcome(), kMaxTextBytes, r) &&
         WithinLimit("crm_activity.account_domain", d.account_domain(), kMaxTextBytes, r);
}

bool CheckDetail(const v1::ProductUsage& d, Reject* r) {
  return WithinLimit("product_usage.metric", d.metric(), kMaxTextBytes, r);
}

bool CheckLengths(const v1::Signal& s, Reject* r) {
  if (!(WithinLimit("event_id", s.event_id(), kMaxIdBytes, r) &&
        WithinLimit("account_id", s.account_id(), kMaxIdBytes, r) &&
        WithinLimit("contact_id", s.contact_id(), kMaxIdBytes, r) &&
        WithinLimit("email", s.email(), kMaxIdBytes, r) &&
        WithinLimit("anonymous_id", s.anonymous_id(), kMaxIdBytes, r) &&
        WithinLimit("source_system", s.source_system(), kMaxIdBytes, r))) {
    return false;
  }
  switch (s.detail_case()) {
    case v1::Signal::kWebVisit:
      if (!CheckDetail(s.web_visit(), r)) return false;
      break;
    case v1::Signal::kEmailEngagement:
      if (!CheckDetail(s.email_engagement(), r)) return false;
      break;
    case v1::Signal::kCrmActivity:
      if (!CheckDetail(s.crm_activity(), r)) return false;
      break;
    case v1::Signal::kProductUsage:
      if (!CheckDetail(s.product_usage(), r)) return false;
      break;
    case v1::Signal::DETAIL_NOT_SET:
      break;
  }
  if (static_cast<size_t>(s.attributes_size()) > kMaxAttributes) {
    *r = Fail(RejectCode::kFieldTooLong,
              StrCat("attributes has ", s.attributes_size(),
                     " entries; the limit is ", kMaxAttributes));
    return false;
  }
  for (const auto& [key, value] : s.attributes()) {
    if (key.size() > kMaxIdBytes) {
      *r = Fail(RejectCode::kFieldTooLong,
                StrCat("attributes key ", Quote(key), " is ", key.size(),
                       " bytes; the limit is ", kMaxIdBytes));
      return false;
    }
    if (value.size() > kMaxTextBytes) {
      *r = Fail(RejectCode::kFieldTooLong,
                StrCat("attributes[", Quote(key), "] is ", value.size(),
                       " bytes; the limit is ", kMaxTextBytes));
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view SignalFormatName(SignalFormat format) {
  switch (format) {
    case SignalFormat::kBinary: return "binary";
    case SignalFormat::kJson: return "json";
    case SignalFormat::kSchemaRegistry: return "schema_registry";
  }
  return "unknown";
}

std::string_view RejectCodeName(RejectCode code) {
  switch (code) {
    case RejectCode::kNone: return "NONE";
    case RejectCode::kEmpty: return "EMPTY";
    case RejectCode::kOversize: return "OVERSIZE";
    case RejectCode::kBadJson: return "BAD_JSON";
    case RejectCode::kUnknownField: return "UNKNOWN_FIELD";
    case RejectCode::kBadFraming: return "BAD_FRAMING";
    case RejectCode::kUndecodable: return "UNDECODABLE";
    case RejectCode::kMissingEventId: return "MISSING_EVENT_ID";
    case RejectCode::kMissingOccurredAt: return "MISSING_OCCURRED_AT";
    case RejectCode::kBadTimestamp: return "BAD_TIMESTAMP";
    case RejectCode::kMissingType: return "MISSING_TYPE";
    case RejectCode::kBadType: return "BAD_TYPE";
    case RejectCode::kMissingIdentity: return "MISSING_IDENTITY";
    case RejectCode::kFieldTooLong: return "FIELD_TOO_LONG";
    case RejectCode::kUnresolvedAccount: return "UNRESOLVED_ACCOUNT";
    case RejectCode::kEventTimeAhead: return "EVENT_TIME_AHEAD";
    case RejectCode::kEventTimeLate: return "EVENT_TIME_LATE";
  }
  return "UNKNOWN";
}

Reject ValidateSignal(const v1::Signal& signal) {
  if (signal.event_id().empty()) {
    return Fail(RejectCode::kMissingEventId, "missing required field event_id");
  }

  if (!signal.has_occurred_at()) {
    return Fail(RejectCode::kMissingOccurredAt,
                "missing required field occurred_at");
  }
  const auto& at = signal.occurred_at();
  if (at.seconds() == 0 && at.nanos() == 0) {
    return Fail(RejectCode::kMissingOccurredAt,
                "occurred_at is 1970-01-01T00:00:00Z, the unset value; "
                "the event time is missing");
  }
  if (at.seconds() < 0 || at.seconds() > kMaxTimestampSeconds) {
    return Fail(RejectCode::kBadTimestamp,
                StrCat("occurred_at.seconds ", at.seconds(),
                       " is outside 1970-01-01T00:00:00Z..9999-12-31T23:59:59Z"));
  }
  if (at.nanos() < 0 || at.nanos() > 999'999'999) {
    return Fail(RejectCode::kBadTimestamp,
                StrCat("occurred_at.nanos ", at.nanos(),
                       " is outside 0..999999999"));
  }

  const std::string& type = signal.type();
  if (type.empty()) {
    return Fail(RejectCode::kMissingType, "missing required field type");
  }
  if (type.size() > kMaxTypeBytes) {
    return Fail(RejectCode::kBadType,
                StrCat("type is ", type.size(), " bytes; the limit is ",
                       kMaxTypeBytes));
  }
  if (!IsNamespacedType(type)) {
    return Fail(RejectCode::kBadType,
                StrCat("type ", Quote(type),
                       " is not namespaced like \"<source>.<name>\" "
                       "(lowercase letters, digits, '_', '-', parts "
                       "separated by '.')"));
  }

  if (signal.account_id().empty() && signal.contact_id().empty() &&
      signal.email().empty() && signal.anonymous_id().empty()) {
    return Fail(RejectCode::kMissingIdentity,
                "missing identity: none of account_id, contact_id, email, "
                "anonymous_id is set");
  }
  if (type == kIdentityLinkType) {
    int ids = !signal.account_id().empty() + !signal.contact_id().empty() + !signal.email().empty() +
              !signal.anonymous_id().empty();
    if (ids < 2) {
      return Fail(RejectCode::kMissingIdentity,
                  "identity.link links two or more of account_id, contact_id, email, anonymous_id; this one has one");
    }
  }

  Reject reject;
  CheckLengths(signal, &reject);
  return reject;
}

}  // namespace demandcenter::ingest
