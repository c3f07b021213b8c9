// Decoding and validation of input signals: the first step of every record.
//
// A signal topic carries demandcenter.v1.Signal values in one of three wire
// formats, mixed freely on the same topic; DecodeSignal detects which, decodes
// the value and checks the required fields and limits. A value that fails
// yields a Reject (a code and a readable message) instead of a Signal: the
// caller dead-letters it and moves on. Nothing here throws, aborts or blocks,
// whatever the bytes.
//
// Thread safety: every function here may be called concurrently from any
// number of threads.
//
// Logging: libprotobuf writes one ERROR log line for each binary value whose
// string fields are not valid UTF-8 (the value is still rejected as
// UNDECODABLE). Route or silence it with google::protobuf::SetLogHandler in
// the application if a producer floods the topic with such values.
#ifndef DEMANDCENTER_INGEST_DECODER_H_
#define DEMANDCENTER_INGEST_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::ingest {

// The wire format of a signal value.
enum class SignalFormat {
  kBinary,          // the protobuf binary encoding of demandcenter.v1.Signal
  kJson,            // protobuf-JSON (snake_case or lowerCamelCase names)
  kSchemaRegistry,  // Confluent schema-registry framing around the binary
};

// "binary", "json", "schema_registry".
std::string_view SignalFormatName(SignalFormat format);

// Why a value was not accepted. The names (RejectCodeName) go into the
// dead-letter headers and metrics labels; they are a stable contract.
enum class RejectCode {
  kNone = 0,
  kEmpty,              // zero-length value
  kOversize,           // larger than DecodeOptions::max_bytes
  kBadJson,            // JSON that does not parse as a Signal (syntax, wrong type)
  kUnknownField,       // JSON with a field the schema does not have
  kBadFraming,         // schema-registry frame too short / bad message-index varints
  kUndecodable,        // bytes that are neither JSON nor a valid binary Signal
  kMissingEventId,
  kMissingOccurredAt,
  kBadTimestamp,       // occurred_at before 1970 or after 9999, or nanos invalid
  kMissingType,
  kBadType,            // type not namespaced like "<source>.<name>", or too long
  kMissingIdentity,    // none of account_id, contact_id, email, anonymous_id
  kFieldTooLong,       // a string field or the attributes map over its limit
  kUnresolvedAccount,  // set later by identity resolution, never by the decoder
  kEventTimeAhead,     // occurred_at too far after the record's own timestamp (event_time.max_ahead)
  kEventTimeLate,      // occurred_at too far before its partition's stream time (event_time.max_late)
};

// "EMPTY", "OVERSIZE", "BAD_JSON", "UNKNOWN_FIELD", "BAD_FRAMING",
// "UNDECODABLE", "MISSING_EVENT_ID", "MISSING_OCCURRED_AT", "BAD_TIMESTAMP",
// "MISSING_TYPE", "BAD_TYPE", "MISSING_IDENTITY", "FIELD_TOO_LONG",
// "UNRESOLVED_ACCOUNT", "EVENT_TIME_AHEAD", "EVENT_TIME_LATE"; "NONE" for
// kNone.
std::string_view RejectCodeName(RejectCode code);

// The outcome of decoding or validating one value.
struct Reject {
  RejectCode code = RejectCode::kNone;
  // Empty when ok(). Otherwise one line a person can act on, e.g.
  // "missing required field event_id"; for JSON it includes the parser's
  // message. Strings from the input appear as JSON strings in printable
  // ASCII, cut after 64 bytes (AppendJsonStringForMessage in
  // demandcenter/common/json_string.h), so the message is printable ASCII
  // of bounded length (a few hundred bytes).
  std::string message;

  bool ok() const { return code == RejectCode::kNone; }
};

// Limits enforced by ValidateSignal (RejectCode::kFieldTooLong, kBadType).
// Lengths are in bytes of UTF-8.
// event_id, account_id, contact_id, email, anonymous_id, source_system, and
// each attributes key.
inline constexpr size_t kMaxIdBytes = 256;
// type.
inline constexpr size_t kMaxTypeBytes = 128;
// Each string field of the detail (web_visit, email_engagement, crm_activity,
// product_usage) and each attributes value.
inline constexpr size_t kMaxTextBytes = 4096;
// Entries in the attributes map.
inline constexpr size_t kMaxAttributes = 64;

