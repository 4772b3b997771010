// The Kafka wire primitives (spec ../shared/specs/kafka-produce.md 2.1 and 2.5): a bounds-checked
// Reader over the bytes of one request and a Writer that appends a response to a std::string.
// Integers are big-endian; the varints of the record format are LEB128, signed ones zigzag. Every
// string, bytes and array method takes `flexible`: true selects the COMPACT_* form of flexible
// API versions (unsigned varint length + 1, 0 = null), false the classic form (INT16 length for
// strings, INT32 for bytes and arrays, -1 = null). The caller decides (api.h IsFlexible), so a
// handler reads the same in every version:
//
//   NOBUS_ASSIGN_OR_RETURN(int16_t acks, r.Int16("acks"));
//   NOBUS_ASSIGN_OR_RETURN(std::string_view topic, r.String(flexible, "topic name"));
//   NOBUS_ASSIGN_OR_RETURN(int32_t partitions, r.ArrayLength(flexible, "partition_data"));
//   ...
//   NOBUS_RETURN_IF_ERROR(r.SkipTaggedFields(flexible));
//
//   Writer w;  WriteResponseHeader(w, ...);  w.String(topic, flexible);  w.Int16(kNone);
//   w.EmptyTags(flexible);  std::string body = w.Take();
//
// Reader never trusts its input: every read checks the bytes left and returns InvalidArgument
// naming the field (or the wire type), the byte offset and what was wrong; a failed read does not
// move the Reader. Views it returns point into the caller's bytes; a Reader is cheap to copy.
// Writer appends to a string it was given or owns. Both are thread-compatible (one thread at a
// time per object), no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"
#include "kafka/api.h"

namespace nobus::kafka {

using Uuid = std::array<uint8_t, 16>;

// The longest STRING / COMPACT_STRING Kafka accepts (its length is an INT16 in the classic form).
inline constexpr size_t kMaxStringBytes = 0x7fff;

class Reader {
 public:
  Reader() = default;
  explicit Reader(std::string_view data) : data_(data) {}

  size_t position() const { return pos_; }  // bytes consumed so far
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }
  std::string_view rest() const { return data_.substr(pos_); }  // the unread bytes

  // Every read takes an optional `field`, the name errors use ("malformed acks (INT16) at byte
  // 10: ..."); without it they name the wire type ("malformed INT16 at byte 10: ...").

  // Fixed width, big-endian.
  [[nodiscard]] absl::StatusOr<int8_t> Int8(std::string_view field = {});
  [[nodiscard]] absl::StatusOr<int16_t> Int16(std::string_view field = {});
  [[nodiscard]] absl::StatusOr<int32_t> Int32(std::string_view field = {});
  [[nodiscard]] absl::StatusOr<int64_t> Int64(std::string_view field = {});
  [[nodiscard]] absl::StatusOr<uint32_t> Uint32(std::string_view field = {});
  [[nodiscard]] absl::StatusOr<bool> Bool(std::string_view field = {});  // non-zero is true
  [[nodiscard]] absl::StatusOr<kafka::Uuid> Uuid(std::string_view field = {});

  // UNSIGNED_VARINT (at most 5 bytes, 32 bits), and the zigzag VARINT (32 bits) and VARLONG (64
  // bits) of the record format. Longer encodings or bits beyond the width are refused.
  [[nodiscard]] absl::StatusOr<uint32_t> UnsignedVarint(std::string_view field = {});
  [[nodiscard]] absl::StatusOr<int32_t> Varint(std::string_view field = {});
  [[nodiscard]] absl::StatusOr<int64_t> Varlong(std::string_view field = {});

  // STRING / COMPACT_STRING (null refused), NULLABLE_STRING / COMPACT_NULLABLE_STRING (nullopt
  // for null), BYTES / COMPACT_BYTES and their nullable forms. UTF-8 is not checked.
  [[nodiscard]] absl::StatusOr<std::string_view> String(bool flexible,
                                                        std::string_view field = {});
  [[nodiscard]] absl::StatusOr<std::optional<std::string_view>> NullableString(
      bool flexible, std::string_view field = {});
  [[nodiscard]] absl::StatusOr<std::string_view> Bytes(bool flexible,
                                                       std::string_view field = {});
  [[nodiscard]] absl::StatusOr<std::optional<std::string_view>> NullableBytes(
      bool flexible, std::string_view field = {});

