// Synthetic signal streams. See include/demandcenter/generate/generator.h and
// docs/generate.md.
//
// Model in one paragraph: every account gets a firmographic profile and a
// journey profile, then a signal budget (heavy-tailed, summing exactly to the
// unique records wanted). The journey becomes a short list of time segments
// (awareness, evaluation, opportunity, onboarding, steady use, comeback...)
// separated by silences; each segment holds ordered milestones (a pricing
// view by a second contact, a demo request, an opportunity stage) and filler
// events drawn from the segment's mix. Event times inside a segment are
// sorted uniforms in "business time" (weighted towards working hours in the
// account's time zone), generated one at a time, so an account needs a few
// hundred bytes and no event list. A min-heap merges the accounts by time.
#include "demandcenter/generate/generator.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <queue>
#include <random>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/v1/signal.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace demandcenter::generate {
namespace {

constexpr int64_t kDayMs = kMillisPerDay;
constexpr int64_t kWeekMs = 7 * kDayMs;
// 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z: what a Timestamp can hold.
constexpr int64_t kMinStartMs = -62135596800000;
constexpr int64_t kEndLimitMs = 253402300800000;
constexpr double kDuplicateShare = 0.003;
constexpr double kJitterShare = 0.04;
constexpr int kRingSize = 16;
constexpr int kMaxSegments = 5;
constexpr int kMaxSteps = 9;
constexpr std::string_view kSite = "https://www.example.com";

// ---------------------------------------------------------------- randomness

// The SplitMix64 finaliser: a bijection of uint64.
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Natural logarithm and exponential from +, -, *, / only: C libraries may
// differ in the last bit of std::log / std::pow, and one bit can move an
// event by a millisecond. Accurate to a few ulp, which is all we need.
double Log(double x) {  // x > 0
  int e;
  double m = std::frexp(x, &e);  // exact: x = m * 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752) {
    m *= 2;
    --e;
  }
  double s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = 0;
  for (int k = 1; k <= 27; k += 2) {
    sum += term / k;
    term *= s2;
  }
  return e * 0.69314718055994531 + 2 * sum;
}

double Exp(double x) {
  constexpr double kLn2 = 0.69314718055994531;
  double k = std::floor(x / kLn2 + 0.5);
  double r = x - k * kLn2, term = 1, sum = 1;
  for (int n = 1; n <= 20; ++n) {
    term *= r / n;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(k));  // exact scaling
}

double Pow(double base, double exponent) { return Exp(Log(base) * exponent); }

// [0, n) from one 64-bit draw (multiply-shift).
uint64_t Below(uint64_t draw, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(draw) * n) >> 64);
}
// [0, 1) from the top 53 bits.
double Unit(uint64_t draw) { return static_cast<double>(draw >> 11) * 0x1.0p-53; }

// SplitMix64, the per-account generator (8 bytes of state).
struct Rng {
  uint64_t state;
  uint64_t Next() { return Mix64(state += 0x9e3779b97f4a7c15ULL); }
  uint64_t Below(uint64_t n) { return generate::Below(Next(), n); }
  double Uniform() { return Unit(Next()); }
  double Between(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  int64_t Int(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(hi - lo + 1)); }
  bool Chance(double p) { return Uniform() < p; }
  double Exponential(double mean) { return -mean * Log(1.0 - Uniform()); }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& items) { return items[Below(N)]; }
};

// Index chosen with probability proportional to weights[i].
template <typename Weights>
size_t WeightedIndex(Rng& rng, const Weights& weights) {
  double total = 0;
  for (double w : weights) total += w;
  double x = rng.Uniform() * total;
  for (size_t i = 0; i < std::size(weights); ++i) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  return std::size(weights) - 1;
}

// ----------------------------------------------------------------- vocabulary

enum Kind : uint8_t {
  kPageView, kPricingView, kDemoRequest, kFormSubmit, kEmailOpen, kEmailClick, kEmailReply,
  kEmailBounce, kEmailUnsubscribe, kContactUpsert, kAccountUpdate, kOpportunityStage,
  kMeetingHeld, kDealWon, kDealLost, kOwnerChange, kPromptOutcome, kUsage, kKindCount
};
constexpr std::array<std::string_view, kKindCount> kTypeNames = {
    "web.page_view", "web.pricing_view", "web.demo_request", "web.form_submit", "email.open",
    "email.click", "email.reply", "email.bounce", "email.unsubscribe", "crm.contact_upsert",
    "crm.account_update", "crm.opportunity_stage", "crm.meeting_held", "crm.deal_won",
    "crm.deal_lost", "crm.owner_change", "crm.prompt_outcome", "product.usage"};

bool IsWeb(Kind k) { return k <= kFormSubmit; }
bool IsEmail(Kind k) { return k >= kEmailOpen && k <= kEmailUnsubscribe; }

enum Category : uint8_t { kProduct, kPricing, kDocs, kCaseStudy, kBlog, kCareers, kSupport, kOther };
constexpr std::array<std::string_view, 8> kCategoryNames = {
    "product", "pricing", "docs", "case_study", "blog", "careers", "support", "other"};
constexpr std::array<std::array<std::string_view, 4>, 8> kPaths = {{
    {"/product", "/product/analytics", "/product/integrations", "/product/automation"},
    {"/pricing/compare", "/pricing/faq", "/pricing/add-ons", "/pricing/enterprise"},
    {"/docs/getting-started", "/docs/api", "/docs/sso", "/docs/security"},
    {"/customers/northwind", "/customers/globex", "/customers/initech", "/customers/umbrella"},
    {"/blog/buying-signals", "/blog/sales-is-a-team-sport", "/blog/intent-data", "/blog/playbooks"},
    {"/careers", "/careers/engineering", "/careers/sales", "/careers"},
    {"/support", "/support/status", "/support/contact", "/support/billing"},
    {"/", "/about", "/events", "/partners"},
}};

enum Segment : uint8_t { kSmb, kMidMarket, kEnterprise };
constexpr std::array<std::string_view, 3> kSegmentNames = {"smb", "mid_market", "enterprise"};

struct Zone {
  std::string_view name;
  int offset_minutes;  // standard time; daylight saving is ignored
  std::string_view territory;
  std::string_view country;
  std::string_view tld;
  double weight;
};
constexpr std::array<Zone, 20> kZones = {{
    {"America/New_York", -300, "na-east", "US", "com", 20},
    {"America/Chicago", -360, "na-central", "US", "com", 10},
    {"America/Los_Angeles", -480, "na-west", "US", "com", 12},
    {"America/Denver", -420, "na-central", "US", "com", 3},
    {"America/Toronto", -300, "na-east", "CA", "ca", 4},
    {"America/Sao_Paulo", -180, "latam", "BR", "com.br", 3},
    {"Europe/London", 0, "uki", "GB", "co.uk", 10},
    {"Europe/Berlin", 60, "dach", "DE", "de", 9},
    {"Europe/Paris", 60, "emea-west", "FR", "fr", 6},
    {"Europe/Amsterdam", 60, "emea-west", "NL", "nl", 4},
    {"Europe/Stockholm", 60, "nordics", "SE", "se", 3},
    {"Europe/Madrid", 60, "emea-west", "ES", "es", 3},
    {"Europe/Zurich", 60, "dach", "CH", "ch", 2},
    {"Europe/Warsaw", 60, "cee", "PL", "pl", 2},
    {"Asia/Dubai", 240, "mea", "AE", "ae", 2},
    {"Asia/Kolkata", 330, "apac-south", "IN", "in", 3},
    {"Asia/Singapore", 480, "apac-south", "SG", "sg", 3},
    {"Asia/Tokyo", 540, "japan", "JP", "jp", 5},
    {"Australia/Sydney", 600, "anz", "AU", "com.au", 5},
    {"Pacific/Auckland", 720, "anz", "NZ", "co.nz", 1},
}};

