// RecordDecoder::ForJson: JSON records -> row blobs, with simdjson's On-Demand API. Each JSON
// object's fields are encoded as they come into a per-depth scratch buffer, then spliced into the
// row in schema order (so keys may come in any order). Recursion follows the table schema, never
// the JSON nesting, so stack depth is bounded by the schema.
#include <simdjson.h>

#include <deque>
#include <unordered_map>

#include "absl/container/inlined_vector.h"
#include "schema/ddl.h"
#include "schema/json_scalars.h"
#include "schema/record_decoder.h"
#include "schema/row_encoding.h"

namespace nobus::schema {
namespace {

namespace od = simdjson::ondemand;
using namespace row_encoding;  // NOLINT(build/namespaces): the tags are this file's vocabulary

// The table schema compiled for decoding: one node per column, element, key and value.
struct Node : json::JsonColumn {
  bool nullable = true;
  std::vector<Node> children;                          // struct fields; [element]; [key, value]
  std::unordered_map<std::string_view, int> by_name;   // struct: exact names
  std::unordered_map<std::string, int> by_lower_name;  // struct: lowercased names
  std::string field_list;                              // struct: "id, msg, ts"
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void Compile(const DataType& type, bool nullable, std::string path, Node* node) {
  node->type = &type;
  node->nullable = nullable;
  node->path = std::move(path);
  node->type_name = type.kind == TypeKind::kStruct ? "STRUCT" : FormatDdlType(type);
  auto child_path = [&](std::string_view name) {
    return node->path.empty() ? std::string(name) : Cat(node->path, ".", name);
  };
  if (type.kind == TypeKind::kStruct) {
    node->children.resize(type.fields.size());
    for (size_t i = 0; i < type.fields.size(); ++i) {
      const Field& f = type.fields[i];
      Compile(f.type, f.nullable, child_path(f.name), &node->children[i]);
      node->by_name.emplace(f.name, static_cast<int>(i));
      node->by_lower_name.emplace(Lower(f.name), static_cast<int>(i));
      node->field_list += Cat(i ? ", " : "", f.name);
    }
  } else if (type.kind == TypeKind::kArray) {
    node->children.resize(1);
    Compile(*type.element, type.contains_null, child_path("element"), &node->children[0]);
  } else if (type.kind == TypeKind::kMap) {
    node->children.resize(2);
    Compile(*type.element, false, child_path("key"), &node->children[0]);
    Compile(*type.value, type.contains_null, child_path("value"), &node->children[1]);
  }
}

// Per-thread parser and buffers, reused across records (Decode runs on many threads at once).
struct ThreadState {
  od::parser parser;
  std::string padded;               // the record plus SIMDJSON_PADDING bytes
  std::deque<std::string> scratch;  // one per nesting level in use; deque keeps references
  size_t depth = 0;
};

ThreadState& State() {
  thread_local ThreadState state;
  return state;
}

// Borrows the next scratch buffer (cleared) for the lifetime of the lease.
class ScratchLease {
 public:
  explicit ScratchLease(ThreadState* ts) : ts_(ts) {
    if (ts_->depth == ts_->scratch.size()) ts_->scratch.emplace_back();
    buf_ = &ts_->scratch[ts_->depth++];
    buf_->clear();
  }
  ~ScratchLease() { --ts_->depth; }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  std::string* get() { return buf_; }

 private:
  ThreadState* ts_;
  std::string* buf_;
};

absl::Status Malformed(simdjson::error_code err) {
  return absl::InvalidArgumentError(Cat("malformed JSON: ", simdjson::error_message(err)));
}

class JsonDecoder final : public RecordDecoder {
 public:
  explicit JsonDecoder(const Schema& table) {
    root_type_.kind = TypeKind::kStruct;
    root_type_.fields = table.fields;
    Compile(root_type_, false, "", &root_);
  }

  RecordFormat format() const override { return RecordFormat::kJson; }
  absl::Status Decode(std::string_view record, RowBlobWriter* rows) const override;

 private:
  DataType root_type_;  // the table's columns as one struct; root_ points into it
  Node root_;
};

// The encoding work of one Decode call.
class Encoder {
 public:
  explicit Encoder(ThreadState* ts) : ts_(ts) {}

  absl::Status Fields(od::object obj, const Node& n, std::string* out);
  absl::Status Value(od::value v, const Node& n, std::string* out);

 private:
  static absl::Status Mismatch(const Node& n, std::string_view got) {
    return json::JsonMismatch(n, got);
  }
  static absl::Status Problem(const Node& n, std::string_view what) {
    return json::JsonProblem(n, what);
  }
  int Lookup(const Node& n, std::string_view key) const;
  absl::Status List(od::value v, const Node& n, std::string* out);
  absl::Status Map(od::value v, od::json_type t, const Node& n, std::string* out);
  absl::Status MapEntry(od::value v, const Node& n, std::string* out);
  absl::Status Scalar(od::value v, od::json_type t, const Node& n, std::string* out);

