#include "demandcenter/timers/timers.h"

#include <algorithm>

#include "demandcenter/common/hash.h"

namespace demandcenter::timers {

uint64_t TaskHash(std::string_view task_id) { return task_id.empty() ? 0 : StableHash64(task_id, 29); }

TimerKey SetTimer(int64_t due_ms, v1::TimerKind kind, const std::string& task_id, int32_t escalation_level,
                  v1::AccountState* account) {
  v1::TimerEntry* e = account->add_timers();
  e->set_due_ms(due_ms);
  e->set_kind(kind);
  e->set_task_id(task_id);
  e->set_escalation_level(escalation_level);
  return TimerKey{due_ms, account->account_id(), kind, TaskHash(task_id)};
}

bool TakeTimer(const TimerKey& key, v1::AccountState* account, v1::TimerEntry* entry) {
  auto* list = account->mutable_timers();
  for (int i = 0; i < list->size(); ++i) {
    const v1::TimerEntry& e = list->Get(i);
    if (e.due_ms() == key.due_ms && e.kind() == key.kind && TaskHash(e.task_id()) == key.task) {
      if (entry != nullptr) *entry = e;
      list->DeleteSubrange(i, 1);
      return true;
    }
  }
  return false;
}

std::vector<TimerKey> RemoveTaskTimers(const std::string& task_id, v1::TimerKind kind,
                                       v1::AccountState* account) {
  std::vector<TimerKey> removed;
  auto* list = account->mutable_timers();
  for (int i = list->size() - 1; i >= 0; --i) {
    const v1::TimerEntry& e = list->Get(i);
    if (e.task_id() != task_id) continue;
    if (kind != v1::TIMER_KIND_UNSPECIFIED && e.kind() != kind) continue;
    removed.push_back(TimerKey{e.due_ms(), account->account_id(), e.kind(), TaskHash(e.task_id())});
    list->DeleteSubrange(i, 1);
  }
  return removed;
}

std::vector<TimerKey> AccountTimers(const v1::AccountState& account) {
  std::vector<TimerKey> keys;
  if (account.inactivity_due_ms() > 0) {
    keys.push_back(TimerKey{account.inactivity_due_ms(), account.account_id(), v1::TIMER_INACTIVITY, 0});
  }
  for (const auto& e : account.timers()) {
    keys.push_back(TimerKey{e.due_ms(), account.account_id(), e.kind(), TaskHash(e.task_id())});
  }
  return keys;
}

v1::OpenTask* FindTask(const std::string& task_id, v1::AccountState* account) {
  for (auto& t : *account->mutable_tasks()) {
    if (t.task_id() == task_id) return &t;
  }
  return nullptr;
}

v1::OpenTask* FindTaskByPrompt(const std::string& prompt_id, v1::AccountState* account) {
  if (prompt_id.empty()) return nullptr;
  for (auto& t : *account->mutable_tasks()) {
    for (const auto& p : t.prompt_ids()) {
      if (p == prompt_id) return &t;
    }
  }
  return nullptr;
}

void EraseTask(const std::string& task_id, v1::AccountState* account) {
  auto* tasks = account->mutable_tasks();
  for (int i = 0; i < tasks->size(); ++i) {
    if (tasks->Get(i).task_id() == task_id) {
      tasks->DeleteSubrange(i, 1);
      return;
    }
  }
}

std::string_view TimerKindName(v1::TimerKind kind) {
  switch (kind) {
    case v1::TIMER_INACTIVITY: return "inactivity";
    case v1::TIMER_SLA: return "sla";
    case v1::TIMER_SNOOZE: return "snooze";
    case v1::TIMER_EXPIRY: return "expiry";
    default: return "unknown";
  }
}

void TimerIndex::Set(int64_t due_ms, v1::TimerKind kind, const std::string& task_id, int32_t escalation_level,
                     v1::AccountState* account) {
  queues_[account->partition()].Add(SetTimer(due_ms, kind, task_id, escalation_level, account));
}

void TimerIndex::DropTask(const std::string& task_id, v1::TimerKind kind, v1::AccountState* account) {
  auto& queue = queues_[account->partition()];
  for (const auto& key : RemoveTaskTimers(task_id, kind, account)) queue.Remove(key);
}

void TimerIndex::CloseTask(const std::string& task_id, v1::AccountState* account) {
  DropTask(task_id, v1::TIMER_KIND_UNSPECIFIED, account);
  EraseTask(task_id, account);
}

void TimerIndex::SetInactivity(int64_t due_ms, v1::AccountState* account) {
  auto& queue = queues_[account->partition()];
  if (account->inactivity_due_ms() > 0) {
    queue.Remove({account->inactivity_due_ms(), account->account_id(), v1::TIMER_INACTIVITY, 0});
  }
  account->set_inactivity_due_ms(due_ms);
  if (due_ms > 0) queue.Add({due_ms, account->account_id(), v1::TIMER_INACTIVITY, 0});
}

void TimerIndex::Move(int32_t from, int32_t to, const v1::AccountState& account) {
  for (auto& key : AccountTimers(account)) {
    queues_[from].Remove(key);
    if (key.kind != v1::TIMER_INACTIVITY) queues_[to].Add(std::move(key));
  }
}

void TimerIndex::AddAccount(const v1::AccountState& account) {
  for (auto& key : AccountTimers(account)) queues_[account.partition()].Add(std::move(key));
}

std::optional<TimerKey> TimerIndex::PopDue(int32_t partition, int64_t now_ms) {
  auto& queue = queues_[partition];
  if (queue.Empty() || queue.Next().due_ms > now_ms) return std::nullopt;
  return queue.PopNext();
}

size_t TimerIndex::size() const {
  size_t n = 0;
  for (const auto& [p, queue] : queues_) n += queue.size();
  return n;
}

}  // namespace demandcenter::timers