constexpr std::array<std::string_view, 24> kNameHeads = {
    "Nor", "Vel", "Lum", "Quan", "Stra", "Ari", "Bel", "Cor", "Dyn", "Eli", "Fen", "Gal",
    "Hel", "Ix", "Jun", "Kel", "Mar", "Nex", "Ori", "Pra", "Ros", "Sol", "Tal", "Zen"};
constexpr std::array<std::string_view, 16> kNameTails = {
    "vex", "tra", "lix", "dia", "gen", "ron", "tek", "via", "mont", "ris", "quent", "ora",
    "nix", "cast", "wave", "field"};
constexpr std::array<std::string_view, 16> kNameWords = {
    "Systems", "Labs", "Logistics", "Health", "Analytics", "Foods", "Energy", "Robotics",
    "Capital", "Software", "Manufacturing", "Media", "Biotech", "Networks", "Retail", "Group"};
constexpr std::array<std::string_view, 10> kIndustries = {
    "software", "logistics", "healthcare", "financial_services", "manufacturing", "retail",
    "energy", "media", "education", "telecommunications"};
constexpr std::array<std::string_view, 24> kFirstNames = {
    "anna", "ben", "carla", "david", "elena", "farid", "grace", "hiro", "ines", "jonas",
    "kim", "lucas", "maya", "noah", "olga", "pavel", "quinn", "rosa", "sam", "tara",
    "umar", "vera", "wei", "yara"};
constexpr std::array<std::string_view, 24> kLastNames = {
    "schmidt", "tanaka", "okafor", "novak", "garcia", "larsen", "muller", "silva", "kowalski",
    "brown", "dubois", "rossi", "kim", "patel", "jensen", "moreau", "walsh", "sato", "costa",
    "ivanova", "nguyen", "fischer", "hughes", "berg"};

// CRM titles by the buying role they map to (the default config maps titles
// to roles by keyword; the explicit role is sent for about a third).
struct Title {
  std::string_view title;
  std::string_view role;
};
constexpr std::array<Title, 7> kDecisionTitles = {{
    {"CEO", "decision_maker"}, {"Founder & CEO", "decision_maker"},
    {"VP Engineering", "decision_maker"}, {"VP Operations", "decision_maker"},
    {"Chief Operating Officer", "decision_maker"}, {"General Manager", "decision_maker"},
    {"President", "decision_maker"}}};
constexpr std::array<Title, 7> kTechnicalTitles = {{
    {"Software Engineer", "technical"}, {"Solutions Architect", "technical"},
    {"IT Manager", "technical"}, {"DevOps Engineer", "technical"},
    {"Security Engineer", "technical"}, {"CTO", "technical"}, {"Data Engineer", "technical"}}};
constexpr std::array<Title, 8> kBuyerTitles = {{
    {"CFO", "finance"}, {"Finance Manager", "finance"}, {"Controller", "finance"},
    {"Head of Procurement", "procurement"}, {"Purchasing Manager", "procurement"},
    {"Marketing Manager", "champion"}, {"Head of Sales Operations", "champion"},
    {"Director of Operations", "champion"}}};
constexpr std::array<Title, 6> kUserTitles = {{
    {"Business Analyst", "user"}, {"Operations Specialist", "user"},
    {"Marketing Coordinator", "user"}, {"Sales Associate", "user"},
    {"Product Manager", "champion"}, {"Data Analyst", "user"}}};

// ------------------------------------------------------------ journey model

enum class Profile : uint8_t { kDrifter, kNurture, kEvaluator, kBuyer, kCustomer, kChurnRisk };
constexpr std::array<double, 6> kProfileShares = {0.36, 0.28, 0.13, 0.10, 0.09, 0.04};
// Budget the profile needs for its full journey, and its weight in the
// heavy-tailed share of the rest.
constexpr std::array<int64_t, 6> kProfileMinBudget = {2, 4, 14, 26, 14, 12};
constexpr std::array<double, 6> kProfileWeight = {0.3, 1.0, 3.0, 6.0, 5.0, 3.0};

enum class Mix : uint8_t { kBrowse, kNurture, kEvaluate, kDeal, kCustomer };
// Filler events per day of segment, relative.
constexpr std::array<double, 5> kMixRate = {0.6, 0.35, 2.0, 1.0, 0.8};

struct MixEntry {
  Kind kind;
  Category category;
  double weight;
};
constexpr std::array<MixEntry, 12> kBrowseMix = {{
    {kPageView, kBlog, 25}, {kPageView, kProduct, 20}, {kPageView, kCaseStudy, 6},
    {kPageView, kCareers, 5}, {kPageView, kOther, 8}, {kPageView, kSupport, 2},
    {kEmailOpen, kOther, 22}, {kEmailClick, kOther, 5}, {kPricingView, kPricing, 2},
    {kFormSubmit, kOther, 3}, {kEmailBounce, kOther, 1.5}, {kEmailUnsubscribe, kOther, 1}}};
constexpr std::array<MixEntry, 12> kNurtureMix = {{
    {kEmailOpen, kOther, 40}, {kEmailClick, kOther, 12}, {kPageView, kBlog, 16},
    {kPageView, kCaseStudy, 10}, {kPageView, kProduct, 12}, {kPageView, kDocs, 3},
    {kPricingView, kPricing, 2}, {kEmailReply, kOther, 2}, {kFormSubmit, kOther, 2},
    {kEmailBounce, kOther, 2}, {kEmailUnsubscribe, kOther, 1.5}, {kContactUpsert, kOther, 2}}};
constexpr std::array<MixEntry, 14> kEvaluateMix = {{
    {kPageView, kProduct, 18}, {kPageView, kDocs, 14}, {kPageView, kCaseStudy, 6},
    {kPageView, kBlog, 4}, {kPageView, kPricing, 2}, {kPricingView, kPricing, 6},
    {kEmailOpen, kOther, 12}, {kEmailClick, kOther, 8}, {kEmailReply, kOther, 3},
    {kFormSubmit, kOther, 3}, {kDemoRequest, kProduct, 1}, {kMeetingHeld, kOther, 1},
    {kContactUpsert, kOther, 3}, {kPromptOutcome, kOther, 1}}};
constexpr std::array<MixEntry, 11> kDealMix = {{
    {kPageView, kDocs, 10}, {kPageView, kProduct, 6}, {kPricingView, kPricing, 6},
    {kPageView, kCaseStudy, 3}, {kEmailOpen, kOther, 10}, {kEmailClick, kOther, 5},
    {kEmailReply, kOther, 6}, {kMeetingHeld, kOther, 5}, {kPromptOutcome, kOther, 3},
    {kOwnerChange, kOther, 0.5}, {kContactUpsert, kOther, 3}}};
constexpr std::array<MixEntry, 15> kCustomerMix = {{
    {kUsage, kOther, 35}, {kPageView, kDocs, 10}, {kPageView, kSupport, 8},
    {kPageView, kProduct, 5}, {kPricingView, kPricing, 2}, {kPageView, kBlog, 2},
    {kEmailOpen, kOther, 10}, {kEmailClick, kOther, 3}, {kEmailReply, kOther, 1},
    {kMeetingHeld, kOther, 2}, {kPromptOutcome, kOther, 1}, {kContactUpsert, kOther, 2},
    {kOwnerChange, kOther, 0.5}, {kEmailBounce, kOther, 0.7}, {kEmailUnsubscribe, kOther, 0.5}}};