// The type of a signal that only links identifiers (two or more of
// account_id, contact_id, email, anonymous_id) for identity resolution.
inline constexpr std::string_view kIdentityLinkType = "identity.link";
// The type of a signal that erases a person: the links of its contact_id,
// email and anonymous_id, and the signals waiting for them (one of the three
// is required).
inline constexpr std::string_view kPrivacyEraseType = "privacy.erase";

struct DecodeOptions {
  // Largest accepted value, in bytes; larger values are rejected with
  // kOversize before any parsing. Default: 1 MiB.
  size_t max_bytes = 1 << 20;
};

// Detects the format of `bytes`, decodes them into *signal and validates the
// result with ValidateSignal. Returns ok() when *signal holds an accepted
// signal; otherwise the code and message of the first problem found, and
// *signal holds whatever was decoded (unspecified, but a valid message).
//
// Checks, in order:
//   1. empty -> kEmpty; longer than options.max_bytes -> kOversize.
//   2. Detection:
//      - first byte after JSON whitespace (space, \t, \n, \r) is '{': JSON.
//        Parse errors give kUnknownField for a field the schema does not have,
//        kBadJson for anything else (what is accepted, and which problem is
//        reported when there are several: json_decoder.h). When the value did not start with '{'
//        itself (whitespace came first) and the JSON parse fails, the bytes
//        are tried as binary, because a binary Signal can begin with such
//        bytes (0x0A is the tag of event_id); if that fails too, the JSON
//        error is returned.
//      - first byte 0x00: a schema-registry frame (magic 0, 4-byte big-endian
//        schema id, message indexes as a zigzag-varint count followed by that
//        many zigzag-varint indexes, the single byte 0 being the shorthand
//        for [0]), then the binary Signal. Fewer than 6 bytes, a truncated or
//        over-long varint, a negative count or index, or more indexes than
//        bytes -> kBadFraming. The indexes are checked for form only; the
//        payload is always decoded as demandcenter.v1.Signal.
//      - anything else: binary.
//      A binary payload must parse and consume every byte, and must set at
//      least event_id or type (so that garbage which happens to be valid
//      protobuf is not taken for a signal); otherwise kUndecodable.
//   3. ValidateSignal.
// *format and *schema_id, when not null, receive the detected format and the
// frame's schema id (-1 when not framed or when the frame is too short to
// hold one). For kEmpty the format reported is kBinary.
//
// *signal is cleared first. `signal` must not be null; `bytes` need only live
// for the duration of the call.
Reject DecodeSignal(std::string_view bytes, const DecodeOptions& options,
                    v1::Signal* signal, SignalFormat* format = nullptr,
                    int32_t* schema_id = nullptr);

// The required-field and limit checks alone, for callers that build Signals
// in memory. In order, the first failure wins:
//   event_id empty                                 -> kMissingEventId
//   occurred_at unset, or exactly 1970-01-01T00:00:00Z (the unset value of
//   most senders)                                  -> kMissingOccurredAt
//   occurred_at.seconds before 1970 or after 9999-12-31T23:59:59Z, or
//   occurred_at.nanos outside [0, 999999999]       -> kBadTimestamp
//   type empty                                     -> kMissingType
//   type longer than kMaxTypeBytes, or not at least two non-empty
//   dot-separated parts of [a-z0-9_-]              -> kBadType
//   account_id, contact_id, email, anonymous_id all empty, or fewer than
//   two of them on an identity.link signal, or none of contact_id, email,
//   anonymous_id on a privacy.erase signal         -> kMissingIdentity
//   a field over kMaxIdBytes / kMaxTextBytes, or more than kMaxAttributes
//   attributes                                     -> kFieldTooLong
Reject ValidateSignal(const v1::Signal& signal);

// `signal` in the schema-registry wire format: magic byte 0, `schema_id` as
// 4 bytes big-endian, the message-index shorthand 0 (meaning [0]: Signal is
// the first message of signal.proto), then the binary Signal. For tests,
// generators and benchmarks.
std::string FrameForSchemaRegistry(const v1::Signal& signal, int32_t schema_id);

}  // namespace demandcenter::ingest

#endif  // DEMANDCENTER_INGEST_DECODER_H_
