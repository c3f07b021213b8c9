// The field tables of the JSON decoder: for every message reachable from
// demandcenter.v1.Signal, its fields by JSON name and proto name with what
// the decoder needs to know of each (kind, number, oneof, enum values),
// built once from the descriptors. Private to src/ingest.
#ifndef DEMANDCENTER_SRC_INGEST_SIGNAL_SCHEMA_H_
#define DEMANDCENTER_SRC_INGEST_SIGNAL_SCHEMA_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace demandcenter::ingest::json {

enum class FieldKind : uint8_t {
  kString,
  kInt32,
  kInt64,
  kDouble,
  kBool,
  kEnum,
  kMessage,     // a nested message: a JSON object
  kTimestamp,   // google.protobuf.Timestamp: an RFC 3339 string or an object
  kStringMap,   // map<string, string>: a JSON object of strings
  kUnsupported  // a field type this decoder does not handle (none in Signal)
};

// What a message says about a value of `kind` in "... is not <article> X".
std::string_view FieldKindName(FieldKind kind);

struct MessageInfo;

struct EnumValueInfo {
  std::string_view name;
  int32_t number;
};

struct FieldInfo {
  FieldKind kind = FieldKind::kUnsupported;
  uint32_t number = 0;
  // Index of the containing oneof in MessageInfo::oneofs, or -1.
  int oneof = -1;
  // The proto name, for field paths in messages.
  std::string_view name;
  // kMessage, kTimestamp (object form) and kStringMap (the entry type).
  const MessageInfo* message = nullptr;
  // kEnum: the declared values.
  std::vector<EnumValueInfo> enum_values;
  std::string_view enum_name;
  // kUnsupported: why.
  std::string unsupported_type;
};

struct MessageInfo {
  std::vector<FieldInfo> fields;
  std::vector<std::string_view> oneofs;
  // Open addressing, a power of two in size: JSON names first, then proto
  // names not already present, the order protobuf's TypeInfo::FindField
  // looks them up in.
  struct Slot {
    std::string_view name;
    int index = -1;
  };
  std::vector<Slot> slots;
  size_t mask = 0;

  static size_t Hash(std::string_view name) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }

  // The field named `name` (JSON or proto name), or null.
  const FieldInfo* Find(std::string_view name) const {
    for (size_t i = Hash(name) & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots[i];
      if (slot.index < 0) return nullptr;
      if (slot.name == name) return &fields[static_cast<size_t>(slot.index)];
    }
  }

  // Adds a name of fields[index]; the first mapping of a name wins.
  void AddName(std::string_view name, int index);
};

// The tables of demandcenter.v1.Signal, built on first use; thread-safe.
const MessageInfo& SignalSchema();

}  // namespace demandcenter::ingest::json

#endif  // DEMANDCENTER_SRC_INGEST_SIGNAL_SCHEMA_H_