// Milestones: events a journey must contain, in order.
enum Step : uint8_t {
  kStepAccountUpdate, kStepUpsert0, kStepUpsert1, kStepUpsert2, kStepFormIntro, kStepPricing0,
  kStepPricing1, kStepPricing2, kStepPricingAny, kStepDemo, kStepDocsTechnical, kStepReply,
  kStepQualification, kStepDiscovery, kStepProposal, kStepNegotiation, kStepMeeting,
  kStepDealClose, kStepDealWon, kStepUsageDrop, kStepUsageDip, kStepPromptAnswer
};
constexpr std::array<std::string_view, 4> kOppStages = {"qualification", "discovery", "proposal",
                                                        "negotiation"};

struct Seg {
  int64_t start_ms;
  int64_t end_ms;
  int64_t events;
  int64_t done;
  Mix mix;
  uint8_t n_steps;
  uint8_t next_step;
  std::array<Step, kMaxSteps> steps;
};

constexpr uint8_t kFlagAnonIntroduced = 1;
constexpr uint8_t kFlagWillWin = 2;
constexpr uint8_t kFlagOppOpen = 4;

struct Account {
  Rng rng;
  int64_t last_ms;  // true event time of the scheduled (or last) event
  std::array<Seg, kMaxSegments> segs;
  uint8_t n_segs = 0;
  uint8_t seg = 0;
  Profile profile = Profile::kDrifter;
  Segment size = kSmb;
  uint8_t zone = 0;
  uint8_t owner = 0;  // 0: no owner, else rep-ae-NN
  uint8_t n_contacts = 1;
  uint8_t flags = 0;
  uint8_t opp_count = 0;
  uint8_t product_count = 1;
  uint16_t upserted = 0;    // contacts sent as crm.contact_upsert
  uint16_t email_dead = 0;  // contacts that bounced hard or unsubscribed
  uint16_t prompts = 0;
  uint8_t prompt_rule = 0;  // kPromptRules index of the last prompt-worthy signal
  uint64_t prompt_seq = 0;  // its event sequence number + 1; 0: none open
  float amount = 0;
  std::array<float, 2> usage = {0, 0};
};

// Rules of the default config whose prompts crm.prompt_outcome answers, by
// the signal that fires them: web.demo_request, email.reply.
constexpr std::array<std::string_view, 2> kPromptRules = {"demo_request_sdr", "email_reply_sdr"};

// "A few hundred bytes" per account, as the header promises.
static_assert(sizeof(Account) <= 320);

// One journey part before layout: a mix, a length, the silence before it.
struct Part {
  Mix mix;
  double days;
  double gap_days;
  std::array<Step, kMaxSteps> steps;
  uint8_t n_steps = 0;
  void Add(Step s) { steps[n_steps++] = s; }
};

// ------------------------------------------------------------ business time
// Event times are warped so that most fall in working hours of the account's
// time zone: W(t) is the integral of an hourly weight over the local week.

struct WeekProfile {
  std::array<double, 168> weight;
  std::array<double, 169> prefix;
  WeekProfile() {
    for (int h = 0; h < 168; ++h) {
      int day = h / 24, hour = h % 24;  // day 0 = Monday
      double w;
      if (day < 5) {
        w = hour < 7 ? 0.4 : hour == 7 ? 2 : hour < 12 ? 10 : hour == 12 ? 7 : hour < 17 ? 10
          : hour == 17 ? 6 : hour < 21 ? 2.5 : 1;
      } else {
        w = hour < 8 ? 0.3 : hour < 21 ? 1.2 : 0.6;
      }
      weight[h] = w;
      prefix[h + 1] = (h == 0 ? 0 : prefix[h]) + w;
    }
    prefix[0] = 0;
  }
};
const WeekProfile& Week() {
  static const WeekProfile* const week = new WeekProfile();
  return *week;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The Unix epoch was a Thursday: Monday 1970-01-05 starts week 0.
constexpr int64_t kMondayOffsetMs = 4 * kDayMs;

double ToBusiness(int64_t t_ms, int offset_minutes) {
  const WeekProfile& w = Week();
  int64_t local = t_ms + offset_minutes * kMillisPerMinute - kMondayOffsetMs;
  int64_t week = FloorDiv(local, kWeekMs);
  int64_t in_week = local - week * kWeekMs;
  int64_t hour = in_week / kMillisPerHour;
  double frac = static_cast<double>(in_week - hour * kMillisPerHour) / kMillisPerHour;
  return static_cast<double>(week) * w.prefix[168] + w.prefix[hour] + w.weight[hour] * frac;
}

int64_t FromBusiness(double y, int offset_minutes) {
  const WeekProfile& w = Week();
  double week = std::floor(y / w.prefix[168]);
  double rem = y - week * w.prefix[168];
  int hour = static_cast<int>(std::upper_bound(w.prefix.begin() + 1, w.prefix.end(), rem) -
                              w.prefix.begin()) - 1;
  hour = std::clamp(hour, 0, 167);
  double frac = std::clamp((rem - w.prefix[hour]) / w.weight[hour], 0.0, 1.0);
  double local = week * kWeekMs + hour * kMillisPerHour + frac * kMillisPerHour;
  return static_cast<int64_t>(std::floor(local)) + kMondayOffsetMs -
         offset_minutes * kMillisPerMinute;
}

// ----------------------------------------------------------------- writing

void AppendHex(uint64_t v, int digits, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(v >> (4 * i)) & 0xf]);
}

void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  int len = static_cast<int>(end - buf);
  if (len < width) out->append(width - len, '0');
  out->append(buf, end);
}

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t run = 0;  // start of the run of characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c != '"' && c != '\\' && c >= 0x20) continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    if (c < 0x20) {
      out->append("\\u00");
      AppendHex(c, 2, out);
    } else {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

// RFC 3339 as protobuf-JSON writes it: 0, 3, 6 or 9 fractional digits.
void AppendTimestamp(const google::protobuf::Timestamp& ts, std::string* out) {
  int64_t secs = ts.seconds();
  int64_t days = FloorDiv(secs, 86400);
  int64_t sod = secs - days * 86400;
  // Civil from days (H. Hinnant).
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2);
  out->push_back('"');
  AppendPadded(year, 4, out);
  out->push_back('-');
  AppendPadded(month, 2, out);
  out->push_back('-');
  AppendPadded(day, 2, out);
  out->push_back('T');
  AppendPadded(sod / 3600, 2, out);
  out->push_back(':');
  AppendPadded(sod / 60 % 60, 2, out);
  out->push_back(':');
  AppendPadded(sod % 60, 2, out);
  int32_t nanos = ts.nanos();
  if (nanos != 0) {
    out->push_back('.');
    if (nanos % 1000000 == 0) AppendPadded(nanos / 1000000, 3, out);
    else if (nanos % 1000 == 0) AppendPadded(nanos / 1000, 6, out);
    else AppendPadded(nanos, 9, out);
  }
  out->append("Z\"");
}

