// The protobuf-JSON path of DecodeSignal, on its own, for the differential
// tests, the fuzzer and the benchmarks. Applications call DecodeSignal.
//
// DecodeSignalJson is a single-pass JSON parser driven by the descriptors of
// demandcenter.v1.Signal (field tables built once, keyed by both the JSON name
// and the proto name of every field). It accepts exactly the documents that
// protobuf 3.21's util::JsonStringToMessage accepts for Signal (with
// ignore_unknown_fields = false) and yields the same message, with one
// documented exception where it is stricter (a JSON object as an
// `attributes` value; see tests/ingest/json_differential_test.cc). That
// includes the leniencies of protobuf's parser: single-quoted strings,
// unquoted keys, trailing commas, any character after a backslash, numbers
// as strings and strings as numbers, enum names or numbers, RFC 3339
// timestamps or {"seconds", "nanos"} objects, null for "not set", duplicate
// keys (the last scalar wins, messages and maps merge), at most 100 nested
// objects, and the whole value valid UTF-8.
//
// Reject codes: kUnknownField when the problem protobuf would report last is
// a field the schema does not have, kBadJson otherwise (syntax, invalid
// UTF-8, wrong value types, a second oneof member, ...). Like protobuf, a
// syntax error wins over any field error, and among field errors the last
// one in the document is reported. Messages name the field path and the
// line and column (1-based, in bytes), e.g.
//   unknown JSON field web_visit.pageTitle at line 1, column 15
//   invalid JSON: web_visit.duration_ms at line 1, column 31: "4s" is not an int64
//   invalid JSON at line 1, column 20: Unexpected end of string. Expected an object key or }.
//
// Thread safety: may be called concurrently from any number of threads.
#ifndef DEMANDCENTER_INGEST_JSON_DECODER_H_
#define DEMANDCENTER_INGEST_JSON_DECODER_H_

#include <string_view>

#include "demandcenter/ingest/decoder.h"
#include "demandcenter/v1/signal.pb.h"

namespace demandcenter::ingest {

// Decodes one protobuf-JSON document into *signal, which is cleared first.
// No validation (ValidateSignal) and no size limit beyond what the binary
// encoding of the result allows (2 GiB). On a reject *signal is unspecified.
Reject DecodeSignalJson(std::string_view json, v1::Signal* signal);

// Whether `reject` is the one documented case where DecodeSignalJson is
// stricter than protobuf: a JSON object as a value of a map<string, string>
// field ("attributes": {"k": {...}}) that has no other error. Protobuf's
// parser writes invalid binary for it, which its final parse usually
// refuses and sometimes reads as a different key or value.
bool IsObjectMapValueReject(const Reject& reject);

}  // namespace demandcenter::ingest

#endif  // DEMANDCENTER_INGEST_JSON_DECODER_H_
