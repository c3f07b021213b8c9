// Format detection, schema-registry framing, JSON and binary decoding.
#include "demandcenter/ingest/decoder.h"

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "demandcenter/common/strings.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/type.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver.h"
#include "google/protobuf/util/type_resolver_util.h"

namespace demandcenter::ingest {
namespace {

namespace pb = google::protobuf;

constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com";
// Magic byte + 4-byte schema id + at least one message-index byte.
constexpr size_t kMinFrameBytes = 6;
// Bytes of the parser's message kept in a reject message.
constexpr size_t kMaxParserMessageBytes = 240;

Reject Fail(RejectCode code, std::string message) {
  return Reject{code, std::move(message)};
}

bool IsJsonWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

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

// ---------------------------------------------------------------------------
// JSON
//
// util::JsonStringToMessage converts the descriptor of every message it meets
// into a google.protobuf.Type on every call. The Signal schema is fixed at
// build time, so those Types are computed once here and copied out of a
// read-only table; lookups never write, which makes the resolver safe to share
// between threads.
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

  // Every message and enum type reachable from `message`.
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

// The unknown-field error of the protobuf JSON parser reads
// "<path> <name>: Cannot find field.".
bool IsUnknownFieldError(std::string_view message) {
  constexpr std::string_view kSuffix = ": Cannot find field.";
  return message.size() >= kSuffix.size() &&
         message.substr(message.size() - kSuffix.size()) == kSuffix;
}

Reject DecodeJson(std::string_view json, v1::Signal* signal) {
  JsonContext& context = GetJsonContext();
  // JSON is converted to binary and then parsed; the buffer is reused so the
  // steady state allocates nothing for it.
  thread_local std::string binary;
  binary.clear();
  const pb::util::Status status = pb::util::JsonToBinaryString(
      &context.resolver, context.signal_url,
      pb::StringPiece(json.data(), json.size()), &binary, context.options);
  if (!status.ok()) {
    const std::string_view message(status.message().data(), status.message().size());
    if (IsUnknownFieldError(message)) {
      return Fail(RejectCode::kUnknownField,
                  StrCat("unknown JSON field: ", OneLine(message)));
    }
    return Fail(RejectCode::kBadJson, StrCat("invalid JSON: ", OneLine(message)));
  }
  if (!signal->ParseFromString(binary)) {
    // The JSON parser accepted it but the result is not a valid Signal.
    return Fail(RejectCode::kBadJson, "invalid JSON: does not form a valid Signal");
  }
  return Reject{};
}

// ---------------------------------------------------------------------------
// Binary

// "0x" and two hex digits.
std::string HexByte(char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto b = static_cast<unsigned char>(c);
  return {'0', 'x', kHex[b >> 4], kHex[b & 0xf]};
}

// `framed`: the bytes are the payload of a schema-registry frame.
Reject DecodeBinary(std::string_view bytes, bool framed, v1::Signal* signal) {
  const std::string_view what = framed ? "schema-registry payload" : "value";
  // ParseFromArray fails unless every byte is consumed. DecodeOptions
  // normally keeps values far below INT_MAX; the check keeps the cast safe
  // when it does not.
  if (bytes.empty() || bytes.size() > static_cast<size_t>(INT_MAX) ||
      !signal->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Fail(RejectCode::kUndecodable,
                StrCat(what, framed ? " is not" : " is neither JSON nor",
                       " a valid binary Signal (", bytes.size(), " bytes, first byte ",
                       bytes.empty() ? std::string("none") : HexByte(bytes[0]), ")"));
  }
  if (signal->event_id().empty() && signal->type().empty()) {
    return Fail(RejectCode::kUndecodable,
                StrCat(what, " parses as protobuf but sets neither event_id nor "
                       "type; not a Signal (", bytes.size(), " bytes)"));
  }
  return Reject{};
}

// ---------------------------------------------------------------------------
// Schema-registry framing

// Reads a zigzag-encoded 32-bit varint (at most 5 bytes) at *pos.
bool ReadZigZagVarint32(std::string_view bytes, size_t* pos, int32_t* value) {
  uint64_t raw = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (*pos >= bytes.size()) return false;
    const uint8_t b = static_cast<uint8_t>(bytes[(*pos)++]);
    raw |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      if (raw > UINT32_MAX) return false;
      const uint32_t u = static_cast<uint32_t>(raw);
      *value = static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
      return true;
    }
  }
  return false;
}

