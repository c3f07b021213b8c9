// Synthetic signal streams. See include/demandcenter/generate/generator.h and
// docs/generate.md.
//
// The stream: the account model (account_model.h) plans every account's
// journey and schedules its events; a min-heap merges the accounts by time.
// Each event becomes a Signal (signal_fill.h) and then bytes
// (signal_encoding.h). This file draws, from the stream's own generator,
// where the malformed records, the re-sent duplicates and the late
// arrivals go.
#include "demandcenter/generate/generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>
#include <utility>

#include "demandcenter/common/strings.h"
#include "demandcenter/common/time.h"
#include "demandcenter/v1/signal.pb.h"
#include "src/generate/account_model.h"
#include "src/generate/random.h"
#include "src/generate/signal_encoding.h"
#include "src/generate/signal_fill.h"
#include "src/generate/vocabulary.h"

namespace demandcenter::generate {
namespace {

// 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z: what a Timestamp can hold.
constexpr int64_t kMinStartMs = -62135596800000;
constexpr int64_t kEndLimitMs = 253402300800000;
constexpr double kDuplicateShare = 0.003;
constexpr double kJitterShare = 0.04;
constexpr int kRingSize = 16;

// A recent record, kept to be sent again as a duplicate.
struct RingEntry {
  std::string key;
  std::string value;
  int64_t occurred_ms = 0;
  Kind kind = kPageView;
};

class Generator {
 public:
  Generator(const GeneratorOptions& options,
            const std::function<void(const GeneratedRecord&)>& sink, GenerateStats* stats)
      : o_(options),
        sink_(sink),
        stats_(stats),
        stream_rng_(Mix64(options.seed ^ 0x5eed5eed5eed5eedULL)),
        model_(options),
        filler_(options) {}

  absl::Status Run();

 private:
  absl::Status EmitMalformed();
  uint64_t Draw() { return stream_rng_(); }

