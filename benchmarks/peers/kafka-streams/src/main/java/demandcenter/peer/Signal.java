package demandcenter.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;

/**
 * One signal, decoded from protobuf-JSON (the contract of PRODUCT.md section 9): the
 * fields the peer's journey and rules read. Both the proto field names and their
 * lowerCamelCase JSON names are accepted, as a protobuf-JSON parser would.
 *
 * <p>The peer does no identity resolution: a signal without an account_id is
 * "malformed" for it (it is dropped, never dead-lettered).
 */
public final class Signal {
  static final ObjectMapper JSON = new ObjectMapper();
  /** 9999-12-31T23:59:59Z, the last second protobuf-JSON can write. */
  static final long MAX_SECONDS = 253402300799L;

  /** Signal's fields, proto and JSON names: anything else is refused, as a schema-bound decoder would. */
  static final java.util.Set<String> KNOWN_FIELDS = java.util.Set.of(
      "event_id", "eventId", "occurred_at", "occurredAt", "type", "account_id", "accountId", "contact_id",
      "contactId", "email", "anonymous_id", "anonymousId", "source_system", "sourceSystem", "web_visit", "webVisit",
      "email_engagement", "emailEngagement", "crm_activity", "crmActivity", "product_usage", "productUsage",
      "attributes");

  /** Why the record cannot be used, or null. */
  String error;

  String eventId = "";
  long occurredAtMs;
  String type = "";
  String accountId = "";
  String contactId = "";
  String email = "";
  String anonymousId = "";
  String sourceSystem = "";

  // web_visit
  String pageCategory = "";
  String path = "";
  String url = "";
  // email_engagement
  String bounceKind = "";
  // crm_activity
  boolean hasCrm;
  String crmObject = "";
  String opportunityStage = "";
  double amount;
  int productCount;
  String ownerId = "";
  String contactTitle = "";
  String contactRole = "";
  String accountSegment = "";
  boolean doNotContact;
  // product_usage
  boolean hasUsage;
  double usageValue;
  double usagePreviousValue;

  static Signal malformed(String why) {
    Signal s = new Signal();
    s.error = why;
    return s;
  }

  /** A synthetic signal for a fired inactivity timer (the engine's "journey.inactivity"). */
  static Signal inactivityTick(String accountId, String transitionId, long atMs) {
    Signal s = new Signal();
    s.eventId = "timer:" + accountId + ":" + transitionId + ":" + atMs;
    s.type = "journey.inactivity";
    s.accountId = accountId;
    s.occurredAtMs = atMs;
    return s;
  }

  /** Decodes one record value; never throws (a bad record comes back with {@link #error}). */
  static Signal parse(byte[] bytes) {
    if (bytes == null || bytes.length == 0) return malformed("empty record");
    JsonNode n;
    try {
      n = JSON.readTree(bytes);
    } catch (Exception e) {
      return malformed("invalid JSON");
    }
    if (n == null || !n.isObject()) return malformed("a Signal must be a JSON object");
    for (var names = n.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!KNOWN_FIELDS.contains(name)) return malformed("unknown JSON field " + name);
    }
    Signal s = new Signal();
    s.eventId = text(n, "event_id", "eventId");
    s.type = text(n, "type", "type");
    s.accountId = text(n, "account_id", "accountId");
    s.contactId = text(n, "contact_id", "contactId");
    s.email = text(n, "email", "email");
    s.anonymousId = text(n, "anonymous_id", "anonymousId");
    s.sourceSystem = text(n, "source_system", "sourceSystem");
    if (s.eventId.isEmpty()) return malformed("missing event_id");
    String at = text(n, "occurred_at", "occurredAt");
    if (at.isEmpty()) return malformed("missing occurred_at");
    try {
      OffsetDateTime t = OffsetDateTime.parse(at, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
      long seconds = t.toEpochSecond();
      if (seconds < 0 || seconds > MAX_SECONDS) return malformed("occurred_at out of range");
      if (seconds == 0 && t.getNano() == 0) return malformed("occurred_at unset");
      s.occurredAtMs = seconds * 1000 + t.getNano() / 1_000_000;
    } catch (Exception e) {
      return malformed("bad occurred_at");
    }
    if (s.type.isEmpty()) return malformed("missing type");
    if (!namespacedType(s.type)) return malformed("bad type");
    if (s.accountId.isEmpty()) return malformed("no account_id (the peer does no identity resolution)");

    JsonNode web = field(n, "web_visit", "webVisit");
    if (web != null) {
      s.pageCategory = text(web, "page_category", "pageCategory");
      s.path = text(web, "path", "path");
      s.url = text(web, "url", "url");
    }
    JsonNode mail = field(n, "email_engagement", "emailEngagement");
    if (mail != null) {
      JsonNode k = field(mail, "bounce_kind", "bounceKind");
      if (k != null) {
        String v = k.asText();
        s.bounceKind = v.equals("1") ? "HARD" : v.equals("2") ? "SOFT" : v.startsWith("BOUNCE_KIND_") ? "" : v;
      }
    }
    JsonNode crm = field(n, "crm_activity", "crmActivity");
    if (crm != null) {
      s.hasCrm = true;
      s.crmObject = text(crm, "object", "object");
      s.opportunityStage = text(crm, "opportunity_stage", "opportunityStage");
      s.amount = number(crm, "amount", "amount");
      s.productCount = (int) number(crm, "product_count", "productCount");
      s.ownerId = text(crm, "owner_id", "ownerId");
      s.contactTitle = text(crm, "contact_title", "contactTitle");
      s.contactRole = text(crm, "contact_role", "contactRole");
      s.accountSegment = text(crm, "account_segment", "accountSegment");
      JsonNode dnc = field(crm, "do_not_contact", "doNotContact");
      s.doNotContact = dnc != null && (dnc.asBoolean() || dnc.asText().equals("true"));
    }
    JsonNode usage = field(n, "product_usage", "productUsage");
    if (usage != null) {
      s.hasUsage = true;
      s.usageValue = number(usage, "value", "value");
      s.usagePreviousValue = number(usage, "previous_value", "previousValue");
    }
    return s;
  }

  /** At least two non-empty dot-separated parts of [a-z0-9_-], as the engine requires. */
  static boolean namespacedType(String type) {
    int parts = 0, len = 0;
    for (int i = 0; i < type.length(); i++) {
      char c = type.charAt(i);
      if (c == '.') {
        if (len == 0) return false;
        parts++;
        len = 0;
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
        len++;
      } else {
        return false;
      }
    }
    return len > 0 && parts >= 1;
  }

  private static JsonNode field(JsonNode n, String name, String camel) {
    JsonNode v = n.get(name);
    if (v == null) v = n.get(camel);
    return v == null || v.isNull() ? null : v;
  }

  private static String text(JsonNode n, String name, String camel) {
    JsonNode v = field(n, name, camel);
    return v == null || !v.isValueNode() ? "" : v.asText();
  }

  private static double number(JsonNode n, String name, String camel) {
    JsonNode v = field(n, name, camel);
    if (v == null) return 0;
    if (v.isNumber()) return v.asDouble();
    try {
      return Double.parseDouble(v.asText());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
