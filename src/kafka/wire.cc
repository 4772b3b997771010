#include "kafka/wire.h"

#include <cstring>
#include <limits>

namespace nobus::kafka {

absl::Status Reader::Error(What what, std::string_view problem) const {
  if (what.field.empty()) {
    return absl::InvalidArgumentError(
        Cat("malformed ", what.type, " at byte ", pos_, ": ", problem));
  }
  return absl::InvalidArgumentError(
      Cat("malformed ", what.field, " (", what.type, ") at byte ", pos_, ": ", problem));
}

absl::Status Reader::Need(size_t n, What what) const {
  if (n <= remaining()) return absl::OkStatus();
  return Error(what, Cat("truncated, needs ", n, " bytes, ", remaining(), " left"));
}

namespace {

uint64_t LoadBigEndian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string_view StringType(bool flexible, bool nullable) {
  if (flexible) return nullable ? "COMPACT_NULLABLE_STRING" : "COMPACT_STRING";
  return nullable ? "NULLABLE_STRING" : "STRING";
}

std::string_view BytesType(bool flexible, bool nullable) {
  if (flexible) return nullable ? "COMPACT_NULLABLE_BYTES" : "COMPACT_BYTES";
  return nullable ? "NULLABLE_BYTES" : "BYTES";
}

}  // namespace

absl::StatusOr<int8_t> Reader::Int8(std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(1, {field, "INT8"}));
  return static_cast<int8_t>(data_[pos_++]);
}

absl::StatusOr<int16_t> Reader::Int16(std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(2, {field, "INT16"}));
  pos_ += 2;
  return static_cast<int16_t>(LoadBigEndian(data_.data() + pos_ - 2, 2));
}

absl::StatusOr<int32_t> Reader::Int32(std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(4, {field, "INT32"}));
  pos_ += 4;
  return static_cast<int32_t>(LoadBigEndian(data_.data() + pos_ - 4, 4));
}

absl::StatusOr<int64_t> Reader::Int64(std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(8, {field, "INT64"}));
  pos_ += 8;
  return static_cast<int64_t>(LoadBigEndian(data_.data() + pos_ - 8, 8));
}

absl::StatusOr<uint32_t> Reader::Uint32(std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(4, {field, "UINT32"}));
  pos_ += 4;
  return static_cast<uint32_t>(LoadBigEndian(data_.data() + pos_ - 4, 4));
}

absl::StatusOr<bool> Reader::Bool(std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(1, {field, "BOOLEAN"}));
  return data_[pos_++] != 0;
}

absl::StatusOr<kafka::Uuid> Reader::Uuid(std::string_view field) {
  kafka::Uuid v;
  NOBUS_RETURN_IF_ERROR(Need(v.size(), {field, "UUID"}));
  std::memcpy(v.data(), data_.data() + pos_, v.size());
  pos_ += v.size();
  return v;
}

// LEB128 of at most `max_bytes` bytes whose value fits in `bits` bits.
absl::StatusOr<uint64_t> Reader::RawVarint(What what, int max_bytes, int bits) {
  uint64_t v = 0;
  for (int i = 0; i < max_bytes; ++i) {
    if (pos_ + i >= data_.size()) return Error(what, "truncated varint");
    uint8_t b = static_cast<uint8_t>(data_[pos_ + i]);
    const int shift = 7 * i;
    if (shift + 7 > bits && (b & 0x7f) >> (bits - shift) != 0) {
      return Error(what, Cat("varint exceeds ", bits, " bits"));
    }
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      pos_ += i + 1;
      return v;
    }
  }
  return Error(what, Cat("varint longer than ", max_bytes, " bytes"));
}

absl::StatusOr<uint32_t> Reader::UnsignedVarint(std::string_view field) {
  NOBUS_ASSIGN_OR_RETURN(uint64_t v, RawVarint({field, "UNSIGNED_VARINT"}, 5, 32));
  return static_cast<uint32_t>(v);
}

absl::StatusOr<int32_t> Reader::Varint(std::string_view field) {
  NOBUS_ASSIGN_OR_RETURN(uint64_t v, RawVarint({field, "VARINT"}, 5, 32));
  uint32_t u = static_cast<uint32_t>(v);
  return static_cast<int32_t>((u >> 1) ^ (0u - (u & 1)));
}

absl::StatusOr<int64_t> Reader::Varlong(std::string_view field) {
  NOBUS_ASSIGN_OR_RETURN(uint64_t v, RawVarint({field, "VARLONG"}, 10, 64));
  return static_cast<int64_t>((v >> 1) ^ (0ull - (v & 1)));
}

absl::StatusOr<int64_t> Reader::Length(What what, bool flexible, int width_bytes) {
  if (flexible) {
    NOBUS_ASSIGN_OR_RETURN(uint64_t n, RawVarint(what, 5, 32));
    return static_cast<int64_t>(n) - 1;
  }
  NOBUS_RETURN_IF_ERROR(Need(static_cast<size_t>(width_bytes), what));
  const uint64_t raw = LoadBigEndian(data_.data() + pos_, width_bytes);
  const int64_t n = width_bytes == 2 ? static_cast<int16_t>(raw) : static_cast<int32_t>(raw);
  if (n < -1) return Error(what, Cat("negative length ", n));
  pos_ += static_cast<size_t>(width_bytes);
  return n;
}

