// Decoding throughput of the ingest module: one signal per iteration, in each
// wire format, plus protobuf's JSON parser as baselines for the JSON path:
// the previous JSON path of DecodeSignal (JsonToBinaryString with cached type
// information, ReferenceDecodeSignalJson) and plain JsonStringToMessage.
#include <string>

#include "benchmark/benchmark.h"
#include "demandcenter/common/strings.h"
#include "demandcenter/ingest/decoder.h"
#include "google/protobuf/util/json_util.h"
#include "support/json_reference.h"

namespace demandcenter::ingest {
namespace {

// A typical web signal: ids, a page view and a few attributes (555 bytes as
// JSON, 306 as binary).
v1::Signal PageView() {
  v1::Signal s;
  s.set_event_id("7f1c2a9e-2b4d-4c55-9d1e-0a8b6c3f5e21");
  s.mutable_occurred_at()->set_seconds(1772357400);
  s.mutable_occurred_at()->set_nanos(250000000);
  s.set_type("web.pricing_view");
  s.set_account_id("acct-000123");
  s.set_anonymous_id("anon-5f0e8d7c");
  s.set_email("ann.lee@acme.example");
  s.set_source_system("segment");
  auto* visit = s.mutable_web_visit();
  visit->set_url("https://www.example.com/pricing?plan=enterprise");
  visit->set_path("/pricing");
  visit->set_referrer("https://www.google.com/");
  visit->set_page_category("pricing");
  visit->set_session_id("sess-91ab");
  visit->set_utm_source("google");
  visit->set_utm_medium("cpc");
  visit->set_utm_campaign("q1-enterprise");
  visit->set_duration_ms(48200);
  (*s.mutable_attributes())["plan"] = "enterprise";
  (*s.mutable_attributes())["locale"] = "en-US";
  return s;
}

std::string PageViewJson() {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(PageView(), &json, options);
  return json;
}

void RunDecode(benchmark::State& state, const std::string& bytes) {
  const DecodeOptions options;
  v1::Signal signal;
  for (auto _ : state) {
    Reject reject = DecodeSignal(bytes, options, &signal);
    if (!reject.ok()) {
      state.SkipWithError(reject.message.c_str());
      break;
    }
    benchmark::DoNotOptimize(signal);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
  state.SetLabel(StrCat(bytes.size(), " bytes"));
}

void BM_DecodeBinary(benchmark::State& state) {
  RunDecode(state, PageView().SerializeAsString());
}
BENCHMARK(BM_DecodeBinary);

void BM_DecodeSchemaRegistry(benchmark::State& state) {
  RunDecode(state, FrameForSchemaRegistry(PageView(), 100042));
}
BENCHMARK(BM_DecodeSchemaRegistry);

void BM_DecodeJson(benchmark::State& state) { RunDecode(state, PageViewJson()); }
BENCHMARK(BM_DecodeJson);
BENCHMARK(BM_DecodeJson)->Threads(2);

// Baseline: the JSON path DecodeSignal had before json_decoder.cc (protobuf's
// parser with the type information built once), followed by the same
// validation.
void BM_DecodeJsonReference(benchmark::State& state) {
  const std::string json = PageViewJson();
  v1::Signal signal;
  for (auto _ : state) {
    if (!ReferenceDecodeSignalJson(json, &signal).ok() || !ValidateSignal(signal).ok()) {
      state.SkipWithError("reference failed");
      break;
    }
    benchmark::DoNotOptimize(signal);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(json.size()));
}
BENCHMARK(BM_DecodeJsonReference);

// The same signal with lowerCamelCase names and whitespace, as protobuf's
// printer writes it by default.
void BM_DecodeJsonCamelCase(benchmark::State& state) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(PageView(), &json, options);
  RunDecode(state, json);
}
BENCHMARK(BM_DecodeJsonCamelCase);

// Baseline: protobuf's own JsonStringToMessage, which rebuilds the type
// information on every call, followed by the same validation.
void BM_JsonStringToMessageBaseline(benchmark::State& state) {
  const std::string json = PageViewJson();
  google::protobuf::util::JsonParseOptions options;
  v1::Signal signal;
  for (auto _ : state) {
    signal.Clear();
    if (!google::protobuf::util::JsonStringToMessage(json, &signal, options).ok() ||
        !ValidateSignal(signal).ok()) {
      state.SkipWithError("baseline failed");
      break;
    }
    benchmark::DoNotOptimize(signal);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(json.size()));
}
BENCHMARK(BM_JsonStringToMessageBaseline);

// A rejected value costs a parse plus the reject message.
void BM_DecodeJsonUnknownField(benchmark::State& state) {
  std::string json = PageViewJson();
  json.insert(1, R"("page_title": "Pricing", )");
  const DecodeOptions options;
  v1::Signal signal;
  for (auto _ : state) {
    Reject reject = DecodeSignal(json, options, &signal);
    benchmark::DoNotOptimize(reject);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeJsonUnknownField);

void BM_ValidateSignal(benchmark::State& state) {
  const v1::Signal signal = PageView();
  for (auto _ : state) {
    Reject reject = ValidateSignal(signal);
    benchmark::DoNotOptimize(reject);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateSignal);

}  // namespace
}  // namespace demandcenter::ingest
