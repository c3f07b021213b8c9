// The account model of the generator: who the accounts are (profile, size,
// time zone, contacts), the journey each one takes (segments of milestones
// and filler events separated by silences), when its events happen
// (business-time warping) and which event comes next. Everything here is
// drawn from the account's own SplitMix64, so an account needs a few hundred
// bytes and no event list. The signal fields are filled elsewhere
// (signal_fill.h). Private to src/generate.
#ifndef DEMANDCENTER_SRC_GENERATE_ACCOUNT_MODEL_H_
#define DEMANDCENTER_SRC_GENERATE_ACCOUNT_MODEL_H_

#include <array>
#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include "demandcenter/common/time.h"
#include "demandcenter/generate/generator.h"
#include "src/generate/random.h"
#include "src/generate/vocabulary.h"

namespace demandcenter::generate {

inline constexpr int64_t kDayMs = kMillisPerDay;
inline constexpr int64_t kWeekMs = 7 * kDayMs;
inline constexpr int kMaxSegments = 5;
inline constexpr int kMaxSteps = 9;

enum class Profile : uint8_t { kDrifter, kNurture, kEvaluator, kBuyer, kCustomer, kChurnRisk };

// The event mix of a journey segment.
enum class Mix : uint8_t { kBrowse, kNurture, kEvaluate, kDeal, kCustomer };

// Milestones: events a journey must contain, in order.
enum Step : uint8_t {
  kStepAccountUpdate, kStepUpsert0, kStepUpsert1, kStepUpsert2, kStepFormIntro, kStepPricing0,
  kStepPricing1, kStepPricing2, kStepPricingAny, kStepDemo, kStepDocsTechnical, kStepReply,
  kStepQualification, kStepDiscovery, kStepProposal, kStepNegotiation, kStepMeeting,
  kStepDealClose, kStepDealWon, kStepUsageDrop, kStepUsageDip, kStepPromptAnswer
};

// One segment of a journey, laid out in event time.
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

inline constexpr uint8_t kFlagAnonIntroduced = 1;
inline constexpr uint8_t kFlagWillWin = 2;
inline constexpr uint8_t kFlagOppOpen = 4;
// A signal naming the account has been sent: later ones may identify it
// only by a visitor id or an address.
inline constexpr uint8_t kFlagNamed = 8;

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

// "A few hundred bytes" per account, as the public header promises.
static_assert(sizeof(Account) <= 320);

// What an account's next event is.
struct Spec {
  Kind kind;
  Category category = kOther;
  int contact = -1;
  int param = 0;  // opportunity stage index; usage mode (1 drop, 2 dip)
  bool intro = false;      // a form submit that introduces the visitor id
  bool milestone = false;  // milestones are never anonymous
};

// Chooses the account's next event: its next milestone or a filler from
// its segment's mix (advancing the journey).
Spec ChooseEvent(Account& a);

// The accounts and the schedule of their next events, earliest first.
class AccountModel {
 public:
  explicit AccountModel(const GeneratorOptions& options);

  // Creates the accounts, shares `unique` signals among them (heavy-tailed,
  // every profile's journey funded when the total allows), plans each
  // journey and schedules the first event of every account that has one.
  void Plan(int64_t unique);

  bool empty() const { return heap_.empty(); }

  // Removes the earliest scheduled event from the schedule: its true event
  // time and the account's index.
  std::pair<int64_t, int32_t> PopNext() {
    const std::pair<int64_t, int32_t> next = heap_.top();
    heap_.pop();
    return next;
  }

  Account& account(int32_t index) { return accounts_[index]; }

  // Schedules the account's next event, when its journey has one left.
  void Reschedule(int32_t index);

 private:
  void PlanAccount(int32_t index, int64_t budget);

  const GeneratorOptions& o_;
  int64_t end_ms_;
  std::vector<Account> accounts_;
  std::priority_queue<std::pair<int64_t, int32_t>, std::vector<std::pair<int64_t, int32_t>>,
                      std::greater<>>
      heap_;
};

}  // namespace demandcenter::generate

#endif  // DEMANDCENTER_SRC_GENERATE_ACCOUNT_MODEL_H_
