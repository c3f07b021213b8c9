#include "demandcenter/engine/output_json.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <vector>

#include "demandcenter/common/strings.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace demandcenter::engine {
namespace {

// Code points protobuf's JSON printer writes as \uXXXX besides controls,
// quotes and backslashes: '<' and '>' (safe to embed in HTML) and invisible
// format characters.
constexpr bool NeedsUnicodeEscape(uint32_t cp) {
  return cp == '<' || cp == '>' || cp == 0x7f || cp == 0xad || (cp >= 0x600 && cp <= 0x603) ||
         cp == 0x6dd || cp == 0x70f || cp == 0x17b4 || cp == 0x17b5 || (cp >= 0x200b && cp <= 0x200f) ||
         (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
         (cp >= 0x206a && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb);
}

void AppendUnicodeEscape(std::string* out, uint32_t cp) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
  out->append(buf);
}

// ASCII bytes copied as they are: printable, and neither a quote, a
// backslash nor one of the characters protobuf's printer escapes.
constexpr std::array<bool, 256> kPlainByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x7f; ++c) plain[c] = c != '"' && c != '\\' && !NeedsUnicodeEscape(c);
  return plain;
}();

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    // Runs of plain bytes (nearly everything) are appended in one go.
    size_t end = i;
    while (end < s.size() && kPlainByte[static_cast<unsigned char>(s[end])]) ++end;
    if (end > i) {
      out->append(s.data() + i, end - i);
      i = end;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default: AppendUnicodeEscape(out, c);  // other controls, '<', '>', DEL
      }
      ++i;
      continue;
    }
    // A UTF-8 sequence: decode it to check the code point, copy it as is.
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (i + len > s.size()) len = s.size() - i;
    uint32_t cp = c & (len == 4 ? 0x07 : len == 3 ? 0x0f : 0x1f);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    if (NeedsUnicodeEscape(cp)) {
      AppendUnicodeEscape(out, cp);
    } else {
      out->append(s.data() + i, len);
    }
    i += len;
  }
  out->push_back('"');
}

}  // namespace

const std::string& TopicFor(OutputKind kind, const config::KafkaTopics& topics) {
  switch (kind) {
    case OutputKind::kTransition: return topics.transitions;
    case OutputKind::kNextBestAction: return topics.nba;
    case OutputKind::kRouting: return topics.routing;
    case OutputKind::kPrompt: return topics.prompts;
  }
  return topics.nba;
}

std::string SerializeDeterministic(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Shortest text that reads back as the same double, as protobuf's JSON
// printer writes it.
void AppendDouble(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof(buf), "%.17g", v);
  out->append(buf);
}

void AppendTimestamp(std::string* out, const Message& ts) {
  const Reflection* r = ts.GetReflection();
  const auto* d = ts.GetDescriptor();
  int64_t seconds = r->GetInt64(ts, d->FindFieldByNumber(1));
  int32_t nanos = r->GetInt32(ts, d->FindFieldByNumber(2));
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string text(buf, n);
  if (nanos != 0) {
    char frac[16];
    if (nanos % 1000000 == 0) {
      std::snprintf(frac, sizeof(frac), ".%03d", nanos / 1000000);
    } else if (nanos % 1000 == 0) {
      std::snprintf(frac, sizeof(frac), ".%06d", nanos / 1000);
    } else {
      std::snprintf(frac, sizeof(frac), ".%09d", nanos);
    }
    text += frac;
  }
  out->push_back('"');
  out->append(text);
  out->append("Z\"");
}

void AppendMessage(std::string* out, const Message& m);

// One value of a field (`index` < 0: a singular field).
void AppendValue(std::string* out, const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      out->append(std::to_string(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f)));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out->append(std::to_string(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f)));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out->push_back('"');
      out->append(std::to_string(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f)));
      out->push_back('"');
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out->push_back('"');
      out->append(std::to_string(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f)));
      out->push_back('"');
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendDouble(out, rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendDouble(out, rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* v = rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f);
      AppendJsonString(out, v->name());
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& v = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                 : r->GetStringReference(m, f, &scratch);
      AppendJsonString(out, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub = rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f);
      if (sub.GetDescriptor()->full_name() == "google.protobuf.Timestamp") {
        AppendTimestamp(out, sub);
      } else {
        AppendMessage(out, sub);
      }
      break;
    }
  }
}

// Map entries sorted by key, as deterministic serialisation orders them.
void AppendMap(std::string* out, const Message& m, const FieldDescriptor* f) {
  const Reflection* r = m.GetReflection();
  int n = r->FieldSize(m, f);
  const FieldDescriptor* key = f->message_type()->map_key();
  const FieldDescriptor* value = f->message_type()->map_value();
  std::vector<std::pair<std::string, const Message*>> entries;
  entries.reserve(n);
  for (int i = 0; i < n; ++i) {
    const Message& e = r->GetRepeatedMessage(m, f, i);
    std::string scratch;
    entries.emplace_back(e.GetReflection()->GetStringReference(e, key, &scratch), &e);
  }
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out->push_back('{');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(out, entries[i].first);
    out->push_back(':');
    AppendValue(out, *entries[i].second, value, -1);
  }
  out->push_back('}');
}

void AppendMessage(std::string* out, const Message& m) {
  const Reflection* r = m.GetReflection();
  const auto* d = m.GetDescriptor();
  out->push_back('{');
  bool first = true;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated() ? r->FieldSize(m, f) == 0 : !r->HasField(m, f)) continue;
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, f->name());
    out->push_back(':');
    if (f->is_map()) {
      AppendMap(out, m, f);
    } else if (f->is_repeated()) {
      out->push_back('[');
      for (int j = 0; j < r->FieldSize(m, f); ++j) {
        if (j > 0) out->push_back(',');
        AppendValue(out, m, f, j);
      }
      out->push_back(']');
    } else {
      AppendValue(out, m, f, -1);
    }
  }
  out->push_back('}');
}

}  // namespace

std::string ToJson(const google::protobuf::Message& message) {
  std::string json;
  json.reserve(512);
  AppendMessage(&json, message);
  return json;
}

std::string ToJsonLine(const Output& output, const config::KafkaTopics& topics) {
  std::string line = "{\"topic\":";
  AppendJsonString(&line, TopicFor(output.kind, topics));
  line += ",\"key\":";
  AppendJsonString(&line, output.account_id);
  line += ",\"value\":";
  line += ToJson(output.proto());
  line += '}';
  return line;
}

}  // namespace demandcenter::engine
