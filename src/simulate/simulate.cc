#include "demandcenter/simulate/simulate.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>
#include <variant>
#include <vector>

#include "demandcenter/common/strings.h"
#include "demandcenter/outputs/output.h"
#include "demandcenter/replay/replay.h"
#include "demandcenter/v1/action.pb.h"

namespace demandcenter::simulate {
namespace {

using Counts = std::map<std::string, int64_t>;

// One config's run: replay's summary and what its outputs were.
struct Side {
  replay::ReplaySummary summary;
  Counts actions;  // "<rule_id> / <CHANNEL>"
  Counts pools;
  Counts people;
  bool opened = false;
};

void Tally(const outputs::Output& o, Side* side) {
  if (const auto* nba = std::get_if<v1::NextBestAction>(&o.message)) {
    ++side->actions[StrCat(nba->rule_id(), " / ", v1::Channel_Name(nba->channel()))];
  } else if (const auto* routing = std::get_if<v1::RoutingDecision>(&o.message)) {
    ++side->pools[routing->pool().empty() ? "(owner)" : routing->pool()];
    ++side->people[routing->assignee_id().empty() ? "(nobody)" : routing->assignee_id()];
  }
}

Side RunSide(const config::Config& config, const std::string& path, const SimulateOptions& options) {
  Side side;
  std::ifstream in(path, std::ios::binary);
  if (!in) return side;
  side.opened = true;
  std::ostream discard(nullptr);  // each bad line is reported by replay; here only counted
  replay::ReplayOptions replay_options;
  replay_options.partitions = options.partitions;
  replay_options.decode = options.decode;
  replay_options.write_outputs = false;
  replay_options.on_output = [&side](const outputs::Output& o) { Tally(o, &side); };
  side.summary = replay::Replay(config, in, discard, discard, replay_options);
  return side;
}

// Every key of either side, those in `order` first (all of them when
// `whole_order`, else those present), then the rest sorted; returns how
// many rows differ.
int64_t AddRows(const Counts& baseline, const Counts& candidate, const std::vector<std::string>& order,
                google::protobuf::RepeatedPtrField<v1::SimulatedCount>* rows, bool whole_order = false) {
  std::vector<std::string> keys;
  std::map<std::string, bool> seen;
  for (const auto& key : order) {
    if ((whole_order || baseline.count(key) || candidate.count(key)) && !seen[key]) keys.push_back(key);
    seen[key] = true;
  }
  const size_t ordered = keys.size();
  for (const Counts* side : {&baseline, &candidate}) {
    for (const auto& [key, n] : *side) {
      if (!seen[key]) keys.push_back(key);
      seen[key] = true;
    }
  }
  std::sort(keys.begin() + static_cast<std::ptrdiff_t>(ordered), keys.end());
  int64_t differences = 0;
  for (const auto& key : keys) {
    v1::SimulatedCount* row = rows->Add();
    row->set_key(key);
    auto b = baseline.find(key);
    auto c = candidate.find(key);
    row->set_baseline(b == baseline.end() ? 0 : b->second);
    row->set_candidate(c == candidate.end() ? 0 : c->second);
    differences += row->baseline() != row->candidate();
  }
  return differences;
}

Counts OutputsOf(const replay::ReplaySummary& s) {
  Counts out;
  for (const auto& [kind, n] : s.outputs_by_kind) {
    if (n != 0) out[kind] = n;
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::SimulationReport> Simulate(const config::Config& baseline, const config::Config& candidate,
                                              const std::string& input_path, const SimulateOptions& options) {
  Side candidate_side;
  std::thread other([&] { candidate_side = RunSide(candidate, input_path, options); });
  Side baseline_side = RunSide(baseline, input_path, options);
  other.join();
  if (!baseline_side.opened || !candidate_side.opened) {
    return absl::NotFoundError(StrCat("cannot read input file ", input_path));
  }
  const replay::ReplaySummary& b = baseline_side.summary;
  const replay::ReplaySummary& c = candidate_side.summary;
  v1::SimulationReport report;
  report.set_baseline_config(options.baseline_name);
  report.set_candidate_config(options.candidate_name);
  report.set_baseline_rules_version(baseline.decision.rules_version);
  report.set_candidate_rules_version(candidate.decision.rules_version);
  report.set_lines(b.lines);
  report.mutable_applied()->set_baseline(b.applied);
  report.mutable_applied()->set_candidate(c.applied);
  report.mutable_rejected()->set_baseline(b.rejected);
  report.mutable_rejected()->set_candidate(c.rejected);
  std::vector<std::string> stages = candidate.decision.journey.stages;
  stages.insert(stages.end(), baseline.decision.journey.stages.begin(), baseline.decision.journey.stages.end());
  int64_t differences = 0;
  differences += AddRows(OutputsOf(b), OutputsOf(c), {"transition", "nba", "routing", "prompt", "identity_conflict"},
                         report.mutable_outputs());
  differences += AddRows(baseline_side.actions, candidate_side.actions, {}, report.mutable_actions());
  differences += AddRows(b.counters.suppressed_by_policy, c.counters.suppressed_by_policy, {},
                         report.mutable_suppressions());
  differences += AddRows(baseline_side.pools, candidate_side.pools, {}, report.mutable_pools());
  differences += AddRows(baseline_side.people, candidate_side.people, {}, report.mutable_people());
  differences += AddRows(b.accounts_by_stage, c.accounts_by_stage, stages, report.mutable_funnel(), /*whole_order=*/true);
  differences += AddRows(b.transitions_by_id, c.transitions_by_id, {}, report.mutable_transitions());
  report.set_differences(differences);
  return report;
}

namespace {

// "=", or "+12 (+3.4%)" / "-5 (-100.0%)" / "+7 (new)".
std::string Change(int64_t baseline, int64_t candidate) {
  if (baseline == candidate) return "=";
  int64_t delta = candidate - baseline;
  std::string sign = delta > 0 ? "+" : "";
  if (baseline == 0) return StrCat(sign, delta, " (new)");
  char percent[32];
  std::snprintf(percent, sizeof(percent), "%+.1f%%", 100.0 * static_cast<double>(delta) / static_cast<double>(baseline));
  return StrCat(sign, delta, " (", percent, ")");
}

std::string PadRight(const std::string& text, size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}
std::string PadLeft(const std::string& text, size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

}  // namespace

std::string FormatTable(const v1::SimulationReport& r) {
  struct Section {
    const char* title;
    const google::protobuf::RepeatedPtrField<v1::SimulatedCount>* rows;
  };
  const Section sections[] = {{"outputs by kind", &r.outputs()},
                              {"actions by rule / channel", &r.actions()},
                              {"suppressed by contact policy", &r.suppressions()},
                              {"routing decisions by pool", &r.pools()},
                              {"routing decisions by person", &r.people()},
                              {"accounts by stage at the end", &r.funnel()},
                              {"transitions fired", &r.transitions()}};
  size_t width = 28;
  for (const auto& section : sections) {
    for (const auto& row : *section.rows) width = std::max(width, row.key().size() + 2);
  }
  auto line = [&](const std::string& key, int64_t b, int64_t c) {
    return StrCat(PadRight("  " + key, width + 2), PadLeft(StrCat(b), 10), PadLeft(StrCat(c), 11), "  ",
                  Change(b, c), "\n");
  };
  std::string out = StrCat("simulate: ", r.lines(), " lines, each replayed under both configs\n",
                           "  baseline:  ", r.baseline_config(), " (rules_version ", r.baseline_rules_version(), ")\n",
                           "  candidate: ", r.candidate_config(), " (rules_version ", r.candidate_rules_version(), ")\n\n");
  out += StrCat(PadRight("", width + 2), PadLeft("baseline", 10), PadLeft("candidate", 11), "  change\n");
  out += line("signals applied", r.applied().baseline(), r.applied().candidate());
  out += line("dead-lettered", r.rejected().baseline(), r.rejected().candidate());
  for (const auto& section : sections) {
    out += StrCat(section.title, section.rows->empty() ? ": none\n" : "\n");
    for (const auto& row : *section.rows) out += line(row.key(), row.baseline(), row.candidate());
  }
  out += StrCat("\n", r.differences(), r.differences() == 1 ? " row differs" : " rows differ",
                r.differences() == 0 ? ": the candidate decides as the baseline does on this input\n" : "\n");
  return out;
}

}  // namespace demandcenter::simulate
