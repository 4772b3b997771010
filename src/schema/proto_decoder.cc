// RecordDecoder::ForProto: protobuf records -> row blobs, with our own wire-format parser. Each
// message is scanned once to find where every known field occurs (unknown numbers skipped), then
// its columns are encoded in schema order: the last occurrence of a scalar wins, occurrences of a
// message field merge, repeated fields take packed and unpacked elements in order. Recursion
// follows the compiled plan (the table schema), never the bytes, so depth is bounded by the schema.
#include <simdjson.h>

#include <cstring>
#include <deque>

#include "absl/container/inlined_vector.h"
#include "common/coding.h"
#include "schema/proto_schema.h"
#include "schema/record_decoder.h"
#include "schema/row_encoding.h"
#include "schema/value_parse.h"

namespace nobus::schema {
namespace {

using namespace row_encoding;  // NOLINT(build/namespaces): the tags are this file's vocabulary
using proto::Message;
using proto::Slot;
using proto::WireKind;

enum Wire : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLen = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5
};

// One occurrence of a known field: its column, wire type and value bytes (a varint's bytes, the
// fixed bytes, or a length-delimited payload).
struct Occurrence {
  int column;
  uint8_t wire;
  std::string_view bytes;
  int next;  // next occurrence of the same column in this message, or -1
};

// Where each column's occurrences are, for one message being decoded.
struct Level {
  std::vector<Occurrence> occurrences;
  std::vector<int> first, last;  // per column, index into occurrences or -1
};

struct ThreadState {
  std::deque<Level> levels;
  std::deque<std::string> scratch;
  size_t level_depth = 0, scratch_depth = 0;
};

ThreadState& State() {
  thread_local ThreadState state;
  return state;
}

// Borrows the next free item of `pool` for the lifetime of the lease.
template <typename T>
class Lease {
 public:
  Lease(std::deque<T>* pool, size_t* depth) : depth_(depth) {
    if (*depth == pool->size()) pool->emplace_back();
    item_ = &(*pool)[(*depth)++];
  }
  ~Lease() { --*depth_; }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  T* get() { return item_; }

 private:
  size_t* depth_;
  T* item_;
};

absl::Status Malformed(std::string_view what) {
  return absl::InvalidArgumentError(Cat("malformed protobuf record: ", what));
}

absl::Status ColumnError(const Slot& slot, std::string_view what) {
  return absl::InvalidArgumentError(Cat("column '", slot.path, "': ", what));
}

// Reads a varint (at most 10 bytes) from the front of `in`.
bool TakeVarint(std::string_view* in, uint64_t* v) { return GetVarint64(in, v); }

// Consumes what follows a tag of wire type `wire` (not a group) up to its value: a varint as a
// whole (`*len` = 0), or a LEN prefix (`*len` = the payload size); fixed values set `*len` to 8
// or 4. `where` ends the message of a truncation (" in field 3").
absl::Status TakeValueHead(std::string_view* in, uint8_t wire, uint64_t* len,
                           std::string_view where) {
  *len = 0;
  switch (wire) {
    case kVarint:
      if (!TakeVarint(in, len)) return Malformed(Cat("truncated varint", where));
      *len = 0;
      return absl::OkStatus();
    case kFixed64:
      *len = 8;
      return absl::OkStatus();
    case kFixed32:
      *len = 4;
      return absl::OkStatus();
    case kLen:
      if (!TakeVarint(in, len)) return Malformed(Cat("truncated length", where));
      return absl::OkStatus();
    default:
      return Malformed(Cat("invalid wire type ", static_cast<int>(wire), where));
  }
}

// Skips a group whose start tag was just read, up to its matching end tag (iteratively).
absl::Status SkipGroup(std::string_view* in) {
  int depth = 1;
  while (depth > 0) {
    uint64_t tag;
    if (!TakeVarint(in, &tag)) return Malformed("truncated group");
    uint64_t len = 0;
    if ((tag & 7) == kStartGroup) {
      ++depth;
    } else if ((tag & 7) == kEndGroup) {
      --depth;
    } else {
      NOBUS_RETURN_IF_ERROR(TakeValueHead(in, tag & 7, &len, " in a group"));
    }
    if (len > in->size()) return Malformed("truncated field in a group");
    in->remove_prefix(len);
  }
  return absl::OkStatus();
}

// Records where the known fields of `m` occur in `bytes` (appending to `lv`).
absl::Status Scan(std::string_view bytes, const Message& m, Level* lv) {
  while (!bytes.empty()) {
    uint64_t tag;
    if (!TakeVarint(&bytes, &tag) || tag > UINT32_MAX) return Malformed("bad field tag");
    uint32_t number = static_cast<uint32_t>(tag >> 3);
    uint8_t wire = tag & 7;
    if (number == 0) return Malformed("field number 0");
    std::string_view value;
    const char* start = bytes.data();
    uint64_t len = 0;
    if (wire == kStartGroup) {
      NOBUS_RETURN_IF_ERROR(SkipGroup(&bytes));
    } else {
      NOBUS_RETURN_IF_ERROR(TakeValueHead(&bytes, wire, &len, Cat(" in field ", number)));
      if (wire == kVarint) value = std::string_view(start, bytes.data() - start);
    }
    if (len > bytes.size()) return Malformed(Cat("truncated field ", number));
    if (wire != kVarint && wire != kStartGroup) value = bytes.substr(0, len);
    bytes.remove_prefix(len);
    int col = m.ColumnOf(number);
    if (col < 0) continue;
    int index = static_cast<int>(lv->occurrences.size());
    lv->occurrences.push_back({col, wire, value, -1});
    if (lv->first[col] < 0) {
      lv->first[col] = index;
    } else {
      lv->occurrences[lv->last[col]].next = index;
    }
    lv->last[col] = index;
  }
  return absl::OkStatus();
}

uint8_t WireOf(WireKind kind) {
  switch (kind) {
    case WireKind::kSFixed32:
    case WireKind::kFixed32:
    case WireKind::kFloat:
      return kFixed32;
    case WireKind::kSFixed64:
    case WireKind::kDouble:
      return kFixed64;
    case WireKind::kString:
    case WireKind::kBytes:
    case WireKind::kMessage:
      return kLen;
    default:
      return kVarint;
  }
}

class Decoder {
 public:
  explicit Decoder(ThreadState* ts) : ts_(ts) {}

