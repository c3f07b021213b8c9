package demandcenter.peer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Per-account work on one signal: dedup, state updates (score, contacts, counts, CRM facts,
 * usage), the stage machine and the inactivity timers. Mirrors src/journey/journey.cc for the
 * default config.
 */
final class Journey {
  private Journey() {}

  /** A transition that fired. */
  record Fired(DefaultConfig.Transition transition, String from, String to, long atMs, long dwellMs) {}

  /**
   * Remembers the event id; false when it was seen within the dedup window (a duplicate, to be
   * ignored). The window ends at the later of this event and the account's latest signal.
   */
  static boolean recordEventId(Signal s, AccountState a) {
    long horizon = Math.max(s.occurredAtMs, a.lastSignalMs) - DefaultConfig.DEDUP_WINDOW_MS;
    for (int i = 0; i < a.seenIds.size(); i++) {
      if (a.seenIds.get(i).equals(s.eventId) && a.seenAtMs.get(i) >= horizon) return false;
    }
    for (int i = a.seenIds.size() - 1; i >= 0; i--) {
      if (a.seenAtMs.get(i) < horizon) {
        a.seenIds.remove(i);
        a.seenAtMs.remove(i);
      }
    }
    a.seenIds.add(s.eventId);
    a.seenAtMs.add(s.occurredAtMs);
    return true;
  }

  static void applySignal(Signal s, AccountState a) {
    long at = s.occurredAtMs;
    a.lastSignalMs = Math.max(a.lastSignalMs, at);
    AccountState.Contact contact = findOrAddContact(s, a);
    if (s.hasCrm) {
      if (!s.accountSegment.isEmpty()) a.segment = s.accountSegment;
      if (s.amount > 0) a.opportunityAmount = s.amount;
      if (s.productCount > 0) a.productCount = s.productCount;
      if (contact != null) {
        if (!s.contactTitle.isEmpty()) contact.title = s.contactTitle;
        if (!s.contactRole.isEmpty()) {
          contact.role = s.contactRole;
        } else if (!s.contactTitle.isEmpty()) {
          String role = roleForTitle(s.contactTitle);
          if (!role.isEmpty()) contact.role = role;
        }
      }
    }
    if (s.hasUsage) {
      double prev = s.usagePreviousValue;
      double drop = prev > 0 ? (prev - s.usageValue) / prev : 0;
      a.usageDrop = Math.max(0.0, drop);
    }
    double weight = Scoring.weight(s.type);
    Scoring.add(a, weight, at);
    if (weight > 0) {
      a.lastEngagedMs = Math.max(a.lastEngagedMs, at);
      if (contact != null) contact.lastEngagedMs = Math.max(contact.lastEngagedMs, at);
    }
    if (s.type.equals(DefaultConfig.PRICING_SERIES_TYPE)) {
      recordPricingView(a, at, s.contactId.isEmpty() ? s.email : s.contactId);
    }
  }

  /** The count series: drop what is older than the longest window, insert in time order. */
  private static void recordPricingView(AccountState a, long at, String contactKey) {
    long keepFrom = at - DefaultConfig.PRICING_SERIES_KEEP_MS;
    int drop = 0;
    while (drop < a.pricingAtMs.size() && a.pricingAtMs.get(drop) <= keepFrom) drop++;
    if (drop > 0) {
      a.pricingAtMs.subList(0, drop).clear();
      a.pricingContact.subList(0, drop).clear();
    }
    if (at <= keepFrom) return;
    int pos = a.pricingAtMs.size();
    while (pos > 0 && a.pricingAtMs.get(pos - 1) > at) pos--;
    a.pricingAtMs.add(pos, at);
    a.pricingContact.add(pos, contactKey);
  }

  /** The signal's contact: by contact id, else by address; an address-only twin is merged in. */
  private static AccountState.Contact findOrAddContact(Signal s, AccountState a) {
    if (s.contactId.isEmpty() && s.email.isEmpty()) return null;
    for (AccountState.Contact c : a.contacts) {
      boolean same = (!s.contactId.isEmpty() && c.contactId.equals(s.contactId))
          || (s.contactId.isEmpty() && !s.email.isEmpty() && c.email.equals(s.email))
          || (!s.contactId.isEmpty() && c.contactId.isEmpty() && !s.email.isEmpty() && c.email.equals(s.email));
      if (same) {
        if (c.contactId.isEmpty()) c.contactId = s.contactId;
        if (c.email.isEmpty()) c.email = s.email;
        return mergeDuplicateAddress(a, c);
      }
    }
    AccountState.Contact c = new AccountState.Contact();
    c.contactId = s.contactId;
    c.email = s.email;
    a.contacts.add(c);
    return c;
  }

