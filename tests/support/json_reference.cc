// ReferenceDecodeSignalJson: the previous JSON path of DecodeSignal, as it
// was, for benchmarks and the fuzzer. Not linked into the engine.
#include "support/json_reference.h"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "demandcenter/common/strings.h"
#include "demandcenter/ingest/json_decoder.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/type.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver.h"
#include "google/protobuf/util/type_resolver_util.h"

namespace demandcenter::ingest {
namespace {

namespace pb = google::protobuf;

constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com";
// Bytes of the parser's message kept in a reject message.
constexpr size_t kMaxParserMessageBytes = 240;

// The first line of a protobuf parser message (the rest is a snippet of the
// input with a caret), bounded and with anything unprintable replaced by '?'.
std::string OneLine(std::string_view message) {
  const size_t eol = message.find('\n');
  if (eol != std::string_view::npos) message = message.substr(0, eol);
  const bool truncated = message.size() > kMaxParserMessageBytes;
  if (truncated) message = message.substr(0, kMaxParserMessageBytes);
  std::string out(message);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  if (truncated) out += "...";
  return out;
}

// util::JsonStringToMessage converts the descriptor of every message it meets
// into a google.protobuf.Type on every call. These Types are computed once
// here and copied out of a read-only table.
class CachedTypeResolver final : public pb::util::TypeResolver {
 public:
  explicit CachedTypeResolver(const pb::Descriptor* root)
      : base_(pb::util::NewTypeResolverForDescriptorPool(
            std::string(kTypeUrlPrefix), pb::DescriptorPool::generated_pool())) {
    Collect(root);
  }

  pb::util::Status ResolveMessageType(const std::string& type_url,
                                      pb::Type* message_type) override {
    if (auto it = messages_.find(type_url); it != messages_.end()) {
      *message_type = it->second;
      return pb::util::Status();
    }
    return base_->ResolveMessageType(type_url, message_type);
  }

  pb::util::Status ResolveEnumType(const std::string& type_url,
                                   pb::Enum* enum_type) override {
    if (auto it = enums_.find(type_url); it != enums_.end()) {
      *enum_type = it->second;
      return pb::util::Status();
    }
    return base_->ResolveEnumType(type_url, enum_type);
  }

 private:
  static std::string UrlOf(const std::string& full_name) {
    return StrCat(kTypeUrlPrefix, "/", full_name);
  }

  void Collect(const pb::Descriptor* message) {
    std::string url = UrlOf(message->full_name());
    if (messages_.count(url) != 0) return;
    pb::Type type;
    if (!base_->ResolveMessageType(url, &type).ok()) return;
    messages_.emplace(std::move(url), std::move(type));
    for (int i = 0; i < message->field_count(); ++i) {
      const pb::FieldDescriptor* field = message->field(i);
      if (field->message_type() != nullptr) Collect(field->message_type());
      if (const pb::EnumDescriptor* e = field->enum_type(); e != nullptr) {
        std::string enum_url = UrlOf(e->full_name());
        if (enums_.count(enum_url) != 0) continue;
        pb::Enum enum_type;
        if (base_->ResolveEnumType(enum_url, &enum_type).ok()) {
          enums_.emplace(std::move(enum_url), std::move(enum_type));
        }
      }
    }
  }

  const std::unique_ptr<pb::util::TypeResolver> base_;
  std::unordered_map<std::string, pb::Type> messages_;
  std::unordered_map<std::string, pb::Enum> enums_;
};

struct JsonContext {
  CachedTypeResolver resolver{v1::Signal::descriptor()};
  std::string signal_url =
      StrCat(kTypeUrlPrefix, "/", v1::Signal::descriptor()->full_name());
  pb::util::JsonParseOptions options;  // ignore_unknown_fields = false
};

JsonContext& GetJsonContext() {
  static JsonContext* const context = new JsonContext();
  return *context;
}

}  // namespace

bool IsProtobufUnknownFieldError(std::string_view message) {
  constexpr std::string_view kSuffix = ": Cannot find field.";
  return message.size() >= kSuffix.size() &&
         message.substr(message.size() - kSuffix.size()) == kSuffix;
}

Reject ReferenceDecodeSignalJson(std::string_view json, v1::Signal* signal) {
  signal->Clear();
  JsonContext& context = GetJsonContext();
  thread_local std::string binary;
  binary.clear();
  const pb::util::Status status = pb::util::JsonToBinaryString(
      &context.resolver, context.signal_url,
      pb::StringPiece(json.data(), json.size()), &binary, context.options);
  if (!status.ok()) {
    const std::string_view message(status.message().data(), status.message().size());
    if (IsProtobufUnknownFieldError(message)) {
      return Reject{RejectCode::kUnknownField, StrCat("unknown JSON field: ", OneLine(message))};
    }
    return Reject{RejectCode::kBadJson, StrCat("invalid JSON: ", OneLine(message))};
  }
  if (!signal->ParseFromString(binary)) {
    return Reject{RejectCode::kBadJson, "invalid JSON: does not form a valid Signal"};
  }
  return Reject{};
}

std::string DeterministicBytes(const v1::Signal& signal) {
  std::string out;
  {
    pb::io::StringOutputStream stream(&out);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    signal.SerializeWithCachedSizes(&coded);
  }
  return out;
}

JsonComparison CompareWithProtobuf(std::string_view json) {
  JsonComparison c;
  v1::Signal expected;
  const pb::util::Status status = pb::util::JsonStringToMessage(
      pb::StringPiece(json.data(), json.size()), &expected, pb::util::JsonParseOptions());
  if (!status.ok()) {
    c.protobuf_message = std::string(status.message().data(), status.message().size());
    c.protobuf_code = IsProtobufUnknownFieldError(c.protobuf_message) ? RejectCode::kUnknownField
                                                                      : RejectCode::kBadJson;
  }
  v1::Signal actual;
  c.decoder = DecodeSignalJson(json, &actual);

  if (c.protobuf_code == RejectCode::kNone && c.decoder.ok()) {
    expected.ByteSizeLong();
    actual.ByteSizeLong();
    const std::string a = DeterministicBytes(expected);
    const std::string b = DeterministicBytes(actual);
    c.same = a == b;
    if (!c.same) {
      c.difference = StrCat("both accept, different messages: protobuf {",
                            expected.ShortDebugString(), "} decoder {",
                            actual.ShortDebugString(), "}");
    }
  } else if (c.protobuf_code != RejectCode::kNone && !c.decoder.ok()) {
    c.same = c.protobuf_code == c.decoder.code;
    if (!c.same) {
      c.difference = StrCat("both reject, different codes: protobuf ",
                            RejectCodeName(c.protobuf_code), " (", OneLine(c.protobuf_message),
                            ") decoder ", RejectCodeName(c.decoder.code), " (",
                            c.decoder.message, ")");
    }
  } else if (c.decoder.ok()) {
    c.difference = StrCat("decoder accepts {", actual.ShortDebugString(), "}, protobuf rejects ",
                          RejectCodeName(c.protobuf_code), " (", OneLine(c.protobuf_message), ")");
  } else {
    c.difference = StrCat("decoder rejects ", RejectCodeName(c.decoder.code), " (",
                          c.decoder.message, "), protobuf accepts {",
                          expected.ShortDebugString(), "}");
  }
  if (!c.same) {
    c.documented_deviation =
        IsObjectMapValueReject(c.decoder) && c.protobuf_code != RejectCode::kUnknownField;
  }
  return c;
}

}  // namespace demandcenter::ingest
