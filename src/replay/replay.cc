#include "demandcenter/replay/replay.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <optional>
#include <memory>

#include "absl/algorithm/container.h"
#include "absl/strings/str_join.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/condition/condition.h"
#include "demandcenter/outputs/experiment_kpis.h"
#include "demandcenter/pipeline/input_merge.h"
#include "demandcenter/pipeline/output_encoder.h"
#include "demandcenter/pipeline/pipeline.h"
#include "demandcenter/pipeline/stage_queues.h"
#include "demandcenter/replay/line_clock.h"
#include "demandcenter/replay/pool_update_line.h"
#include "demandcenter/state/state_store.h"
#include "demandcenter/v1/routing.pb.h"

namespace demandcenter::replay {
namespace {

// The branches of `channel: auto` a summary reports as never used: digital
// nurture, inside sales, field AE, specialist, customer success, partner.
// ("email", for dormant accounts, is listed only when used.)
constexpr const char* kAutoBranches[] = {"digital",    "inside_sales",     "field_sales",
                                         "specialist", "customer_success", "partner"};

// Parses a pool-update line and applies it to the engine's pool directory.
absl::Status ApplyPoolUpdateLine(const std::string& line, v1::PoolUpdateLine* scratch, engine::Engine* engine) {
  absl::Status parsed = ParsePoolUpdateLine(line, scratch);
  return parsed.ok() ? engine->ApplyPoolUpdate(scratch->pool_update()) : parsed;
}

// The first trigger event id of an output ("" when it has none).
std::string FirstTrigger(const outputs::Output& o) {
  const auto& proto = o.proto();
  const auto* field = proto.GetDescriptor()->FindFieldByName("trigger_event_ids");
  const auto* reflection = proto.GetReflection();
  return reflection->FieldSize(proto, field) == 0 ? "" : reflection->GetRepeatedString(proto, field, 0);
}

// "12.34%" of `whole` ("-" when it is 0).
std::string Percent(int64_t part, int64_t whole) {
  if (whole == 0) return "-";
  return FormatPercent(static_cast<double>(part) / static_cast<double>(whole), 2);
}

// " k1=n1 k2=n2", or " none".
std::string JoinCounts(const std::map<std::string, int64_t>& counts) {
  return counts.empty() ? " none" : StrCat(" ", absl::StrJoin(counts, " ", absl::PairFormatter("=")));
}

// Ids in their config order: " id=n" for those counted, and apart " id"
// for those never counted.
struct Tally {
  std::string counted;
  std::string never;
};
Tally TallyOf(const std::vector<std::string>& ids, const std::map<std::string, int64_t>& counts) {
  Tally t;
  for (const auto& id : ids) {
    auto it = counts.find(id);
    if (it == counts.end()) {
      t.never += StrCat(" ", id);
    } else {
      t.counted += StrCat(" ", id, "=", it->second);
    }
  }
  if (t.never.empty()) t.never = " none";
  return t;
}

// Per experiment, each KPI's share per arm with its 95% interval, and each
// arm against the baseline ("*": the difference's interval excludes 0).
std::string FormatExperimentKpis(const std::vector<outputs::ExperimentReport>& reports) {
  std::string out;
  for (const auto& r : reports) {
    out += StrCat("experiment ", r.experiment, " (95% intervals; against ", r.baseline,
                  ", * where the difference excludes 0): accounts exposed");
    for (const auto& arm : r.arms) out += StrCat(" ", arm.arm, "=", arm.exposed);
    out += '\n';
    if (r.arms.empty()) continue;
    for (size_t k = 0; k < r.arms.front().kpis.size(); ++k) {
      std::string name = r.arms.front().kpis[k].kpi;
      if (name.starts_with("reached.")) name = StrCat("reached ", name.substr(8));
      if (name == "prompts.accepted") name = "prompts accepted";
      out += StrCat("  ", name, ":");
      for (size_t a = 0; a < r.arms.size(); ++a) {
        const outputs::ArmKpi& kpi = r.arms[a].kpis[k];
        out += StrCat(a == 0 ? " " : "; ", r.arms[a].arm, " ", kpi.share.hits, "/", kpi.share.trials, " ",
                      outputs::FormatShare(kpi.share));
        if (kpi.compared) {
          out += StrCat(", ", outputs::FormatDifference(kpi.versus), kpi.versus.significant() ? "*" : "");
        }
      }
      out += '\n';
    }
  }
  return out;
}

// The journey model's outlook per stage and the forecast for the accounts
// at the end.
std::string FormatForecast(const std::vector<journey::StageForecast>& forecast, const config::JourneyConfig& journey) {
  std::string out = StrCat("journey model (every account's stage exits; won: ",
                           journey.won_stage.empty() ? "none" : journey.won_stage, "):");
  std::string wins, value;
  for (const auto& f : forecast) {
    if (f.evidence > 0) {
      out += StrCat(" ", f.stage, " left by ", f.evidence, " after ", FormatDuration(f.typical_dwell_seconds * 1000),
                    " on average");
      if (!journey.won_stage.empty()) out += StrCat(", ", FormatPercent(f.win_probability, 2), " win");
      out += ";";
    }
    if (f.accounts > 0 && !journey.won_stage.empty()) {
      wins += StrCat(" ", f.stage, "=", condition::FormatNumber(f.expected_wins));
      if (f.pipeline_value > 0) value += StrCat(" ", f.stage, "=", condition::FormatNumber(f.pipeline_value));
    }
  }
  out += '\n';
  if (!journey.won_stage.empty()) {
    out += StrCat("forecast for the accounts at the end: expected wins by stage", wins.empty() ? " none" : wins,
                  "; pipeline value weighted by win probability", value.empty() ? " none" : value, '\n');
  }
  return out;
}

// One replay: the pipeline and each partition's input merge, the audit,
// the reach, the output buffer and the summary. The reading loop hands it
// lines in file order.
class Bench {
 public:
  Bench(const config::Config& config, const ReplayOptions& options, std::ostream& out, std::ostream& errors)
      : decision_(config.decision),
        pipe_(config.decision, &store_, {options.decode, options.partitions}),
        audit_(config.decision),
        reach_(config.decision.identity),
        encoder_(pipeline::OutputEncoder::AllJson(config.runtime.kafka.topics)),
        topics_(config.runtime.kafka.topics),
        partitioner_(options.partitions.partitioner),
        on_output_(options.on_output),
        write_outputs_(options.write_outputs),
        out_(out),
        errors_(errors) {
    int32_t partitions = std::max(1, options.partitions.partitions);
    for (int32_t p = 0; p < partitions; ++p) merges_.emplace_back(topics_.size());
    if (config.decision.identity.global) {
      identity_queue_ = std::make_unique<pipeline::IdentityQueue>(partitions);
      accounts_.resize(static_cast<size_t>(partitions));
      split_ms_.assign(static_cast<size_t>(partitions), 0);
      own_ms_.assign(static_cast<size_t>(partitions), 0);
    }
  }

