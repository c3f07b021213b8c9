// Timers: every timer lives in the account's state (AccountState's
// inactivity_due_ms and `timers`), so the state store and its changelog
// persist them; a partition's TimerQueue is only an index over them,
// rebuilt from the store after a restore. Timers fire on stream time in
// (due, account, kind, task) order, and a fired timer is removed from the
// state in the step that fires it: exactly once. Pure.
#ifndef DEMANDCENTER_TIMERS_TIMERS_H_
#define DEMANDCENTER_TIMERS_TIMERS_H_

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "demandcenter/v1/state.pb.h"

namespace demandcenter::timers {

// One pending timer, in firing order. The task is named by a stable hash
// of its id (0 for inactivity): a key stays small, and ties between tasks of
// one account due at the same instant still break the same way every run.
struct TimerKey {
  int64_t due_ms = 0;
  std::string account_id;
  v1::TimerKind kind = v1::TIMER_KIND_UNSPECIFIED;
  uint64_t task = 0;

  auto operator<=>(const TimerKey&) const = default;
};

// The `task` of a TimerKey for a task id.
uint64_t TaskHash(std::string_view task_id);

// The pending timers of one partition, ordered by (due, account, kind, task).
// Entries may outlive the state they point to (a task closed meanwhile):
// the engine checks the account's state before firing.
class TimerQueue {
 public:
  void Add(TimerKey key) { keys_.insert(std::move(key)); }
  void Remove(const TimerKey& key) { keys_.erase(key); }
  bool Empty() const { return keys_.empty(); }
  // The next timer; the queue must not be empty.
  const TimerKey& Next() const { return *keys_.begin(); }
  TimerKey PopNext() {
    TimerKey key = *keys_.begin();
    keys_.erase(keys_.begin());
    return key;
  }
  size_t size() const { return keys_.size(); }

 private:
  std::set<TimerKey> keys_;
};

// Adds a timer entry to the account's state and returns its queue key.
TimerKey SetTimer(int64_t due_ms, v1::TimerKind kind, const std::string& task_id, int32_t escalation_level,
                  v1::AccountState* account);

// Removes the entry `key` names from the account's state. False when it is
// not there (already fired or cancelled): the queue entry was stale. On
// success *entry (optional) receives the removed entry.
bool TakeTimer(const TimerKey& key, v1::AccountState* account, v1::TimerEntry* entry = nullptr);

// Removes the task's timers (of `kind`, or all kinds when unspecified) from
// the account's state; returns their keys so the caller can drop them from
// its queue.
std::vector<TimerKey> RemoveTaskTimers(const std::string& task_id, v1::TimerKind kind,
                                       v1::AccountState* account);

// Every timer of the account, inactivity included, as queue keys.
std::vector<TimerKey> AccountTimers(const v1::AccountState& account);

// The open task with this id, or null.
v1::OpenTask* FindTask(const std::string& task_id, v1::AccountState* account);
// The open task one of whose prompts has this id, or null.
v1::OpenTask* FindTaskByPrompt(const std::string& prompt_id, v1::AccountState* account);
// Removes the task (not its timers).
void EraseTask(const std::string& task_id, v1::AccountState* account);

// "inactivity", "sla", "snooze", "expiry".
std::string_view TimerKindName(v1::TimerKind kind);

// The timer queues of every partition an engine serves, kept in step with
// the accounts' state: each change below goes to the account's state and to
// its partition's queue together.
class TimerIndex {
 public:
  // Adds a timer (state and queue).
  void Set(int64_t due_ms, v1::TimerKind kind, const std::string& task_id, int32_t escalation_level,
           v1::AccountState* account);
  // Removes the task's timers of `kind` (every kind when unspecified).
  void DropTask(const std::string& task_id, v1::TimerKind kind, v1::AccountState* account);
  // Removes the task's timers and the task.
  void CloseTask(const std::string& task_id, v1::AccountState* account);
  // Moves the account's inactivity timer to `due_ms` (0: none).
  void SetInactivity(int64_t due_ms, v1::AccountState* account);
  // The account's signals now arrive on partition `to`: its task timers
  // move there; its inactivity timer is dropped (the caller reschedules).
  void Move(int32_t from, int32_t to, const v1::AccountState& account);
  // Indexes every timer of an account read from a store (after a restore).
  void AddAccount(const v1::AccountState& account);
  void Clear() { queues_.clear(); }
  // Takes the next timer of `partition` due at or before `now_ms`, if any.
  // The key may be stale (the timer was cancelled meanwhile): the caller
  // checks the account's state (TakeTimer).
  std::optional<TimerKey> PopDue(int32_t partition, int64_t now_ms);
  size_t size() const;

 private:
  std::map<int32_t, TimerQueue> queues_;
};

}  // namespace demandcenter::timers

#endif  // DEMANDCENTER_TIMERS_TIMERS_H_
