#include "demandcenter/query/account_view.h"

#include <algorithm>

#include "demandcenter/common/time.h"
#include "demandcenter/condition/condition.h"
#include "demandcenter/journey/journey_model.h"
#include "demandcenter/timers/timers.h"

namespace demandcenter::query {
namespace {

void SetTime(int64_t ms, google::protobuf::Timestamp* ts) { *ts = FromMillis(ms); }

}  // namespace

v1::AccountView ViewOf(const v1::AccountState& account, const config::DecisionConfig& config,
                       int64_t stream_time_ms, const v1::JourneyModel* model) {
  int64_t now = stream_time_ms > 0 ? stream_time_ms : account.last_signal_ms();
  int64_t half_life = config.scoring.half_life_ms;
  v1::AccountView view;
  view.set_account_id(account.account_id());
  view.set_partition(account.partition());
  view.set_name(account.account_name());
  view.set_owner_id(account.owner_id());
  view.set_segment(account.segment());
  view.set_territory(account.territory());
  view.set_opportunity_stage(account.opportunity_stage());
  view.set_do_not_contact(account.do_not_contact());
  view.set_stage(account.stage());
  SetTime(account.stage_entered_ms(), view.mutable_stage_since());
  if (account.last_signal_ms() > 0) SetTime(account.last_signal_ms(), view.mutable_last_signal());
  view.set_signals(static_cast<int32_t>(account.signals_applied()));
  view.set_score(condition::DecayedValue(account.score(), half_life, now));
  for (const auto& c : account.contacts()) {
    v1::CommitteeMember* m = view.add_committee();
    m->set_contact_id(c.contact_id());
    m->set_role(c.role());
    m->set_title(c.title());
    m->set_score(condition::DecayedValue(c.score(), half_life, now));
  }
  // The committee by engagement: the most engaged first.
  std::stable_sort(view.mutable_committee()->begin(), view.mutable_committee()->end(),
                   [](const auto& a, const auto& b) { return a.score() > b.score(); });
  for (int i = account.recent_size() - 1; i >= 0; --i) {
    const v1::HistoryEntry& h = account.recent(i);
    v1::RecentEntry* r = view.add_recent();
    SetTime(h.at_ms(), r->mutable_at());
    r->set_kind(h.kind());
    r->set_from(h.from_stage());
    r->set_to(h.to_stage());
    r->set_action(h.action());
    if (h.channel() != v1::CHANNEL_UNSPECIFIED) r->set_channel(std::string(config::ChannelName(h.channel())));
    r->set_rule(h.rule_id());
    r->set_why(h.why());
  }
  for (const auto& t : account.tasks()) {
    v1::TaskView* v = view.add_open_tasks();
    v->set_task_id(t.task_id());
    v->set_action(t.action());
    v->set_assignee_id(t.assignee_id());
    v->set_pool(t.pool());
    v->set_channel(std::string(config::ChannelName(t.channel())));
    v->set_contact_id(t.contact_id());
    v->set_escalation_level(t.escalation_level());
    if (t.sla_due_ms() > 0) SetTime(t.sla_due_ms(), v->mutable_sla_due());
    if (t.expires_ms() > 0) SetTime(t.expires_ms(), v->mutable_expires());
  }
  if (account.inactivity_due_ms() > 0) {
    v1::TimerView* t = view.add_timers();
    t->set_kind(std::string(timers::TimerKindName(v1::TIMER_INACTIVITY)));
    SetTime(account.inactivity_due_ms(), t->mutable_due());
  }
  for (const auto& e : account.timers()) {
    v1::TimerView* t = view.add_timers();
    t->set_kind(std::string(timers::TimerKindName(e.kind())));
    SetTime(e.due_ms(), t->mutable_due());
    t->set_task_id(e.task_id());
  }
  std::stable_sort(view.mutable_timers()->begin(), view.mutable_timers()->end(),
                   [](const auto& a, const auto& b) { return ToMillis(a.due()) < ToMillis(b.due()); });
  if (model != nullptr) {
    if (auto outlook = journey::OutlookOf(config.journey, *model, account.segment(), account.stage())) {
      *view.mutable_outlook() = std::move(*outlook);
    }
  }
  return view;
}

}  // namespace demandcenter::query
