package demandcenter.peer;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A guard or rule condition, the `when:` of the config (docs/rules.md, "Conditions"): every
 * key present must hold; {@code any} is an OR, {@code none} a NOR. Built in Java with
 * {@link #when()} and chained setters so that {@link DefaultConfig} reads like the YAML.
 * Evaluated in the engine's order (src/condition/condition.cc).
 */
public final class Cond {
  List<String> types = List.of();
  /** Signal field to accepted values (globs): the `match:` key. */
  Map<String, List<String>> matches = Map.of();
  List<String> stages = List.of();
  List<String> enteredStages = List.of();
  Double scoreAtLeast;
  Integer committeeSizeAtLeast;
  List<String> committeeRoles = List.of();
  /** `count:` on the web.pricing_view series, the only one the default config's guards and rules use. */
  Long countWithinMs;
  int countAtLeast;
  boolean countDistinctContacts;
  Long timeInStageAtLeastMs;
  Boolean complexDeal;
  Double usageDropAtLeast;
  List<Cond> any = List.of();
  List<Cond> none = List.of();

  static Cond when() {
    return new Cond();
  }

  Cond type(String... patterns) {
    types = List.of(patterns);
    return this;
  }

  Cond match(String field, String... values) {
    matches = Map.of(field, List.of(values));
    return this;
  }

  Cond stage(String... names) {
    stages = List.of(names);
    return this;
  }

  Cond enteredStage(String... names) {
    enteredStages = List.of(names);
    return this;
  }

  Cond scoreAtLeast(double v) {
    scoreAtLeast = v;
    return this;
  }

  Cond committeeSizeAtLeast(int v) {
    committeeSizeAtLeast = v;
    return this;
  }

  Cond committeeRoles(String... roles) {
    committeeRoles = List.of(roles);
    return this;
  }

  /** count: {type: web.pricing_view, within, at_least, distinct_contacts}. */
  Cond countPricingViews(long withinMs, int atLeast, boolean distinctContacts) {
    countWithinMs = withinMs;
    countAtLeast = atLeast;
    countDistinctContacts = distinctContacts;
    return this;
  }

  Cond timeInStageAtLeast(long ms) {
    timeInStageAtLeastMs = ms;
    return this;
  }

  Cond complexDeal(boolean v) {
    complexDeal = v;
    return this;
  }

  Cond usageDropAtLeast(double v) {
    usageDropAtLeast = v;
    return this;
  }

  Cond any(Cond... subs) {
    any = List.of(subs);
    return this;
  }

  Cond none(Cond... subs) {
    none = List.of(subs);
    return this;
  }

  /** What a condition is evaluated against: the signal, the account, now, the stages just entered. */
  static final class Ctx {
    final Signal signal;
    final AccountState account;
    final long nowMs;
    final List<String> entered;
    private Double score;
    private int committeeSize = -1;
    private TreeSet<String> committeeRoles;

    Ctx(Signal signal, AccountState account, long nowMs, List<String> entered) {
      this.signal = signal;
      this.account = account;
      this.nowMs = nowMs;
      this.entered = entered;
    }

    double score() {
      if (score == null) score = Scoring.decayed(account.scoreValue, account.scoreAsOfMs, nowMs);
      return score;
    }

    /** Contacts with engagement within the committee window, and their roles. */
    int committeeSize() {
      if (committeeSize < 0) {
        committeeSize = 0;
        committeeRoles = new TreeSet<>();
        for (AccountState.Contact c : account.contacts) {
          if (c.lastEngagedMs == 0) continue;
          if (c.lastEngagedMs < nowMs - DefaultConfig.COMMITTEE_WINDOW_MS) continue;
          committeeSize++;
          if (!c.role.isEmpty()) committeeRoles.add(c.role);
        }
      }
      return committeeSize;
    }

    TreeSet<String> committeeRoles() {
      committeeSize();
      return committeeRoles;
    }

    /** web.pricing_view occurrences in (now - within, now], or their distinct contacts. */
    int countPricingViews(long withinMs, boolean distinctContacts) {
      long from = nowMs - withinMs;
      List<Long> at = account.pricingAtMs;
      if (!distinctContacts) {
        int n = 0;
        for (long t : at) n += (t > from && t <= nowMs) ? 1 : 0;
        return n;
      }
      TreeSet<String> contacts = new TreeSet<>();
      for (int i = 0; i < at.size(); i++) {
        String c = account.pricingContact.get(i);
        if (at.get(i) > from && at.get(i) <= nowMs && !c.isEmpty()) contacts.add(c);
      }
      return contacts.size();
    }

    /** routing.auto's measures of a complex deal: amount, committee, products, segment. */
    boolean complexDeal() {
      return account.opportunityAmount >= DefaultConfig.LARGE_DEAL
          || committeeSize() >= DefaultConfig.LARGE_COMMITTEE
          || account.productCount >= DefaultConfig.MANY_PRODUCTS
          || (!account.segment.isEmpty() && DefaultConfig.COMPLEX_SEGMENTS.contains(account.segment));
    }
  }

  boolean holds(Ctx ctx) {
    if (!types.isEmpty() && !Glob.any(types, ctx.signal.type)) return false;
    for (Map.Entry<String, List<String>> m : matches.entrySet()) {
      if (!Glob.any(m.getValue(), fieldValue(ctx.signal, ctx.account, m.getKey()))) return false;
    }
    if (!stages.isEmpty() && !stages.contains(ctx.account.stage)) return false;
    if (!enteredStages.isEmpty()) {
      boolean entered = false;
      for (String s : ctx.entered) entered |= enteredStages.contains(s);
      if (!entered) return false;
    }
    if (scoreAtLeast != null && ctx.score() < scoreAtLeast) return false;
    if (committeeSizeAtLeast != null && ctx.committeeSize() < committeeSizeAtLeast) return false;
    for (String role : committeeRoles) {
      if (!ctx.committeeRoles().contains(role)) return false;
    }
    if (countWithinMs != null && ctx.countPricingViews(countWithinMs, countDistinctContacts) < countAtLeast) {
      return false;
    }
    if (timeInStageAtLeastMs != null && ctx.nowMs - ctx.account.stageEnteredMs < timeInStageAtLeastMs) return false;
    if (complexDeal != null && ctx.complexDeal() != complexDeal) return false;
    if (usageDropAtLeast != null && ctx.account.usageDrop < usageDropAtLeast) return false;
    if (!any.isEmpty()) {
      boolean one = false;
      for (Cond sub : any) {
        if (sub.holds(ctx)) {
          one = true;
          break;
        }
      }
      if (!one) return false;
    }
    for (Cond sub : none) {
      if (sub.holds(ctx)) return false;
    }
    return true;
  }

  /** The signal fields the default config's `match:` keys read. */
  static String fieldValue(Signal s, AccountState a, String field) {
    switch (field) {
      case "page_category": return s.pageCategory;
      case "bounce_kind": return s.bounceKind;
      case "opportunity_stage": return s.opportunityStage;
      case "segment": return a.segment;
      default: throw new IllegalArgumentException("the peer does not read field " + field);
    }
  }

  /** The engine's glob: '*' matches any run of characters. */
  static final class Glob {
    static boolean any(List<String> patterns, String text) {
      for (String p : patterns) {
        if (match(p, text)) return true;
      }
      return false;
    }

    static boolean match(String pattern, String text) {
      int p = 0, t = 0, star = -1, mark = 0;
      while (t < text.length()) {
        if (p < pattern.length() && pattern.charAt(p) == '*') {
          star = p++;
          mark = t;
        } else if (p < pattern.length() && pattern.charAt(p) == text.charAt(t)) {
          p++;
          t++;
        } else if (star >= 0) {
          p = star + 1;
          t = ++mark;
        } else {
          return false;
        }
      }
      while (p < pattern.length() && pattern.charAt(p) == '*') p++;
      return p == pattern.length();
    }
  }
}
