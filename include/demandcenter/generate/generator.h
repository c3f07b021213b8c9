// Synthetic signal streams: realistic, deterministic streams of
// demandcenter.v1.Signal records for tests, benchmarks, demos and rule
// authors.
//
// A stream covers `accounts` accounts over `days` days of event time. Every
// account gets a firmographic profile (name, segment, time zone, territory,
// owner, 1-12 contacts with CRM titles) and a journey profile (drifter,
// nurture, evaluator, buyer, customer, churn risk) that shapes the signals it
// emits: page views and e-mail engagement, pricing views by several contacts,
// demo requests, opportunity stages, won and lost deals, product usage with
// drops and growth, silences long enough to go dormant or at risk. See
// docs/generate.md for the model and the shares it produces.
//
// Determinism: the same options give byte-identical records on every machine
// and in every run. Only standardised generators (std::mt19937_64, SplitMix64)
// and hand-written mappings from their output are used; protobuf output is
// serialised deterministically (map entries sorted by key).
#ifndef DEMANDCENTER_GENERATE_GENERATOR_H_
#define DEMANDCENTER_GENERATE_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <atomic>
#include <string>

#include "absl/status/status.h"

namespace demandcenter::generate {

enum class OutputFormat {
  // JSON lines: one protobuf-JSON object per line, proto field names
  // (snake_case), no whitespace inside an object.
  kJson,
  // Length-prefixed binary: each record is a 4-byte big-endian length
  // followed by that many bytes of binary protobuf Signal.
  kBinary,
};

// 2026-01-05T00:00:00Z (a Monday) in Unix milliseconds.
inline constexpr int64_t kDefaultStartMs = 1767571200000;

struct GeneratorOptions {
  // Number of accounts ("acct-000001" ...). Must be >= 1. When `signals` is
  // smaller than the number of accounts, only the first accounts appear.
  // Default: 1000.
  int32_t accounts = 1000;
  // Total records written, malformed and duplicate records included.
  // Must be >= 1. Default: 10000.
  int64_t signals = 10000;
  // Seed of every random choice. Default: 1.
  uint64_t seed = 1;
  // Share of records that are deliberately bad, in [0, 1]. Exactly
  // round(signals * malformed_share) records are malformed. Default: 0.
  double malformed_share = 0.0;
  // Event time of the start of the stream, Unix milliseconds.
  // Default: 2026-01-05T00:00:00Z.
  int64_t start_ms = kDefaultStartMs;
  // Event-time span in days: every signal occurs in
  // [start_ms, start_ms + days * 24h). Must be in [1, 36500]. Default: 180.
  int32_t days = 180;
  // Encoding of GeneratedRecord::value and of WriteStream. Default: kJson.
  OutputFormat format = OutputFormat::kJson;
  // When set and it becomes true, Generate stops before the next record and
  // returns Cancelled (for endless streams such as the demo's). Not owned.
  const std::atomic<bool>* cancel = nullptr;
};

// OK, or InvalidArgument naming the first bad field and its allowed range,
// e.g. "accounts must be >= 1 (got 0)".
absl::Status ValidateOptions(const GeneratorOptions& options);

// One record of the stream, as a producer would send it to a signal topic.
struct GeneratedRecord {
  // Kafka key: the signal's account id when it carries one, else empty.
  std::string key;
  // One protobuf-JSON object (no trailing newline) or one binary protobuf
  // Signal (no length prefix), per GeneratorOptions::format. For malformed
  // records: whatever bad bytes were produced.
  std::string value;
  // True for the deliberately bad records. Every malformed record either
  // fails to decode as a Signal (JSON: with unknown fields refused) or lacks
  // a required field (event_id, type, occurred_at, or all identities).
  bool malformed = false;
  // Event time of the signal, Unix milliseconds. For malformed records: the
  // event time of the stream position they were inserted at.
  int64_t occurred_ms = 0;
};

struct GenerateStats {
  // Records passed to the sink (== options.signals on success).
  int64_t records = 0;
  // Of which malformed.
  int64_t malformed = 0;
  // Well-formed records per signal type, duplicates included.
  std::map<std::string, int64_t> by_type;
  // Accounts that carry at least one signal: min(accounts, well-formed
  // records that are not duplicates).
  int32_t accounts = 0;
  // Well-formed records that repeat an earlier record byte for byte (same
  // event_id), sent to exercise de-duplication.
  int64_t duplicates = 0;
};

// Streams options.signals records to `sink`, ordered by event time except
// for small disorder: a record is never more than 2 minutes (event time)
// older than the record before it. About 0.3% of the well-formed records are
// exact re-sends of an earlier record. Well-formed records carry event_id,
// occurred_at, a namespaced type and at least one identity; an anonymous_id
// is always introduced by a signal that also carries the account_id (a form
// submit) before it appears alone.
//
// Deterministic: the same options give the same records, byte for byte.
// Memory is bounded by the number of accounts (a few hundred bytes each),
// not by the number of signals. `sink` is called synchronously, once per
// record; the record is only valid during the call. `stats` may be null; it
// is reset first.
//
// Returns InvalidArgument (see ValidateOptions) without calling `sink` when
// the options are bad; Internal if protobuf serialisation fails.
absl::Status Generate(const GeneratorOptions& options,
                      const std::function<void(const GeneratedRecord&)>& sink,
                      GenerateStats* stats);

// Writes the stream to `out` in options.format: JSON lines ('\n' after each
// record) or length-prefixed binary. Returns what Generate returns, or
// DataLoss when writing to `out` fails.
absl::Status WriteStream(const GeneratorOptions& options, std::ostream& out,
                         GenerateStats* stats);

}  // namespace demandcenter::generate

#endif  // DEMANDCENTER_GENERATE_GENERATOR_H_
