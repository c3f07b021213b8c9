// Differential fuzzing of the JSON path: every input goes to DecodeSignalJson
// and to protobuf's util::JsonStringToMessage (the oracle); they must both
// accept, with byte-identical deterministic serializations, or both reject
// with the same code (UNKNOWN_FIELD / BAD_JSON). The one documented deviation
// (an object as a map value; see tests/ingest/json_differential_test.cc) is
// allowed in one direction only: the decoder stricter. Anything else aborts,
// leaving the input in the artifacts directory.
//
// Inputs are tried as they are and, so that mutations of a member reach
// field handling without the fuzzer having to invent a whole document, inside
// a valid signal: {"event_id":"e","type":"t.u",<input>}.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "demandcenter/ingest/decoder.h"
#include "demandcenter/ingest/json_decoder.h"
#include "google/protobuf/stubs/logging.h"
#include "support/json_reference.h"

namespace {

using demandcenter::ingest::CompareWithProtobuf;
using demandcenter::ingest::JsonComparison;

void Compare(std::string_view json) {
  const JsonComparison c = CompareWithProtobuf(json);
  if (c.same || c.documented_deviation) return;
  std::fprintf(stderr, "json_differential_fuzz: %s\n", c.difference.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // libprotobuf logs every invalid UTF-8 string; that is noise here.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Compare(bytes);
  std::string wrapped = "{\"event_id\":\"e\",\"type\":\"t.u\",";
  wrapped.append(bytes);
  wrapped.push_back('}');
  Compare(wrapped);
  return 0;
}
