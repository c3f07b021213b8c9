package demandcenter.peer;

import static demandcenter.peer.Cond.when;

import java.util.List;
import java.util.Map;

/**
 * deploy/config/demandcenter.yaml, the parts the peer implements, written out in Java (the
 * peer reads no YAML: change this file to change its rules). Section names follow the YAML.
 */
public final class DefaultConfig {
  private DefaultConfig() {}

  static final long SECOND = 1000L;
  static final long HOUR = 3600 * SECOND;
  static final long DAY = 24 * HOUR;

  static final String RULES_VERSION = "2026.11-1";

  // event_time: and state.dedup_window
  static final long MAX_AHEAD_MS = HOUR;
  static final long MAX_LATE_MS = 7 * DAY;
  static final long DEDUP_WINDOW_MS = 7 * DAY;

  // journey:
  static final String INITIAL_STAGE = "unaware";
  /** journey.max_chain's default: the number of stages. */
  static final int MAX_CHAIN = 9;

  /** A transition: a guard ({@code when}) or an inactivity timer ({@code inactiveForMs > 0}). */
  record Transition(String id, List<String> from, String to, Cond when, long inactiveForMs) {
    static Transition on(String id, List<String> from, String to, Cond when) {
      return new Transition(id, from, to, when, 0);
    }

    static Transition inactive(String id, List<String> from, String to, long inactiveForMs) {
      return new Transition(id, from, to, null, inactiveForMs);
    }

    boolean fromMatches(String stage) {
      return from.isEmpty() ? !to.equals(stage) : from.contains(stage);
    }
  }

  static final List<Transition> TRANSITIONS = List.of(
      // First touch: any web or email engagement makes the account aware of us.
      Transition.on("first_touch", List.of("unaware"), "aware",
          when().type("web.*", "email.open", "email.click", "email.reply")),
      // Repeated engagement: the account's score passes the engaged threshold.
      Transition.on("engagement_threshold", List.of("aware"), "engaged",
          when().scoreAtLeast(12)),
      // Buying intent: a demo request, pricing looked at more than once in two weeks, or
      // two or more people engaged with a solid score.
      Transition.on("buying_intent", List.of("aware", "engaged"), "evaluating",
          when().any(
              when().type("web.demo_request"),
              when().countPricingViews(14 * DAY, 2, false),
              when().committeeSizeAtLeast(2).scoreAtLeast(30))),
      // Sales has an opportunity in proposal or negotiation.
      Transition.on("opportunity_late_stage", List.of("unaware", "aware", "engaged", "evaluating", "dormant"),
          "negotiating",
          when().type("crm.opportunity_stage").match("opportunity_stage", "proposal", "negotiation")),
      Transition.on("deal_won", List.of("unaware", "aware", "engaged", "evaluating", "negotiating", "dormant"),
          "customer",
          when().type("crm.deal_won")),
      // A lost deal goes back to nurture.
      Transition.on("deal_lost", List.of("evaluating", "negotiating"), "engaged",
          when().type("crm.deal_lost")),
      // A customer buying more: a second opportunity or a usage surge.
      Transition.on("expansion_opportunity", List.of("customer"), "expanding",
          when().any(
              when().type("crm.opportunity_stage").match("opportunity_stage", "qualification", "discovery", "proposal"),
              when().type("web.pricing_view").timeInStageAtLeast(30 * DAY))),
      Transition.on("expansion_won", List.of("expanding"), "customer",
          when().type("crm.deal_won")),
      // Customers whose usage falls sharply are at risk.
      Transition.on("usage_drop_risk", List.of("customer", "expanding"), "at_risk",
          when().type("product.usage").usageDropAtLeast(0.3)),
      Transition.inactive("customer_silent", List.of("customer", "expanding"), "at_risk", 30 * DAY),
      Transition.on("risk_recovered", List.of("at_risk"), "customer",
          when().any(
              when().type("crm.meeting_held"),
              // usage steady or growing again (dropped less than 5%)
              when().type("product.usage").none(when().usageDropAtLeast(0.05)),
              when().type("crm.deal_won"))),
      // Prospects that go quiet for 45 days are dormant...
      Transition.inactive("prospect_silent", List.of("aware", "engaged", "evaluating"), "dormant", 45 * DAY),
      // ...and come back with fresh engagement.
      Transition.on("reengaged", List.of("dormant"), "engaged",
          when().type("web.*", "email.click", "email.reply").scoreAtLeast(5)));