  // The element count of an ARRAY / COMPACT_ARRAY: -1 for a null array, else >= 0. A count larger
  // than the bytes left is refused (every element of every Kafka array takes at least one byte),
  // so callers may reserve() it.
  [[nodiscard]] absl::StatusOr<int32_t> ArrayLength(bool flexible, std::string_view field = {});

  // Skips a TAG_BUFFER (uvarint count, then per field uvarint tag, uvarint size, bytes) when
  // `flexible`; does nothing otherwise. nobus reads no tagged field of any request.
  [[nodiscard]] absl::Status SkipTaggedFields(bool flexible = true);

  // The next `n` bytes as a view, or skips them.
  [[nodiscard]] absl::StatusOr<std::string_view> Raw(size_t n, std::string_view field = {});
  [[nodiscard]] absl::Status Skip(size_t n, std::string_view field = {});

  // InvalidArgument if any byte is left after `what` (e.g. "ApiVersions request").
  [[nodiscard]] absl::Status ExpectEnd(std::string_view what) const;

 private:
  // What a read is reading: the caller's field name (may be empty) and the wire type.
  struct What {
    std::string_view field;
    std::string_view type;
  };
  absl::Status Error(What what, std::string_view problem) const;
  absl::Status Need(size_t n, What what) const;
  absl::StatusOr<uint64_t> RawVarint(What what, int max_bytes, int bits);
  // The length of a string/bytes/array: -1 for null, else >= 0 (not yet checked against the
  // bytes left).
  absl::StatusOr<int64_t> Length(What what, bool flexible, int width_bytes);
  absl::StatusOr<std::optional<std::string_view>> Sized(What what, bool flexible,
                                                        int width_bytes, bool nullable);

  std::string_view data_;
  size_t pos_ = 0;
};

// Appends to a std::string: the caller's (Writer(&out)) or its own (Writer(), then Take()).
// Not copyable (it may point at its own buffer).
class Writer {
 public:
  Writer() : out_(&own_) {}
  explicit Writer(std::string* out) : out_(out) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  std::string* out() const { return out_; }
  size_t size() const { return out_->size(); }
  // The bytes written (all of the string written to), leaving it empty.
  std::string Take() { return std::exchange(*out_, std::string()); }

  // Error codes (api.h ErrorCode) and API keys convert to int16_t: w.Int16(kInvalidRecord).
  void Int8(int8_t v) { out_->push_back(static_cast<char>(v)); }
  void Int16(int16_t v) { BigEndian(static_cast<uint16_t>(v), 2); }
  void Int32(int32_t v) { BigEndian(static_cast<uint32_t>(v), 4); }
  void Int64(int64_t v) { BigEndian(static_cast<uint64_t>(v), 8); }
  void Uint32(uint32_t v) { BigEndian(v, 4); }
  void Bool(bool v) { out_->push_back(v ? 1 : 0); }
  void Uuid(const kafka::Uuid& v = {}) {  // default: the zero UUID (none)
    out_->append(reinterpret_cast<const char*>(v.data()), v.size());
  }

  void UnsignedVarint(uint32_t v);
  void Varint(int32_t v);   // zigzag
  void Varlong(int64_t v);  // zigzag

  // Strings longer than kMaxStringBytes are cut there (at a UTF-8 character boundary): they are
  // names and messages, and a longer one would make the frame unreadable.
  void String(std::string_view s, bool flexible);
  void NullableString(std::optional<std::string_view> s, bool flexible);
  void Bytes(std::string_view b, bool flexible);
  void NullableBytes(std::optional<std::string_view> b, bool flexible);
  void ArrayLength(int32_t count, bool flexible);  // -1 writes a null array
  // An empty TAG_BUFFER (the byte 0x00) when `flexible`; nothing otherwise.
  void EmptyTags(bool flexible = true) {
    if (flexible) out_->push_back(0);
  }
  void Raw(std::string_view bytes) { out_->append(bytes.data(), bytes.size()); }

  // A length-prefixed frame: BeginFrame appends a placeholder INT32 size and returns where it is;
  // EndFrame patches it to the number of bytes written after it. Frames do not nest.
  //   size_t frame = w.BeginFrame(); WriteResponseHeader(w, ...); ...; w.EndFrame(frame);
  size_t BeginFrame();
  // Internal if the frame is over INT32_MAX bytes (it cannot be sent).
  [[nodiscard]] absl::Status EndFrame(size_t frame_start);

 private:
  void BigEndian(uint64_t v, int bytes);
  void Length(int64_t length, bool flexible, int width_bytes);  // -1 = null

  std::string own_;
  std::string* out_;
};

}  // namespace nobus::kafka