  // Encodes the columns of `m` (no STRUCT tag) from the concatenation of `parts`.
  absl::Status Fields(const Message& m, const std::string_view* parts, size_t num_parts,
                      std::string* out);

 private:
  absl::Status Column(const Slot& slot, const Level& lv, int first, std::string* out);
  absl::Status Repeated(const Slot& slot, const Level& lv, int first, std::string* out);
  absl::Status Struct(const Message& m, const Level& lv, int first, std::string* out);
  absl::Status MapEntry(const Slot& slot, std::string_view bytes, std::string* out);
  absl::Status Scalar(const Slot& slot, std::string_view* in, std::string* out);
  absl::Status Default(const Slot& slot, std::string* out);
  absl::Status Integer(const Slot& slot, int64_t v, std::string* out);

  ThreadState* ts_;
};

absl::Status Decoder::Fields(const Message& m, const std::string_view* parts, size_t num_parts,
                             std::string* out) {
  Lease<Level> lease(&ts_->levels, &ts_->level_depth);
  Level* lv = lease.get();
  lv->occurrences.clear();
  lv->first.assign(m.columns.size(), -1);
  lv->last.assign(m.columns.size(), -1);
  for (size_t i = 0; i < num_parts; ++i) NOBUS_RETURN_IF_ERROR(Scan(parts[i], m, lv));
  for (size_t i = 0; i < m.columns.size(); ++i) {
    NOBUS_RETURN_IF_ERROR(Column(m.columns[i], *lv, lv->first[i], out));
  }
  return absl::OkStatus();
}

absl::Status Decoder::Column(const Slot& slot, const Level& lv, int first, std::string* out) {
  if (slot.repeated) return Repeated(slot, lv, first, out);
  if (first < 0) {
    if (!slot.nullable)
      return absl::InvalidArgumentError(Cat("missing value for NOT NULL column '", slot.path, "'"));
    PutTag(out, kNull);
    return absl::OkStatus();
  }
  if (slot.kind == WireKind::kMessage) {
    PutTag(out, kStruct);
    NOBUS_RETURN_IF_ERROR(Struct(*slot.message, lv, first, out));
    PutTag(out, kEnd);
    return absl::OkStatus();
  }
  int last = first;
  while (lv.occurrences[last].next >= 0) last = lv.occurrences[last].next;
  const Occurrence& occ = lv.occurrences[last];
  if (occ.wire != WireOf(slot.kind)) {
    return ColumnError(slot, Cat("wire type ", static_cast<int>(occ.wire),
                                 " does not match the declared field type"));
  }
  std::string_view in = occ.bytes;
  return Scalar(slot, &in, out);
}

// Every occurrence of a message field, merged (their bytes concatenated, as protobuf defines).
absl::Status Decoder::Struct(const Message& m, const Level& lv, int first, std::string* out) {
  absl::InlinedVector<std::string_view, 4> parts;
  for (int i = first; i >= 0; i = lv.occurrences[i].next) {
    if (lv.occurrences[i].wire != kLen) return Malformed("a message field is not length-delimited");
    parts.push_back(lv.occurrences[i].bytes);
  }
  return Fields(m, parts.data(), parts.size(), out);
}

absl::Status Decoder::Repeated(const Slot& slot, const Level& lv, int first, std::string* out) {
  Lease<std::string> lease(&ts_->scratch, &ts_->scratch_depth);
  std::string* s = lease.get();
  s->clear();
  bool is_map = slot.type->kind == TypeKind::kMap;
  const Slot& element = is_map ? slot : *slot.element;
  uint8_t wire = WireOf(element.kind);
  uint64_t count = 0;
  for (int i = first; i >= 0; i = lv.occurrences[i].next) {
    const Occurrence& occ = lv.occurrences[i];
    std::string_view in = occ.bytes;
    if (is_map) {
      if (occ.wire != kLen) return ColumnError(slot, "map entry is not length-delimited");
      NOBUS_RETURN_IF_ERROR(MapEntry(slot, in, s));
      ++count;
    } else if (element.kind == WireKind::kMessage) {
      if (occ.wire != kLen) return ColumnError(element, "list element is not length-delimited");
      PutTag(s, kStruct);
      NOBUS_RETURN_IF_ERROR(Fields(*element.message, &in, 1, s));
      PutTag(s, kEnd);
      ++count;
    } else if (occ.wire == kLen && wire != kLen) {  // packed
      while (!in.empty()) {
        NOBUS_RETURN_IF_ERROR(Scalar(element, &in, s));
        ++count;
      }
    } else if (occ.wire == wire) {
      NOBUS_RETURN_IF_ERROR(Scalar(element, &in, s));
      ++count;
    } else {
      return ColumnError(element, Cat("wire type ", static_cast<int>(occ.wire),
                                      " does not match the declared field type"));
    }
  }
  PutCount(out, is_map ? kMap : kList, count);
  out->append(*s);
  return absl::OkStatus();
}

// One map entry: key (field 1) and value (field 2); a missing one takes its protobuf default.
absl::Status Decoder::MapEntry(const Slot& slot, std::string_view bytes, std::string* out) {
  const Message& entry = *slot.message;
  Lease<Level> lease(&ts_->levels, &ts_->level_depth);
  Level* lv = lease.get();
  lv->occurrences.clear();
  lv->first.assign(2, -1);
  lv->last.assign(2, -1);
  NOBUS_RETURN_IF_ERROR(Scan(bytes, entry, lv));
  for (int i = 0; i < 2; ++i) {
    const Slot& part = entry.columns[i];
    if (lv->first[i] >= 0) {
      NOBUS_RETURN_IF_ERROR(Column(part, *lv, lv->first[i], out));
    } else {
      NOBUS_RETURN_IF_ERROR(Default(part, out));
    }
  }
  return absl::OkStatus();
}

// The protobuf default of an absent map key or value: zero, false, empty; an empty message.
absl::Status Decoder::Default(const Slot& slot, std::string* out) {
  switch (slot.kind) {
    case WireKind::kMessage:
      PutTag(out, kStruct);
      NOBUS_RETURN_IF_ERROR(Fields(*slot.message, nullptr, 0, out));
      PutTag(out, kEnd);
      return absl::OkStatus();
    case WireKind::kString:
    case WireKind::kBytes: {
      std::string_view empty;
      if (slot.type->kind == TypeKind::kDecimal) {
        PutDecimal(out, 0);
        return absl::OkStatus();
      }
      PutBytes(out, slot.type->kind == TypeKind::kString ? kString : kBinary, empty);
      return absl::OkStatus();
    }
    case WireKind::kBool:
      PutTag(out, kFalse);
      return absl::OkStatus();
    case WireKind::kFloat:
    case WireKind::kDouble:
      if (slot.type->kind == TypeKind::kFloat) {
        PutFloat(out, 0);
      } else {
        PutDouble(out, 0);
      }
      return absl::OkStatus();
    default:
      return Integer(slot, 0, out);
  }
}

absl::Status Decoder::Integer(const Slot& slot, int64_t v, std::string* out) {
  if (!PutInteger(out, slot.type->kind, v))
    return ColumnError(slot, Cat("value ", v, " out of range for ", slot.type_name));
  return absl::OkStatus();
}

// Consumes one value of `slot.kind` from the front of `in` (a varint's or fixed value's bytes, a
// packed run, or a length-delimited payload as a whole).
absl::Status Decoder::Scalar(const Slot& slot, std::string_view* in, std::string* out) {
  uint64_t v = 0;
  uint32_t v32 = 0;
  switch (WireOf(slot.kind)) {
    case kVarint:
      if (!TakeVarint(in, &v)) return ColumnError(slot, "truncated varint");
      break;
    case kFixed32:
      if (!GetFixed32(in, &v32)) return ColumnError(slot, "truncated fixed32 value");
      break;
    case kFixed64:
      if (!GetFixed64(in, &v)) return ColumnError(slot, "truncated fixed64 value");
      break;
    default:
      break;
  }
  switch (slot.kind) {
    case WireKind::kInt32:
      return Integer(slot, static_cast<int32_t>(static_cast<uint32_t>(v)), out);
    case WireKind::kSInt32: {
      uint32_t u = static_cast<uint32_t>(v);
      return Integer(slot, static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1)), out);
    }
    case WireKind::kSFixed32:
      return Integer(slot, static_cast<int32_t>(v32), out);
    case WireKind::kUInt32:
      return Integer(slot, static_cast<uint32_t>(v), out);
    case WireKind::kFixed32:
      return Integer(slot, v32, out);
    case WireKind::kInt64:
    case WireKind::kSFixed64:
      return Integer(slot, static_cast<int64_t>(v), out);
    case WireKind::kSInt64:
      return Integer(slot, ZigZagDecode64(v), out);
    case WireKind::kBool:
      PutTag(out, v != 0 ? kTrue : kFalse);
      return absl::OkStatus();
    case WireKind::kFloat: {
      float f;
      std::memcpy(&f, &v32, 4);
      if (slot.type->kind == TypeKind::kDouble) {
        PutDouble(out, f);
      } else {
        PutFloat(out, f);
      }
      return absl::OkStatus();
    }
    case WireKind::kDouble: {
      double d;
      std::memcpy(&d, &v, 8);
      PutDouble(out, d);
      return absl::OkStatus();
    }
    default: {  // kString, kBytes: the whole payload
      std::string_view bytes = *in;
      in->remove_prefix(in->size());
      if (slot.type->kind == TypeKind::kBinary) {
        PutBytes(out, kBinary, bytes);
        return absl::OkStatus();
      }
      if (!simdjson::validate_utf8(bytes.data(), bytes.size())) {
        return ColumnError(slot, "string is not valid UTF-8");
      }
      if (slot.type->kind == TypeKind::kString) {
        PutBytes(out, kString, bytes);
        return absl::OkStatus();
      }
      __int128 unscaled;
      DecimalParse r = ParseDecimalText(bytes, slot.type->precision, slot.type->scale, &unscaled);
      if (r != DecimalParse::kOk) {
        return ColumnError(slot, Cat("string \"", bytes.substr(0, 40), "\" is not exactly a ",
                                     slot.type_name, r == DecimalParse::kSyntax ? " number" : ""));
      }
      PutDecimal(out, unscaled);
      return absl::OkStatus();
    }
  }
}

class ProtoDecoder final : public RecordDecoder {
 public:
  explicit ProtoDecoder(std::unique_ptr<proto::Plan> plan) : plan_(std::move(plan)) {}
  RecordFormat format() const override { return RecordFormat::kProto; }

  absl::Status Decode(std::string_view record, RowBlobWriter* rows) const override {
    ThreadState& ts = State();
    Lease<std::string> lease(&ts.scratch, &ts.scratch_depth);
    std::string* s = lease.get();
    s->clear();
    Decoder decoder(&ts);
    NOBUS_RETURN_IF_ERROR(decoder.Fields(plan_->root(), &record, 1, s));
    rows->BeginRow();
    rows->AppendEncoded(*s);
    rows->EndRow();
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<proto::Plan> plan_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RecordDecoder>> RecordDecoder::ForProto(
    const Schema& table, std::string_view descriptor_proto) {
  NOBUS_ASSIGN_OR_RETURN(auto plan, proto::CompilePlan(table, descriptor_proto));
  return std::unique_ptr<RecordDecoder>(new ProtoDecoder(std::move(plan)));
}

}  // namespace nobus::schema
