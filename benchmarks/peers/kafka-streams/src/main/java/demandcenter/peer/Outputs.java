package demandcenter.peer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * The JSON the peer writes: StageTransition and NextBestAction with the contract's field
 * names (PRODUCT.md section 9), the subset the peer knows. Times as protobuf-JSON writes them
 * (RFC 3339, UTC, 0/3/6/9 fraction digits).
 */
final class Outputs {
  private Outputs() {}

  static String time(long ms) {
    return Instant.ofEpochMilli(ms).toString();
  }

  /** A deterministic id (same input, same id): 64-bit FNV-1a of the parts, in hex. */
  static String id(String prefix, String... parts) {
    long h = 0xcbf29ce484222325L;
    for (String p : parts) {
      for (byte b : p.getBytes(StandardCharsets.UTF_8)) {
        h ^= (b & 0xff);
        h *= 0x100000001b3L;
      }
      h ^= 0x1f;
      h *= 0x100000001b3L;
    }
    return prefix + "-" + String.format("%016x", h);
  }

  static String transition(String accountId, Journey.Fired f, String triggerEventId) {
    ObjectNode o = Signal.JSON.createObjectNode();
    o.put("transition_id", id("trn", accountId, f.transition().id(), triggerEventId));
    o.put("account_id", accountId);
    o.put("from_stage", f.from());
    o.put("to_stage", f.to());
    o.put("at", time(f.atMs()));
    o.put("rule_id", f.transition().id());
    o.put("dwell_seconds", f.dwellMs() / 1000);
    o.putArray("trigger_event_ids").add(triggerEventId);
    o.put("rules_version", DefaultConfig.RULES_VERSION);
    return o.toString();
  }

  static String action(String accountId, Signal s, DefaultConfig.Rule r, String stage, long decidedMs) {
    ObjectNode o = Signal.JSON.createObjectNode();
    o.put("action_id", id("nba", accountId, r.id(), s.eventId));
    o.put("account_id", accountId);
    if (!s.contactId.isEmpty()) o.put("contact_id", s.contactId);
    o.put("action", r.action());
    o.put("channel", r.channel());
    if (!r.role().isEmpty()) o.put("role", r.role());
    o.put("priority", r.priority());
    o.put("stage", stage);
    o.put("decided_at", time(decidedMs));
    o.put("send_at", time(decidedMs));
    o.put("expires_at", time(decidedMs + r.expiresMs()));
    o.put("rule_id", r.id());
    o.putArray("trigger_event_ids").add(s.eventId);
    o.put("rules_version", DefaultConfig.RULES_VERSION);
    o.put("reason", r.reason());
    return o.toString();
  }
}