// Writes one JSON object with proto field names, in field-number order,
// skipping default values, as util::MessageToJsonString would.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) { out_->push_back('{'); }
  void End() { out_->push_back('}'); }
  void Key(std::string_view name) {
    if (!first_) out_->push_back(',');
    first_ = false;
    AppendQuoted(name, out_);
    out_->push_back(':');
  }
  void Str(std::string_view name, const std::string& v) {
    if (v.empty()) return;
    Key(name);
    AppendQuoted(v, out_);
  }
  void Int64(std::string_view name, int64_t v) {  // quoted, as the JSON mapping does
    if (v == 0) return;
    Key(name);
    out_->append(StrCat('"', v, '"'));
  }
  void Int32(std::string_view name, int32_t v) {
    if (v == 0) return;
    Key(name);
    out_->append(std::to_string(v));
  }
  void Double(std::string_view name, double v) {
    if (v == 0) return;
    Key(name);
    out_->append(StrCat(v));
  }
  void Bool(std::string_view name, bool v) {
    if (!v) return;
    Key(name);
    out_->append("true");
  }
  void Time(std::string_view name, const google::protobuf::Timestamp& ts) {
    Key(name);
    AppendTimestamp(ts, out_);
  }
  std::string* out() { return out_; }

 private:
  std::string* out_;
  bool first_ = true;
};

void AppendSignalJson(const v1::Signal& s, std::string* out) {
  JsonWriter w(out);
  w.Str("event_id", s.event_id());
  if (s.has_occurred_at()) w.Time("occurred_at", s.occurred_at());
  w.Str("type", s.type());
  w.Str("account_id", s.account_id());
  w.Str("contact_id", s.contact_id());
  w.Str("email", s.email());
  w.Str("anonymous_id", s.anonymous_id());
  w.Str("source_system", s.source_system());
  if (s.has_web_visit()) {
    const v1::WebVisit& d = s.web_visit();
    w.Key("web_visit");
    JsonWriter o(out);
    o.Str("url", d.url());
    o.Str("path", d.path());
    o.Str("referrer", d.referrer());
    o.Str("page_category", d.page_category());
    o.Str("session_id", d.session_id());
    o.Str("utm_source", d.utm_source());
    o.Str("utm_medium", d.utm_medium());
    o.Str("utm_campaign", d.utm_campaign());
    o.Int64("duration_ms", d.duration_ms());
    o.End();
  } else if (s.has_email_engagement()) {
    const v1::EmailEngagement& d = s.email_engagement();
    w.Key("email_engagement");
    JsonWriter o(out);
    o.Str("campaign_id", d.campaign_id());
    o.Str("message_id", d.message_id());
    o.Str("link_url", d.link_url());
    if (d.bounce_kind() != v1::BOUNCE_KIND_UNSPECIFIED) {
      o.Key("bounce_kind");
      AppendQuoted(v1::BounceKind_Name(d.bounce_kind()), out);
    }
    o.End();
  } else if (s.has_crm_activity()) {
    const v1::CrmActivity& d = s.crm_activity();
    w.Key("crm_activity");
    JsonWriter o(out);
    o.Str("object", d.object());
    o.Str("opportunity_id", d.opportunity_id());
    o.Str("opportunity_stage", d.opportunity_stage());
    o.Double("amount", d.amount());
    o.Str("currency", d.currency());
    o.Int32("product_count", d.product_count());
    o.Str("owner_id", d.owner_id());
    o.Str("territory", d.territory());
    o.Str("contact_title", d.contact_title());
    o.Str("contact_role", d.contact_role());
    o.Str("account_name", d.account_name());
    o.Str("account_timezone", d.account_timezone());
    o.Str("account_segment", d.account_segment());
    o.Bool("do_not_contact", d.do_not_contact());
    o.Str("prompt_id", d.prompt_id());
    o.Str("prompt_outcome", d.prompt_outcome());
    if (d.has_snooze_until()) o.Time("snooze_until", d.snooze_until());
    o.End();
  } else if (s.has_product_usage()) {
    const v1::ProductUsage& d = s.product_usage();
    w.Key("product_usage");
    JsonWriter o(out);
    o.Str("metric", d.metric());
    o.Double("value", d.value());
    o.Double("previous_value", d.previous_value());
    o.End();
  }
  if (!s.attributes().empty()) {
    std::vector<const google::protobuf::MapPair<std::string, std::string>*> entries;
    for (const auto& e : s.attributes()) entries.push_back(&e);
    std::sort(entries.begin(), entries.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    w.Key("attributes");
    JsonWriter o(out);
    for (const auto* e : entries) {
      o.Key(e->first);
      AppendQuoted(e->second, out);
    }
    o.End();
  }
  w.End();
}

bool SerializeBinary(const v1::Signal& s, std::string* out) {
  out->clear();
  bool ok;
  {
    google::protobuf::io::StringOutputStream stream(out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    ok = s.SerializeToCodedStream(&coded) && !coded.HadError();
  }
  return ok;
}

// ---------------------------------------------------------------- generator

struct Spec {
  Kind kind;
  Category category = kOther;
  int contact = -1;
  int param = 0;  // opportunity stage index; usage mode (1 drop, 2 dip)
  bool intro = false;      // a form submit that introduces the visitor id
  bool milestone = false;  // milestones are never anonymous
};

struct RingEntry {
  std::string key;
  std::string value;
  int64_t occurred_ms = 0;
  Kind kind = kPageView;
};

class Generator {
 public:
  Generator(const GeneratorOptions& options,
            const std::function<void(const GeneratedRecord&)>& sink, GenerateStats* stats)
      : o_(options),
        sink_(sink),
        stats_(stats),
        stream_rng_(Mix64(options.seed ^ 0x5eed5eed5eed5eedULL)),
        id_key_(Mix64(options.seed + 0x1d1d1d1d1d1d1d1dULL)),
        end_ms_(options.start_ms + options.days * kDayMs) {}

  absl::Status Run();

 private:
  void InitAccounts(int64_t unique);
  void PlanAccount(int32_t index, int64_t budget);
  void BuildParts(Account& a, int64_t budget, std::vector<Part>* parts);
  bool NextTime(Account& a);
  Spec ChooseEvent(Account& a);
  Spec StepSpec(Account& a, Step step);
  Spec FillerSpec(Account& a, Mix mix);
  void Fill(int32_t index, Account& a, const Spec& spec, int64_t at_ms);
  void FillWeb(int32_t index, Account& a, const Spec& spec, int64_t at_ms);
  void FillEmail(int32_t index, Account& a, const Spec& spec, int64_t at_ms);
  void FillCrm(int32_t index, Account& a, const Spec& spec, int64_t at_ms);
  void FillUsage(Account& a, const Spec& spec);
  absl::Status Encode(const v1::Signal& s, std::string* out);
  absl::Status EmitMalformed();

  uint64_t Draw() { return stream_rng_(); }
  std::string NextEventId();
  std::string EventIdOf(uint64_t seq) const;
  std::string AccountId(int32_t index) const;
  std::string AnonymousId(int32_t index) const;
  std::string ContactId(int32_t index, int contact) const;
  std::string Email(int32_t index, const Account& a, int contact) const;
  std::string CompanyName(int32_t index) const;
  std::string Domain(int32_t index, const Account& a) const;
  const Title& ContactTitle(int32_t index, int contact) const;
  std::string OwnerId(int owner) const;
  std::string OpportunityId(int32_t index, const Account& a) const;
  int PickContact(Account& a, bool email);
  void OpenOpportunity(Account& a);
  uint64_t Hash(int32_t index, uint64_t salt) const {
    return Mix64(Mix64(o_.seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(index) + 1))) ^
                 salt);
  }

  const GeneratorOptions& o_;
  const std::function<void(const GeneratedRecord&)>& sink_;
  GenerateStats* stats_;
  std::mt19937_64 stream_rng_;
  uint64_t id_key_;
  int64_t end_ms_;
  uint64_t next_seq_ = 0;
  std::vector<Account> accounts_;
  std::priority_queue<std::pair<int64_t, int32_t>, std::vector<std::pair<int64_t, int32_t>>,
                      std::greater<>>
      heap_;
  v1::Signal signal_;
  v1::Signal scratch_;
  bool have_signal_ = false;
  GeneratedRecord record_;
  std::array<RingEntry, kRingSize> ring_;
  int ring_count_ = 0;
  int ring_next_ = 0;
  int64_t last_emitted_ms_;
  std::array<int64_t, kKindCount> by_kind_ = {};
};

