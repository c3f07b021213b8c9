#include "demandcenter/engine/output_json.h"

#include <memory>

#include "demandcenter/common/strings.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/type_resolver_util.h"

namespace demandcenter::engine {
namespace {

constexpr char kTypeUrlPrefix[] = "type.googleapis.com";

google::protobuf::util::TypeResolver* Resolver() {
  static google::protobuf::util::TypeResolver* resolver =
      google::protobuf::util::NewTypeResolverForDescriptorPool(
          kTypeUrlPrefix, google::protobuf::DescriptorPool::generated_pool());
  return resolver;
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

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

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  std::string url = StrCat(kTypeUrlPrefix, "/", message.GetDescriptor()->full_name());
  auto status = google::protobuf::util::BinaryToJsonString(
      Resolver(), url, SerializeDeterministic(message), &json, options);
  if (!status.ok()) return "{}";  // Unreachable for messages of the generated pool.
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
