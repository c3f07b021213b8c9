// The account model: profiles and budgets, journey planning and layout,
// business-time scheduling, and the choice of each account's next event.
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
// hundred bytes and no event list.
#include "src/generate/account_model.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <type_traits>

#include "demandcenter/common/civil.h"

namespace demandcenter::generate {
namespace {

// ------------------------------------------------------------ journey model

constexpr std::array<double, 6> kProfileShares = {0.36, 0.28, 0.13, 0.10, 0.09, 0.04};
// Budget the profile needs for its full journey, and its weight in the
// heavy-tailed share of the rest.
constexpr std::array<int64_t, 6> kProfileMinBudget = {2, 4, 14, 26, 14, 12};
constexpr std::array<double, 6> kProfileWeight = {0.3, 1.0, 3.0, 6.0, 5.0, 3.0};

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

// ------------------------------------------------------------ next events

// Schedules the account's next event (a.last_ms); false when it has none.
bool NextTime(Account& a) {
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

int PickContact(Account& a, bool email) {
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

Spec StepSpec(Account& a, Step step) {
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

Spec FillerSpec(Account& a, Mix mix) {
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

// ------------------------------------------------------------ planning

void BuildParts(Account& a, int64_t budget, std::vector<Part>* parts) {
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

}  // namespace

Spec ChooseEvent(Account& a) {
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

AccountModel::AccountModel(const GeneratorOptions& options)
    : o_(options), end_ms_(options.start_ms + options.days * kDayMs) {}

void AccountModel::Plan(int64_t unique) {
  const int32_t n = o_.accounts;
  accounts_.resize(n);
  std::vector<double> weight(n);
  int64_t min_total = 0;
  std::array<double, kZones.size()> zone_weights;
  for (size_t z = 0; z < kZones.size(); ++z) zone_weights[z] = kZones[z].weight;
  for (int32_t i = 0; i < n; ++i) {
    Account& a = accounts_[i];
    a.rng.state = AccountHash(o_.seed, i, 0);
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

void AccountModel::PlanAccount(int32_t index, int64_t budget) {
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
  Reschedule(index);
}

void AccountModel::Reschedule(int32_t index) {
  Account& a = accounts_[index];
  if (NextTime(a)) heap_.emplace(a.last_ms, index);
}

}  // namespace demandcenter::generate
