// The engine's orchestration: a signal's path through the core, stream time
// and the timers it fires. Deciding is in decide.cc, feedback in
// feedback.cc; what task timers do is in timers/task_timers.cc.
#include "demandcenter/engine/engine.h"

#include <algorithm>
#include <set>

#include "demandcenter/common/hash.h"
#include "demandcenter/common/proto_json.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/common/utf8.h"
#include "demandcenter/journey/journey.h"
#include "demandcenter/journey/journey_model.h"
#include "demandcenter/outputs/prompt_text.h"

namespace demandcenter::engine {
namespace {

// State keys of a partition's models, among its identities.
std::string JourneyModelKey(int32_t partition) { return StrCat(partition, "/jm"); }
std::string PropensityModelKey(int32_t partition) { return StrCat(partition, "/pl"); }

// A partition's model from `cache`, else from the store (empty when it has
// none), then cached.
template <typename Model>
Model& CachedModel(std::map<int32_t, Model>& cache, const std::string& key, int32_t partition,
                   state::StateStore* store) {
  auto [it, fresh] = cache.try_emplace(partition);
  if (fresh) {
    if (auto stored = store->ResolveIdentity(key)) it->second.ParseFromString(*stored);
  }
  return it->second;
}

// History kept per account for account queries, and the bytes of "why" kept
// per entry.
constexpr int kRecentKept = 8;
constexpr size_t kWhyBytes = 400;

// Appends the account's transitions and next best actions among out[first..]
// to its recent history (AccountState.recent), oldest dropped first.
void RememberRecent(const std::vector<outputs::Output>& out, size_t first, v1::AccountState* account) {
  for (size_t i = first; i < out.size(); ++i) {
    const outputs::Output& o = out[i];
    if (o.account_id != account->account_id()) continue;
    v1::HistoryEntry entry;
    const v1::DecisionTrace* trace = nullptr;
    if (const auto* t = std::get_if<v1::StageTransition>(&o.message)) {
      entry.set_kind("transition");
      entry.set_at_ms(ToMillis(t->at()));
      entry.set_from_stage(t->from_stage());
      entry.set_to_stage(t->to_stage());
      entry.set_rule_id(t->rule_id());
      trace = &t->trace();
    } else if (const auto* n = std::get_if<v1::NextBestAction>(&o.message)) {
      entry.set_kind("action");
      entry.set_at_ms(ToMillis(n->decided_at()));
      entry.set_action(n->action());
      entry.set_channel(n->channel());
      entry.set_rule_id(n->rule_id());
      trace = &n->trace();
    } else {
      continue;
    }
    std::string_view why = std::string_view(trace->text()).substr(0, kWhyBytes);
    entry.set_why(std::string(why.substr(0, ValidUtf8Prefix(why))));
    *account->add_recent() = std::move(entry);
  }
  int excess = account->recent_size() - kRecentKept;
  if (excess > 0) account->mutable_recent()->DeleteSubrange(0, excess);
}

}  // namespace

Engine::Engine(const config::DecisionConfig& config, state::StateStore* store)
    : config_(config),
      store_(store),
      index_(config),
      pools_(config),
      builder_(config.rules_version, &counters_),
      tasks_(config, pools_, &timers_, builder_, &counters_) {}

int64_t Engine::StreamTime(int32_t partition) const {
  auto it = stream_time_.find(partition);
  return it == stream_time_.end() ? 0 : it->second;
}

void Engine::RebuildTimers() {
  timers_.Clear();
  store_->ForEachAccount([&](const v1::AccountState& a) { timers_.AddAccount(a); });
}

void Engine::Schedule(v1::AccountState* account) {
  int64_t due = journey::NextInactivityDue(config_, *account);
  if (due != account->inactivity_due_ms()) timers_.SetInactivity(due, account);
}

void Engine::AdvanceStreamTime(int32_t partition, int64_t now_ms, std::vector<outputs::Output>* out) {
  int64_t& stream = stream_time_[partition];
  if (now_ms <= stream) return;
  stream = now_ms;
  FireDueTimers(partition, out);
}

std::vector<v1::ExperimentArm> Engine::CountStageEntry(const std::string& to_stage, v1::AccountState* account) {
  std::vector<v1::ExperimentArm> arms;
  for (auto& e : *account->mutable_experiments()) {
    std::string key = StrCat(e.experiment_id(), "/", e.arm(), "/", to_stage);
    ++counters_.experiment_stages[key];
    const auto& reached = e.reached_stages();
    if (std::find(reached.begin(), reached.end(), to_stage) == reached.end()) {
      e.add_reached_stages(to_stage);
      ++counters_.experiment_reached[key];
    }
    arms.push_back(outputs::ArmOf(e.experiment_id(), e.arm()));
  }
  return arms;
}

v1::JourneyModel& Engine::JourneyModel(int32_t partition) {
  return CachedModel(models_, JourneyModelKey(partition), partition, store_);
}

v1::PropensityModel& Engine::Propensities(int32_t partition) {
  return CachedModel(propensities_, PropensityModelKey(partition), partition, store_);
}

v1::JourneyModel Engine::StoredJourneyModel(state::StateStore* store, int32_t partition) {
  std::map<int32_t, v1::JourneyModel> one;
  return CachedModel(one, JourneyModelKey(partition), partition, store);
}

void Engine::FlushModels() {
  for (int32_t partition : dirty_models_) {
    if (auto it = models_.find(partition); it != models_.end()) {
      store_->PutIdentity(JourneyModelKey(partition), SerializeDeterministic(it->second));
    }
    if (auto it = propensities_.find(partition); it != propensities_.end()) {
      store_->PutIdentity(PropensityModelKey(partition), SerializeDeterministic(it->second));
    }
  }
  dirty_models_.clear();
}

void Engine::LearnEntry(const v1::AccountState& account) {
  journey::RecordEntry(account.segment(), account.stage(), &JourneyModel(account.partition()));
  dirty_models_.insert(account.partition());
}

void Engine::LearnExit(const std::string& from, const std::string& to, int64_t dwell_ms,
                       const v1::AccountState& account) {
  journey::RecordExit(account.segment(), from, to, dwell_ms, &JourneyModel(account.partition()));
  dirty_models_.insert(account.partition());
}

void Engine::FireDueTimers(int32_t partition, std::vector<outputs::Output>* out) {
  int64_t now = stream_time_[partition];
  while (std::optional<timers::TimerKey> key = timers_.PopDue(partition, now)) {
    v1::AccountState* account = store_->Find(key->account_id);
    if (account == nullptr) continue;
    size_t before = out->size();
    if (key->kind == v1::TIMER_INACTIVITY) {
      if (account->inactivity_due_ms() != key->due_ms) continue;
      account->set_inactivity_due_ms(0);
      FireInactivity(key->due_ms, account, out);
      Schedule(account);
    } else {
      v1::TimerEntry entry;
      if (!timers::TakeTimer(*key, account, &entry)) continue;  // closed meanwhile
      ++counters_.timers_by_kind[std::string(timers::TimerKindName(key->kind))];
      switch (key->kind) {
        case v1::TIMER_SLA: tasks_.FireSla(entry, account, out); break;
        case v1::TIMER_SNOOZE: tasks_.FireSnooze(entry, account, out); break;
        case v1::TIMER_EXPIRY: tasks_.FireExpiry(entry, account); break;
        default: break;
      }
    }
    RememberRecent(*out, before, account);
    store_->MarkDirty(key->account_id);
  }
}

void Engine::FireInactivity(int64_t due, v1::AccountState* account, std::vector<outputs::Output>* out) {
  const std::string& account_id = account->account_id();
  auto fired = journey::FireInactivity(config_, due, account);
  if (!fired) return;
  ++counters_.timers_fired;
  ++counters_.timers_by_kind["inactivity"];
  v1::Signal tick;
  tick.set_event_id(StrCat("timer:", account_id, ":", fired->transition->id, ":", due));
  tick.set_type(std::string(outputs::kInactivityType));
  tick.set_account_id(account_id);
  *tick.mutable_occurred_at() = FromMillis(fired->at_ms);
  size_t first = out->size();
  outputs::TransitionRecord t{
      .transition_id = DeterministicId("trn", {account_id, fired->transition->id, tick.event_id()}),
      .account_id = account_id,
      .from_stage = fired->from,
      .to_stage = fired->to,
      .at_ms = fired->at_ms,
      .rule_id = fired->transition->id,
      .dwell_ms = fired->dwell_ms,
      .trigger_event_id = tick.event_id(),
      .experiments = CountStageEntry(fired->to, account)};
  t.trace.set_text(StrCat(outputs::AccountLabel(*account), " moved from ", fired->from, " to ", fired->to, " (",
                          fired->transition->id, "): no engagement for ", fired->facts["inactive_for"], " since ",
                          fired->facts["last_engaged_at"], "."));
  outputs::AddFacts(fired->facts, &t.trace);
  builder_.Build(std::move(t), out);
  LearnExit(fired->from, fired->to, fired->dwell_ms, *account);
  Decide(tick, ToMillis(tick.occurred_at()), {fired->to}, account, first, out);
}

v1::AccountState* Engine::AccountFor(const std::string& account_id, int32_t partition, int64_t now) {
  v1::AccountState* account = store_->Find(account_id);
  if (account == nullptr) {
    account = store_->Insert(journey::NewAccount(config_, account_id, now));
    account->set_partition(partition);
    LearnEntry(*account);
  } else if (account->partition() != partition) {
    // The account's signals moved partition (re-keyed or repartitioned
    // input): its timers move with it.
    timers_.Move(account->partition(), partition, *account);
    account->set_inactivity_due_ms(0);
    account->set_partition(partition);
  }
  return account;
}

bool Engine::ErasePerson(const std::string& account_id, const std::string& contact_id, const std::string& email) {
  v1::AccountState* account = store_->Find(account_id);
  if (account == nullptr) return false;
  // Every id and address of the person: those named, and those of the
  // contact entries that match any of them.
  std::set<std::string> names;
  if (!contact_id.empty()) names.insert(contact_id);
  if (!email.empty()) names.insert(email);
  for (const auto& c : account->contacts()) {
    if (names.count(c.contact_id()) || (!c.email().empty() && names.count(c.email()))) {
      if (!c.contact_id().empty()) names.insert(c.contact_id());
      if (!c.email().empty()) names.insert(c.email());
    }
  }
  auto named = [&](const std::string& text) {
    for (const auto& n : names) {
      if (text.find(n) != std::string::npos) return true;
    }
    return false;
  };
  bool changed = false;
  auto* contacts = account->mutable_contacts();
  for (int i = contacts->size() - 1; i >= 0; --i) {
    if (names.count(contacts->Get(i).contact_id()) || names.count(contacts->Get(i).email())) {
      contacts->DeleteSubrange(i, 1);
      changed = true;
    }
  }
  for (auto& series : *account->mutable_counts()) {
    for (auto& c : *series.mutable_contact()) {
      if (!c.empty() && names.count(c)) {
        c.clear();
        changed = true;
      }
    }
  }
  constexpr char kErased[] = "(erased on request)";
  for (auto& t : *account->mutable_tasks()) {
    if (names.count(t.contact_id()) || names.count(t.contact_email())) {
      t.clear_contact_id();
      t.clear_contact_email();
      changed = true;
    }
    if (named(t.title()) || named(t.summary())) {
      t.set_title(kErased);
      t.set_summary(kErased);
      changed = true;
    }
  }
  for (auto& h : *account->mutable_recent()) {
    if (named(h.why())) {
      h.set_why(kErased);
      changed = true;
    }
  }
  if (changed) store_->MarkDirty(account_id);
  return changed;
}

bool Engine::EraseAccount(const std::string& account_id) {
  if (store_->Find(account_id) == nullptr) return false;
  store_->EraseAccount(account_id);
  return true;
}

SignalOutcome Engine::Process(const v1::Signal& signal, const std::string& account_id, int32_t partition,
                              std::vector<outputs::Output>* out, int64_t decide_at_ms) {
  int64_t now = ToMillis(signal.occurred_at());
  AdvanceStreamTime(partition, now, out);
  v1::AccountState* account = AccountFor(account_id, partition, now);
  if (!journey::RecordEventId(config_, signal, account)) {
    ++counters_.duplicates;
    return SignalOutcome::kDuplicate;
  }
  ++counters_.applied;
  journey::ApplySignal(config_, signal, account);
  routing::RecordAffinity(config_, signal.type(), account);
  ApplyFeedback(signal, account);
  std::vector<journey::FiredTransition> fired = journey::Advance(config_, signal, account);
  std::vector<std::string> entered;
  size_t first = out->size();
  for (auto& f : fired) {
    entered.push_back(f.to);
    outputs::TransitionRecord t{
        .transition_id = DeterministicId("trn", {account_id, f.transition->id, signal.event_id()}),
        .account_id = account_id,
        .from_stage = f.from,
        .to_stage = f.to,
        .at_ms = f.at_ms,
        .rule_id = f.transition->id,
        .dwell_ms = f.dwell_ms,
        .trigger_event_id = signal.event_id(),
        .experiments = CountStageEntry(f.to, account)};
    std::string why = outputs::FactsSentence(f.facts);
    t.trace.set_text(StrCat(outputs::AccountLabel(*account), " moved from ", f.from, " to ", f.to, " (",
                            f.transition->id, ") on ", signal.type(), why.empty() ? "" : StrCat(": ", why),
                            ", after ", FormatDuration(f.dwell_ms), " in ", f.from, "."));
    outputs::AddFacts(f.facts, &t.trace);
    builder_.Build(std::move(t), out);
    LearnExit(f.from, f.to, f.dwell_ms, *account);
  }
  CreditSuccesses(signal, fired, account);
  Decide(signal, std::max(now, decide_at_ms), entered, account, first, out);
  RememberRecent(*out, first, account);
  Schedule(account);
  store_->MarkDirty(account_id);
  return SignalOutcome::kApplied;
}

}  // namespace demandcenter::engine
