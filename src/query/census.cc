#include "demandcenter/query/census.h"

#include <algorithm>

#include "demandcenter/common/time.h"

namespace demandcenter::query {
namespace {

constexpr size_t kRecentAccounts = 20;
constexpr int64_t kRateWindowMs = 60'000;

}  // namespace

Census::Census(const config::DecisionConfig& config) : config_(&config) {}

void Census::Forget(const Entry& entry) {
  auto it = stages_.find(entry.stage);
  if (it != stages_.end() && --it->second == 0) stages_.erase(it);
  auto b = buckets_.find({entry.segment, entry.stage});
  if (b == buckets_.end()) return;
  b->second.amount -= entry.amount;
  if (--b->second.accounts == 0) buckets_.erase(b);
}

void Census::Count(const Entry& entry) {
  ++stages_[entry.stage];
  Bucket& b = buckets_[{entry.segment, entry.stage}];
  ++b.accounts;
  b.amount += entry.amount;
}

std::vector<journey::StagePopulation> Census::BySegmentAndStage() const {
  std::vector<journey::StagePopulation> out;
  for (const auto& [key, b] : buckets_) out.push_back({key.first, key.second, b.accounts, b.amount});
  return out;
}

void Census::Load(int32_t partition, const state::StateStore& store) {
  Drop(partition);
  auto& accounts = partitions_[partition];
  store.ForEachAccount([&](const v1::AccountState& a) {
    Entry& e = accounts[a.account_id()];
    e.stage = a.stage();
    e.segment = a.segment();
    e.amount = a.opportunity_amount();
    for (const auto& t : a.tasks()) e.tasks.push_back({t.assignee_id(), t.pool(), t.sla_due_ms()});
    Count(e);
  });
}

void Census::Drop(int32_t partition) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return;
  for (const auto& [id, e] : it->second) Forget(e);
  partitions_.erase(it);
}

void Census::Update(int32_t partition, const v1::AccountState& account) {
  Entry& e = partitions_[partition][account.account_id()];
  if (!e.stage.empty()) Forget(e);
  e.stage = account.stage();
  e.segment = account.segment();
  e.amount = account.opportunity_amount();
  e.tasks.clear();
  for (const auto& t : account.tasks()) e.tasks.push_back({t.assignee_id(), t.pool(), t.sla_due_ms()});
  Count(e);
}

void Census::Remove(int32_t partition, const std::string& account_id) {
  auto p = partitions_.find(partition);
  if (p == partitions_.end()) return;
  auto it = p->second.find(account_id);
  if (it == p->second.end()) return;
  Forget(it->second);
  p->second.erase(it);
}

void Census::Committed(const std::vector<outputs::Output>& outputs, int64_t signals,
                       const std::map<std::string, int64_t>& dead_letters, int64_t wall_ms) {
  totals_.signals += signals;
  outputs_ += static_cast<double>(outputs.size());
  for (const auto& [reason, n] : dead_letters) dead_letters_[reason] += static_cast<double>(n);
  for (const auto& o : outputs) {
    if (const auto* t = std::get_if<v1::StageTransition>(&o.message)) {
      ++totals_.transitions;
      std::erase_if(recent_, [&](const v1::RecentAccount& r) { return r.account_id() == o.account_id; });
      v1::RecentAccount& r = recent_.emplace_back();
      r.set_account_id(o.account_id);
      r.set_stage(t->to_stage());
      *r.mutable_at() = t->at();
      if (recent_.size() > kRecentAccounts) recent_.pop_front();
    } else if (const auto* n = std::get_if<v1::NextBestAction>(&o.message)) {
      ++totals_.actions;
      actions_by_channel_[std::string(config::ChannelName(n->channel()))] += 1;
    }
  }
  samples_.push_back({wall_ms, totals_.signals, totals_.transitions, totals_.actions});
  while (samples_.size() > 2 && samples_[1].wall_ms <= wall_ms - kRateWindowMs) samples_.pop_front();
}

std::vector<std::pair<std::string, int64_t>> Census::StageCounts() const {
  std::vector<std::pair<std::string, int64_t>> counts;
  for (const auto& stage : config_->journey.stages) {
    auto it = stages_.find(stage);
    counts.emplace_back(stage, it == stages_.end() ? 0 : it->second);
  }
  // A stage no longer configured (state from an older config) still counts.
  for (const auto& [stage, n] : stages_) {
    if (std::find(config_->journey.stages.begin(), config_->journey.stages.end(), stage) ==
        config_->journey.stages.end()) {
      counts.emplace_back(stage, n);
    }
  }
  return counts;
}

v1::Summary Census::Summarize(const std::function<int64_t(int32_t)>& stream_time, int64_t wall_ms) const {
  v1::Summary s;
  *s.mutable_time() = FromMillis(wall_ms);
  int64_t newest = 0;
  for (const auto& [p, accounts] : partitions_) {
    s.add_partitions(p);
    newest = std::max(newest, stream_time(p));
  }
  if (newest > 0) *s.mutable_stream_time() = FromMillis(newest);
  for (const auto& [stage, n] : StageCounts()) {
    v1::StageCount* c = s.add_stages();
    c->set_stage(stage);
    c->set_accounts(static_cast<int32_t>(n));
  }
  if (samples_.size() >= 2) {
    const Sample& a = samples_.front();
    const Sample& b = samples_.back();
    double span = static_cast<double>(std::max<int64_t>(1000, b.wall_ms - a.wall_ms)) / 60'000.0;
    s.mutable_per_minute()->set_signals(static_cast<double>(b.signals - a.signals) / span);
    s.mutable_per_minute()->set_transitions(static_cast<double>(b.transitions - a.transitions) / span);
    s.mutable_per_minute()->set_actions(static_cast<double>(b.actions - a.actions) / span);
  }
  s.mutable_actions_by_channel()->insert(actions_by_channel_.begin(), actions_by_channel_.end());
  s.mutable_dead_letters_by_reason()->insert(dead_letters_.begin(), dead_letters_.end());
  std::map<std::pair<std::string, std::string>, std::pair<int32_t, int32_t>> load;
  for (const auto& [p, accounts] : partitions_) {
    int64_t now = stream_time(p);
    for (const auto& [id, e] : accounts) {
      for (const auto& t : e.tasks) {
        auto& [open, overdue] = load[{t.assignee_id, t.pool}];
        ++open;
        if (t.sla_due_ms > 0 && t.sla_due_ms < now) ++overdue;
      }
    }
  }
  for (const auto& [who, n] : load) {
    v1::PromptLoad* l = s.add_prompts();
    l->set_assignee_id(who.first);
    l->set_pool(who.second);
    l->set_open(n.first);
    l->set_overdue(n.second);
  }
  for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) *s.add_recent_accounts() = *it;
  s.mutable_totals()->set_signals(static_cast<double>(totals_.signals));
  s.mutable_totals()->set_outputs(outputs_);
  double dead = 0;
  for (const auto& [reason, n] : dead_letters_) dead += n;
  s.mutable_totals()->set_dead_letters(dead);
  s.set_rules_version(config_->rules_version);
  return s;
}

}  // namespace demandcenter::query