  const GeneratorOptions& o_;
  const std::function<void(const GeneratedRecord&)>& sink_;
  GenerateStats* stats_;
  std::mt19937_64 stream_rng_;
  AccountModel model_;
  SignalFiller filler_;
  v1::Signal scratch_;
  bool have_signal_ = false;
  GeneratedRecord record_;
  std::array<RingEntry, kRingSize> ring_;
  int ring_count_ = 0;
  int ring_next_ = 0;
  int64_t last_emitted_ms_;
  std::array<int64_t, kKindCount> by_kind_ = {};
};

// A deliberately bad record, made from the last good signal: it either fails
// to decode or lacks a required field.
absl::Status Generator::EmitMalformed() {
  if (have_signal_) {
    scratch_ = filler_.signal();
  } else {
    scratch_.Clear();
    scratch_.set_type("web.page_view");
    scratch_.set_account_id(filler_.AccountId(0));
    *scratch_.mutable_occurred_at() = FromMillis(o_.start_ms);
  }
  scratch_.set_event_id(filler_.NextEventId());
  record_.key = scratch_.account_id();
  record_.malformed = true;
  record_.occurred_ms = last_emitted_ms_;
  // Same draws in both formats, so JSON and binary streams stay parallel.
  const uint64_t variant = Below(Draw(), 8);
  const uint64_t junk = Draw();
  if (absl::Status st = EncodeMalformed(variant, junk, o_.format, &scratch_, &record_); !st.ok()) {
    return st;
  }
  sink_(record_);
  return absl::OkStatus();
}

absl::Status Generator::Run() {
  const int64_t m = o_.signals;
  const int64_t bad = std::llround(static_cast<double>(m) * o_.malformed_share);
  const int64_t good = m - bad;
  const int64_t dups = good >= 2 ? static_cast<int64_t>(std::floor(good * kDuplicateShare + 0.5)) : 0;
  const int64_t unique = good - dups;
  model_.Plan(unique);
  last_emitted_ms_ = o_.start_ms;
  int64_t bad_left = bad, dup_left = dups, good_seen = 0;
  for (int64_t i = 0; i < m; ++i) {
    if (o_.cancel != nullptr && o_.cancel->load(std::memory_order_relaxed)) {
      return absl::CancelledError("generation cancelled");
    }
    if (static_cast<int64_t>(Below(Draw(), m - i)) < bad_left) {
      --bad_left;
      if (absl::Status st = EmitMalformed(); !st.ok()) return st;
      ++stats_->malformed;
      ++stats_->records;
      continue;
    }
    record_.malformed = false;
    bool dup = good_seen > 0 &&
               static_cast<int64_t>(Below(Draw(), good - good_seen)) < dup_left;
    ++good_seen;
    if (dup) {
      --dup_left;
      // Any recent record that keeps the disorder within two minutes; the
      // newest always does.
      int pick = static_cast<int>(Below(Draw(), ring_count_));
      int slot = (ring_next_ - 1 - pick + kRingSize) % kRingSize;
      if (ring_[slot].occurred_ms < last_emitted_ms_ - 2 * kMillisPerMinute + 1) {
        slot = (ring_next_ - 1 + kRingSize) % kRingSize;
      }
      const RingEntry& e = ring_[slot];
      record_.key = e.key;
      record_.value = e.value;
      record_.occurred_ms = e.occurred_ms;
      ++by_kind_[e.kind];
      ++stats_->duplicates;
    } else {
      if (model_.empty()) return absl::InternalError("signal budget exhausted early");
      auto [true_ms, index] = model_.PopNext();
      Account& a = model_.account(index);
      Spec spec = ChooseEvent(a);
      int64_t at = true_ms;
      if (Unit(Draw()) < kJitterShare) {  // sent late: event time a little earlier
        at = std::max(o_.start_ms, true_ms - static_cast<int64_t>(Below(Draw(), 119000)) - 1000);
      }
      filler_.Fill(index, a, spec, at);
      have_signal_ = true;
      model_.Reschedule(index);
      const v1::Signal& signal = filler_.signal();
      if (absl::Status st = EncodeSignal(signal, o_.format, &record_.value); !st.ok()) return st;
      record_.key = signal.account_id();
      record_.occurred_ms = at;
      ++by_kind_[spec.kind];
      RingEntry& e = ring_[ring_next_];
      e.key = record_.key;
      e.value = record_.value;
      e.occurred_ms = at;
      e.kind = spec.kind;
      ring_next_ = (ring_next_ + 1) % kRingSize;
      ring_count_ = std::min(ring_count_ + 1, kRingSize);
    }
    last_emitted_ms_ = record_.occurred_ms;
    ++stats_->records;
    sink_(record_);
  }
  for (int k = 0; k < kKindCount; ++k) {
    if (by_kind_[k] > 0) stats_->by_type[std::string(kTypeNames[k])] = by_kind_[k];
  }
  stats_->accounts = static_cast<int32_t>(std::min<int64_t>(o_.accounts, unique));
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateOptions(const GeneratorOptions& options) {
  if (options.accounts < 1) {
    return absl::InvalidArgumentError(StrCat("accounts must be >= 1 (got ", options.accounts, ")"));
  }
  if (options.signals < 1) {
    return absl::InvalidArgumentError(StrCat("signals must be >= 1 (got ", options.signals, ")"));
  }
  if (!(options.malformed_share >= 0.0 && options.malformed_share <= 1.0)) {
    return absl::InvalidArgumentError(
        StrCat("malformed_share must be in [0, 1] (got ", options.malformed_share, ")"));
  }
  if (options.days < 1 || options.days > 36500) {
    return absl::InvalidArgumentError(
        StrCat("days must be in [1, 36500] (got ", options.days, ")"));
  }
  if (options.start_ms < kMinStartMs ||
      options.start_ms > kEndLimitMs - static_cast<int64_t>(options.days) * kDayMs) {
    return absl::InvalidArgumentError(StrCat(
        "start_ms must be in [", kMinStartMs, ", ", kEndLimitMs - options.days * kDayMs,
        "] so that the stream fits years 0001-9999 (got ", options.start_ms, ")"));
  }
  if (options.format != OutputFormat::kJson && options.format != OutputFormat::kBinary) {
    return absl::InvalidArgumentError(
        StrCat("format must be kJson or kBinary (got ", static_cast<int>(options.format), ")"));
  }
  return absl::OkStatus();
}

absl::Status Generate(const GeneratorOptions& options,
                      const std::function<void(const GeneratedRecord&)>& sink,
                      GenerateStats* stats) {
  GenerateStats local;
  if (stats == nullptr) stats = &local;
  *stats = GenerateStats{};
  if (absl::Status st = ValidateOptions(options); !st.ok()) return st;
  Generator generator(options, sink, stats);
  return generator.Run();
}

absl::Status WriteStream(const GeneratorOptions& options, std::ostream& out,
                         GenerateStats* stats) {
  bool failed = false;
  std::string buffer;
  auto flush = [&] {
    if (!failed && !buffer.empty()) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      failed = !out.good();
    }
    buffer.clear();
  };
  absl::Status status = Generate(
      options,
      [&](const GeneratedRecord& r) {
        if (options.format == OutputFormat::kBinary) {
          uint32_t n = static_cast<uint32_t>(r.value.size());
          char prefix[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                            static_cast<char>(n >> 8), static_cast<char>(n)};
          buffer.append(prefix, 4);
          buffer.append(r.value);
        } else {
          buffer.append(r.value);
          buffer.push_back('\n');
        }
        if (buffer.size() >= (1 << 16)) flush();
      },
      stats);
  if (!status.ok()) return status;
  flush();
  out.flush();
  if (failed || !out.good()) return absl::DataLossError("writing the stream failed");
  return absl::OkStatus();
}

}  // namespace demandcenter::generate