absl::StatusOr<std::optional<std::string_view>> Reader::Sized(What what, bool flexible,
                                                              int width_bytes, bool nullable) {
  const size_t start = pos_;
  NOBUS_ASSIGN_OR_RETURN(int64_t n, Length(what, flexible, width_bytes));
  if (n == -1) {
    if (nullable) return std::nullopt;
    pos_ = start;
    return Error(what, "null where a value is required");
  }
  if (static_cast<uint64_t>(n) > remaining()) {
    const size_t left = remaining();
    pos_ = start;
    return Error(what, Cat("length ", n, " exceeds the ", left, " bytes left"));
  }
  std::string_view v = data_.substr(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return v;
}

absl::StatusOr<std::string_view> Reader::String(bool flexible, std::string_view field) {
  NOBUS_ASSIGN_OR_RETURN(std::optional<std::string_view> v,
                         Sized({field, StringType(flexible, false)}, flexible, 2, false));
  return *v;
}

absl::StatusOr<std::optional<std::string_view>> Reader::NullableString(bool flexible,
                                                                       std::string_view field) {
  return Sized({field, StringType(flexible, true)}, flexible, 2, true);
}

absl::StatusOr<std::string_view> Reader::Bytes(bool flexible, std::string_view field) {
  NOBUS_ASSIGN_OR_RETURN(std::optional<std::string_view> v,
                         Sized({field, BytesType(flexible, false)}, flexible, 4, false));
  return *v;
}

absl::StatusOr<std::optional<std::string_view>> Reader::NullableBytes(bool flexible,
                                                                      std::string_view field) {
  return Sized({field, BytesType(flexible, true)}, flexible, 4, true);
}

absl::StatusOr<int32_t> Reader::ArrayLength(bool flexible, std::string_view field) {
  const What what{field, flexible ? "COMPACT_ARRAY" : "ARRAY"};
  const size_t start = pos_;
  NOBUS_ASSIGN_OR_RETURN(int64_t n, Length(what, flexible, 4));
  if (n > static_cast<int64_t>(remaining())) {
    const size_t left = remaining();
    pos_ = start;
    return Error(what, Cat("count ", n, " exceeds the ", left, " bytes left"));
  }
  return static_cast<int32_t>(n);
}

absl::Status Reader::SkipTaggedFields(bool flexible) {
  if (!flexible) return absl::OkStatus();
  const size_t start = pos_;
  absl::Status st = [&]() -> absl::Status {
    NOBUS_ASSIGN_OR_RETURN(uint32_t count, UnsignedVarint("tagged field count"));
    for (uint32_t i = 0; i < count; ++i) {
      NOBUS_ASSIGN_OR_RETURN(uint32_t tag, UnsignedVarint("tagged field tag"));
      NOBUS_ASSIGN_OR_RETURN(uint32_t size, UnsignedVarint(Cat("size of tagged field ", tag)));
      NOBUS_RETURN_IF_ERROR(Need(size, {Cat("tagged field ", tag), "TAG_BUFFER"}));
      pos_ += size;
    }
    return absl::OkStatus();
  }();
  if (!st.ok()) pos_ = start;
  return st;
}

absl::StatusOr<std::string_view> Reader::Raw(size_t n, std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(n, {field, "bytes"}));
  std::string_view v = data_.substr(pos_, n);
  pos_ += n;
  return v;
}

absl::Status Reader::Skip(size_t n, std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(n, {field, "bytes"}));
  pos_ += n;
  return absl::OkStatus();
}

absl::Status Reader::ExpectEnd(std::string_view what) const {
  if (empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      Cat("malformed ", what, ": ", remaining(), " unexpected bytes after byte ", pos_));
}

// --- Writer ---

void Writer::BigEndian(uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out_->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void Writer::UnsignedVarint(uint32_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void Writer::Varint(int32_t v) {
  UnsignedVarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}

void Writer::Varlong(int64_t v) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (u >= 0x80) {
    out_->push_back(static_cast<char>((u & 0x7f) | 0x80));
    u >>= 7;
  }
  out_->push_back(static_cast<char>(u));
}

void Writer::Length(int64_t length, bool flexible, int width_bytes) {
  if (flexible) {
    UnsignedVarint(static_cast<uint32_t>(length + 1));
  } else if (width_bytes == 2) {
    Int16(static_cast<int16_t>(length));
  } else {
    Int32(static_cast<int32_t>(length));
  }
}

namespace {

std::string_view CutString(std::string_view s) {
  if (s.size() <= kMaxStringBytes) return s;
  size_t n = kMaxStringBytes;
  // Do not end inside a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xc0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

void Writer::String(std::string_view s, bool flexible) {
  s = CutString(s);
  Length(static_cast<int64_t>(s.size()), flexible, 2);
  Raw(s);
}

void Writer::NullableString(std::optional<std::string_view> s, bool flexible) {
  if (!s.has_value()) {
    Length(-1, flexible, 2);
    return;
  }
  String(*s, flexible);
}

void Writer::Bytes(std::string_view b, bool flexible) {
  Length(static_cast<int64_t>(b.size()), flexible, 4);
  Raw(b);
}

void Writer::NullableBytes(std::optional<std::string_view> b, bool flexible) {
  if (!b.has_value()) {
    Length(-1, flexible, 4);
    return;
  }
  Bytes(*b, flexible);
}

void Writer::ArrayLength(int32_t count, bool flexible) { Length(count, flexible, 4); }

size_t Writer::BeginFrame() {
  size_t at = out_->size();
  Int32(0);
  return at;
}

absl::Status Writer::EndFrame(size_t frame_start) {
  if (frame_start + 4 > out_->size()) {
    return absl::InternalError(Cat("EndFrame(", frame_start, ") past the end of the output"));
  }
  const size_t body = out_->size() - frame_start - 4;
  if (body > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InternalError(Cat("a Kafka frame of ", body, " bytes cannot be sent"));
  }
  for (int i = 0; i < 4; ++i) {
    (*out_)[frame_start + i] = static_cast<char>((body >> (8 * (3 - i))) & 0xff);
  }
  return absl::OkStatus();
}

}  // namespace nobus::kafka
