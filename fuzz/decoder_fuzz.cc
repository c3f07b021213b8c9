// Fuzzes DecodeSignal with arbitrary bytes. Besides "no crash, no sanitizer
// report", it checks the decoder's contract on every input:
//   - a rejected value has a code the decoder may produce and a non-empty,
//     printable message;
//   - an accepted signal passes ValidateSignal and decodes again, unchanged
//     in acceptance, from its binary, schema-registry and JSON encodings;
//   - schema_id is -1 unless the value was detected as schema-registry;
//   - a value detected as JSON decodes as protobuf's JSON parser decodes it
//     (CompareWithProtobuf: same decision, same code, same message), except
//     the documented stricter case; json_differential_fuzz does only this.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "demandcenter/ingest/decoder.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/util/json_util.h"
#include "support/json_reference.h"

namespace {

using demandcenter::ingest::DecodeOptions;
using demandcenter::ingest::DecodeSignal;
using demandcenter::ingest::FrameForSchemaRegistry;
using demandcenter::ingest::Reject;
using demandcenter::ingest::RejectCode;
using demandcenter::ingest::RejectCodeName;
using demandcenter::ingest::SignalFormat;
using demandcenter::ingest::ValidateSignal;
namespace v1 = demandcenter::v1;

[[noreturn]] void Fail(const char* what, const Reject& reject) {
  std::fprintf(stderr, "decoder_fuzz: %s (%.*s: %s)\n", what,
               static_cast<int>(RejectCodeName(reject.code).size()),
               RejectCodeName(reject.code).data(), reject.message.c_str());
  std::abort();
}

void ExpectReencodingAccepted(const v1::Signal& signal, int32_t schema_id) {
  const DecodeOptions options{.max_bytes = 16 << 20};
  v1::Signal again;
  Reject r = DecodeSignal(signal.SerializeAsString(), options, &again);
  if (!r.ok()) Fail("accepted signal rejected after binary re-encoding", r);
  r = DecodeSignal(FrameForSchemaRegistry(signal, schema_id), options, &again);
  if (!r.ok()) Fail("accepted signal rejected after schema-registry framing", r);
  std::string json;
  if (google::protobuf::util::MessageToJsonString(signal, &json).ok()) {
    r = DecodeSignal(json, options, &again);
    if (!r.ok()) Fail("accepted signal rejected after JSON re-encoding", r);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // libprotobuf logs every invalid UTF-8 string; that is noise here.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  v1::Signal signal;
  SignalFormat format = SignalFormat::kBinary;
  int32_t schema_id = 0;
  const Reject reject = DecodeSignal(bytes, DecodeOptions{}, &signal, &format, &schema_id);

  if (format == SignalFormat::kJson) {
    const demandcenter::ingest::JsonComparison c = demandcenter::ingest::CompareWithProtobuf(bytes);
    if (!c.same && !c.documented_deviation) {
      std::fprintf(stderr, "decoder_fuzz: JSON decoder differs from protobuf: %s\n",
                   c.difference.c_str());
      std::abort();
    }
  }
  if (format != SignalFormat::kSchemaRegistry && schema_id != -1) {
    Fail("schema_id set for a value that is not schema-registry framed", reject);
  }
  if (reject.ok()) {
    if (!reject.message.empty()) Fail("accepted with a message", reject);
    const Reject validation = ValidateSignal(signal);
    if (!validation.ok()) Fail("accepted signal fails ValidateSignal", validation);
    ExpectReencodingAccepted(signal, schema_id);
    return 0;
  }
  if (reject.code == RejectCode::kUnresolvedAccount) Fail("decoder produced UNRESOLVED_ACCOUNT", reject);
  if (reject.message.empty()) Fail("rejected without a message", reject);
  for (char c : reject.message) {
    if (c < 0x20 || c >= 0x7f) Fail("unprintable byte in the reject message", reject);
  }
  return 0;
}