  // scoring:
  static final long HALF_LIFE_MS = 14 * DAY;
  static final double DEFAULT_WEIGHT = 0;
  /** First matching pattern wins (insertion order). */
  static final Map<String, Double> WEIGHTS = orderedMap(
      "web.demo_request", 25, "web.pricing_view", 8, "web.form_submit", 10, "web.page_view", 1,
      "email.reply", 12, "email.click", 3, "email.open", 1, "crm.meeting_held", 15,
      "crm.opportunity_stage", 5, "product.usage", 1, "email.unsubscribe", -5, "email.bounce", 0);

  // committee:
  static final long COMMITTEE_WINDOW_MS = 30 * DAY;
  /** Title keywords per role; the first role with a keyword at the start of a word wins. */
  static final List<Map.Entry<String, List<String>>> COMMITTEE_ROLES = List.of(
      Map.entry("decision_maker", List.of("ceo", "chief", "president", "founder", "owner", "vp", "svp", "evp",
          "vice president", "general manager")),
      Map.entry("finance", List.of("cfo", "finance", "controller", "treasurer")),
      Map.entry("procurement", List.of("procurement", "purchasing", "buyer", "sourcing")),
      Map.entry("technical", List.of("cto", "engineer", "architect", "developer", "it manager", "it director",
          "devops", "security")),
      Map.entry("champion", List.of("director", "head of", "manager")),
      Map.entry("user", List.of("analyst", "specialist", "coordinator", "associate")));

  // routing.auto: what makes a deal complex (the rules' `complex_deal`)
  static final double LARGE_DEAL = 100000;
  static final int LARGE_COMMITTEE = 4;
  static final int MANY_PRODUCTS = 3;
  static final List<String> COMPLEX_SEGMENTS = List.of("enterprise");

  /** The count series the conditions read (web.pricing_view), kept as long as its longest window. */
  static final String PRICING_SERIES_TYPE = "web.pricing_view";
  static final long PRICING_SERIES_KEEP_MS = 14 * DAY;

  /**
   * A rule: `when` to an action. The peer keeps the rule's own cool-down; it does not route
   * (`channel: auto` stays "auto"), prompt, apply the contact policy or run experiments.
   */
  record Rule(String id, Cond when, String action, String channel, String role, int priority, long cooldownMs,
              long expiresMs, String reason) {}

  static final String AUTO = "auto";

