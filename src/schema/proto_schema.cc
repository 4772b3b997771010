#include "schema/proto_schema.h"

#include <google/protobuf/descriptor.pb.h>

#include "schema/ddl.h"

namespace nobus::schema::proto {
namespace {

namespace pb = google::protobuf;
using FDP = pb::FieldDescriptorProto;

constexpr uint32_t kDenseLimit = 4096;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

const char* ProtoTypeName(int type) {
  static constexpr const char* kNames[] = {"unset",    "double",   "float",   "int64",  "uint64",
                                           "int32",    "fixed64",  "fixed32", "bool",   "string",
                                           "group",    "message",  "bytes",   "uint32", "enum",
                                           "sfixed32", "sfixed64", "sint32",  "sint64"};
  return type >= 0 && type <= 18 ? kNames[type] : "unknown";
}

// The protobuf types a column of `kind` may be declared as, and the text listing them.
bool Accepts(TypeKind kind, int type, WireKind* wire, const char** expected) {
  struct Option {
    int type;
    WireKind wire;
  };
  static const Option kInt32s[] = {{FDP::TYPE_INT32, WireKind::kInt32},
                                   {FDP::TYPE_SINT32, WireKind::kSInt32},
                                   {FDP::TYPE_SFIXED32, WireKind::kSFixed32}};
  static const Option kInt64s[] = {
      {FDP::TYPE_INT64, WireKind::kInt64},       {FDP::TYPE_SINT64, WireKind::kSInt64},
      {FDP::TYPE_SFIXED64, WireKind::kSFixed64}, {FDP::TYPE_INT32, WireKind::kInt32},
      {FDP::TYPE_SINT32, WireKind::kSInt32},     {FDP::TYPE_SFIXED32, WireKind::kSFixed32},
      {FDP::TYPE_UINT32, WireKind::kUInt32},     {FDP::TYPE_FIXED32, WireKind::kFixed32}};
  static const Option kFloats[] = {{FDP::TYPE_FLOAT, WireKind::kFloat}};
  static const Option kDoubles[] = {{FDP::TYPE_DOUBLE, WireKind::kDouble},
                                    {FDP::TYPE_FLOAT, WireKind::kFloat}};
  static const Option kBools[] = {{FDP::TYPE_BOOL, WireKind::kBool}};
  static const Option kStrings[] = {{FDP::TYPE_STRING, WireKind::kString}};
  static const Option kBinaries[] = {{FDP::TYPE_BYTES, WireKind::kBytes},
                                     {FDP::TYPE_STRING, WireKind::kString}};
  static const Option kMessages[] = {{FDP::TYPE_MESSAGE, WireKind::kMessage}};
  const Option* begin = nullptr;
  size_t n = 0;
  auto use = [&](const auto& options, const char* text) {
    begin = options, n = std::size(options), *expected = text;
  };
  switch (kind) {
    case TypeKind::kByte:
    case TypeKind::kShort:
    case TypeKind::kInteger:
    case TypeKind::kDate:
      use(kInt32s, "int32, sint32 or sfixed32");
      break;
    case TypeKind::kLong:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
      use(kInt64s, "int64, sint64 or sfixed64");
      break;
    case TypeKind::kFloat:
      use(kFloats, "float");
      break;
    case TypeKind::kDouble:
      use(kDoubles, "double");
      break;
    case TypeKind::kBoolean:
      use(kBools, "bool");
      break;
    case TypeKind::kString:
      use(kStrings, "string");
      break;
    case TypeKind::kBinary:
      use(kBinaries, "bytes");
      break;
    case TypeKind::kDecimal:
      use(kStrings, "string (the decimal's text)");
      break;
    case TypeKind::kStruct:
      use(kMessages, "a nested message");
      break;
    default:
      return false;
  }
  for (size_t i = 0; i < n; ++i) {
    if (begin[i].type == type) {
      *wire = begin[i].wire;
      return true;
    }
  }
  return false;
}

class Compiler {
 public:
  Compiler(Plan* plan, const pb::DescriptorProto& root) : plan_(plan), root_(root) {
    Register(root, root.name());
  }

  absl::StatusOr<Message*> BindMessage(const pb::DescriptorProto& d, const std::string& scope,
                                       const DataType& struct_type, const std::string& path);

 private:
  void Register(const pb::DescriptorProto& d, const std::string& path) {
    types_.emplace(path, &d);
    for (const auto& nested : d.nested_type()) Register(nested, Cat(path, ".", nested.name()));
  }
  struct Resolved {
    const pb::DescriptorProto* d = nullptr;
    std::string path;
  };
  absl::StatusOr<Resolved> Resolve(const pb::FieldDescriptorProto& f, const std::string& scope);
  absl::Status BindField(const pb::FieldDescriptorProto& f, const std::string& scope, Slot* slot);
  absl::Status BindValue(const pb::FieldDescriptorProto& f, const std::string& scope, Slot* slot);
  absl::Status BindMap(const pb::FieldDescriptorProto& f, const std::string& scope, Slot* slot);

