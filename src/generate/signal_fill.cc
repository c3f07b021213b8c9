// SignalFiller: ids and names derived from the seed and the account, and
// the fields of each kind of signal.
#include "src/generate/signal_fill.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string_view>

#include "demandcenter/common/civil.h"
#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::generate {
namespace {

// The low `digits` hex digits of `v`.
void AppendHex(uint64_t v, int digits, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(v >> (4 * i)) & 0xf]);
}

// `v` in decimal, zero-padded to `width`.
void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  int len = static_cast<int>(end - buf);
  if (len < width) out->append(width - len, '0');
  out->append(buf, end);
}

// Opens an opportunity unless one is open: its amount, products and an
// owner for the account.
void OpenOpportunity(Account& a) {
  if (a.flags & kFlagOppOpen) return;
  a.flags |= kFlagOppOpen;
  ++a.opp_count;
  Rng& r = a.rng;
  double lo = a.size == kSmb ? 5000 : a.size == kMidMarket ? 30000 : 150000;
  double hi = a.size == kSmb ? 30000 : a.size == kMidMarket ? 150000 : 2000000;
  // Log-uniform, rounded to 500.
  double amount = lo * Pow(hi / lo, r.Uniform());
  if (a.opp_count > 1) amount *= 0.4;  // expansions are smaller
  a.amount = static_cast<float>(std::round(amount / 500) * 500);
  a.product_count = static_cast<uint8_t>(r.Int(1, a.size == kSmb ? 3 : a.size == kMidMarket ? 5 : 8));
  if (a.owner == 0) a.owner = static_cast<uint8_t>(r.Int(1, 12));  // the CRM assigns one
}

}  // namespace

SignalFiller::SignalFiller(const GeneratorOptions& options)
    : o_(options), id_key_(Mix64(options.seed + 0x1d1d1d1d1d1d1d1dULL)) {}

std::string SignalFiller::EventIdOf(uint64_t seq) const {
  std::string id = "evt-";
  AppendHex(Mix64(seq ^ id_key_), 16, &id);
  return id;
}

std::string SignalFiller::AccountId(int32_t index) const {
  std::string id = "acct-";
  AppendPadded(index + 1, 6, &id);
  return id;
}

// The visitor cookie of the account's web visits.
std::string SignalFiller::AnonymousId(int32_t index) const {
  std::string id = "anon-";
  AppendHex(Hash(index, 7), 12, &id);
  return id;
}

std::string SignalFiller::ContactId(int32_t index, int contact) const {
  std::string id = "ct-";
  AppendPadded(index + 1, 6, &id);
  id.push_back('-');
  AppendPadded(contact + 1, 2, &id);
  return id;
}

std::string SignalFiller::CompanyName(int32_t index) const {
  uint64_t h = Hash(index, 1);
  return StrCat(kNameHeads[Below(h, kNameHeads.size())],
                kNameTails[Below(Mix64(h), kNameTails.size())], " ",
                kNameWords[Below(Mix64(h + 1), kNameWords.size())]);
}