  ReplaySummary& summary() { return summary_; }

  void Reject(int64_t line, std::string_view code, const std::string& message) {
    ++summary_.rejected;
    ++summary_.rejects_by_reason[std::string(code)];
    errors_ << "line " << line << ": " << code << ": " << message << '\n';
  }

  // Decodes a signal line and queues it (a line that does not decode is
  // reported at once).
  // `record_ms`: the record timestamp the line carried, if it did.
  void AddSignal(std::string_view line, int64_t line_no, std::optional<int64_t> record_ms) {
    std::unique_ptr<pipeline::PendingRecord> item = merges_[0].Take();
    ingest::Reject bad = pipe_.Decode(line, &item->signal);
    if (!bad.ok()) {
      Reject(line_no, ingest::RejectCodeName(bad.code), bad.message);
      merges_[0].Release(std::move(item));
      return;
    }
    item->record.offset = line_no;
    reach_.OnSignal(line_no, item->signal);
    item->event_time_ms = ToMillis(item->signal.occurred_at());
    item->record.partition = pipe_.PartitionOf(item->signal);
    clock_.Add(item->event_time_ms);
    queued_.push_back({std::move(item), "", line_no, record_ms});
    Advance(/*input_ended=*/false);
  }

  void AddPoolUpdate(std::string_view line, int64_t line_no) {
    queued_.push_back({nullptr, std::string(line), line_no, std::nullopt});
  }