std::string Generator::NextEventId() { return EventIdOf(next_seq_++); }

std::string Generator::EventIdOf(uint64_t seq) const {
  std::string id = "evt-";
  AppendHex(Mix64(seq ^ id_key_), 16, &id);
  return id;
}

std::string Generator::AccountId(int32_t index) const {
  std::string id = "acct-";
  AppendPadded(index + 1, 6, &id);
  return id;
}

// The visitor cookie of the account's web visits.
std::string Generator::AnonymousId(int32_t index) const {
  std::string id = "anon-";
  AppendHex(Hash(index, 7), 12, &id);
  return id;
}

std::string Generator::ContactId(int32_t index, int contact) const {
  std::string id = "ct-";
  AppendPadded(index + 1, 6, &id);
  id.push_back('-');
  AppendPadded(contact + 1, 2, &id);
  return id;
}

std::string Generator::CompanyName(int32_t index) const {
  uint64_t h = Hash(index, 1);
  return StrCat(kNameHeads[Below(h, kNameHeads.size())],
                kNameTails[Below(Mix64(h), kNameTails.size())], " ",
                kNameWords[Below(Mix64(h + 1), kNameWords.size())]);
}

std::string Generator::Domain(int32_t index, const Account& a) const {
  std::string domain;
  for (char c : CompanyName(index)) {
    if (c != ' ') domain.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return StrCat(domain, ".", kZones[a.zone].tld);
}

std::string Generator::Email(int32_t index, const Account& a, int contact) const {
  uint64_t h = Hash(index, 100 + contact);
  return StrCat(kFirstNames[Below(h, kFirstNames.size())], ".",
                kLastNames[Below(Mix64(h), kLastNames.size())], "@", Domain(index, a));
}

// Contact 0 decides, contact 1 is technical, contact 2 holds the budget or
// champions the purchase; the rest are a mix.
const Title& Generator::ContactTitle(int32_t index, int contact) const {
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

std::string Generator::OwnerId(int owner) const {
  std::string id = "rep-ae-";
  AppendPadded(owner, 2, &id);
  return id;
}

std::string Generator::OpportunityId(int32_t index, const Account& a) const {
  std::string id = "opp-";
  AppendPadded(index + 1, 6, &id);
  id.push_back('-');
  AppendPadded(std::max<int>(a.opp_count, 1), 2, &id);
  return id;
}

void Generator::InitAccounts(int64_t unique) {
  const int32_t n = o_.accounts;
  accounts_.resize(n);
  std::vector<double> weight(n);
  int64_t min_total = 0;
  std::array<double, kZones.size()> zone_weights;
  for (size_t z = 0; z < kZones.size(); ++z) zone_weights[z] = kZones[z].weight;
  for (int32_t i = 0; i < n; ++i) {
    Account& a = accounts_[i];
    a.rng.state = Hash(i, 0);
    a.profile = static_cast<Profile>(WeightedIndex(a.rng, kProfileShares));
    a.size = static_cast<Segment>(WeightedIndex(a.rng, std::array<double, 3>{0.55, 0.30, 0.15}));
    a.zone = static_cast<uint8_t>(WeightedIndex(a.rng, zone_weights));
    a.owner = a.rng.Chance(0.15) ? 0 : static_cast<uint8_t>(a.rng.Int(1, 12));
    int lo = a.size == kSmb ? 1 : a.size == kMidMarket ? 2 : 4;
    int hi = a.size == kSmb ? 4 : a.size == kMidMarket ? 8 : 12;
    a.n_contacts = static_cast<uint8_t>(a.rng.Int(lo, hi));
    int p = static_cast<int>(a.profile);
    // Pareto(alpha 1.1) tail, capped; drifters stay small.
    double tail = std::min(Pow(1.0 - a.rng.Uniform(), -1.0 / 1.1),
                           a.profile == Profile::kDrifter ? 3.0 : 80.0);
    weight[i] = kProfileWeight[p] * tail;
    min_total += kProfileMinBudget[p];
  }
  std::vector<int64_t> budget(n, 0);
  if (unique < n) {
    for (int64_t i = 0; i < unique; ++i) budget[i] = 1;
  } else {
    bool full = min_total <= unique;
    int64_t rest = unique;
    for (int32_t i = 0; i < n; ++i) {
      budget[i] = full ? kProfileMinBudget[static_cast<int>(accounts_[i].profile)] : 1;
      rest -= budget[i];
    }
    // Largest remainder over the weights.
    double total = 0;
    for (double w : weight) total += w;
    std::vector<std::pair<double, int32_t>> remainders;
    remainders.reserve(n);
    int64_t given = 0;
    for (int32_t i = 0; i < n; ++i) {
      double quota = static_cast<double>(rest) * weight[i] / total;
      int64_t whole = static_cast<int64_t>(quota);
      budget[i] += whole;
      given += whole;
      remainders.emplace_back(-(quota - static_cast<double>(whole)), i);
    }
    std::sort(remainders.begin(), remainders.end());
    for (int64_t k = 0; k < rest - given; ++k) ++budget[remainders[k % n].second];
  }
  for (int32_t i = 0; i < n; ++i) {
    if (budget[i] > 0) PlanAccount(i, budget[i]);
  }
}

void Generator::BuildParts(Account& a, int64_t budget, std::vector<Part>* parts) {
  Rng& r = a.rng;
  auto part = [&](Mix mix, double lo, double hi, double gap = 0) -> Part& {
    parts->push_back(Part{mix, r.Between(lo, hi), gap, {}, 0});
    return parts->back();
  };
  bool update = budget >= 2 && r.Chance(0.85);
  switch (a.profile) {
    case Profile::kDrifter: {
      Part& first = part(Mix::kBrowse, 1, 10);
      if (update) first.Add(kStepAccountUpdate);
      if (budget >= 4 && r.Chance(0.35)) {
        part(Mix::kEvaluate, 3, 12, r.Between(47, 75)).Add(kStepPricingAny);
      }
      break;
    }
    case Profile::kNurture: {
      Part& first = part(Mix::kNurture, 40, 150);
      if (update) first.Add(kStepAccountUpdate);
      if (r.Chance(0.5)) first.Add(kStepUpsert0);
      if (r.Chance(0.4)) first.Add(kStepFormIntro);
      if (r.Chance(0.3)) part(Mix::kNurture, 10, 40, r.Between(47, 70)).Add(kStepPricingAny);
      break;
    }
    case Profile::kEvaluator:
    case Profile::kBuyer: {
      bool buyer = a.profile == Profile::kBuyer;
      a.n_contacts = std::max<uint8_t>(a.n_contacts, 3);
      Part& aware = part(r.Chance(0.5) ? Mix::kBrowse : Mix::kNurture, 5, buyer ? 30 : 25);
      if (update) aware.Add(kStepAccountUpdate);
      if (r.Chance(0.6)) aware.Add(kStepUpsert0);
      aware.Add(kStepUpsert1);  // the technical evaluator, with a title that says so
      if (r.Chance(0.4)) aware.Add(kStepUpsert2);
      aware.Add(kStepFormIntro);
      Part& eval = part(Mix::kEvaluate, 2, 6);
      eval.Add(kStepPricing0);
      eval.Add(r.Chance(0.5) ? kStepPricing1 : kStepPricing2);
      // Salespeople answer most prompts of a demo request or a reply (the
      // outcome names the prompt: crm.prompt_outcome).
      if (r.Chance(buyer ? 0.85 : 0.6)) {
        eval.Add(kStepDemo);
        if (r.Chance(0.75)) eval.Add(kStepPromptAnswer);
      }
      if (r.Chance(0.8)) eval.Add(kStepDocsTechnical);
      if (r.Chance(0.7)) {
        eval.Add(kStepReply);
        if (r.Chance(0.6)) eval.Add(kStepPromptAnswer);
      }
      if (!buyer) {
        part(Mix::kNurture, 10, 40);
        if (r.Chance(0.5)) part(Mix::kNurture, 5, 20, r.Between(47, 70)).Add(kStepPricingAny);
        break;
      }
      if (r.Chance(0.6)) a.flags |= kFlagWillWin;
      Part& deal = part(Mix::kDeal, 25, 80);
      for (Step s : {kStepQualification, kStepDiscovery, kStepMeeting, kStepProposal}) deal.Add(s);
      if (r.Chance(0.5)) deal.Add(kStepDocsTechnical);
      deal.Add(kStepNegotiation);
      deal.Add(kStepDealClose);
      if (a.flags & kFlagWillWin) {
        Part& after = part(Mix::kCustomer, 30, 60);
        after.Add(kStepMeeting);
        if (r.Chance(0.15)) after.Add(kStepUsageDrop);
      } else {
        part(Mix::kNurture, 20, 60);
      }
      break;
    }
    case Profile::kCustomer:
    case Profile::kChurnRisk: {
      Part& onboard = part(Mix::kCustomer, 3, 10);
      if (update) onboard.Add(kStepAccountUpdate);
      if (r.Chance(0.7)) onboard.Add(kStepUpsert0);
      if (r.Chance(0.5)) onboard.Add(kStepUpsert1);
      onboard.Add(kStepDealWon);
      if (a.profile == Profile::kChurnRisk) {
        bool drop = r.Chance(0.5);
        Part& use = part(Mix::kCustomer, 20, 50);
        use.Add(kStepUsageDip);
        if (drop) use.Add(kStepUsageDrop);
        Part& after = part(r.Chance(0.5) ? Mix::kCustomer : Mix::kNurture, 10, 30,
                           drop ? r.Between(10, 30) : r.Between(31, 50));
        if (r.Chance(0.6)) {
          after.Add(kStepMeeting);
          after.Add(kStepUsageDip);
        }
        break;
      }
      Part& steady = part(Mix::kCustomer, 30, 50);
      if (r.Chance(0.2)) {
        steady.Add(kStepUsageDrop);
        steady.Add(r.Chance(0.5) ? kStepMeeting : kStepUsageDip);
      }
      part(Mix::kCustomer, 20, 40).Add(kStepPricingAny);
      if (r.Chance(0.35)) {
        Part& expand = part(Mix::kDeal, 20, 50);
        for (Step s : {kStepQualification, kStepProposal, kStepMeeting, kStepDealWon}) expand.Add(s);
      }
      if (r.Chance(0.25)) part(Mix::kCustomer, 10, 30, r.Between(31, 45)).Add(kStepMeeting);
      break;
    }
  }
}

void Generator::PlanAccount(int32_t index, int64_t budget) {
  Account& a = accounts_[index];
  std::vector<Part> parts;
  parts.reserve(kMaxSegments);
  for (;;) {
    parts.clear();
    BuildParts(a, budget, &parts);
    if (parts.size() > kMaxSegments) parts.resize(kMaxSegments);  // by construction: never
    int steps = 0;
    for (const Part& p : parts) steps += p.n_steps;
    if (steps <= budget) break;
    a.flags = 0;
    switch (a.profile) {  // not enough budget for this journey: a simpler one
      case Profile::kBuyer: a.profile = Profile::kEvaluator; break;
      case Profile::kEvaluator:
      case Profile::kCustomer:
      case Profile::kChurnRisk: a.profile = Profile::kNurture; break;
      default: a.profile = Profile::kDrifter; break;
    }
  }
  // Layout: fit into the span, keeping silences intact when possible.
  const double span = o_.days;
  double days = 0, gaps = 0;
  for (const Part& p : parts) {
    days += p.days;
    gaps += p.gap_days;
  }
  double f_days = 1, f_gaps = 1;
  if (days + gaps > span) {
    if (gaps < 0.8 * span) {
      f_days = (span - gaps) / days;
    } else {
      f_gaps = 0.8 * span / gaps;
      f_days = 0.2 * span / days;
    }
  }
  double total = days * f_days + gaps * f_gaps;
  double slack = std::max(0.0, span - total);
  bool customer = a.profile == Profile::kCustomer || a.profile == Profile::kChurnRisk;
  double t = o_.start_ms + a.rng.Uniform() * (customer ? std::min(slack, 30.0) : slack) * kDayMs;
  bool open_end = a.profile == Profile::kCustomer || (a.flags & kFlagWillWin);
  // Fillers by segment, proportional to length x mix rate.
  int64_t steps = 0;
  double weight_total = 0;
  for (const Part& p : parts) {
    steps += p.n_steps;
    weight_total += std::max(p.days * f_days, 0.05) * kMixRate[static_cast<int>(p.mix)];
  }
  int64_t filler_left = budget - steps;
  a.n_segs = static_cast<uint8_t>(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part& p = parts[i];
    Seg& s = a.segs[i];
    t += p.gap_days * f_gaps * kDayMs;
    s.start_ms = std::clamp<int64_t>(static_cast<int64_t>(t), o_.start_ms, end_ms_ - 1);
    t += std::max(p.days * f_days * kDayMs, 60000.0);
    s.end_ms = std::clamp<int64_t>(static_cast<int64_t>(t), s.start_ms + 1, end_ms_);
    if (open_end && i + 1 == parts.size()) s.end_ms = end_ms_;
    double w = std::max(p.days * f_days, 0.05) * kMixRate[static_cast<int>(p.mix)];
    int64_t filler = i + 1 == parts.size()
                         ? filler_left
                         : std::llround(static_cast<double>(filler_left) * w / weight_total);
    filler = std::min(filler, filler_left);
    filler_left -= filler;
    weight_total -= w;
    s.events = p.n_steps + filler;
    s.done = 0;
    s.mix = p.mix;
    s.n_steps = p.n_steps;
    s.next_step = 0;
    s.steps = p.steps;
  }
  a.seg = 0;
  a.last_ms = a.segs[0].start_ms;
  if (NextTime(a)) heap_.emplace(a.last_ms, index);
}

// Schedules the account's next event (a.last_ms); false when it has none.
bool Generator::NextTime(Account& a) {
  while (a.seg < a.n_segs) {
    Seg& s = a.segs[a.seg];
    int64_t left = s.events - s.done;
    if (left <= 0) {
      ++a.seg;
      continue;
    }
    int offset = kZones[a.zone].offset_minutes;
    int64_t from = std::max(a.last_ms, s.start_ms);
    double y0 = ToBusiness(from, offset);
    double y1 = ToBusiness(s.end_ms, offset);
    // The smallest of `left` uniforms on [y0, y1).
    double v = 1.0 - a.rng.Uniform();
    double y = y0 + (y1 - y0) * (1.0 - Pow(v, 1.0 / static_cast<double>(left)));
    a.last_ms = std::clamp(FromBusiness(y, offset), from, s.end_ms - 1);
    return true;
  }
  return false;
}

int Generator::PickContact(Account& a, bool email) {
  // Lower-numbered contacts (the buying committee) engage more.
  int c = static_cast<int>(a.rng.Below(a.n_contacts));
  if (a.rng.Chance(0.4)) c = static_cast<int>(a.rng.Below(std::min<int>(a.n_contacts, 3)));
  if (email && (a.email_dead >> c & 1)) {
    for (int k = 0; k < a.n_contacts; ++k) {
      if (!(a.email_dead >> k & 1)) return k;
    }
    return -1;
  }
  return c;
}

Spec Generator::StepSpec(Account& a, Step step) {
  auto contact = [&](int c) { return std::min(c, a.n_contacts - 1); };
  switch (step) {
    case kStepAccountUpdate: return {kAccountUpdate};
    case kStepUpsert0: return {kContactUpsert, kOther, contact(0)};
    case kStepUpsert1: return {kContactUpsert, kOther, contact(1)};
    case kStepUpsert2: return {kContactUpsert, kOther, contact(2)};
    case kStepFormIntro: return {kFormSubmit, kOther, 0, 0, true};
    case kStepPricing0: return {kPricingView, kPricing, contact(0)};
    case kStepPricing1: return {kPricingView, kPricing, contact(1)};
    case kStepPricing2: return {kPricingView, kPricing, contact(2)};
    case kStepPricingAny: return {kPricingView, kPricing, PickContact(a, false)};
    case kStepDemo: return {kDemoRequest, kProduct, contact(a.rng.Chance(0.6) ? 0 : 2)};
    case kStepDocsTechnical: return {kPageView, kDocs, contact(1)};
    case kStepReply: {
      int c = PickContact(a, true);
      return c < 0 ? Spec{kPageView, kProduct, 0} : Spec{kEmailReply, kOther, c};
    }
    case kStepQualification: return {kOpportunityStage, kOther, -1, 0};
    case kStepDiscovery: return {kOpportunityStage, kOther, -1, 1};
    case kStepProposal: return {kOpportunityStage, kOther, -1, 2};
    case kStepNegotiation: return {kOpportunityStage, kOther, -1, 3};
    case kStepMeeting: return {kMeetingHeld, kOther, PickContact(a, false)};
    case kStepDealClose: return {(a.flags & kFlagWillWin) ? kDealWon : kDealLost};
    case kStepDealWon: return {kDealWon};
    case kStepUsageDrop: return {kUsage, kOther, -1, 1};
    case kStepUsageDip: return {kUsage, kOther, -1, 2};
    case kStepPromptAnswer: return {kPromptOutcome, kOther, -1};
  }
  return {kPageView, kOther, 0};
}

Spec Generator::FillerSpec(Account& a, Mix mix) {
  auto pick = [&](const auto& table) {
    std::array<double, std::tuple_size_v<std::decay_t<decltype(table)>>> w;
    for (size_t i = 0; i < table.size(); ++i) w[i] = table[i].weight;
    return table[WeightedIndex(a.rng, w)];
  };
  MixEntry e = kBrowseMix[0];
  switch (mix) {
    case Mix::kBrowse: e = pick(kBrowseMix); break;
    case Mix::kNurture: e = pick(kNurtureMix); break;
    case Mix::kEvaluate: e = pick(kEvaluateMix); break;
    case Mix::kDeal: e = pick(kDealMix); break;
    case Mix::kCustomer: e = pick(kCustomerMix); break;
  }
  Spec spec{e.kind, e.category};
  if (e.kind == kUsage || e.kind == kOwnerChange) return spec;
  spec.contact = PickContact(a, IsEmail(e.kind));
  if (spec.contact < 0) return {kPageView, kBlog, 0};  // nobody left to e-mail
  // Contacts reach the CRM as they engage: sometimes the first sign of a
  // contact is the CRM sync.
  if (e.kind != kContactUpsert && !(a.upserted >> spec.contact & 1) && a.rng.Chance(0.2)) {
    return {kContactUpsert, kOther, spec.contact};
  }
  if (e.kind == kFormSubmit && !(a.flags & kFlagAnonIntroduced)) spec.intro = true;
  return spec;
}

Spec Generator::ChooseEvent(Account& a) {
  Seg& s = a.segs[a.seg];
  int64_t left = s.events - s.done;
  int64_t steps_left = s.n_steps - s.next_step;
  ++s.done;
  // Milestones keep their order, at random positions among the fillers.
  if (steps_left > 0 && static_cast<int64_t>(a.rng.Below(left)) < steps_left) {
    Spec spec = StepSpec(a, s.steps[s.next_step++]);
    spec.milestone = true;
    return spec;
  }
  return FillerSpec(a, s.mix);
}

void Generator::FillWeb(int32_t index, Account& a, const Spec& spec, int64_t at_ms) {
  v1::Signal& s = signal_;
  Rng& r = a.rng;
  s.set_source_system("segment");
  const bool anonymous = !spec.intro && !spec.milestone && (a.flags & kFlagAnonIntroduced) &&
                         (spec.kind == kPageView || spec.kind == kPricingView) &&
                         spec.category != kDocs && r.Chance(0.5);
  if (anonymous) {
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

void Generator::FillEmail(int32_t index, Account& a, const Spec& spec, int64_t at_ms) {
  v1::Signal& s = signal_;
  s.set_source_system("marketo");
  s.set_account_id(AccountId(index));
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

void Generator::OpenOpportunity(Account& a) {
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

void Generator::FillCrm(int32_t index, Account& a, const Spec& spec, int64_t at_ms) {
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

void Generator::FillUsage(Account& a, const Spec& spec) {
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

void Generator::Fill(int32_t index, Account& a, const Spec& spec, int64_t at_ms) {
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
}

absl::Status Generator::Encode(const v1::Signal& s, std::string* out) {
  if (o_.format == OutputFormat::kJson) {
    out->clear();
    AppendSignalJson(s, out);
    return absl::OkStatus();
  }
  if (!SerializeBinary(s, out)) return absl::InternalError("protobuf serialisation failed");
  return absl::OkStatus();
}

// A deliberately bad record, made from the last good signal: it either fails
// to decode or lacks a required field.
absl::Status Generator::EmitMalformed() {
  if (have_signal_) {
    scratch_ = signal_;
  } else {
    scratch_.Clear();
    scratch_.set_type("web.page_view");
    scratch_.set_account_id(AccountId(0));
    *scratch_.mutable_occurred_at() = FromMillis(o_.start_ms);
  }
  scratch_.set_event_id(NextEventId());
  record_.key = scratch_.account_id();
  record_.malformed = true;
  record_.occurred_ms = last_emitted_ms_;
  const bool json = o_.format == OutputFormat::kJson;
  // Same draws in both formats, so JSON and binary streams stay parallel.
  uint64_t variant = Below(Draw(), 8);
  uint64_t junk = Draw();
  if (!json && variant >= 6) variant -= 2;  // binary has six kinds
  switch (variant) {
    case 0: scratch_.clear_event_id(); break;
    case 1: scratch_.clear_type(); break;
    case 2: scratch_.clear_occurred_at(); break;
    case 3:
      scratch_.clear_account_id();
      scratch_.clear_contact_id();
      scratch_.clear_email();
      scratch_.clear_anonymous_id();
      record_.key.clear();
      break;
    default: break;
  }
  if (absl::Status st = Encode(scratch_, &record_.value); !st.ok()) return st;
  std::string& v = record_.value;
  if (json) {
    switch (variant) {
      case 4: v.resize(std::max<size_t>(1, v.size() / 2)); break;  // cut short
      case 5: v.insert(1, "\"evnt_id\":\"x\","); break;            // misspelt field
      case 6: {                                                    // not a time
        size_t at = v.find("\"occurred_at\":\"");
        size_t end = at == std::string::npos ? at : v.find('"', at + 15);
        if (end != std::string::npos) v.replace(at + 15, end - at - 15, "yesterday at noon");
        else v.insert(1, "\"occurred_at\":\"yesterday at noon\",");
        break;
      }
      case 7: v = StrCat("<signal id=\"", scratch_.event_id(), "\">", scratch_.type(), "</signal>");
        break;
      default: break;
    }
  } else if (variant == 4) {
    v.resize(std::min<size_t>(v.size(), 6));  // ends inside the event_id string
    if (v.size() < 6) v = std::string("\x0a\x14\x65\x76\x74\x2d", 6);
  } else if (variant == 5) {
    v.assign(1, '\x0f');  // field 1 with wire type 7: invalid
    for (int i = 0; i < 7; ++i) v.push_back(static_cast<char>(junk >> (8 * i)));
  }
  sink_(record_);
  return absl::OkStatus();
}

absl::Status Generator::Run() {
  const int64_t m = o_.signals;
  const int64_t bad = std::llround(static_cast<double>(m) * o_.malformed_share);
  const int64_t good = m - bad;
  const int64_t dups = good >= 2 ? static_cast<int64_t>(std::floor(good * kDuplicateShare + 0.5)) : 0;
  const int64_t unique = good - dups;
  InitAccounts(unique);
  last_emitted_ms_ = o_.start_ms;
  int64_t bad_left = bad, dup_left = dups, good_seen = 0;
  for (int64_t i = 0; i < m; ++i) {
    if (o_.cancel != nullptr && o_.cancel->load(std::memory_order_relaxed)) {
      return absl::CancelledError("generation cancelled");
    }
    if (static_cast<int64_t>(Below(Draw(), m - i)) < bad_left) {
      --bad_left;
      if (absl::Status st = EmitMalformed(); !st.ok()) return st;
      ++stats_->malformed;
      ++stats_->records;
      continue;
    }
    record_.malformed = false;
    bool dup = good_seen > 0 &&
               static_cast<int64_t>(Below(Draw(), good - good_seen)) < dup_left;
    ++good_seen;
    if (dup) {
      --dup_left;
      // Any recent record that keeps the disorder within two minutes; the
      // newest always does.
      int pick = static_cast<int>(Below(Draw(), ring_count_));
      int slot = (ring_next_ - 1 - pick + kRingSize) % kRingSize;
      if (ring_[slot].occurred_ms < last_emitted_ms_ - 2 * kMillisPerMinute + 1) {
        slot = (ring_next_ - 1 + kRingSize) % kRingSize;
      }
      const RingEntry& e = ring_[slot];
      record_.key = e.key;
      record_.value = e.value;
      record_.occurred_ms = e.occurred_ms;
      ++by_kind_[e.kind];
      ++stats_->duplicates;
    } else {
      if (heap_.empty()) return absl::InternalError("signal budget exhausted early");
      auto [true_ms, index] = heap_.top();
      heap_.pop();
      Account& a = accounts_[index];
      Spec spec = ChooseEvent(a);
      int64_t at = true_ms;
      if (Unit(Draw()) < kJitterShare) {  // sent late: event time a little earlier
        at = std::max(o_.start_ms, true_ms - static_cast<int64_t>(Below(Draw(), 119000)) - 1000);
      }
      Fill(index, a, spec, at);
      have_signal_ = true;
      if (NextTime(a)) heap_.emplace(a.last_ms, index);
      if (absl::Status st = Encode(signal_, &record_.value); !st.ok()) return st;
      record_.key = signal_.account_id();
      record_.occurred_ms = at;
      ++by_kind_[spec.kind];
      RingEntry& e = ring_[ring_next_];
      e.key = record_.key;
      e.value = record_.value;
      e.occurred_ms = at;
      e.kind = spec.kind;
      ring_next_ = (ring_next_ + 1) % kRingSize;
      ring_count_ = std::min(ring_count_ + 1, kRingSize);
    }
    last_emitted_ms_ = record_.occurred_ms;
    ++stats_->records;
    sink_(record_);
  }
  for (int k = 0; k < kKindCount; ++k) {
    if (by_kind_[k] > 0) stats_->by_type[std::string(kTypeNames[k])] = by_kind_[k];
  }
  stats_->accounts = static_cast<int32_t>(std::min<int64_t>(o_.accounts, unique));
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateOptions(const GeneratorOptions& options) {
  if (options.accounts < 1) {
    return absl::InvalidArgumentError(StrCat("accounts must be >= 1 (got ", options.accounts, ")"));
  }
  if (options.signals < 1) {
    return absl::InvalidArgumentError(StrCat("signals must be >= 1 (got ", options.signals, ")"));
  }
  if (!(options.malformed_share >= 0.0 && options.malformed_share <= 1.0)) {
    return absl::InvalidArgumentError(
        StrCat("malformed_share must be in [0, 1] (got ", options.malformed_share, ")"));
  }
  if (options.days < 1 || options.days > 36500) {
    return absl::InvalidArgumentError(
        StrCat("days must be in [1, 36500] (got ", options.days, ")"));
  }
  if (options.start_ms < kMinStartMs ||
      options.start_ms > kEndLimitMs - static_cast<int64_t>(options.days) * kDayMs) {
    return absl::InvalidArgumentError(StrCat(
        "start_ms must be in [", kMinStartMs, ", ", kEndLimitMs - options.days * kDayMs,
        "] so that the stream fits years 0001-9999 (got ", options.start_ms, ")"));
  }
  if (options.format != OutputFormat::kJson && options.format != OutputFormat::kBinary) {
    return absl::InvalidArgumentError(
        StrCat("format must be kJson or kBinary (got ", static_cast<int>(options.format), ")"));
  }
  return absl::OkStatus();
}

absl::Status Generate(const GeneratorOptions& options,
                      const std::function<void(const GeneratedRecord&)>& sink,
                      GenerateStats* stats) {
  GenerateStats local;
  if (stats == nullptr) stats = &local;
  *stats = GenerateStats{};
  if (absl::Status st = ValidateOptions(options); !st.ok()) return st;
  Generator generator(options, sink, stats);
  return generator.Run();
}

absl::Status WriteStream(const GeneratorOptions& options, std::ostream& out,
                         GenerateStats* stats) {
  bool failed = false;
  std::string buffer;
  auto flush = [&] {
    if (!failed && !buffer.empty()) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      failed = !out.good();
    }
    buffer.clear();
  };
  absl::Status status = Generate(
      options,
      [&](const GeneratedRecord& r) {
        if (options.format == OutputFormat::kBinary) {
          uint32_t n = static_cast<uint32_t>(r.value.size());
          char prefix[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                            static_cast<char>(n >> 8), static_cast<char>(n)};
          buffer.append(prefix, 4);
          buffer.append(r.value);
        } else {
          buffer.append(r.value);
          buffer.push_back('\n');
        }
        if (buffer.size() >= (1 << 16)) flush();
      },
      stats);
  if (!status.ok()) return status;
  flush();
  out.flush();
  if (failed || !out.good()) return absl::DataLossError("writing the stream failed");
  return absl::OkStatus();
}

}  // namespace demandcenter::generate
