// The words of a CrmPrompt: a rule's title and "why now" templates with
// their {placeholders} filled in, the sentence made from the signal when a
// rule gives no `why`, the "Who:" line, and the body's layout. Pure: the
// same account, signal and zone give the same text.
#ifndef DEMANDCENTER_OUTPUTS_PROMPT_TEXT_H_
#define DEMANDCENTER_OUTPUTS_PROMPT_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/condition/condition.h"
#include "demandcenter/rules/contact_policy.h"
#include "demandcenter/v1/signal.pb.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::outputs {

// The signal type inactivity timers fire as ("journey.inactivity").
inline constexpr std::string_view kInactivityType = "journey.inactivity";

// The account's CRM name, or its id when the CRM gave none.
std::string AccountLabel(const v1::AccountState& account);

// The account's contact the signal names (by contact id, else by address),
// or null.
const v1::ContactState* FindContact(const v1::AccountState& account, const v1::Signal& signal);

// "ct-7 (VP Sales)", "ct-7", or "" when the signal names no known contact.
std::string ContactLabel(const v1::AccountState& account, const v1::Signal& signal);

// "Mon 9 Mar 10:00 (Europe/Berlin)".
std::string DueText(int64_t due_ms, const rules::PolicyZone& zone);

// Everything a template's placeholders may read.
struct PromptFacts {
  const v1::Signal& signal;
  const v1::AccountState& account;
  // The rule's facts (counts used by its condition...).
  const condition::Facts& facts;
  double score = 0;
  const condition::Committee& committee;
  int64_t due_ms = 0;
  const rules::PolicyZone& zone;
};

// Fills in {account_name}, {contact}, {stage}, {score}, {due}, {page}...
// (docs/rules.md lists them); an unknown placeholder becomes "".
std::string Render(std::string_view text, const PromptFacts& facts);

// "What happened" when the rule's prompt has no `why`, from the signal:
// "ct-7 (CFO) at Acme viewed pricing (/pricing)."
std::string GeneratedWhat(const v1::Signal& signal, const v1::AccountState& account);

// "Who": the contact (title, buying role) and the buying committee engaged
// within `committee_window_ms`.
std::string WhoLine(const v1::AccountState& account, const v1::Signal& signal,
                    const condition::Committee& committee, int64_t committee_window_ms);

// "Who" for a task's later prompts (escalation, snooze return): its contact
// and the account's stage.
std::string TaskWhoLine(const v1::OpenTask& task, const v1::AccountState& account);

// The body: "<what>\nWho: <who>\nDo: <todo>\nBy: <due>."
std::string PromptBody(std::string_view what, std::string_view who, std::string_view todo, int64_t due_ms,
                       const rules::PolicyZone& zone);

// "a, b and c"; `none` when there are no names.
std::string JoinAnd(const std::vector<std::string>& names, std::string_view none);

// "k1 v1, k2 v2": facts as a sentence for traces.
std::string FactsSentence(const condition::Facts& facts);

}  // namespace demandcenter::outputs

#endif  // DEMANDCENTER_OUTPUTS_PROMPT_TEXT_H_