  private static AccountState.Contact mergeDuplicateAddress(AccountState a, AccountState.Contact keep) {
    if (keep.email.isEmpty() || keep.contactId.isEmpty()) return keep;
    List<AccountState.Contact> contacts = a.contacts;
    for (int i = 0; i < contacts.size(); i++) {
      AccountState.Contact other = contacts.get(i);
      if (other == keep || !other.contactId.isEmpty() || !other.email.equals(keep.email)) continue;
      if (keep.title.isEmpty()) keep.title = other.title;
      if (keep.role.isEmpty()) keep.role = other.role;
      keep.lastEngagedMs = Math.max(keep.lastEngagedMs, other.lastEngagedMs);
      Collections.swap(contacts, i, contacts.size() - 1);
      contacts.remove(contacts.size() - 1);
      return keep;
    }
    return keep;
  }

  /** The first role with a keyword at the start of a word of the title (case-insensitive). */
  static String roleForTitle(String title) {
    if (title.isEmpty()) return "";
    String lower = asciiLower(title);
    for (Map.Entry<String, List<String>> role : DefaultConfig.COMMITTEE_ROLES) {
      for (String k : role.getValue()) {
        if (startsAWord(lower, k)) return role.getKey();
      }
    }
    return "";
  }

  private static String asciiLower(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      b.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
    }
    return b.toString();
  }

  private static boolean startsAWord(String text, String keyword) {
    if (keyword.isEmpty()) return false;
    for (int pos = text.indexOf(keyword); pos >= 0; pos = text.indexOf(keyword, pos + 1)) {
      if (pos == 0 || !isAsciiAlnum(text.charAt(pos - 1))) return true;
    }
    return false;
  }

  private static boolean isAsciiAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  /**
   * The stage machine after a signal: the first transition (in config order) from the current
   * stage whose guard holds fires, then the same from the new stage; each at most once per signal.
   */
  static List<Fired> advance(Signal s, AccountState a) {
    List<Fired> fired = new ArrayList<>();
    List<String> entered = new ArrayList<>();
    long now = s.occurredAtMs;
    for (int step = 0; step < DefaultConfig.MAX_CHAIN; step++) {
      DefaultConfig.Transition next = null;
      for (DefaultConfig.Transition t : DefaultConfig.TRANSITIONS) {
        if (t.inactiveForMs() > 0 || !t.fromMatches(a.stage)) continue;
        boolean already = false;
        for (Fired f : fired) already |= f.transition() == t;
        if (already) continue;
        if (t.when().holds(new Cond.Ctx(s, a, now, entered))) {
          next = t;
          break;
        }
      }
      if (next == null) break;
      long at = Math.max(now, a.stageEnteredMs);
      fired.add(new Fired(next, a.stage, next.to(), at, at - a.stageEnteredMs));
      a.stage = next.to();
      a.stageEnteredMs = at;
      entered.add(next.to());
    }
    return fired;
  }

  /** When the account's inactivity timer is due (0: no inactivity transition from its stage). */
  static long nextInactivityDue(AccountState a) {
    long best = 0;
    long since = Math.max(a.lastEngagedMs, a.stageEnteredMs);
    for (DefaultConfig.Transition t : DefaultConfig.TRANSITIONS) {
      if (t.inactiveForMs() == 0 || !t.fromMatches(a.stage)) continue;
      long due = since + t.inactiveForMs();
      if (best == 0 || due < best) best = due;
    }
    return best;
  }

  /** Fires the inactivity transition due at nowMs, if one is; stamped at its due time. */
  static Fired fireInactivity(AccountState a, long nowMs) {
    long since = Math.max(a.lastEngagedMs, a.stageEnteredMs);
    DefaultConfig.Transition best = null;
    for (DefaultConfig.Transition t : DefaultConfig.TRANSITIONS) {
      if (t.inactiveForMs() == 0 || !t.fromMatches(a.stage)) continue;
      if (since + t.inactiveForMs() > nowMs) continue;
      if (best == null || t.inactiveForMs() < best.inactiveForMs()) best = t;
    }
    if (best == null) return null;
    long at = since + best.inactiveForMs();
    Fired f = new Fired(best, a.stage, best.to(), at, at - a.stageEnteredMs);
    a.stage = best.to();
    a.stageEnteredMs = at;
    return f;
  }

  /**
   * The peer's simple next best action: among the rules whose `when` holds and whose own
   * cool-down has passed, the one with the highest priority (file order on ties). No
   * propensity, context weights, contact policy, experiments or routing.
   */
  static DefaultConfig.Rule decide(Signal s, AccountState a, long nowMs, List<String> entered) {
    Cond.Ctx ctx = new Cond.Ctx(s, a, nowMs, entered);
    DefaultConfig.Rule best = null;
    for (DefaultConfig.Rule r : DefaultConfig.RULES) {
      if (!r.when().holds(ctx)) continue;
      Long last = a.fired.get(r.id());
      if (r.cooldownMs() > 0 && last != null && nowMs - last < r.cooldownMs()) continue;
      if (best == null || r.priority() > best.priority()) best = r;
    }
    if (best != null) a.fired.merge(best.id(), nowMs, Math::max);
    return best;
  }
}
