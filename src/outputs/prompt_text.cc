// Prompt text: templates, generated sentences and the body's layout.
#include "demandcenter/outputs/prompt_text.h"

#include "absl/strings/str_join.h"
#include "demandcenter/common/calendar.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::outputs {
namespace {

// The page visited; for an e-mail click the link; else the signal type, so
// the sentence never has a hole.
std::string PageOf(const v1::Signal& signal) {
  if (!signal.web_visit().path().empty()) return signal.web_visit().path();
  if (!signal.web_visit().url().empty()) return signal.web_visit().url();
  if (!signal.email_engagement().link_url().empty()) return signal.email_engagement().link_url();
  return signal.type();
}

std::string ContactTitle(const v1::AccountState& account, const v1::Signal& signal) {
  for (const auto& c : account.contacts()) {
    if (!signal.contact_id().empty() && c.contact_id() == signal.contact_id() && !c.title().empty()) {
      return c.title();
    }
  }
  return "a contact";
}

// The first count a rule's condition recorded ("count.*" or "contacts.*").
std::string FirstCount(const condition::Facts& facts) {
  for (const auto& [k, v] : facts) {
    if (k.rfind("count.", 0) == 0 || k.rfind("contacts.", 0) == 0) return v;
  }
  return "0";
}

// The value of one placeholder.
std::string Placeholder(std::string_view name, const PromptFacts& f) {
  const v1::AccountState& account = f.account;
  if (name == "account_name") return AccountLabel(account);
  if (name == "account_id") return account.account_id();
  if (name == "contact") {
    std::string label = ContactLabel(account, f.signal);
    return label.empty() ? "someone at the account" : label;
  }
  if (name == "contact_title") return ContactTitle(account, f.signal);
  if (name == "stage") return account.stage();
  if (name == "score") return condition::FormatNumber(f.score);
  if (name == "committee_size") return std::to_string(f.committee.size);
  if (name == "committee_roles") return JoinAnd(f.committee.roles, "no known roles");
  if (name == "amount") return condition::FormatNumber(account.opportunity_amount());
  if (name == "opportunity_stage") return account.opportunity_stage();
  if (name == "type") return f.signal.type();
  if (name == "count") return FirstCount(f.facts);
  if (name == "usage_drop") return StrCat(condition::FormatNumber(account.usage_drop() * 100), "%");
  if (name == "owner") return account.owner_id().empty() ? "unassigned" : account.owner_id();
  if (name == "due") return DueText(f.due_ms, f.zone);
  if (name == "page") return PageOf(f.signal);
  return "";
}

}  // namespace

std::string AccountLabel(const v1::AccountState& account) {
  return account.account_name().empty() ? account.account_id() : account.account_name();
}

const v1::ContactState* FindContact(const v1::AccountState& account, const v1::Signal& signal) {
  for (const auto& c : account.contacts()) {
    bool same = (!signal.contact_id().empty() && c.contact_id() == signal.contact_id()) ||
                (signal.contact_id().empty() && !signal.email().empty() && c.email() == signal.email());
    if (same) return &c;
  }
  return nullptr;
}

std::string ContactLabel(const v1::AccountState& account, const v1::Signal& signal) {
  const v1::ContactState* c = FindContact(account, signal);
  if (c == nullptr) return "";
  std::string who = c->contact_id().empty() ? c->email() : c->contact_id();
  return c->title().empty() ? who : StrCat(who, " (", c->title(), ")");
}

std::string DueText(int64_t due_ms, const rules::PolicyZone& zone) {
  return StrCat(calendar::FormatLocal(due_ms, *zone.tz), " (", zone.name, ")");
}

std::string Render(std::string_view text, const PromptFacts& facts) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    if (open == std::string_view::npos) break;
    size_t close = text.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(text, pos, open - pos);
    out += Placeholder(text.substr(open + 1, close - open - 1), facts);
    pos = close + 1;
  }
  if (pos < text.size()) out.append(text, pos, std::string_view::npos);
  return out;
}

