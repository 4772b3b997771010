#include "schema/row_codec.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "common/coding.h"
#include "schema/civil_time.h"
#include "schema/row_encoding.h"

namespace nobus::schema {

using namespace row_encoding;  // NOLINT(build/namespaces): the tags are this file's vocabulary

namespace {

// Byte format: doc/wal.md "Row encoding".
constexpr char kMagic = 'r';
constexpr char kVersion = 1;
constexpr size_t kHeaderSize = 6;  // magic, version, u32 row count

const char* TagName(uint8_t tag) {
  static constexpr const char* kNames[] = {"null",   "false",  "true",   "int32",  "int64",
                                           "float",  "double", "string", "binary", "decimal",
                                           "struct", "end",    "list",   "map"};
  return tag < sizeof(kNames) / sizeof(kNames[0]) ? kNames[tag] : "unknown tag";
}

}  // namespace

RowBlobWriter::RowBlobWriter(std::string* out)
    : out_(out), blob_start_(out->size()), row_start_(out->size()) {
  out_->push_back(kMagic);
  out_->push_back(kVersion);
  PutFixed32(out_, 0);
}

void RowBlobWriter::BeginRow() { row_start_ = out_->size(); }

void RowBlobWriter::EndRow() {
  PutTag(out_, kEnd);
  ++num_rows_;
  EncodeFixed32(out_->data() + blob_start_ + 2, static_cast<uint32_t>(num_rows_));
}

void RowBlobWriter::AbortRow() { out_->resize(row_start_); }

int64_t RowBlobWriter::num_rows() const { return num_rows_; }

void RowBlobWriter::Null() { PutTag(out_, kNull); }
void RowBlobWriter::Bool(bool v) { PutTag(out_, v ? kTrue : kFalse); }
void RowBlobWriter::Int32(int32_t v) { PutInt32(out_, v); }
void RowBlobWriter::Int64(int64_t v) { PutInt64(out_, v); }
void RowBlobWriter::Float(float v) { PutFloat(out_, v); }
void RowBlobWriter::Double(double v) { PutDouble(out_, v); }
void RowBlobWriter::String(std::string_view v) { PutBytes(out_, kString, v); }
void RowBlobWriter::Binary(std::string_view v) { PutBytes(out_, kBinary, v); }
void RowBlobWriter::Decimal(__int128 unscaled) { PutDecimal(out_, unscaled); }
void RowBlobWriter::BeginStruct() { PutTag(out_, kStruct); }
void RowBlobWriter::EndStruct() { PutTag(out_, kEnd); }
void RowBlobWriter::BeginList(uint64_t count) { PutCount(out_, kList, count); }
void RowBlobWriter::EndList() {}
void RowBlobWriter::BeginMap(uint64_t count) { PutCount(out_, kMap, count); }
void RowBlobWriter::EndMap() {}
void RowBlobWriter::AppendEncoded(std::string_view values) { out_->append(values); }

absl::StatusOr<int64_t> CountRows(std::string_view blob) {
  if (blob.size() < kHeaderSize || blob[0] != kMagic) {
    return absl::DataLossError("row blob: missing header (not a nobus row blob)");
  }
  if (blob[1] != kVersion) {
    return absl::DataLossError(Cat("row blob: unsupported version ", static_cast<int>(blob[1]),
                                   " (written by a newer nobus? upgrade to read it)"));
  }
  return static_cast<int64_t>(DecodeFixed32(blob.data() + 2));
}

namespace {

// One decoded primitive value.
struct Scalar {
  uint8_t tag = kNull;
  int64_t i = 0;
  float f = 0;
  double d = 0;
  std::string_view bytes;
  __int128 dec = 0;
};

__int128 Pow10(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

std::string FormatDecimal(__int128 unscaled, int scale) {
  bool neg = unscaled < 0;
  auto mag =
      neg ? -static_cast<unsigned __int128>(unscaled) : static_cast<unsigned __int128>(unscaled);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  } while (mag != 0);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, scale + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - scale, 1, '.');
  }
  return neg ? "-" + digits : digits;
}