// Checks the frame and sets *payload to the bytes after the message indexes.
Reject ParseFrame(std::string_view bytes, int32_t* schema_id,
                  std::string_view* payload) {
  if (bytes.size() < kMinFrameBytes) {
    return Fail(RejectCode::kBadFraming,
                StrCat("schema-registry frame is ", bytes.size(),
                       " bytes; at least ", kMinFrameBytes,
                       " are needed (magic byte, 4-byte schema id, message indexes)"));
  }
  const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])); };
  *schema_id = static_cast<int32_t>(byte(1) << 24 | byte(2) << 16 | byte(3) << 8 | byte(4));

  size_t pos = 5;
  int32_t count = 0;
  if (!ReadZigZagVarint32(bytes, &pos, &count)) {
    return Fail(RejectCode::kBadFraming,
                "schema-registry frame: truncated or over-long message-index count varint");
  }
  if (count < 0) {
    return Fail(RejectCode::kBadFraming,
                StrCat("schema-registry frame: negative message-index count ", count));
  }
  // Each index takes at least one byte.
  if (static_cast<size_t>(count) > bytes.size() - pos) {
    return Fail(RejectCode::kBadFraming,
                StrCat("schema-registry frame: message-index count ", count,
                       " exceeds the ", bytes.size() - pos, " bytes left"));
  }
  for (int32_t i = 0; i < count; ++i) {
    int32_t index = 0;
    if (!ReadZigZagVarint32(bytes, &pos, &index)) {
      return Fail(RejectCode::kBadFraming,
                  StrCat("schema-registry frame: truncated or over-long message index #", i));
    }
    if (index < 0) {
      return Fail(RejectCode::kBadFraming,
                  StrCat("schema-registry frame: negative message index ", index));
    }
  }
  *payload = bytes.substr(pos);
  return Reject{};
}

// DecodeSignal without the reporting: *detected and *frame_schema_id are set
// as soon as they are known.
Reject Decode(std::string_view bytes, const DecodeOptions& options,
              v1::Signal* signal, SignalFormat* detected, int32_t* frame_schema_id) {
  if (bytes.empty()) return Fail(RejectCode::kEmpty, "empty value");

  size_t first = 0;
  while (first < bytes.size() && IsJsonWhitespace(bytes[first])) ++first;
  if (first < bytes.size() && bytes[first] == '{') {
    *detected = SignalFormat::kJson;
  } else if (bytes[0] == '\0') {
    *detected = SignalFormat::kSchemaRegistry;
  }

  if (bytes.size() > options.max_bytes) {
    return Fail(RejectCode::kOversize,
                StrCat("value is ", bytes.size(), " bytes; the limit is ",
                       options.max_bytes));
  }

  switch (*detected) {
    case SignalFormat::kJson: {
      Reject reject = DecodeJson(bytes, signal);
      // A binary Signal may begin with bytes that look like JSON whitespace
      // and a '{' (0x0A 0x7B: an event_id of 123 bytes), so a value that does
      // not start with '{' itself gets a second chance as binary.
      if (!reject.ok() && first > 0 && DecodeBinary(bytes, /*framed=*/false, signal).ok()) {
        *detected = SignalFormat::kBinary;
        return Reject{};
      }
      return reject;
    }
    case SignalFormat::kSchemaRegistry: {
      std::string_view payload;
      Reject reject = ParseFrame(bytes, frame_schema_id, &payload);
      if (!reject.ok()) return reject;
      if (payload.empty()) {
        return Fail(RejectCode::kUndecodable,
                    "schema-registry frame has an empty payload; not a Signal");
      }
      return DecodeBinary(payload, /*framed=*/true, signal);
    }
    case SignalFormat::kBinary:
      return DecodeBinary(bytes, /*framed=*/false, signal);
  }
  return Fail(RejectCode::kUndecodable, "unknown format");
}

}  // namespace

Reject DecodeSignal(std::string_view bytes, const DecodeOptions& options,
                    v1::Signal* signal, SignalFormat* format, int32_t* schema_id) {
  signal->Clear();
  SignalFormat detected = SignalFormat::kBinary;
  int32_t frame_schema_id = -1;
  Reject reject = Decode(bytes, options, signal, &detected, &frame_schema_id);
  if (reject.ok()) reject = ValidateSignal(*signal);
  if (format != nullptr) *format = detected;
  if (schema_id != nullptr) *schema_id = frame_schema_id;
  return reject;
}

std::string FrameForSchemaRegistry(const v1::Signal& signal, int32_t schema_id) {
  const size_t payload_size = signal.ByteSizeLong();
  std::string out;
  out.reserve(kMinFrameBytes + payload_size);
  const auto id = static_cast<uint32_t>(schema_id);
  out.push_back('\0');
  out.push_back(static_cast<char>(id >> 24));
  out.push_back(static_cast<char>(id >> 16));
  out.push_back(static_cast<char>(id >> 8));
  out.push_back(static_cast<char>(id));
  out.push_back('\0');  // message indexes: shorthand for [0]
  signal.AppendToString(&out);
  return out;
}

}  // namespace demandcenter::ingest