  static final List<Rule> RULES = List.of(
      new Rule("demo_request_sdr", when().type("web.demo_request"),
          "book_demo", "INSIDE_SALES", "sdr", 95, 3 * DAY, 2 * DAY, "demo requested"),
      new Rule("pricing_surge_specialist",
          when().type("web.pricing_view").countPricingViews(7 * DAY, 2, true).stage("engaged", "evaluating")
              .complexDeal(true),
          "pricing_consultation", "SPECIALIST", "pricing_specialist", 85, 7 * DAY, 3 * DAY,
          "pricing-page surge from the buying committee"),
      new Rule("proposal_field_ae",
          when().type("crm.opportunity_stage").match("opportunity_stage", "proposal").complexDeal(true),
          "proposal_follow_up", "FIELD_SALES", "field_ae", 80, 14 * DAY, 7 * DAY, "opportunity moved to proposal"),
      new Rule("proposal_inside_sales",
          when().type("crm.opportunity_stage").match("opportunity_stage", "proposal").complexDeal(false),
          "proposal_follow_up", "INSIDE_SALES", "sdr", 80, 14 * DAY, 3 * DAY, "proposal out on a routine deal"),
      new Rule("unsubscribe_stop_email", when().type("email.unsubscribe"),
          "stop_marketing_email", "DIGITAL", "marketing_ops", 100, 0, DAY, "contact unsubscribed"),
      new Rule("hard_bounce_fix_contact", when().type("email.bounce").match("bounce_kind", "HARD"),
          "fix_contact_record", "DIGITAL", "marketing_ops", 40, 30 * DAY, 14 * DAY, "email address bounced hard"),
      new Rule("usage_drop_csm",
          when().type("product.usage").usageDropAtLeast(0.3).stage("customer", "expanding", "at_risk"),
          "health_check_call", "CUSTOMER_SUCCESS", "csm", 90, 14 * DAY, 5 * DAY, "product usage dropped"),
      new Rule("email_reply_sdr", when().type("email.reply").stage("aware", "engaged", "evaluating", "dormant"),
          "follow_up_reply", "INSIDE_SALES", "sdr", 75, 2 * DAY, 2 * DAY, "contact replied to an email"),
      new Rule("hot_account", when().scoreAtLeast(40).stage("engaged", "evaluating").type("web.*", "email.click"),
          "qualify_interest", AUTO, "", 60, 14 * DAY, 3 * DAY, "engagement score crossed 40"),
      new Rule("engaged_research",
          when().type("web.page_view", "email.click").stage("engaged").scoreAtLeast(20),
          "tailored_follow_up", AUTO, "", 45, 21 * DAY, 5 * DAY, "engaged account researching"),
      new Rule("technical_evaluation_se",
          when().type("web.page_view").match("page_category", "docs").stage("evaluating", "negotiating")
              .committeeRoles("technical").complexDeal(true),
          "technical_deep_dive", "SPECIALIST", "sales_engineer", 70, 14 * DAY, 5 * DAY,
          "technical evaluators reading the docs"),
      new Rule("meeting_next_step",
          when().type("crm.meeting_held").stage("evaluating", "negotiating", "customer", "expanding"),
          "next_step_after_meeting", AUTO, "", 55, 7 * DAY, 3 * DAY, "meeting held"),
      new Rule("engaged_nurture", when().enteredStage("engaged").stage("engaged"),
          "start_nurture_sequence", "EMAIL", "marketing", 30, 30 * DAY, 14 * DAY, "account became engaged"),
      new Rule("dormant_reengage", when().enteredStage("dormant"),
          "reengagement_campaign", "EMAIL", "marketing", 20, 60 * DAY, 30 * DAY, "no engagement for 45 days"),
      new Rule("deal_won_onboarding", when().type("crm.deal_won"),
          "kickoff_onboarding", "CUSTOMER_SUCCESS", "csm", 90, 30 * DAY, 7 * DAY, "deal won"),
      new Rule("deal_lost_nurture", when().type("crm.deal_lost"),
          "lost_deal_nurture", "DIGITAL", "marketing", 35, 30 * DAY, 30 * DAY, "deal lost"),
      new Rule("expansion_pricing_owner", when().type("web.pricing_view").stage("customer", "expanding"),
          "expansion_conversation", AUTO, "", 65, 21 * DAY, 7 * DAY, "customer viewing pricing"),
      new Rule("at_risk_save", when().enteredStage("at_risk"),
          "save_play", "CUSTOMER_SUCCESS", "csm", 88, 21 * DAY, 7 * DAY, "customer at risk"));

  private static Map<String, Double> orderedMap(Object... kv) {
    java.util.LinkedHashMap<String, Double> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], ((Number) kv[i + 1]).doubleValue());
    return java.util.Collections.unmodifiableMap(m);
  }
}
