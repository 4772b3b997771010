// Internal to src/schema: a stream's protobuf message type checked against the table schema and
// compiled into the plan the protobuf record decoder follows (proto_decoder.cc). Built once per
// stream at create_stream; immutable afterwards and shared by every Decode call (thread-safe to
// read). Rules: record_decoder.h and specs/zerobus-wire.md "Protobuf records".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "schema/types.h"

namespace nobus::schema::proto {

// The protobuf scalar types a column may be declared as (FieldDescriptorProto.Type values).
enum class WireKind : uint8_t {
  kNone,  // column without a field: always null
  kInt32,
  kSInt32,
  kSFixed32,
  kUInt32,
  kFixed32,
  kInt64,
  kSInt64,
  kSFixed64,
  kBool,
  kFloat,
  kDouble,
  kString,
  kBytes,
  kMessage,
};

struct Message;

// How one column (or a list element, map key or map value) is carried.
struct Slot {
  const DataType* type = nullptr;
  bool nullable = true;
  std::string path;       // "payload.tags.element", for messages
  std::string type_name;  // "INT", "ARRAY<INT>", "STRUCT"
  WireKind kind = WireKind::kNone;
  uint32_t number = 0;    // field number; 0 when the descriptor has no field for the column
  bool repeated = false;  // ARRAY or MAP column
  const Message* message = nullptr;  // STRUCT value, ARRAY<STRUCT> element, or MAP entry
  std::unique_ptr<Slot> element;     // ARRAY: the element's slot (kind, message)
};

// A message type bound to a struct type: one slot per struct field, in schema order.
struct Message {
  std::vector<Slot> columns;
  std::vector<int> dense;                    // field number -> column index, or -1
  std::unordered_map<uint32_t, int> sparse;  // numbers beyond `dense`
  int ColumnOf(uint32_t number) const {
    if (number < dense.size()) return dense[number];
    auto it = sparse.find(number);
    return it == sparse.end() ? -1 : it->second;
  }
};

// The compiled plan: owns every Message (the root first; a MAP column's entry message has the
// two columns key and value). Slots point into root_type, the table's columns as one struct.
struct Plan {
  std::vector<std::unique_ptr<Message>> messages;
  DataType root_type;
  const Message& root() const { return *messages.front(); }
};

// Parses a serialized google.protobuf.DescriptorProto and checks it against `table`.
// InvalidArgument naming the field and the mismatch.
[[nodiscard]] absl::StatusOr<std::unique_ptr<Plan>> CompilePlan(const Schema& table,
                                                                std::string_view descriptor_proto);

}  // namespace nobus::schema::proto
