// SerializeDeterministic and ToJson: protobuf messages by reflection, with
// the shared string escaper and RFC 3339 formatter.
#include "demandcenter/common/proto_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "demandcenter/common/json_string.h"
#include "demandcenter/common/rfc3339.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace demandcenter {

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
  out->push_back('"');
  AppendRfc3339(r->GetInt64(ts, d->FindFieldByNumber(1)), r->GetInt32(ts, d->FindFieldByNumber(2)),
                out);
  out->push_back('"');
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
      AppendJsonString(v->name(), out);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& v = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                 : r->GetStringReference(m, f, &scratch);
      AppendJsonString(v, out);
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
    AppendJsonString(entries[i].first, out);
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
    AppendJsonString(f->name(), out);
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

void AppendJson(const google::protobuf::Message& message, std::string* out) { AppendMessage(out, message); }

}  // namespace demandcenter
