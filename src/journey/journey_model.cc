// The live journey model: exit counts per segment and stage, and the
// outlook they give.
#include "demandcenter/journey/journey_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"

namespace demandcenter::journey {
namespace {

int64_t ExitsOf(const v1::StageExits& exits) {
  int64_t n = 0;
  for (const auto& [to, count] : exits.to()) n += count;
  return n;
}

void MergeSegment(const v1::SegmentJourney& from, v1::SegmentJourney* into) {
  for (const auto& [stage, exits] : from.stages()) {
    v1::StageExits& mine = (*into->mutable_stages())[stage];
    for (const auto& [to, count] : exits.to()) (*mine.mutable_to())[to] += count;
    mine.set_dwell_ms(mine.dwell_ms() + exits.dwell_ms());
    mine.set_entered(mine.entered() + exits.entered());
  }
}

int64_t EnteredOf(const v1::StageExits& exits) { return std::max(exits.entered(), ExitsOf(exits)); }

// (I - P) v = b over the stages other than the won one, by Gaussian
// elimination with partial pivoting; false when the system is singular.
bool SolveWinProbabilities(const config::JourneyConfig& config, const v1::SegmentJourney& journey,
                           std::map<std::string, double>* p) {
  std::vector<std::string> open;
  for (const auto& stage : config.stages) {
    if (stage != config.won_stage) open.push_back(stage);
  }
  size_t n = open.size();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[open[i]] = i;
  std::vector<std::vector<double>> a(n, std::vector<double>(n + 1, 0));
  for (size_t i = 0; i < n; ++i) {
    a[i][i] = 1;
    auto it = journey.stages().find(open[i]);
    if (it == journey.stages().end()) continue;
    int64_t entered = EnteredOf(it->second);
    if (entered == 0) continue;
    for (const auto& [to, count] : it->second.to()) {
      double share = static_cast<double>(count) / static_cast<double>(entered);
      if (to == config.won_stage) {
        a[i][n] += share;
      } else if (auto j = index.find(to); j != index.end()) {
        a[i][j->second] -= share;
      }
    }
  }
  for (size_t c = 0; c < n; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < n; ++r) {
      if (std::abs(a[r][c]) > std::abs(a[pivot][c])) pivot = r;
    }
    if (std::abs(a[pivot][c]) < 1e-12) return false;
    std::swap(a[c], a[pivot]);
    for (size_t r = 0; r < n; ++r) {
      if (r == c || a[r][c] == 0) continue;
      double f = a[r][c] / a[c][c];
      for (size_t k = c; k <= n; ++k) a[r][k] -= f * a[c][k];
    }
  }
  for (size_t i = 0; i < n; ++i) (*p)[open[i]] = std::clamp(a[i][n] / a[i][i], 0.0, 1.0);
  return true;
}

}  // namespace

void RecordEntry(const std::string& segment, const std::string& stage, v1::JourneyModel* model) {
  v1::StageExits& s = (*(*model->mutable_segments())[segment].mutable_stages())[stage];
  s.set_entered(s.entered() + 1);
}

void RecordExit(const std::string& segment, const std::string& from, const std::string& to, int64_t dwell_ms,
                v1::JourneyModel* model) {
  v1::StageExits& exits = (*(*model->mutable_segments())[segment].mutable_stages())[from];
  ++(*exits.mutable_to())[to];
  exits.set_dwell_ms(exits.dwell_ms() + std::max<int64_t>(0, dwell_ms));
  RecordEntry(segment, to, model);
}

void MergeModel(const v1::JourneyModel& from, v1::JourneyModel* into) {
  for (const auto& [segment, journey] : from.segments()) MergeSegment(journey, &(*into->mutable_segments())[segment]);
}

v1::SegmentJourney AllSegments(const v1::JourneyModel& model) {
  v1::SegmentJourney all;
  for (const auto& [segment, journey] : model.segments()) MergeSegment(journey, &all);
  return all;
}