template <typename T>
std::string FormatFloating(T v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

std::optional<std::string> FormatPartition(const DataType& type, const Scalar& v) {
  switch (v.tag) {
    case kNull:
      return std::nullopt;
    case kFalse:
      return std::string("false");
    case kTrue:
      return std::string("true");
    case kInt32:
      return type.kind == TypeKind::kDate ? FormatDate(v.i) : std::to_string(v.i);
    case kInt64:
      return type.kind == TypeKind::kLong ? std::to_string(v.i) : FormatTimestampMicros(v.i);
    case kFloat:
      return FormatFloating(v.f);
    case kDouble:
      return FormatFloating(v.d);
    case kDecimal:
      return FormatDecimal(v.dec, type.scale);
    default:
      // An empty string or binary partition value is null in Delta: Spark writes it so, and
      // delta-rs reads "" as null, so writing "" would make the readers disagree.
      if (v.bytes.empty()) return std::nullopt;
      return std::string(v.bytes);
  }
}

// Walks a blob against a schema. Every read is bounds-checked; recursion depth is bounded by the
// schema's depth, and every counted element consumes at least one byte, so work is linear.
class Replayer {
 public:
  Replayer(std::string_view blob, RowSink* sink)
      : p_(blob.data()), end_(blob.data() + blob.size()), sink_(sink) {}

  // Reads one row into the sink, from BeginRow up to (not including) EndRow. DataLoss only.
  absl::Status Row(const Schema& schema, const std::vector<const std::string*>& partition_of) {
    sink_->BeginRow();
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      const Field& f = schema.fields[i];
      path_.assign(1, &f.name);
      if (partition_of[i] != nullptr) {
        Scalar v;
        NOBUS_RETURN_IF_ERROR(ReadScalar(f.type, f.nullable, &v));
        sink_->PartitionValue(*partition_of[i], FormatPartition(f.type, v));
      } else {
        NOBUS_RETURN_IF_ERROR(Value(f.type, f.nullable));
      }
    }
    path_.clear();
    return ExpectEnd("row");
  }

  bool AtEnd() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  absl::Status Corrupt(std::string_view what) const {
    std::string col;
    for (const std::string* part : path_) {
      if (!col.empty()) col += '.';
      col += *part;
    }
    return absl::DataLossError(Cat("row blob does not match the table schema",
                                   col.empty() ? std::string() : Cat(" at column '", col, "'"),
                                   ": ", what));
  }

  absl::Status ReadTag(uint8_t* tag) {
    if (p_ == end_) return Corrupt("truncated (expected a value)");
    *tag = static_cast<uint8_t>(*p_++);
    return absl::OkStatus();
  }

  absl::Status ReadVarint(uint64_t* v) {
    const char* next = GetVarint64Ptr(p_, end_, v);
    if (next == nullptr) return Corrupt("truncated or overlong varint");
    p_ = next;
    return absl::OkStatus();
  }

  absl::Status ReadBytes(size_t n, std::string_view* out) {
    if (remaining() < n) return Corrupt("truncated value");
    *out = std::string_view(p_, n);
    p_ += n;
    return absl::OkStatus();
  }

  absl::Status ExpectEnd(std::string_view what) {
    uint8_t tag = kNull;
    NOBUS_RETURN_IF_ERROR(ReadTag(&tag));
    if (tag != kEnd)
      return Corrupt(Cat("expected the end of the ", what, ", found ", TagName(tag)));
    return absl::OkStatus();
  }

  static uint8_t ExpectedTag(TypeKind kind);
  absl::Status ReadPayload(const DataType& type, Scalar* v);
  absl::Status ReadScalar(const DataType& type, bool nullable, Scalar* v);
  absl::Status Value(const DataType& type, bool nullable);
  absl::Status StructBody(const DataType& type);
  absl::Status ListBody(const DataType& type);
  absl::Status MapBody(const DataType& type);
  void Emit(const DataType& type, const Scalar& v);

  const char* p_;
  const char* end_;
  RowSink* sink_;
  std::vector<const std::string*> path_;  // column path, for messages
};

uint8_t Replayer::ExpectedTag(TypeKind kind) {
  switch (kind) {
    case TypeKind::kBoolean:
      return kTrue;  // or kFalse
    case TypeKind::kInteger:
    case TypeKind::kShort:
    case TypeKind::kByte:
    case TypeKind::kDate:
      return kInt32;
    case TypeKind::kLong:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
      return kInt64;
    case TypeKind::kFloat:
      return kFloat;
    case TypeKind::kDouble:
      return kDouble;
    case TypeKind::kString:
      return kString;
    case TypeKind::kBinary:
      return kBinary;
    case TypeKind::kDecimal:
      return kDecimal;
    case TypeKind::kStruct:
      return kStruct;
    case TypeKind::kArray:
      return kList;
    case TypeKind::kMap:
      return kMap;
  }
  return kEnd;
}