  // Processes what is still queued and fills in the summary.
  void Finish() {
    Advance(/*input_ended=*/true);
    DrainAll();
    out_ << buffer_;
    const outputs::DecisionCounters& c = pipe_.engine().counters();
    summary_.applied = c.applied;
    summary_.duplicates = c.duplicates;
    summary_.timers_fired = c.timers_fired;
    for (int k = 0; k < outputs::kOutputKinds; ++k) {
      summary_.outputs_by_kind[std::string(outputs::OutputKindName(static_cast<outputs::OutputKind>(k)))] = c.outputs[k];
    }
    // The pipeline, not the core, reports conflicts: one output each.
    summary_.outputs_by_kind[std::string(outputs::OutputKindName(outputs::OutputKind::kIdentityConflict))] =
        pipe_.identity_counters().conflicts;
    summary_.emitted_by_rule = c.emitted_by_rule;
    summary_.transitions_by_id = c.transitions_by_id;
    summary_.counters = c;
    summary_.identity = pipe_.identity_counters();
    summary_.waiting = pipe_.waiting_counters();
    for (int32_t p = 0; p < static_cast<int32_t>(merges_.size()); ++p) summary_.still_waiting += pipe_.Waiting(p);
    if (identity_queue_) summary_.still_waiting += pipe_.Waiting(pipeline::kIdentityScope);
    summary_.audit = audit_.Finish();
    summary_.reach = reach_.Finish();
    std::map<std::pair<std::string, std::string>, journey::StagePopulation> population;
    store_.ForEachAccount([&](const v1::AccountState& account) {
      ++summary_.accounts_by_stage[account.stage()];
      journey::StagePopulation& p = population[{account.segment(), account.stage()}];
      p.segment = account.segment();
      p.stage = account.stage();
      ++p.accounts;
      p.amount += account.opportunity_amount();
    });
    for (int32_t p = 0; p < static_cast<int32_t>(merges_.size()); ++p) {
      journey::MergeModel(pipe_.engine().JourneyModelOf(p), &summary_.journey_model);
    }
    std::vector<journey::StagePopulation> populations;
    for (auto& [key, p] : population) populations.push_back(std::move(p));
    summary_.forecast = journey::Forecast(decision_.journey, summary_.journey_model, populations);
  }

 private:
  // A signal line waiting for its stamp (LineClock), or a pool update
  // waiting for the signals before it.
  struct Queued {
    std::unique_ptr<pipeline::PendingRecord> item;  // null: a pool update
    std::string pool_update;
    int64_t line = 0;
    std::optional<int64_t> record_ms;  // carried by the line; else LineClock's
  };

  // Stamps the queued signals whose neighbours are known and hands them to
  // their partition's merge; applies the pool updates they reach.
  void Advance(bool input_ended) {
    for (; !queued_.empty(); queued_.pop_front()) {
      Queued& q = queued_.front();
      if (q.item == nullptr) {
        DrainAll();  // an update applies after every signal before it
        absl::Status applied = ApplyPoolUpdateLine(q.pool_update, &pool_line_, &pipe_.engine());
        if (applied.ok()) {
          ++summary_.pool_updates;
          ++summary_.used;
        } else {
          Reject(q.line, "BAD_POOL_UPDATE", std::string(applied.message()));
        }
        continue;
      }
      std::optional<int64_t> neighbours = clock_.Next(input_ended);
      if (!neighbours) return;
      int64_t stamp = q.record_ms.value_or(*neighbours);
      q.item->record.timestamp_ms = stamp;
      q.item->reject = pipe_.CheckAhead(q.item->signal, stamp);
      int32_t partition = q.item->record.partition;
      size_t topic = topics_.IndexOfType(q.item->signal.type());
      q.item->record.topic = topics_.name(topic);
      merges_[partition].Push(topic, std::move(q.item));
      Drain(partition, /*input_ended=*/false);
    }
  }