// The company name, lower-cased without spaces, and the account number:
// company names repeat across many accounts, domains never do.
std::string SignalFiller::Domain(int32_t index, const Account& a) const {
  std::string domain;
  for (char c : CompanyName(index)) {
    if (c != ' ') domain.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return StrCat(domain, index + 1, ".", kZones[a.zone].tld);
}

// first.last@domain; a contact whose name an earlier contact of the account
// has gets its number too (first.last3@...).
std::string SignalFiller::Email(int32_t index, const Account& a, int contact) const {
  auto name = [&](int c) {
    uint64_t h = Hash(index, 100 + c);
    return StrCat(kFirstNames[Below(h, kFirstNames.size())], ".", kLastNames[Below(Mix64(h), kLastNames.size())]);
  };
  std::string local = name(contact);
  for (int k = 0; k < contact; ++k) {
    if (name(k) == local) {
      local += std::to_string(contact + 1);
      break;
    }
  }
  return StrCat(local, "@", Domain(index, a));
}

// Contact 0 decides, contact 1 is technical, contact 2 holds the budget or
// champions the purchase; the rest are a mix.
const Title& SignalFiller::ContactTitle(int32_t index, int contact) const {
  uint64_t h = Hash(index, 200 + contact);
  switch (contact) {
    case 0: return kDecisionTitles[Below(h, kDecisionTitles.size())];
    case 1: return kTechnicalTitles[Below(h, kTechnicalTitles.size())];
    case 2: return kBuyerTitles[Below(h, kBuyerTitles.size())];
    default: break;
  }
  switch (Below(Mix64(h), 4)) {
    case 0: return kTechnicalTitles[Below(h, kTechnicalTitles.size())];
    case 1: return kBuyerTitles[Below(h, kBuyerTitles.size())];
    default: return kUserTitles[Below(h, kUserTitles.size())];
  }
}

std::string SignalFiller::OwnerId(int owner) const {
  std::string id = "rep-ae-";
  AppendPadded(owner, 2, &id);
  return id;
}

std::string SignalFiller::OpportunityId(int32_t index, const Account& a) const {
  std::string id = "opp-";
  AppendPadded(index + 1, 6, &id);
  id.push_back('-');
  AppendPadded(std::max<int>(a.opp_count, 1), 2, &id);
  return id;
}

void SignalFiller::Fill(int32_t index, Account& a, const Spec& spec, int64_t at_ms) {
  signal_.Clear();
  if (spec.kind == kDemoRequest || spec.kind == kEmailReply) {
    a.prompt_rule = spec.kind == kDemoRequest ? 0 : 1;
    a.prompt_seq = next_seq_ + 1;
  }
  signal_.set_event_id(NextEventId());
  *signal_.mutable_occurred_at() = FromMillis(at_ms);
  signal_.set_type(std::string(kTypeNames[spec.kind]));
  if (IsWeb(spec.kind)) {
    FillWeb(index, a, spec, at_ms);
  } else if (IsEmail(spec.kind)) {
    FillEmail(index, a, spec, at_ms);
  } else if (spec.kind == kUsage) {
    signal_.set_source_system("product");
    signal_.set_account_id(AccountId(index));
    FillUsage(a, spec);
  } else {
    FillCrm(index, a, spec, at_ms);
  }
  if (!signal_.account_id().empty()) a.flags |= kFlagNamed;
}

void SignalFiller::FillWeb(int32_t index, Account& a, const Spec& spec, int64_t at_ms) {
  v1::Signal& s = signal_;
  Rng& r = a.rng;
  s.set_source_system("segment");
  // Research is mostly anonymous before the visitor fills a form (the
  // cookie only), and half of it after; milestones and an account's first
  // signal always name the account.
  const bool named = a.flags & kFlagNamed;
  const bool anonymous = named && !spec.intro && !spec.milestone &&
                         (spec.kind == kPageView || spec.kind == kPricingView) && spec.category != kDocs &&
                         r.Chance((a.flags & kFlagAnonIntroduced) ? 0.5 : 0.7);
  if (spec.intro && named) {
    // The form fill that introduces the visitor: cookie and address, no
    // account (the address is linked through the CRM or its domain).
    s.set_anonymous_id(AnonymousId(index));
    a.flags |= kFlagAnonIntroduced;
  } else if (anonymous) {
    s.set_anonymous_id(AnonymousId(index));
  } else {
    s.set_account_id(AccountId(index));
    s.set_contact_id(ContactId(index, spec.contact));
  }
  v1::WebVisit* w = s.mutable_web_visit();
  std::string_view path;
  Category category = spec.category;
  switch (spec.kind) {
    case kPricingView: path = "/pricing"; category = kPricing; break;
    case kDemoRequest: path = "/demo"; category = kProduct; break;
    case kFormSubmit:
      path = r.Pick(std::array<std::string_view, 4>{"/contact", "/resources/buyers-guide",
                                                    "/webinars/signals-101", "/newsletter"});
      category = kOther;
      break;
    default: path = r.Pick(kPaths[category]); break;
  }
  // Customers on the pricing page are shopping for add-ons.
  bool customer = a.profile == Profile::kCustomer || a.profile == Profile::kChurnRisk ||
                  (a.flags & kFlagWillWin);
  w->set_url(StrCat(kSite, path, spec.kind == kPricingView && customer ? "?plan=add-ons" : ""));
  w->set_path(std::string(path));
  w->set_page_category(std::string(kCategoryNames[category]));
  uint64_t day = static_cast<uint64_t>(FloorDiv(at_ms, kDayMs));
  uint64_t session = Mix64(Hash(index, 300 + std::max(spec.contact, 0)) ^ day);
  std::string sid = "sess-";
  AppendHex(session, 12, &sid);
  w->set_session_id(sid);
  switch (session % 10) {
    case 0: w->set_referrer("https://www.google.com/"); break;
    case 1: w->set_referrer("https://www.linkedin.com/"); break;
    case 2:
      w->set_referrer("https://www.google.com/");
      w->set_utm_source("google");
      w->set_utm_medium("cpc");
      w->set_utm_campaign(category == kPricing ? "brand-pricing" : "signals-search");
      break;
    case 3:
      w->set_utm_source("linkedin");
      w->set_utm_medium("social");
      w->set_utm_campaign("team-selling");
      break;
    case 4:
      w->set_utm_source("newsletter");
      w->set_utm_medium("email");
      w->set_utm_campaign("monthly-digest");
      break;
    default: w->set_referrer(StrCat(kSite, "/")); break;
  }
  double mean = category == kDocs ? 120000 : category == kPricing ? 60000
              : category == kBlog ? 90000 : 40000;
  w->set_duration_ms(1000 + static_cast<int64_t>(r.Exponential(mean)));
  auto& attrs = *s.mutable_attributes();
  attrs["country"] = std::string(kZones[a.zone].country);
  attrs["device"] = session % 7 < 2 ? "mobile" : "desktop";
  if (spec.kind == kFormSubmit) {
    attrs["form"] = path == "/contact" ? "contact_sales" : path == "/newsletter" ? "newsletter"
                  : "content_download";
    s.set_email(Email(index, a, spec.contact));
    if (spec.intro) {
      s.set_anonymous_id(AnonymousId(index));
      a.flags |= kFlagAnonIntroduced;
    }
  }
}

void SignalFiller::FillEmail(int32_t index, Account& a, const Spec& spec, int64_t at_ms) {
  v1::Signal& s = signal_;
  s.set_source_system("marketo");
  // The e-mail platform knows the account of half of its engagement events
  // (and of the journey's milestones, its reply among them); the rest carry
  // the address only.
  if (spec.milestone || !(a.flags & kFlagNamed) || a.rng.Chance(0.5)) s.set_account_id(AccountId(index));
  s.set_email(Email(index, a, spec.contact));
  v1::EmailEngagement* e = s.mutable_email_engagement();
  int64_t week = FloorDiv(at_ms - o_.start_ms, kWeekMs) + 1;
  std::string_view theme = a.profile == Profile::kCustomer || a.profile == Profile::kChurnRisk
                               ? "customer-news"
                               : a.profile == Profile::kDrifter ? "newsletter" : "nurture";
  std::string campaign = StrCat("cmp-", theme, "-w");
  AppendPadded(week, 2, &campaign);
  e->set_campaign_id(campaign);
  std::string message = "msg-";
  AppendHex(Mix64(Hash(index, 400 + spec.contact) ^ static_cast<uint64_t>(week)), 12, &message);
  e->set_message_id(message);
  if (spec.kind == kEmailClick) {
    Category c = a.rng.Pick(std::array<Category, 4>{kBlog, kCaseStudy, kProduct, kDocs});
    e->set_link_url(StrCat(kSite, a.rng.Pick(kPaths[c]), "?utm_source=marketo&utm_medium=email"));
  } else if (spec.kind == kEmailBounce) {
    bool hard = a.rng.Chance(0.4);
    e->set_bounce_kind(hard ? v1::HARD : v1::SOFT);
    if (hard) a.email_dead |= static_cast<uint16_t>(1u << spec.contact);
  } else if (spec.kind == kEmailUnsubscribe) {
    a.email_dead |= static_cast<uint16_t>(1u << spec.contact);
  }
}

void SignalFiller::FillCrm(int32_t index, Account& a, const Spec& spec, int64_t at_ms) {
  v1::Signal& s = signal_;
  Rng& r = a.rng;
  s.set_source_system("salesforce");
  s.set_account_id(AccountId(index));
  v1::CrmActivity* c = s.mutable_crm_activity();
  auto& attrs = *s.mutable_attributes();
  auto opportunity = [&](std::string_view stage) {
    c->set_object("opportunity");
    c->set_opportunity_id(OpportunityId(index, a));
    c->set_opportunity_stage(std::string(stage));
    c->set_amount(a.amount);
    c->set_currency("USD");
    c->set_product_count(a.product_count);
    c->set_owner_id(OwnerId(a.owner));
  };
  switch (spec.kind) {
    case kContactUpsert: {
      a.upserted |= static_cast<uint16_t>(1u << spec.contact);
      const Title& title = ContactTitle(index, spec.contact);
      s.set_contact_id(ContactId(index, spec.contact));
      s.set_email(Email(index, a, spec.contact));
      c->set_object("contact");
      c->set_contact_title(std::string(title.title));
      if (r.Chance(0.3)) c->set_contact_role(std::string(title.role));
      if (r.Chance(0.01)) c->set_do_not_contact(true);
      attrs["lead_source"] = std::string(r.Pick(
          std::array<std::string_view, 4>{"website", "webinar", "event", "referral"}));
      break;
    }
    case kAccountUpdate: {
      const Zone& zone = kZones[a.zone];
      c->set_object("account");
      c->set_account_name(CompanyName(index));
      c->set_account_domain(Domain(index, a));
      c->set_account_timezone(std::string(zone.name));
      c->set_account_segment(std::string(kSegmentNames[a.size]));
      c->set_territory(std::string(zone.territory));
      if (a.owner != 0) c->set_owner_id(OwnerId(a.owner));
      if (r.Chance(0.003)) c->set_do_not_contact(true);
      uint64_t h = Hash(index, 2);
      int64_t lo = a.size == kSmb ? 10 : a.size == kMidMarket ? 200 : 2000;
      attrs["employees"] = std::to_string(lo + static_cast<int64_t>(Below(h, lo * 9)));
      attrs["industry"] = std::string(kIndustries[Below(Mix64(h), kIndustries.size())]);
      break;
    }
    case kOpportunityStage:
      if (spec.param == 0) a.flags &= ~kFlagOppOpen;  // a new opportunity
      OpenOpportunity(a);
      opportunity(kOppStages[spec.param]);
      break;
    case kDealWon:
    case kDealLost:
      OpenOpportunity(a);
      opportunity(spec.kind == kDealWon ? "closed_won" : "closed_lost");
      a.flags &= ~kFlagOppOpen;
      if (spec.kind == kDealLost) {
        attrs["loss_reason"] = std::string(r.Pick(
            std::array<std::string_view, 4>{"price", "competitor", "no_decision", "timing"}));
      }
      break;
    case kMeetingHeld:
      c->set_object("meeting");
      if (spec.contact >= 0) s.set_contact_id(ContactId(index, spec.contact));
      if (a.flags & kFlagOppOpen) c->set_opportunity_id(OpportunityId(index, a));
      c->set_owner_id(a.owner != 0 ? OwnerId(a.owner) : "rep-sdr-01");
      attrs["meeting_kind"] = std::string(r.Pick(
          std::array<std::string_view, 4>{"discovery", "demo", "review", "check_in"}));
      break;
    case kOwnerChange: {
      int next = static_cast<int>(r.Int(1, 11));
      a.owner = static_cast<uint8_t>(next >= a.owner ? next + 1 : next);
      c->set_object("account");
      c->set_owner_id(OwnerId(a.owner));
      c->set_territory(std::string(kZones[a.zone].territory));
      break;
    }
    case kPromptOutcome: {
      ++a.prompts;
      c->set_object("task");
      if (a.prompt_seq != 0) {
        // The answer to the prompt the default rules give for the account's
        // latest demo request or email reply (if it was emitted: a holdout,
        // a policy or arbitration may have stopped it).
        c->set_prompt_id(DeterministicId("prm", {AccountId(index), kPromptRules[a.prompt_rule],
                                                 EventIdOf(a.prompt_seq - 1)}));
        a.prompt_seq = 0;
      } else {
        // Nothing open: an outcome of a prompt this stream never saw.
        c->set_prompt_id(DeterministicId("prm", {AccountId(index), "outcome", std::to_string(a.prompts)}));
      }
      size_t outcome = WeightedIndex(r, std::array<double, 4>{35, 30, 20, 15});
      static constexpr std::array<std::string_view, 4> kOutcomes = {"accepted", "completed",
                                                                    "dismissed", "snoozed"};
      c->set_prompt_outcome(std::string(kOutcomes[outcome]));
      if (outcome == 3) *c->mutable_snooze_until() = FromMillis(at_ms + r.Int(1, 7) * kDayMs);
      c->set_owner_id(a.owner != 0 ? OwnerId(a.owner) : "rep-sdr-02");
      if (spec.contact >= 0) s.set_contact_id(ContactId(index, spec.contact));
      break;
    }
    default: break;
  }
}

void SignalFiller::FillUsage(Account& a, const Spec& spec) {
  Rng& r = a.rng;
  if (a.usage[0] <= 0) {  // first measurement: a fresh deployment
    double lo = a.size == kSmb ? 5 : a.size == kMidMarket ? 30 : 200;
    a.usage[0] = static_cast<float>(std::round(lo * Pow(8.0, r.Uniform())));
    a.usage[1] = static_cast<float>(std::round(a.usage[0] * r.Between(200, 2000)));
  }
  int m = static_cast<int>(r.Below(2));
  double before = a.usage[m];
  double factor = spec.param == 1 ? r.Between(0.35, 0.66)
                : spec.param == 2 ? r.Between(0.85, 0.97) : r.Between(0.975, 1.10);
  double after = std::round(before * factor);
  if (spec.param == 1 && after > before * 0.66) after = std::floor(before * 0.6);
  if (spec.param == 2 && after > before * 0.99) after = std::max(0.0, before - 1);
  if (spec.param == 0 && after < before * 0.975) after = before;
  if (spec.param == 0 && after < 3) after = 3;  // regrowth from tiny numbers
  a.usage[m] = static_cast<float>(after);
  v1::ProductUsage* u = signal_.mutable_product_usage();
  u->set_metric(m == 0 ? "weekly_active_users" : "api_calls");
  u->set_value(after);
  u->set_previous_value(before);
  (*signal_.mutable_attributes())["plan"] =
      a.size == kSmb ? "team" : a.size == kMidMarket ? "business" : "enterprise";
}

}  // namespace demandcenter::generate
