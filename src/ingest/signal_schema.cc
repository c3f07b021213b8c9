// SignalSchema: the field tables built from the descriptors of Signal and of
// every message it reaches, once per process.
#include "src/ingest/signal_schema.h"

#include <deque>
#include <unordered_map>

#include "demandcenter/common/strings.h"
#include "demandcenter/v1/signal.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/timestamp.pb.h"

namespace demandcenter::ingest::json {
namespace {

namespace pb = google::protobuf;

class SchemaBuilder {
 public:
  SchemaBuilder() { root_ = Build(v1::Signal::descriptor()); }
  const MessageInfo& root() const { return *root_; }

 private:
  const MessageInfo* Build(const pb::Descriptor* descriptor) {
    if (auto it = built_.find(descriptor); it != built_.end()) return it->second;
    MessageInfo& info = storage_.emplace_back();
    built_.emplace(descriptor, &info);

    for (int i = 0; i < descriptor->oneof_decl_count(); ++i) {
      info.oneofs.push_back(descriptor->oneof_decl(i)->name());
    }
    const int n = descriptor->field_count();
    info.fields.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      Describe(descriptor->field(i), &info.fields[static_cast<size_t>(i)]);
    }
    size_t size = 8;
    while (size < 4 * static_cast<size_t>(n)) size *= 2;
    info.slots.assign(size, MessageInfo::Slot{});
    info.mask = size - 1;
    for (int i = 0; i < n; ++i) info.AddName(descriptor->field(i)->json_name(), i);
    for (int i = 0; i < n; ++i) info.AddName(descriptor->field(i)->name(), i);
    return &info;
  }

  void Describe(const pb::FieldDescriptor* field, FieldInfo* out) {
    using FD = pb::FieldDescriptor;
    out->number = static_cast<uint32_t>(field->number());
    out->name = field->name();
    if (const pb::OneofDescriptor* oneof = field->containing_oneof(); oneof != nullptr) {
      out->oneof = oneof->index();
    }
    out->unsupported_type = field->type_name();
    if (field->file()->syntax() != pb::FileDescriptor::SYNTAX_PROTO3) {
      out->unsupported_type += " (not proto3)";
      return;
    }
    if (field->is_map()) {
      const pb::Descriptor* entry = field->message_type();
      if (entry->map_key()->type() == FD::TYPE_STRING &&
          entry->map_value()->type() == FD::TYPE_STRING) {
        out->kind = FieldKind::kStringMap;
        out->message = Build(entry);
      } else {
        out->unsupported_type = "map other than map<string, string>";
      }
      return;
    }
    if (field->is_repeated()) {
      out->unsupported_type = StrCat("repeated ", field->type_name());
      return;
    }
    switch (field->type()) {
      case FD::TYPE_STRING: out->kind = FieldKind::kString; break;
      case FD::TYPE_INT32: out->kind = FieldKind::kInt32; break;
      case FD::TYPE_INT64: out->kind = FieldKind::kInt64; break;
      case FD::TYPE_DOUBLE: out->kind = FieldKind::kDouble; break;
      case FD::TYPE_BOOL: out->kind = FieldKind::kBool; break;
      case FD::TYPE_ENUM: {
        out->kind = FieldKind::kEnum;
        const pb::EnumDescriptor* e = field->enum_type();
        out->enum_name = e->name();
        for (int i = 0; i < e->value_count(); ++i) {
          out->enum_values.push_back({e->value(i)->name(), e->value(i)->number()});
        }
        break;
      }
      case FD::TYPE_MESSAGE: {
        const pb::Descriptor* type = field->message_type();
        if (type == pb::Timestamp::descriptor()) {
          out->kind = FieldKind::kTimestamp;
          out->message = Build(type);
        } else if (type->file()->package() == "google.protobuf") {
          // Well-known types (Duration, Struct, wrappers, Any...) have JSON
          // forms of their own.
          out->unsupported_type = type->full_name();
        } else {
          out->kind = FieldKind::kMessage;
          out->message = Build(type);
        }
        break;
      }
      default:
        break;  // kUnsupported
    }
  }

  std::deque<MessageInfo> storage_;
  std::unordered_map<const pb::Descriptor*, const MessageInfo*> built_;
  const MessageInfo* root_ = nullptr;
};

}  // namespace

std::string_view FieldKindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::kString: return "a string";
    case FieldKind::kInt32: return "an int32";
    case FieldKind::kInt64: return "an int64";
    case FieldKind::kDouble: return "a double";
    case FieldKind::kBool: return "a bool";
    case FieldKind::kEnum: return "an enum name or number";
    case FieldKind::kMessage: return "an object";
    case FieldKind::kTimestamp: return "an RFC 3339 timestamp";
    case FieldKind::kStringMap: return "an object of strings";
    case FieldKind::kUnsupported: break;
  }
  return "a supported value";
}

void MessageInfo::AddName(std::string_view name, int index) {
  for (size_t i = Hash(name) & mask;; i = (i + 1) & mask) {
    if (slots[i].index < 0) {
      slots[i] = Slot{name, index};
      return;
    }
    if (slots[i].name == name) return;  // the first mapping wins
  }
}

const MessageInfo& SignalSchema() {
  static const SchemaBuilder* const schema = new SchemaBuilder();
  return schema->root();
}

}  // namespace demandcenter::ingest::json
