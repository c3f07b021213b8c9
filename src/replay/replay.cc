#include "demandcenter/replay/replay.h"

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/engine/output_json.h"

namespace demandcenter::replay {

int32_t PartitionOf(const v1::Signal& signal, const PartitionModel& model) {
  const std::string& key = signal.account_id().empty() ? signal.event_id() : signal.account_id();
  return PartitionForKey(key, model.partitions, model.partitioner);
}

TestDriver::TestDriver(const config::Config& config, PartitionModel model)
    : config_(config), model_(model), engine_(config, &store_) {}

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
  engine::Engine engine(config, &store);
  std::vector<engine::Output> outputs;
  std::string line;
  std::string buffer;
  v1::Signal signal;
  auto reject = [&](const std::string& code, const std::string& message) {
    ++summary.rejected;
    ++summary.rejects_by_reason[code];
    errors << "line " << summary.lines << ": " << code << ": " << message << '\n';
  };
  while (std::getline(in, line)) {
    ++summary.lines;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
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
    for (const auto& o : outputs) {
      buffer += engine::ToJsonLine(o, config.kafka.topics);
      buffer += '\n';
    }
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
  for (const auto& rule : config.rules) {
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
  for (const auto& t : config.journey.transitions) {
    auto it = s.transitions_by_id.find(t.id);
    if (it == s.transitions_by_id.end()) {
      never_t += StrCat(" ", t.id);
    } else {
      out += StrCat(" ", t.id, "=", it->second);
    }
  }
  out += '\n';
  out += StrCat("transitions never fired:", never_t.empty() ? " none" : never_t, '\n');
  return out;
}

}  // namespace demandcenter::replay
