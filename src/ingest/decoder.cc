// Format detection, schema-registry framing and binary decoding; JSON is
// json_decoder.cc.
#include "demandcenter/ingest/decoder.h"

#include <climits>
#include <cstdint>
#include <string>
#include <string_view>

#include "demandcenter/common/strings.h"
#include "demandcenter/ingest/json_decoder.h"

namespace demandcenter::ingest {
namespace {

// Magic byte + 4-byte schema id + at least one message-index byte.
constexpr size_t kMinFrameBytes = 6;

Reject Fail(RejectCode code, std::string message) {
  return Reject{code, std::move(message)};
}

bool IsJsonWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
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
      Reject reject = DecodeSignalJson(bytes, signal);
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
