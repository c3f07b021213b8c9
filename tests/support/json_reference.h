// The JSON decoding of Signal as the engine did it before json_decoder.cc:
// protobuf 3.21's util::JsonToBinaryString (with the google.protobuf.Type
// of every message built once) and a binary parse. Kept, in its own library
// (demandcenter_ingest_reference) that the engine does not link, as the
// baseline of the decode benchmark and a second oracle for the fuzzer; the
// differential test uses util::JsonStringToMessage itself. Test support, not
// a product header: tests, benchmarks and fuzzers include it as
// "support/json_reference.h".
#ifndef DEMANDCENTER_TESTS_SUPPORT_JSON_REFERENCE_H_
#define DEMANDCENTER_TESTS_SUPPORT_JSON_REFERENCE_H_

#include <string_view>

#include "demandcenter/ingest/decoder.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::ingest {

// Clears *signal and decodes `json` into it with protobuf's JSON parser.
// kUnknownField when protobuf's (last) error is "<path> <name>: Cannot find
// field.", kBadJson for any other error; the message is protobuf's first
// line. No validation.
Reject ReferenceDecodeSignalJson(std::string_view json, v1::Signal* signal);

// Whether a message of protobuf's JSON parser reports an unknown field.
bool IsProtobufUnknownFieldError(std::string_view message);

// DecodeSignalJson against protobuf's util::JsonStringToMessage (default
// options: unknown fields refused) on one document.
struct JsonComparison {
  // Protobuf's verdict: kNone, kUnknownField or kBadJson, and its message.
  RejectCode protobuf_code = RejectCode::kNone;
  std::string protobuf_message;
  // DecodeSignalJson's.
  Reject decoder;
  // Both accepted and the deterministic binary serializations of the two
  // messages are byte-identical, or both rejected with the same code.
  bool same = false;
  // Not `same`, but the documented stricter case (IsObjectMapValueReject):
  // DecodeSignalJson rejects with kBadJson where protobuf accepted or
  // rejected with kBadJson.
  bool documented_deviation = false;
  // One line saying what differs, when !same.
  std::string difference;
};
JsonComparison CompareWithProtobuf(std::string_view json);

// Deterministic binary serialization (map entries sorted by key).
std::string DeterministicBytes(const v1::Signal& signal);

}  // namespace demandcenter::ingest

#endif  // DEMANDCENTER_TESTS_SUPPORT_JSON_REFERENCE_H_