std::string GeneratedWhat(const v1::Signal& signal, const v1::AccountState& account) {
  std::string who = ContactLabel(account, signal);
  if (who.empty()) who = "Someone";
  std::string at = StrCat(" at ", AccountLabel(account));
  const std::string& type = signal.type();
  std::string page = signal.web_visit().path().empty() ? signal.web_visit().url() : signal.web_visit().path();
  if (type == "web.demo_request") return StrCat(who, at, " requested a demo.");
  if (type == "web.pricing_view") return StrCat(who, at, " viewed pricing (", page, ").");
  if (type == "web.form_submit") return StrCat(who, at, " filled in a form (", page, ").");
  if (type.rfind("web.", 0) == 0) return StrCat(who, at, " visited ", page.empty() ? "the site" : page, ".");
  if (type == "email.reply") return StrCat(who, at, " replied to an e-mail.");
  if (type == "email.click") return StrCat(who, at, " clicked a link in an e-mail.");
  if (type == "crm.opportunity_stage") {
    return StrCat("The opportunity at ", AccountLabel(account), " moved to ", account.opportunity_stage(), ".");
  }
  if (type == "crm.deal_won") return StrCat(AccountLabel(account), " signed.");
  if (type == "crm.deal_lost") return StrCat(AccountLabel(account), " decided not to buy.");
  if (type == "crm.meeting_held") return StrCat("A meeting was held with ", AccountLabel(account), ".");
  if (type == "product.usage") {
    return StrCat("Usage at ", AccountLabel(account), " changed (drop ",
                  condition::FormatNumber(account.usage_drop() * 100), "%).");
  }
  if (type == kInactivityType) return StrCat(AccountLabel(account), " moved to ", account.stage(), " after a silence.");
  return StrCat(type, " from ", who == "Someone" ? "the account" : who, at, ".");
}

std::string WhoLine(const v1::AccountState& account, const v1::Signal& signal,
                    const condition::Committee& committee, int64_t committee_window_ms) {
  std::string contact;
  if (const v1::ContactState* c = FindContact(account, signal)) {
    contact = c->contact_id().empty() ? c->email() : c->contact_id();
    std::string about = c->title();
    if (!c->role().empty()) about += StrCat(about.empty() ? "" : ", ", c->role());
    if (!about.empty()) contact += StrCat(" (", about, ")");
  } else {
    contact = "no contact named";
  }
  std::string window = FormatDuration(committee_window_ms);
  std::string engaged =
      committee.size == 0
          ? StrCat("nobody engaged in the last ", window)
          : StrCat(committee.size, committee.size == 1 ? " person" : " people", " engaged in the last ", window,
                   committee.roles.empty() ? "" : StrCat(" (", JoinAnd(committee.roles, ""), ")"));
  return StrCat(contact, "; ", engaged, ".");
}

std::string TaskWhoLine(const v1::OpenTask& task, const v1::AccountState& account) {
  std::string_view contact = "no contact named";
  if (!task.contact_id().empty()) {
    contact = task.contact_id();
  } else if (!task.contact_email().empty()) {
    contact = task.contact_email();
  }
  return StrCat(contact, "; account ", AccountLabel(account), ", stage ", account.stage(), ".");
}

std::string PromptBody(std::string_view what, std::string_view who, std::string_view todo, int64_t due_ms,
                       const rules::PolicyZone& zone) {
  return StrCat(what, "\nWho: ", who, "\nDo: ", todo, "\nBy: ", DueText(due_ms, zone), ".");
}

std::string JoinAnd(const std::vector<std::string>& names, std::string_view none) {
  if (names.empty()) return std::string(none);
  if (names.size() == 1) return names[0];
  return StrCat(absl::StrJoin(names.begin(), names.end() - 1, ", "), " and ", names.back());
}

std::string FactsSentence(const condition::Facts& facts) {
  return absl::StrJoin(facts, ", ", [](std::string* out, const auto& fact) {
    out->append(fact.first).append(" ").append(fact.second);
  });
}

}  // namespace demandcenter::outputs