  // Each partition's signal topics, merged by event time as a task merges
  // them (pipeline/input_merge.h): a signal waits until every topic of its
  // partition has a later one, or the input ends.
  void Drain(int32_t partition, bool input_ended) {
    pipeline::InputMerge& merge = merges_[partition];
    while (auto topic = merge.Next([&](size_t) { return input_ended; })) {
      std::unique_ptr<pipeline::PendingRecord> item = merge.Pop(*topic);
      if (identity_queue_) {
        Split(partition, std::move(item));
        continue;
      }
      Apply(partition, *item);
      merge.Release(std::move(item));
    }
    if (identity_queue_) {
      if (input_ended && merge.buffered() == 0) Mark(partition, pipeline::kAllRead, pipeline::kAllRead);
      Pump();
    }
  }

  // identity.scope global: what a task does as its signals leave the merge.
  // Two event-time clocks, each never going back: of what it split (the
  // order of its sends to the identity task) and of its own account's
  // signals (their order in its account queue).
  void Split(int32_t partition, std::unique_ptr<pipeline::PendingRecord> item) {
    size_t p = static_cast<size_t>(partition);
    pipeline::Pipeline::Route route{true, false};
    if (item->reject.ok()) {
      split_ms_[p] = std::max(split_ms_[p], item->event_time_ms);
      pipeline::Record source = item->record.View();
      v1::StageRecord to;
      route = pipe_.Split(item->signal, partition, &source, to.mutable_identity());
      if (route.identity) {
        to.set_producer(partition);
        to.set_order_ms(split_ms_[p]);
        identity_queue_->Push(std::move(to));
      }
      if (!route.account && item->signal.type() == ingest::kIdentityLinkType) ++summary_.used;
      if (route.account) own_ms_[p] = std::max(own_ms_[p], item->event_time_ms);
    }
    if (route.account) {
      accounts_[p].PushOwn(std::move(item), own_ms_[p]);
    } else {
      merges_[partition].Release(std::move(item));
    }
    Mark(partition, split_ms_[p], own_ms_[p]);
  }

  // Nothing `partition` splits later is earlier than `split_ms`, and none
  // of its own account's signals earlier than `own_ms`.
  void Mark(int32_t partition, int64_t split_ms, int64_t own_ms) {
    v1::StageRecord mark;
    mark.set_producer(partition);
    mark.set_order_ms(split_ms);
    mark.set_watermark(true);
    identity_queue_->Push(mark);
    accounts_[static_cast<size_t>(partition)].SetOwnMark(own_ms);
  }

  // Runs the identity task and the account tasks as far as their inputs'
  // order lets them.
  void Pump() {
    for (bool moved = true; moved;) {
      moved = false;
      while (auto input = identity_queue_->Pop()) {
        Identify(input->record);
        moved = true;
      }
      pipeline::Result expired;
      pipe_.AdvanceIdentity(identity_queue_->Clock(), &expired);
      for (const auto& late : expired.late_rejects) {
        Reject(late.waiting.offset(), ingest::RejectCodeName(late.reject.code), late.reject.message);
        reach_.DeadLettered(late.waiting.offset());
      }
      v1::StageRecord mark;
      mark.set_order_ms(identity_queue_->Watermark());
      mark.set_watermark(true);
      for (size_t p = 0; p < accounts_.size(); ++p) {
        pipeline::AccountQueue& queue = accounts_[p];
        queue.PushResolved(mark);
        for (auto next = queue.Peek(); next != pipeline::AccountQueue::Next::kWait; next = queue.Peek()) {
          moved = true;
          if (next == pipeline::AccountQueue::Next::kOwn) {
            std::unique_ptr<pipeline::PendingRecord> item = queue.PopOwn();
            Apply(static_cast<int32_t>(p), *item);
            merges_[static_cast<int32_t>(p)].Release(std::move(item));
            continue;
          }
          v1::StageRecord resolved = queue.PopResolved().record;
          const v1::WaitingSignal& w = resolved.resolved().signal();
          pipeline::Result result = pipe_.ApplyResolved(resolved.resolved(), static_cast<int32_t>(p), &outputs_);
          if (result.outcome == pipeline::Outcome::kDuplicate) {
            reach_.Duplicate(w.offset());
          } else if (!resolved.resolved().erase()) {
            reach_.Reached(w.offset());
          }
          Emit(result, w.signal());
        }
      }
    }
  }

