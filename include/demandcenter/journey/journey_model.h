// The live journey model: how accounts leave each stage, learned from the
// transitions themselves (per segment), and what it says about an account in
// a stage — the stage it is likely to enter next, how long accounts stay,
// and the probability of reaching the won stage (journey.outlook.won),
// solved over the stage-to-stage transition probabilities as a Markov chain.
//
// Takes: transitions (segment, from, to, dwell) and the journey config.
// Gives: the model (a v1::JourneyModel, kept in the partition's state) and
// outlooks. Depends on: config and the protos; pure, no I/O.
#ifndef DEMANDCENTER_JOURNEY_JOURNEY_MODEL_H_
#define DEMANDCENTER_JOURNEY_JOURNEY_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "demandcenter/config/decision_config.h"
#include "demandcenter/v1/query.pb.h"
#include "demandcenter/v1/state.pb.h"

namespace demandcenter::journey {

// Counts a new account entering its first stage.
void RecordEntry(const std::string& segment, const std::string& stage, v1::JourneyModel* model);
// Counts one account leaving `from` for `to` after `dwell_ms` in `from`
// (and entering `to`).
void RecordExit(const std::string& segment, const std::string& from, const std::string& to, int64_t dwell_ms,
                v1::JourneyModel* model);

// Adds every count of `from` to *into (several partitions' models).
void MergeModel(const v1::JourneyModel& from, v1::JourneyModel* into);

// The model of all segments together.
v1::SegmentJourney AllSegments(const v1::JourneyModel& model);

// Probability of reaching config.won_stage from each stage (1 for the won
// stage itself), over the transition probabilities of `journey`: the share
// of a stage's entrants that went to each next stage (those still in it
// moved nowhere, so a stage's probability only rises as they leave it for
// a winning path); empty when there is no won stage.
std::map<std::string, double> WinProbabilities(const config::JourneyConfig& config, const v1::SegmentJourney& journey);

// The outlook of an account of `segment` in `stage`: from its segment's
// model when at least config.outlook_min_exits accounts of the segment left
// the stage, else from all segments' when they did; nullopt otherwise.
std::optional<v1::Outlook> OutlookOf(const config::JourneyConfig& config, const v1::JourneyModel& model,
                                     const std::string& segment, const std::string& stage);

// Accounts of one segment in one stage and their opportunity amounts.
struct StagePopulation {
  std::string segment;
  std::string stage;
  int64_t accounts = 0;
  double amount = 0;
};

// The forecast of one stage: its accounts, the wins to expect from them
// (each weighted by its segment's outlook, else all segments'), the
// opportunity value weighted the same way, and the stage's outlook over all
// segments (win probability, typical dwell, accounts that left it).
struct StageForecast {
  std::string stage;
  int64_t accounts = 0;
  double expected_wins = 0;
  double pipeline_value = 0;
  double win_probability = 0;
  int64_t typical_dwell_seconds = 0;
  int64_t evidence = 0;
};
std::vector<StageForecast> Forecast(const config::JourneyConfig& config, const v1::JourneyModel& model,
                                    const std::vector<StagePopulation>& population);

// "accounts in negotiating go on to customer 69% of the time so far; of the
// 412 enterprise accounts that left it, 71% went to customer, after 12d on
// average".
std::string OutlookSentence(const v1::Outlook& outlook);

}  // namespace demandcenter::journey

#endif  // DEMANDCENTER_JOURNEY_JOURNEY_MODEL_H_