  ThreadState* ts_;
};

int Encoder::Lookup(const Node& n, std::string_view key) const {
  auto it = n.by_name.find(key);
  if (it != n.by_name.end()) return it->second;
  auto lower = n.by_lower_name.find(Lower(key));
  return lower == n.by_lower_name.end() ? -1 : lower->second;
}

absl::Status Encoder::Fields(od::object obj, const Node& n, std::string* out) {
  struct Slot {
    size_t begin = 0, end = 0;
    bool set = false;
  };
  absl::InlinedVector<Slot, 32> slots(n.children.size());
  ScratchLease lease(ts_);
  std::string* s = lease.get();
  for (auto field_or : obj) {
    od::field field;
    if (auto err = std::move(field_or).get(field)) return Malformed(err);
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return Malformed(err);
    int idx = Lookup(n, key);
    if (idx < 0) {
      if (n.path.empty()) {
        return absl::InvalidArgumentError(
            Cat("unknown column '", key.substr(0, 100), "' (table columns: ", n.field_list, ")"));
      }
      return Problem(n,
                     Cat("unknown field '", key.substr(0, 100), "' (fields: ", n.field_list, ")"));
    }
    const Node& child = n.children[idx];
    if (slots[idx].set) return Problem(child, "given more than once");
    slots[idx].begin = s->size();
    NOBUS_RETURN_IF_ERROR(Value(field.value(), child, s));
    slots[idx].end = s->size();
    slots[idx].set = true;
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].set) {
      out->append(*s, slots[i].begin, slots[i].end - slots[i].begin);
    } else if (n.children[i].nullable) {
      PutTag(out, kNull);
    } else {
      return absl::InvalidArgumentError(
          Cat("missing value for NOT NULL column '", n.children[i].path, "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status Encoder::Value(od::value v, const Node& n, std::string* out) {
  od::json_type t;
  if (auto err = v.type().get(t)) return Malformed(err);
  if (t == od::json_type::null) {
    if (!n.nullable) return Problem(n, "null for a NOT NULL value");
    PutTag(out, kNull);
    return absl::OkStatus();
  }
  switch (n.type->kind) {
    case TypeKind::kStruct: {
      if (t != od::json_type::object) return Mismatch(n, "a non-object");
      od::object obj;
      if (auto err = v.get_object().get(obj)) return Malformed(err);
      PutTag(out, kStruct);
      NOBUS_RETURN_IF_ERROR(Fields(obj, n, out));
      PutTag(out, kEnd);
      return absl::OkStatus();
    }
    case TypeKind::kArray:
      if (t != od::json_type::array) return Mismatch(n, "a non-array");
      return List(v, n, out);
    case TypeKind::kMap:
      return Map(v, t, n, out);
    default:
      return Scalar(v, t, n, out);
  }
}

absl::Status Encoder::List(od::value v, const Node& n, std::string* out) {
  od::array arr;
  if (auto err = v.get_array().get(arr)) return Malformed(err);
  ScratchLease lease(ts_);
  uint64_t count = 0;
  for (auto elem_or : arr) {
    od::value elem;
    if (auto err = std::move(elem_or).get(elem)) return Malformed(err);
    NOBUS_RETURN_IF_ERROR(Value(elem, n.children[0], lease.get()));
    ++count;
  }
  PutCount(out, kList, count);
  out->append(*lease.get());
  return absl::OkStatus();
}

absl::Status Encoder::Map(od::value v, od::json_type t, const Node& n, std::string* out) {
  ScratchLease lease(ts_);
  std::string* s = lease.get();
  uint64_t count = 0;
  if (t == od::json_type::object) {
    od::object obj;
    if (auto err = v.get_object().get(obj)) return Malformed(err);
    for (auto field_or : obj) {
      od::field field;
      std::string_view key;
      if (auto err = std::move(field_or).get(field)) return Malformed(err);
      if (auto err = field.unescaped_key().get(key)) return Malformed(err);
      NOBUS_RETURN_IF_ERROR(json::EncodeMapKeyText(key, n.children[0], s));
      NOBUS_RETURN_IF_ERROR(Value(field.value(), n.children[1], s));
      ++count;
    }
  } else if (t == od::json_type::array) {
    od::array arr;
    if (auto err = v.get_array().get(arr)) return Malformed(err);
    for (auto elem_or : arr) {
      od::value elem;
      if (auto err = std::move(elem_or).get(elem)) return Malformed(err);
      NOBUS_RETURN_IF_ERROR(MapEntry(elem, n, s));
      ++count;
    }
  } else {
    return Mismatch(n, "neither an object nor an array of {\"key\":..,\"value\":..}");
  }
  PutCount(out, kMap, count);
  out->append(*s);
  return absl::OkStatus();
}

// One {"key": k, "value": v} entry of a map given as an array.
absl::Status Encoder::MapEntry(od::value v, const Node& n, std::string* out) {
  od::object obj;
  od::json_type t;
  if (auto err = v.type().get(t)) return Malformed(err);
  if (t != od::json_type::object) {
    return Problem(n, "map entries in an array must be objects {\"key\":..,\"value\":..}");
  }
  if (auto err = v.get_object().get(obj)) return Malformed(err);
  ScratchLease key_lease(ts_), value_lease(ts_);
  bool has_key = false, has_value = false;
  for (auto field_or : obj) {
    od::field field;
    std::string_view name;
    if (auto err = std::move(field_or).get(field)) return Malformed(err);
    if (auto err = field.unescaped_key().get(name)) return Malformed(err);
    bool is_key = name == "key";
    if (!is_key && name != "value") {
      return Problem(n, Cat("unexpected field ", json::QuoteForMessage(name),
                            " in a map entry (expected key, value)"));
    }
    bool& seen = is_key ? has_key : has_value;
    if (seen)
      return Problem(n, Cat("map entry gives ", json::QuoteForMessage(name), " more than once"));
    seen = true;
    NOBUS_RETURN_IF_ERROR(Value(field.value(), n.children[is_key ? 0 : 1],
                                is_key ? key_lease.get() : value_lease.get()));
  }
  if (!has_key) return Problem(n, "map entry without \"key\"");
  if (!has_value) {
    if (!n.children[1].nullable) return Problem(n.children[1], "null for a NOT NULL value");
    PutTag(value_lease.get(), kNull);
  }
  out->append(*key_lease.get());
  out->append(*value_lease.get());
  return absl::OkStatus();
}

absl::Status Encoder::Scalar(od::value v, od::json_type t, const Node& n, std::string* out) {
  switch (t) {
    case od::json_type::number: {
      std::string_view token = json::TrimRight(v.raw_json_token());
      return json::EncodeNumberText(token, n, out);
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto err = v.get_string().get(s)) return Malformed(err);
      if (n.type->kind == TypeKind::kString) {
        PutBytes(out, kString, s);
        return absl::OkStatus();
      }
      return json::EncodeStringValue(s, n, out);
    }
    case od::json_type::boolean: {
      bool b;
      if (auto err = v.get_bool().get(b)) return Malformed(err);
      if (n.type->kind != TypeKind::kBoolean) return Mismatch(n, b ? "true" : "false");
      PutTag(out, b ? kTrue : kFalse);
      return absl::OkStatus();
    }
    case od::json_type::object:
      return Mismatch(n, "an object");
    case od::json_type::array:
      return Mismatch(n, "an array");
    default:
      return Mismatch(n, "null");
  }
}

absl::Status JsonDecoder::Decode(std::string_view record, RowBlobWriter* rows) const {
  ThreadState& ts = State();
  ts.padded.assign(record.data(), record.size());
  ts.padded.append(simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  if (auto err = ts.parser.iterate(ts.padded.data(), record.size(), ts.padded.size()).get(doc)) {
    return Malformed(err);
  }
  od::json_type t;
  if (auto err = doc.type().get(t)) return Malformed(err);
  if (t != od::json_type::object) return absl::InvalidArgumentError("record is not a JSON object");
  od::object obj;
  if (auto err = doc.get_object().get(obj)) return Malformed(err);
  // On-Demand stops at the end of the root object; anything after it must be whitespace.
  std::string_view span;
  bool reset;
  if (auto err = obj.raw_json().get(span)) return Malformed(err);
  size_t end = static_cast<size_t>(span.data() - ts.padded.data()) + span.size();
  if (json::TrimRight(record.substr(std::min(end, record.size()))).size() != 0) {
    return absl::InvalidArgumentError("malformed JSON: content after the record's object");
  }
  if (auto err = obj.reset().get(reset)) return Malformed(err);
  Encoder encoder(&ts);
  ScratchLease lease(&ts);
  NOBUS_RETURN_IF_ERROR(encoder.Fields(obj, root_, lease.get()));
  rows->BeginRow();
  rows->AppendEncoded(*lease.get());
  rows->EndRow();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RecordDecoder>> RecordDecoder::ForJson(const Schema& table) {
  NOBUS_RETURN_IF_ERROR(Validate(table));
  return std::unique_ptr<RecordDecoder>(new JsonDecoder(table));
}

}  // namespace nobus::schema