absl::Status Replayer::ReadPayload(const DataType& type, Scalar* v) {
  switch (v->tag) {
    case kFalse:
    case kTrue:
      return absl::OkStatus();
    case kInt32:
    case kInt64: {
      uint64_t raw;
      NOBUS_RETURN_IF_ERROR(ReadVarint(&raw));
      v->i = ZigZagDecode64(raw);
      int64_t lo = INT32_MIN, hi = INT32_MAX;
      if (type.kind == TypeKind::kShort) lo = INT16_MIN, hi = INT16_MAX;
      if (type.kind == TypeKind::kByte) lo = INT8_MIN, hi = INT8_MAX;
      if (v->tag == kInt32 && (v->i < lo || v->i > hi)) {
        return Corrupt(Cat("value ", v->i, " out of range for ", TypeName(type)));
      }
      return absl::OkStatus();
    }
    case kFloat: {
      std::string_view b;
      NOBUS_RETURN_IF_ERROR(ReadBytes(4, &b));
      uint32_t bits = DecodeFixed32(b.data());
      std::memcpy(&v->f, &bits, 4);
      return absl::OkStatus();
    }
    case kDouble: {
      std::string_view b;
      NOBUS_RETURN_IF_ERROR(ReadBytes(8, &b));
      uint64_t bits = DecodeFixed64(b.data());
      std::memcpy(&v->d, &bits, 8);
      return absl::OkStatus();
    }
    case kString:
    case kBinary: {
      uint64_t n;
      NOBUS_RETURN_IF_ERROR(ReadVarint(&n));
      if (n > remaining()) return Corrupt("truncated string or binary value");
      return ReadBytes(static_cast<size_t>(n), &v->bytes);
    }
    default: {  // kDecimal
      std::string_view b;
      NOBUS_RETURN_IF_ERROR(ReadBytes(1, &b));
      int n = static_cast<uint8_t>(b[0]);
      if (n < 1 || n > 16) return Corrupt(Cat("bad decimal width ", n));
      NOBUS_RETURN_IF_ERROR(ReadBytes(n, &b));
      unsigned __int128 bits = 0;
      for (int i = 0; i < n; ++i)
        bits |= static_cast<unsigned __int128>(static_cast<uint8_t>(b[i])) << (8 * i);
      int shift = 128 - 8 * n;
      v->dec = static_cast<__int128>(bits << shift) >> shift;
      __int128 limit = Pow10(type.precision);
      if (v->dec >= limit || v->dec <= -limit) {
        return Corrupt(Cat("decimal value does not fit ", TypeName(type)));
      }
      return absl::OkStatus();
    }
  }
}

absl::Status Replayer::ReadScalar(const DataType& type, bool nullable, Scalar* v) {
  NOBUS_RETURN_IF_ERROR(ReadTag(&v->tag));
  if (v->tag == kNull) {
    if (!nullable) return Corrupt("null in a NOT NULL position");
    return absl::OkStatus();
  }
  uint8_t want = ExpectedTag(type.kind);
  bool ok = v->tag == want || (want == kTrue && v->tag == kFalse);
  if (!ok || !type.IsPrimitive()) {
    return Corrupt(Cat("expected a ", TypeName(type), " value, found ", TagName(v->tag)));
  }
  return ReadPayload(type, v);
}

void Replayer::Emit(const DataType& type, const Scalar& v) {
  switch (v.tag) {
    case kNull:
      sink_->Null();
      break;
    case kFalse:
      sink_->Bool(false);
      break;
    case kTrue:
      sink_->Bool(true);
      break;
    case kInt32:
      sink_->Int32(static_cast<int32_t>(v.i));
      break;
    case kInt64:
      sink_->Int64(v.i);
      break;
    case kFloat:
      sink_->Float(v.f);
      break;
    case kDouble:
      sink_->Double(v.d);
      break;
    case kString:
      sink_->String(v.bytes);
      break;
    case kBinary:
      sink_->Binary(v.bytes);
      break;
    default:
      sink_->Decimal(v.dec);
      break;
  }
}