std::map<std::string, double> WinProbabilities(const config::JourneyConfig& config, const v1::SegmentJourney& journey) {
  std::map<std::string, double> p;
  if (config.won_stage.empty()) return p;
  for (const auto& stage : config.stages) p[stage] = stage == config.won_stage ? 1 : 0;
  // Each stage's probability is the mean over where its accounts went next,
  // an account still in the stage counting 0; a stage nobody left stays at
  // 0. The chain may cycle (dormant and back): solve the linear system
  // v = P v + b directly, else (a closed cycle) iterate.
  if (SolveWinProbabilities(config, journey, &p)) return p;
  for (int round = 0; round < 10000; ++round) {
    double moved = 0;
    for (const auto& stage : config.stages) {
      if (stage == config.won_stage) continue;
      auto it = journey.stages().find(stage);
      if (it == journey.stages().end()) continue;
      // Of the accounts that entered the stage, those still in it have
      // not moved on (yet): they count as neither winning nor losing.
      int64_t entered = EnteredOf(it->second);
      if (entered == 0) continue;
      double v = 0;
      for (const auto& [to, count] : it->second.to()) {
        auto next = p.find(to);
        if (next != p.end()) v += static_cast<double>(count) / static_cast<double>(entered) * next->second;
      }
      moved = std::max(moved, std::abs(v - p[stage]));
      p[stage] = v;
    }
    if (moved < 1e-12) break;
  }
  return p;
}

std::optional<v1::Outlook> OutlookOf(const config::JourneyConfig& config, const v1::JourneyModel& model,
                                     const std::string& segment, const std::string& stage) {
  auto enough = [&](const v1::SegmentJourney& journey) {
    auto it = journey.stages().find(stage);
    return it != journey.stages().end() && ExitsOf(it->second) >= config.outlook_min_exits;
  };
  v1::SegmentJourney all;
  const v1::SegmentJourney* use = nullptr;
  v1::Outlook o;
  auto own = model.segments().find(segment);
  if (!segment.empty() && own != model.segments().end() && enough(own->second)) {
    use = &own->second;
    o.set_segment(segment);
  } else if (model.segments_size() == 1 && enough(model.segments().begin()->second)) {
    use = &model.segments().begin()->second;
  } else {
    all = AllSegments(model);
    if (!enough(all)) return std::nullopt;
    use = &all;
  }
  const v1::SegmentJourney& journey = *use;
  const v1::StageExits& exits = journey.stages().at(stage);
  int64_t n = ExitsOf(exits);
  o.set_stage(stage);
  o.set_evidence(n);
  // The most common next stage; ties go to the journey's order.
  int64_t best = 0;
  for (const auto& s : config.stages) {
    auto it = exits.to().find(s);
    if (it != exits.to().end() && it->second > best) {
      best = it->second;
      o.set_likely_next_stage(s);
    }
  }
  o.set_likely_next_share(static_cast<double>(best) / static_cast<double>(n));
  o.set_typical_dwell_seconds(exits.dwell_ms() / n / 1000);
  if (!config.won_stage.empty()) {
    o.set_won_stage(config.won_stage);
    o.set_win_probability(WinProbabilities(config, journey)[stage]);
  }
  return o;
}

std::vector<StageForecast> Forecast(const config::JourneyConfig& config, const v1::JourneyModel& model,
                                    const std::vector<StagePopulation>& population) {
  v1::SegmentJourney all = AllSegments(model);
  std::map<std::string, double> overall = WinProbabilities(config, all);
  std::vector<StageForecast> out;
  for (const auto& stage : config.stages) {
    StageForecast f;
    f.stage = stage;
    if (auto it = overall.find(stage); it != overall.end()) f.win_probability = it->second;
    if (auto it = all.stages().find(stage); it != all.stages().end()) {
      f.evidence = ExitsOf(it->second);
      if (f.evidence > 0) f.typical_dwell_seconds = it->second.dwell_ms() / f.evidence / 1000;
    }
    for (const auto& p : population) {
      if (p.stage != stage) continue;
      double win = f.win_probability;
      if (auto own = OutlookOf(config, model, p.segment, stage); own && !own->segment().empty()) {
        win = own->win_probability();
      }
      f.accounts += p.accounts;
      f.expected_wins += win * static_cast<double>(p.accounts);
      f.pipeline_value += win * p.amount;
    }
    out.push_back(f);
  }
  return out;
}

std::string OutlookSentence(const v1::Outlook& o) {
  std::string text;
  if (!o.won_stage().empty()) {
    text = StrCat("accounts in ", o.stage(), " go on to ", o.won_stage(), " ", FormatPercent(o.win_probability(), 0),
                  " of the time so far; ");
  }
  return StrCat(text, "of the ", o.evidence(), o.segment().empty() ? "" : StrCat(" ", o.segment()),
                " accounts that left it, ", FormatPercent(o.likely_next_share(), 0), " went to ", o.likely_next_stage(),
                ", after ", FormatDuration(o.typical_dwell_seconds() * 1000), " on average");
}

}  // namespace demandcenter::journey
