#include "demandcenter/replay/replay.h"

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/engine/output_json.h"
#include "google/protobuf/util/json_util.h"

namespace demandcenter::replay {
namespace {

// A `{"pool_update": ...}` line (v1.PoolUpdateLine) rather than a signal.
bool IsPoolUpdateLine(const std::string& line) {
  size_t at = line.find_first_not_of(" \t");
  if (at == std::string::npos || line[at] != '{') return false;
  at = line.find_first_not_of(" \t", at + 1);
  return at != std::string::npos && line.compare(at, 13, "\"pool_update\"") == 0;
}

// The branches of `channel: auto` a summary reports as never used: digital
// nurture, inside sales, field AE, specialist, customer success, partner.
// ("email", for dormant accounts, is listed only when used.)
constexpr const char* kAutoBranches[] = {"digital",    "inside_sales",     "field_sales",
                                         "specialist", "customer_success", "partner"};

std::string JoinCounts(const std::map<std::string, int64_t>& counts) {
  std::string out;
  for (const auto& [k, n] : counts) out += StrCat(" ", k, "=", n);
  return out.empty() ? " none" : out;
}

}  // namespace

int32_t PartitionOf(const v1::Signal& signal, const PartitionModel& model) {
  const std::string& key = signal.account_id().empty() ? signal.event_id() : signal.account_id();
  return PartitionForKey(key, model.partitions, model.partitioner);
}

TestDriver::TestDriver(const config::Config& config, PartitionModel model)
    : config_(config), model_(model), engine_(config.decision, &store_) {}

engine::SignalOutcome TestDriver::Pipe(const v1::Signal& signal) {
  return engine_.Process(signal, PartitionOf(signal, model_), &pending_);
}

ingest::Reject TestDriver::PipeBytes(std::string_view bytes) {
  v1::Signal signal;
  ingest::Reject reject = ingest::DecodeSignal(bytes, ingest::DecodeOptions{}, &signal);
  if (!reject.ok()) return reject;
  if (Pipe(signal) == engine::SignalOutcome::kUnresolved) {
    return {ingest::RejectCode::kUnresolvedAccount,
            "no account_id, and no contact, email or visitor id seen with an account before"};
  }
  return reject;
}

void TestDriver::AdvanceStreamTime(int64_t now_ms, int32_t partition) {
  if (partition >= 0) {
    engine_.AdvanceStreamTime(partition, now_ms, &pending_);
    return;
  }
  for (int32_t p = 0; p < model_.partitions; ++p) engine_.AdvanceStreamTime(p, now_ms, &pending_);
}

std::vector<engine::Output> TestDriver::ReadOutputs() {
  std::vector<engine::Output> out;
  out.swap(pending_);
  return out;
}

const v1::AccountState* TestDriver::Account(const std::string& account_id) {
  return store_.Find(account_id);
}

ReplaySummary Replay(const config::Config& config, std::istream& in, std::ostream& out,
                     std::ostream& errors, const ReplayOptions& options) {
  ReplaySummary summary;
  state::InMemoryStateStore store;
  engine::Engine engine(config.decision, &store);
  std::vector<engine::Output> outputs;
  std::string line;
  std::string buffer;
  v1::Signal signal;
  auto reject = [&](const std::string& code, const std::string& message) {
    ++summary.rejected;
    ++summary.rejects_by_reason[code];
    errors << "line " << summary.lines << ": " << code << ": " << message << '\n';
  };
  PolicyAudit audit(config.decision);
  v1::PoolUpdateLine pool_line;
  while (std::getline(in, line)) {
    ++summary.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (IsPoolUpdateLine(line)) {
      pool_line.Clear();
      auto parsed = google::protobuf::util::JsonStringToMessage(line, &pool_line);
      if (!parsed.ok()) {
        reject("BAD_POOL_UPDATE", std::string(parsed.message()));
        continue;
      }
      absl::Status applied = engine.ApplyPoolUpdate(pool_line.pool_update());
      if (!applied.ok()) {
        reject("BAD_POOL_UPDATE", std::string(applied.message()));
        continue;
      }
      ++summary.pool_updates;
      continue;
    }
    ingest::Reject r = ingest::DecodeSignal(line, options.decode, &signal);
    if (!r.ok()) {
      reject(std::string(ingest::RejectCodeName(r.code)), r.message);
      continue;
    }
    engine::SignalOutcome outcome = engine.Process(signal, PartitionOf(signal, options.partitions), &outputs);
    if (outcome == engine::SignalOutcome::kUnresolved) {
      reject(std::string(ingest::RejectCodeName(ingest::RejectCode::kUnresolvedAccount)),
             "no account_id, and no contact, email or visitor id seen with an account before");
    }
    // The audit sees the signal after the timer outputs it set off and
    // before its own outputs.
    bool fed = outcome == engine::SignalOutcome::kUnresolved;
    for (const auto& o : outputs) {
      if (!fed) {
        const auto& proto = o.proto();
        const auto* field = proto.GetDescriptor()->FindFieldByName("trigger_event_ids");
        const auto* reflection = proto.GetReflection();
        if (reflection->FieldSize(proto, field) > 0 &&
            reflection->GetRepeatedString(proto, field, 0) == signal.event_id()) {
          audit.OnSignal(signal);
          fed = true;
        }
      }
      audit.OnOutput(o);
      buffer += engine::ToJsonLine(o, config.runtime.kafka.topics);
      buffer += '\n';
    }
    if (!fed) audit.OnSignal(signal);
    outputs.clear();
    if (buffer.size() > (1 << 20)) {
      out << buffer;
      buffer.clear();
    }
  }
  out << buffer;
  const auto& c = engine.counters();
  summary.applied = c.applied;
  summary.duplicates = c.duplicates;
  summary.timers_fired = c.timers_fired;
  for (int k = 0; k < engine::kOutputKinds; ++k) {
    summary.outputs_by_kind[std::string(engine::OutputKindName(static_cast<engine::OutputKind>(k)))] =
        c.outputs[k];
  }
  summary.emitted_by_rule = c.emitted_by_rule;
  summary.transitions_by_id = c.transitions_by_id;
  summary.counters = c;
  summary.audit = audit.Finish();
  return summary;
}

std::string FormatSummary(const ReplaySummary& s, const config::Config& config) {
  std::string out = StrCat("replay: ", s.lines, " lines, ", s.applied, " signals applied, ",
                           s.duplicates, " duplicates ignored, ", s.rejected, " rejected\n");
  if (!s.rejects_by_reason.empty()) {
    out += "rejects:";
    for (const auto& [code, n] : s.rejects_by_reason) out += StrCat(" ", code, "=", n);
    out += '\n';
  }
  out += "outputs:";
  for (const auto& [kind, n] : s.outputs_by_kind) out += StrCat(" ", kind, "=", n);
  out += StrCat(" (inactivity timers fired: ", s.timers_fired, ")\n");
  out += "rules fired:";
  std::string never;
  for (const auto& rule : config.decision.rules) {
    auto it = s.emitted_by_rule.find(rule.id);
    if (it == s.emitted_by_rule.end()) {
      never += StrCat(" ", rule.id);
    } else {
      out += StrCat(" ", rule.id, "=", it->second);
    }
  }
  out += '\n';
  out += StrCat("rules never fired:", never.empty() ? " none" : never, '\n');
  out += "transitions:";
  std::string never_t;
  for (const auto& t : config.decision.journey.transitions) {
    auto it = s.transitions_by_id.find(t.id);
    if (it == s.transitions_by_id.end()) {
      never_t += StrCat(" ", t.id);
    } else {
      out += StrCat(" ", t.id, "=", it->second);
    }
  }
  out += '\n';
  out += StrCat("transitions never fired:", never_t.empty() ? " none" : never_t, '\n');

  const engine::EngineCounters& c = s.counters;
  out += StrCat("contact policy: suppressed", JoinCounts(c.suppressed_by_policy), "; scheduled for the next allowed window: ",
                c.scheduled, "; default zone for unknown CRM zones: ", c.zone_fallbacks, '\n');
  out += "routing branches (channel auto):";
  std::string unused;
  for (const char* branch : kAutoBranches) {
    auto it = c.auto_branches.find(branch);
    if (it == c.auto_branches.end()) {
      unused += StrCat(" ", branch);
    } else {
      out += StrCat(" ", branch, "=", it->second);
    }
  }
  if (auto it = c.auto_branches.find("email"); it != c.auto_branches.end()) out += StrCat(" email=", it->second);
  out += StrCat("; never used:", unused.empty() ? " none" : unused, '\n');
  out += StrCat("assignments:", JoinCounts(c.assignments), '\n');
  out += StrCat("sla: started=", c.sla_started, " met=", c.sla_met, " breached=", c.sla_breached,
                "; tasks expired=", c.tasks_expired, " cancelled=", c.tasks_cancelled,
                "; snoozed prompts returned=", c.snoozes_returned, '\n');
  std::map<std::string, int64_t> by_outcome;
  for (const auto& [key, n] : c.outcomes) by_outcome[key.substr(key.rfind('/') + 1)] += n;
  out += StrCat("prompt outcomes:", JoinCounts(by_outcome), "; naming no open prompt: ", c.unmatched_outcomes, '\n');
  std::map<std::string, int64_t> arms;
  for (const auto& [key, n] : c.experiment_emitted) arms[StrCat(key, " emitted")] += n;
  for (const auto& [key, n] : c.experiment_held_out) arms[StrCat(key, " held_out")] += n;
  out += "experiments:";
  if (arms.empty()) out += " none";
  for (const auto& [key, n] : arms) out += StrCat(" ", key, "=", n);
  out += '\n';
  if (s.pool_updates > 0) out += StrCat("pool updates applied: ", s.pool_updates, '\n');
  out += FormatAudit(s.audit);
  return out;
}

}  // namespace demandcenter::replay