  static absl::Status Mismatch(const Slot& slot, const pb::FieldDescriptorProto& f,
                               std::string_view what) {
    return absl::InvalidArgumentError(Cat("column '", slot.path, "' (", slot.type_name,
                                          "): protobuf field '", f.name(), "' ", what));
  }

  Plan* plan_;
  const pb::DescriptorProto& root_;
  std::unordered_map<std::string, const pb::DescriptorProto*> types_;  // "Root.Nested" -> type
};

void InitSlot(const DataType& type, bool nullable, std::string path, Slot* slot) {
  slot->type = &type;
  slot->nullable = nullable;
  slot->path = std::move(path);
  slot->type_name = type.kind == TypeKind::kStruct ? "STRUCT" : FormatDdlType(type);
}

absl::StatusOr<Compiler::Resolved> Compiler::Resolve(const pb::FieldDescriptorProto& f,
                                                     const std::string& scope) {
  std::string_view name = f.type_name();
  if (!name.empty() && name[0] == '.') {
    // Fully qualified, with a package this descriptor does not carry: the longest registered
    // path that the name ends with.
    name.remove_prefix(1);
    Resolved best;
    for (const auto& [path, d] : types_) {
      bool match = name == path ||
                   (name.size() > path.size() && name.substr(name.size() - path.size()) == path &&
                    name[name.size() - path.size() - 1] == '.');
      if (match && path.size() > best.path.size()) best = {d, path};
    }
    if (best.d != nullptr) return best;
  } else {
    std::string s = scope;
    while (true) {
      std::string candidate = s.empty() ? std::string(name) : Cat(s, ".", name);
      auto it = types_.find(candidate);
      if (it != types_.end()) return Resolved{it->second, candidate};
      if (s.empty()) break;
      size_t dot = s.rfind('.');
      s = dot == std::string::npos ? std::string() : s.substr(0, dot);
    }
  }
  return absl::InvalidArgumentError(
      Cat("protobuf field '", f.name(), "' has type '", f.type_name(),
          "', which is not a message nested in the descriptor (imports and enums are not "
          "supported; nest every message type inside '",
          root_.name(), "')"));
}

absl::StatusOr<Message*> Compiler::BindMessage(const pb::DescriptorProto& d,
                                               const std::string& scope,
                                               const DataType& struct_type,
                                               const std::string& path) {
  plan_->messages.push_back(std::make_unique<Message>());
  Message* m = plan_->messages.back().get();
  const std::vector<Field>& fields = struct_type.fields;
  m->columns.resize(fields.size());
  std::unordered_map<std::string, int> by_name, by_lower;
  std::string names;
  for (size_t i = 0; i < fields.size(); ++i) {
    InitSlot(fields[i].type, fields[i].nullable,
             path.empty() ? fields[i].name : Cat(path, ".", fields[i].name), &m->columns[i]);
    by_name.emplace(fields[i].name, static_cast<int>(i));
    by_lower.emplace(Lower(fields[i].name), static_cast<int>(i));
    names += Cat(i ? ", " : "", fields[i].name);
  }
  std::unordered_map<uint32_t, std::string> numbers;
  for (const pb::FieldDescriptorProto& f : d.field()) {
    int col = -1;
    if (auto it = by_name.find(f.name()); it != by_name.end()) {
      col = it->second;
    } else if (auto lower = by_lower.find(Lower(f.name())); lower != by_lower.end()) {
      col = lower->second;
    }
    if (col < 0) {
      return absl::InvalidArgumentError(
          Cat("protobuf field '", f.name(), "' of message '", scope, "' has no column in ",
              path.empty() ? std::string("the table") : Cat("'", path, "'"), " (columns: ", names,
              ")"));
    }
    Slot* slot = &m->columns[col];
    if (slot->number != 0) {
      return absl::InvalidArgumentError(Cat(
          "column '", slot->path, "' is named by two protobuf fields of message '", scope, "'"));
    }
    if (f.number() < 1 || !numbers.emplace(f.number(), f.name()).second) {
      return absl::InvalidArgumentError(Cat("protobuf field '", f.name(), "' of message '", scope,
                                            "' has a bad or duplicate number ", f.number()));
    }
    NOBUS_RETURN_IF_ERROR(BindField(f, scope, slot));
    slot->number = static_cast<uint32_t>(f.number());
  }
  for (size_t i = 0; i < m->columns.size(); ++i) {
    const Slot& slot = m->columns[i];
    if (slot.number == 0 && !slot.nullable) {
      return absl::InvalidArgumentError(Cat("NOT NULL column '", slot.path,
                                            "' has no field in protobuf message '", scope,
                                            "' (declare it as a required field)"));
    }
    if (slot.number == 0) continue;
    if (slot.number < kDenseLimit) {
      if (m->dense.size() <= slot.number) m->dense.resize(slot.number + 1, -1);
      m->dense[slot.number] = static_cast<int>(i);
    } else {
      m->sparse.emplace(slot.number, static_cast<int>(i));
    }
  }
  return m;
}

absl::Status Compiler::BindField(const pb::FieldDescriptorProto& f, const std::string& scope,
                                 Slot* slot) {
  const DataType& type = *slot->type;
  bool repeated = f.label() == FDP::LABEL_REPEATED;
  if (type.kind == TypeKind::kArray || type.kind == TypeKind::kMap) {
    if (!repeated) return Mismatch(*slot, f, "must be repeated");
    slot->repeated = true;
    if (type.kind == TypeKind::kMap) return BindMap(f, scope, slot);
    const DataType& element = *type.element;
    if (element.kind == TypeKind::kArray || element.kind == TypeKind::kMap) {
      return Mismatch(*slot, f, "cannot carry a list of lists or maps (no protobuf form)");
    }
    slot->element = std::make_unique<Slot>();
    InitSlot(element, type.contains_null, Cat(slot->path, ".element"), slot->element.get());
    NOBUS_RETURN_IF_ERROR(BindValue(f, scope, slot->element.get()));
    slot->kind = slot->element->kind;
    return absl::OkStatus();
  }
  if (repeated) return Mismatch(*slot, f, "must not be repeated");
  if (!slot->nullable && f.label() != FDP::LABEL_REQUIRED) {
    return Mismatch(*slot, f, "must be `required` (the column is NOT NULL)");
  }
  return BindValue(f, scope, slot);
}

absl::Status Compiler::BindValue(const pb::FieldDescriptorProto& f, const std::string& scope,
                                 Slot* slot) {
  int type = f.has_type() ? f.type() : FDP::TYPE_MESSAGE;  // unresolved type_name: a message
  TypeKind kind = slot->type->kind;
  if (kind == TypeKind::kArray || kind == TypeKind::kMap) {
    return Mismatch(*slot, f, "cannot carry a list or map here (no protobuf form)");
  }
  const char* expected = "";
  if (!Accepts(slot->type->kind, type, &slot->kind, &expected)) {
    return Mismatch(*slot, f, Cat("has type ", ProtoTypeName(type), " (expected ", expected, ")"));
  }
  if (slot->kind != WireKind::kMessage) return absl::OkStatus();
  NOBUS_ASSIGN_OR_RETURN(Resolved r, Resolve(f, scope));
  if (r.d->options().map_entry()) return Mismatch(*slot, f, "is a map (the column is not)");
  NOBUS_ASSIGN_OR_RETURN(slot->message, BindMessage(*r.d, r.path, *slot->type, slot->path));
  return absl::OkStatus();
}

absl::Status Compiler::BindMap(const pb::FieldDescriptorProto& f, const std::string& scope,
                               Slot* slot) {
  if (f.has_type() && f.type() != FDP::TYPE_MESSAGE) return Mismatch(*slot, f, "must be a map");
  NOBUS_ASSIGN_OR_RETURN(Resolved r, Resolve(f, scope));
  const pb::FieldDescriptorProto* key = nullptr;
  const pb::FieldDescriptorProto* value = nullptr;
  for (const auto& entry_field : r.d->field()) {
    if (entry_field.number() == 1) key = &entry_field;
    if (entry_field.number() == 2) value = &entry_field;
  }
  if (!r.d->options().map_entry() || key == nullptr || value == nullptr || r.d->field_size() != 2) {
    return Mismatch(*slot, f,
                    "must be a map (a repeated map_entry message with key = 1, value = 2)");
  }
  plan_->messages.push_back(std::make_unique<Message>());
  Message* entry = plan_->messages.back().get();
  entry->columns.resize(2);
  const DataType& type = *slot->type;
  InitSlot(*type.element, false, Cat(slot->path, ".key"), &entry->columns[0]);
  InitSlot(*type.value, type.contains_null, Cat(slot->path, ".value"), &entry->columns[1]);
  NOBUS_RETURN_IF_ERROR(BindValue(*key, r.path, &entry->columns[0]));
  NOBUS_RETURN_IF_ERROR(BindValue(*value, r.path, &entry->columns[1]));
  entry->columns[0].number = 1;
  entry->columns[1].number = 2;
  entry->dense = {-1, 0, 1};
  slot->kind = WireKind::kMessage;
  slot->message = entry;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Plan>> CompilePlan(const Schema& table,
                                                  std::string_view descriptor_proto) {
  NOBUS_RETURN_IF_ERROR(Validate(table));
  pb::DescriptorProto root;
  if (descriptor_proto.size() > static_cast<size_t>(INT32_MAX) ||
      !root.ParseFromArray(descriptor_proto.data(), static_cast<int>(descriptor_proto.size()))) {
    return absl::InvalidArgumentError(
        "descriptor_proto does not parse as a google.protobuf.DescriptorProto");
  }
  auto plan = std::make_unique<Plan>();
  plan->root_type.kind = TypeKind::kStruct;
  plan->root_type.fields = table.fields;
  Compiler compiler(plan.get(), root);
  NOBUS_RETURN_IF_ERROR(compiler.BindMessage(root, root.name(), plan->root_type, "").status());
  return plan;
}

}  // namespace nobus::schema::proto
