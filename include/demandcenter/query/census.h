// What an instance's accounts add up to, kept in step with its committed
// state: accounts per journey stage (the console's funnel and the
// demandcenter_accounts gauge), open prompts per salesperson and pool, the
// accounts that changed last, and the flow of committed signals and
// decisions. The processing loop feeds it; GET /v1/summary reads it.
//
// Takes: account states as they commit, committed outputs, dead letters.
// Gives: stage counts and a v1::Summary. Depends on: config, outputs,
// state; no I/O, no clock (times are passed in).
#ifndef DEMANDCENTER_QUERY_CENSUS_H_
#define DEMANDCENTER_QUERY_CENSUS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <utility>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "demandcenter/journey/journey_model.h"
#include "demandcenter/config/decision_config.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/state/state_store.h"
#include "demandcenter/v1/query.pb.h"

namespace demandcenter::query {

// Not thread safe: used on the processing thread only.
class Census {
 public:
  explicit Census(const config::DecisionConfig& config);
  // After a reload: stages are listed in the new config's order. `config`
  // must outlive the census (or the next SetConfig).
  void SetConfig(const config::DecisionConfig& config) { config_ = &config; }

  // A partition's accounts, once restored (replaces what it had).
  void Load(int32_t partition, const state::StateStore& store);
  // A partition given up.
  void Drop(int32_t partition);
  // An account's state as just committed.
  void Update(int32_t partition, const v1::AccountState& account);
  // An account erased.
  void Remove(int32_t partition, const std::string& account_id);
  // A committed transaction: its outputs, signals and dead letters by reason.
  void Committed(const std::vector<outputs::Output>& outputs, int64_t signals,
                 const std::map<std::string, int64_t>& dead_letters, int64_t wall_ms);

  // Accounts per stage, every configured stage included (config order).
  // Accounts and their opportunity amounts by (segment, stage).
  std::vector<journey::StagePopulation> BySegmentAndStage() const;
  std::vector<std::pair<std::string, int64_t>> StageCounts() const;

  // The summary; `stream_time` gives a partition's stream time (for SLA
  // deadlines passed).
  v1::Summary Summarize(const std::function<int64_t(int32_t)>& stream_time, int64_t wall_ms) const;

 private:
  struct Task {
    std::string assignee_id;
    std::string pool;
    int64_t sla_due_ms = 0;
  };
  struct Entry {
    std::string stage;
    std::string segment;
    double amount = 0;  // the latest opportunity amount
    std::vector<Task> tasks;
  };
  // Accounts of one segment in one stage, and their opportunity amounts.
  struct Bucket {
    int64_t accounts = 0;
    double amount = 0;
  };
  struct Sample {
    int64_t wall_ms;
    int64_t signals;
    int64_t transitions;
    int64_t actions;
  };
  void Forget(const Entry& entry);
  void Count(const Entry& entry);

  const config::DecisionConfig* config_;
  std::map<int32_t, std::unordered_map<std::string, Entry>> partitions_;
  std::map<std::string, int64_t> stages_;
  std::map<std::pair<std::string, std::string>, Bucket> buckets_;
  // The latest transitions, newest last: account, stage, event time.
  std::deque<v1::RecentAccount> recent_;
  std::map<std::string, double> actions_by_channel_;
  std::map<std::string, double> dead_letters_;
  Sample totals_{0, 0, 0, 0};
  double outputs_ = 0;
  // Totals at each commit of the last minute or so, oldest first.
  std::deque<Sample> samples_;
};

}  // namespace demandcenter::query

#endif  // DEMANDCENTER_QUERY_CENSUS_H_