absl::Status Replayer::Value(const DataType& type, bool nullable) {
  if (type.IsPrimitive()) {
    Scalar v;
    NOBUS_RETURN_IF_ERROR(ReadScalar(type, nullable, &v));
    Emit(type, v);
    return absl::OkStatus();
  }
  uint8_t tag = kNull;
  NOBUS_RETURN_IF_ERROR(ReadTag(&tag));
  if (tag == kNull) {
    if (!nullable) return Corrupt("null in a NOT NULL position");
    sink_->Null();
    return absl::OkStatus();
  }
  if (tag != ExpectedTag(type.kind)) {
    return Corrupt(Cat("expected a ", TypeName(type), " value, found ", TagName(tag)));
  }
  if (type.kind == TypeKind::kStruct) return StructBody(type);
  if (type.kind == TypeKind::kArray) return ListBody(type);
  return MapBody(type);
}

absl::Status Replayer::StructBody(const DataType& type) {
  sink_->BeginStruct();
  for (const Field& f : type.fields) {
    path_.push_back(&f.name);
    NOBUS_RETURN_IF_ERROR(Value(f.type, f.nullable));
    path_.pop_back();
  }
  NOBUS_RETURN_IF_ERROR(ExpectEnd("struct"));
  sink_->EndStruct();
  return absl::OkStatus();
}

absl::Status Replayer::ListBody(const DataType& type) {
  static const std::string kElement = "element";
  uint64_t n;
  NOBUS_RETURN_IF_ERROR(ReadVarint(&n));
  if (n > remaining()) return Corrupt(Cat("list of ", n, " elements in ", remaining(), " bytes"));
  sink_->BeginList();
  path_.push_back(&kElement);
  for (uint64_t i = 0; i < n; ++i) NOBUS_RETURN_IF_ERROR(Value(*type.element, type.contains_null));
  path_.pop_back();
  sink_->EndList();
  return absl::OkStatus();
}

absl::Status Replayer::MapBody(const DataType& type) {
  static const std::string kKey = "key";
  static const std::string kValue = "value";
  uint64_t n;
  NOBUS_RETURN_IF_ERROR(ReadVarint(&n));
  if (n > remaining() / 2) return Corrupt(Cat("map of ", n, " entries in ", remaining(), " bytes"));
  sink_->BeginMap();
  for (uint64_t i = 0; i < n; ++i) {
    path_.push_back(&kKey);
    NOBUS_RETURN_IF_ERROR(Value(*type.element, false));
    path_.back() = &kValue;
    NOBUS_RETURN_IF_ERROR(Value(*type.value, type.contains_null));
    path_.pop_back();
  }
  sink_->EndMap();
  return absl::OkStatus();
}

// For each top-level field, its partition column name (as given by the caller) or nullptr.
absl::StatusOr<std::vector<const std::string*>> PartitionSlots(
    const Schema& schema, const std::vector<std::string>& partition_columns) {
  std::vector<const std::string*> slots(schema.fields.size(), nullptr);
  for (const std::string& name : partition_columns) {
    bool found = false;
    for (size_t i = 0; i < schema.fields.size() && !found; ++i) {
      if (schema.fields[i].name != name) continue;
      if (!schema.fields[i].type.IsPrimitive()) {
        return absl::InvalidArgumentError(
            Cat("partition column '", name, "' is not of a primitive type"));
      }
      slots[i] = &name;
      found = true;
    }
    if (!found) {
      return absl::InvalidArgumentError(Cat("partition column '", name, "' is not in the schema"));
    }
  }
  return slots;
}

}  // namespace

absl::Status ReplayRows(const Schema& schema, const std::vector<std::string>& partition_columns,
                        std::string_view blob, RowSink* sink) {
  NOBUS_ASSIGN_OR_RETURN(int64_t count, CountRows(blob));
  NOBUS_ASSIGN_OR_RETURN(auto slots, PartitionSlots(schema, partition_columns));
  Replayer replayer(blob.substr(kHeaderSize), sink);
  for (int64_t row = 0; row < count; ++row) {
    absl::Status st = replayer.Row(schema, slots);
    if (!st.ok()) return absl::DataLossError(Cat("row ", row, " of ", count, ": ", st.message()));
    NOBUS_RETURN_IF_ERROR(sink->EndRow());
  }
  if (!replayer.AtEnd()) {
    return absl::DataLossError(
        Cat("row blob has ", replayer.remaining(), " bytes after its ", count, " rows"));
  }
  return absl::OkStatus();
}

}  // namespace nobus::schema