  void Identify(const v1::StageRecord& input) {
    std::vector<v1::ResolvedSignal> resolved;
    pipeline::Result result = pipe_.Identify(input.identity(), input.order_ms(), &resolved, &outputs_);
    const v1::WaitingSignal& w = input.identity().signal();
    if (result.outcome == pipeline::Outcome::kRejected) {
      Reject(w.offset(), ingest::RejectCodeName(result.reject.code), result.reject.message);
      reach_.DeadLettered(w.offset());
    } else if (input.identity().kind() == v1::IdentityInput::RESOLVE) {
      ++summary_.used;
    }
    for (const auto& late : result.late_rejects) {
      Reject(late.waiting.offset(), ingest::RejectCodeName(late.reject.code), late.reject.message);
      reach_.DeadLettered(late.waiting.offset());
    }
    for (auto& r : resolved) {
      int32_t p = PartitionForKey(r.account_id(), static_cast<int32_t>(accounts_.size()), partitioner_);
      v1::StageRecord to;
      to.set_order_ms(input.order_ms());
      *to.mutable_resolved() = std::move(r);
      accounts_[static_cast<size_t>(p)].PushResolved(std::move(to));
    }
    for (const auto& o : outputs_) WriteOutput(o);
    outputs_.clear();
  }
  void DrainAll() {
    for (int32_t p = 0; p < static_cast<int32_t>(merges_.size()); ++p) Drain(p, /*input_ended=*/true);
  }

  void Apply(int32_t partition, const pipeline::PendingRecord& item) {
    pipeline::Record source = item.record.View();
    pipeline::Result result;
    if (item.reject.ok()) {
      result = identity_queue_ ? pipe_.ProcessOwn(item.signal, partition, &outputs_)
                               : pipe_.ProcessSignal(item.signal, partition, &outputs_, &source);
      if (result.outcome != pipeline::Outcome::kRejected) ++summary_.used;
    } else {  // refused before the merge (CheckAhead)
      result.outcome = pipeline::Outcome::kRejected;
      result.reject = item.reject;
    }
    switch (result.outcome) {
      case pipeline::Outcome::kRejected:
        Reject(item.record.offset, ingest::RejectCodeName(result.reject.code), result.reject.message);
        reach_.DeadLettered(item.record.offset);
        break;
      case pipeline::Outcome::kApplied: reach_.Reached(item.record.offset); break;
      case pipeline::Outcome::kDuplicate: reach_.Duplicate(item.record.offset); break;
      case pipeline::Outcome::kWaiting: break;
    }
    for (int64_t line : result.released) reach_.Reached(line);
    for (const auto& late : result.late_rejects) {
      Reject(late.waiting.offset(), ingest::RejectCodeName(late.reject.code), late.reject.message);
      reach_.DeadLettered(late.waiting.offset());
    }
    Emit(result, item.signal);
  }

  // The outputs of one signal (and of the timers it set off), to the audit
  // and the output file.
  void Emit(const pipeline::Result& result, const v1::Signal& signal) {
    // The audit sees the signal after the timer outputs it set off and
    // before its own outputs (a rejected or waiting signal has none).
    // Signals it released come after it: their outputs too.
    bool fed = result.outcome == pipeline::Outcome::kRejected || result.outcome == pipeline::Outcome::kWaiting;
    for (const auto& o : outputs_) {
      if (!fed && (FirstTrigger(o) == signal.event_id() ||
                   absl::c_linear_search(result.released_event_ids, FirstTrigger(o)))) {
        audit_.OnSignal(signal);
        fed = true;
      }
      WriteOutput(o);
    }
    if (!fed) audit_.OnSignal(signal);
    outputs_.clear();
  }

  void WriteOutput(const outputs::Output& o) {
    audit_.OnOutput(o);
    if (on_output_) on_output_(o);
    if (write_outputs_) {
      buffer_ += encoder_.JsonLine(o);
      buffer_ += '\n';
    }
    if (buffer_.size() > (1 << 20)) {
      out_ << buffer_;
      buffer_.clear();
    }
  }

  ReplaySummary summary_;
  const config::DecisionConfig& decision_;
  state::InMemoryStateStore store_;
  pipeline::Pipeline pipe_;
  PolicyAudit audit_;
  IdentityReach reach_;
  pipeline::OutputEncoder encoder_;
  pipeline::SignalTopics topics_;
  std::vector<pipeline::InputMerge> merges_;
  // identity.scope global: the identity task's inputs, each account task's
  // queue and each task's two clocks (Split).
  std::unique_ptr<pipeline::IdentityQueue> identity_queue_;
  std::deque<pipeline::AccountQueue> accounts_;
  std::vector<int64_t> split_ms_;
  std::vector<int64_t> own_ms_;
  Partitioner partitioner_;
  std::function<void(const outputs::Output&)> on_output_;
  bool write_outputs_;
  std::deque<Queued> queued_;
  LineClock clock_;
  v1::PoolUpdateLine pool_line_;
  std::vector<outputs::Output> outputs_;
  std::string buffer_;
  std::ostream& out_;
  std::ostream& errors_;
};

// Reads the next line (without its '\n') into *line; false at the end. A
// line longer than `buffer`'s size less 2 is not kept: the rest of it is
// skipped and *too_long set, so one huge line costs no more memory than the
// buffer.
bool ReadBoundedLine(std::istream& in, std::vector<char>& buffer, std::string* line, bool* too_long) {
  *too_long = false;
  in.getline(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  std::streamsize got = in.gcount();
  if (in.fail() && !in.eof() && got == static_cast<std::streamsize>(buffer.size() - 1)) {
    // Filled the buffer without reaching '\n'.
    in.clear();
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    *too_long = true;
    line->clear();
    return true;
  }
  if (got == 0 && in.fail()) return false;
  // gcount counts the '\n' taken; a last line without one ends at eof.
  line->assign(buffer.data(), static_cast<size_t>(in.eof() ? got : got - 1));
  if (in.eof()) in.clear(std::ios::eofbit);
  return true;
}

}  // namespace

ReplaySummary Replay(const config::Config& config, std::istream& in, std::ostream& out,
                     std::ostream& errors, const ReplayOptions& options) {
  Bench bench(config, options, out, errors);
  ReplaySummary& summary = bench.summary();
  std::string line;
  bool too_long = false;
  std::vector<char> buffer(options.decode.max_bytes + 2);
  while (ReadBoundedLine(in, buffer, &line, &too_long)) {
    ++summary.lines;
    if (too_long) {
      bench.Reject(summary.lines, ingest::RejectCodeName(ingest::RejectCode::kOversize),
                   StrCat("line is longer than ", options.decode.max_bytes, " bytes (max_bytes); skipped"));
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::optional<int64_t> record_ms;
    std::string_view value;
    if (absl::Status split = SplitRecordTimestamp(line, &record_ms, &value); !split.ok()) {
      bench.Reject(summary.lines, "BAD_RECORD_TIMESTAMP", std::string(split.message()));
      continue;
    }
    if (IsPoolUpdateLine(value)) {
      bench.AddPoolUpdate(value, summary.lines);  // applied in file order; a timestamp changes nothing
    } else {
      bench.AddSignal(value, summary.lines, record_ms);
    }
  }
  bench.Finish();
  return summary;
}

std::string FormatSummary(const ReplaySummary& s, const config::Config& config) {
  std::string out = StrCat("replay: ", s.lines, " lines, ", s.applied, " signals applied, ",
                           s.duplicates, " duplicates ignored, ", s.rejected, " rejected\n");
  if (!s.rejects_by_reason.empty()) {
    out += "rejects:";
    for (const auto& [reason, n] : s.rejects_by_reason) out += StrCat(" ", reason, "=", n, " (", Percent(n, s.lines), ")");
    out += '\n';
  }
  auto unresolved = s.rejects_by_reason.find("UNRESOLVED_ACCOUNT");
  out += StrCat("identity: resolved through a link=", s.identity.by_link, " by e-mail domain=", s.identity.by_domain,
                " unresolved=", unresolved == s.rejects_by_reason.end() ? 0 : unresolved->second,
                "; conflicting links refused (first kept)=", s.identity.conflicts,
                "; junk identifiers ignored=", s.identity.blocked, "; erased=", s.identity.erased, '\n');
  const ReachReport& r = s.reach;
  out += StrCat("identity reach: signals without an account_id=", r.identity_only, "; linked to an account anywhere in the stream=",
                r.linkable, ", of which reached it=", r.linkable_reached, " (", Percent(r.linkable_reached, r.linkable),
                "); reached in all=", r.reached, " dead-lettered=", r.dead_lettered, " still waiting=", r.still_waiting, '\n');
  out += StrCat("late binding: waited=", s.waiting.parked, " released to their account=", s.waiting.released,
                " past the wait bound (dead-lettered)=", s.waiting.expired, " still waiting at the end=", s.still_waiting,
                '\n');
  out += StrCat("outputs:", JoinCounts(s.outputs_by_kind), " (inactivity timers fired: ", s.timers_fired, ")\n");
  std::vector<std::string> rule_ids, transition_ids;
  for (const auto& rule : config.decision.rules) rule_ids.push_back(rule.id);
  for (const auto& t : config.decision.journey.transitions) transition_ids.push_back(t.id);
  Tally rules = TallyOf(rule_ids, s.emitted_by_rule);
  Tally transitions = TallyOf(transition_ids, s.transitions_by_id);
  out += StrCat("rules fired:", rules.counted, "\nrules never fired:", rules.never, '\n');
  out += StrCat("transitions:", transitions.counted, "\ntransitions never fired:", transitions.never, '\n');

  const outputs::DecisionCounters& c = s.counters;
  out += StrCat("contact policy: suppressed", JoinCounts(c.suppressed_by_policy), "; scheduled for the next allowed window: ",
                c.scheduled, "; default zone for unknown CRM zones: ", c.zone_fallbacks, '\n');
  if (config.decision.contact_policy.send_time.enabled) {
    out += StrCat("send time: sends timed", JoinCounts(c.send_time), "; credited with a reply or accepted prompt: ",
                  c.send_time_credited, '\n');
  }
  Tally branches = TallyOf({std::begin(kAutoBranches), std::end(kAutoBranches)}, c.auto_branches);
  if (auto it = c.auto_branches.find("email"); it != c.auto_branches.end()) branches.counted += StrCat(" email=", it->second);
  out += StrCat("routing branches (channel auto):", branches.counted, "; never used:", branches.never, '\n');
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
  out += StrCat("experiments:", JoinCounts(arms), '\n');
  out += FormatExperimentKpis(outputs::ExperimentKpis(config.decision, c));
  out += FormatForecast(s.forecast, config.decision.journey);
  if (s.pool_updates > 0) out += StrCat("pool updates applied: ", s.pool_updates, '\n');
  out += FormatAudit(s.audit);
  return out;
}

}  // namespace demandcenter::replay
