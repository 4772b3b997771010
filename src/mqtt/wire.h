// The MQTT data representations (MQTT 5.0 section 1.5, the same in 3.1.1 section 1.5): a
// bounds-checked Reader over the bytes of one packet and a Writer that appends to a std::string.
// Integers are big-endian; the Variable Byte Integer is 1-4 bytes of 7 bits each, least
// significant first, at most 268,435,455, in its shortest form (MQTT-1.5.5-1); UTF-8 strings and
// binary data carry a two-byte length. Every packet decoder (connect.h, publish.h, ...) reads with
// a Reader:
//
//   Reader r(packet, "PUBLISH", header.header_bytes);
//   NOBUS_ASSIGN_OR_RETURN(std::string_view topic, r.Utf8String("topic name"));
//   NOBUS_ASSIGN_OR_RETURN(uint16_t id, r.TwoByteInt("packet identifier"));
//
// Reader never trusts its input: every read checks the bytes left and returns an error naming the
// packet, the field, its data type, the byte offset from the start of the packet (fixed header
// included) and what was wrong; a failed read does not move the Reader. The status code says which
// reason code the error earns (reason_code.h ReasonCodeFor): InvalidArgument for a Malformed
// Packet, FailedPrecondition for a Protocol Error (Reader::ProtocolError). Views it returns point
// into the caller's bytes; a Reader is cheap to copy. Writer appends to a string it was given.
// Both are thread-compatible (one thread at a time per object); no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nobus::mqtt {

// The longest UTF-8 string or binary value (its length is a two-byte integer).
inline constexpr size_t kMaxStringBytes = 65535;
// The largest Variable Byte Integer (four bytes of 7 bits), also the largest Remaining Length.
inline constexpr uint32_t kMaxVariableByteInt = 268'435'455;

// The first problem of `s` as an MQTT UTF-8 string (MQTT 5.0 1.5.4, 3.1.1 1.5.3): ill-formed
// UTF-8 per RFC 3629 (bad lead or continuation byte, overlong form, beyond U+10FFFF, cut short),
// a UTF-16 surrogate (U+D800..U+DFFF) or U+0000. nullopt if there is none. Control characters and
// non-characters are allowed (the specification says SHOULD NOT, not MUST NOT).
struct Utf8Problem {
  size_t offset = 0;      // of the offending character's first byte in `s`
  std::string_view what;  // e.g. "U+0000", "UTF-16 surrogate"
};
std::optional<Utf8Problem> FindUtf8Problem(std::string_view s);
inline bool IsMqttUtf8(std::string_view s) { return !FindUtf8Problem(s).has_value(); }

// A Topic Name as PUBLISH (and a Will Topic or Response Topic) may carry it: at least one byte,
// MQTT UTF-8, no wildcard '+' or '#' (MQTT-3.3.2-2). A v5 PUBLISH may instead carry an empty
// Topic Name with a Topic Alias; the PUBLISH decoder handles that case itself.
bool IsValidTopicName(std::string_view name);
// A Topic Filter (MQTT 5.0 4.7): at least one byte, MQTT UTF-8, '+' alone in its level, '#' alone
// in the last level. SUBSCRIBE decoding does not apply it (the endpoint answers 0x8F instead).
bool IsValidTopicFilter(std::string_view filter);

// The bytes the Variable Byte Integer encoding of `v` takes (1-4; `v` <= kMaxVariableByteInt).
size_t VariableByteIntSize(uint32_t v);

class Reader {
 public:
  // Reads `packet` from byte `start` to its end. `packet_name` ("CONNECT") starts every error
  // message and must outlive the Reader (use a literal).
  Reader(std::string_view packet, std::string_view packet_name, size_t start = 0)
      : data_(packet), packet_(packet_name), pos_(start < packet.size() ? start : packet.size()),
        end_(packet.size()) {}

  size_t position() const { return pos_; }  // offset in the packet
  size_t remaining() const { return end_ - pos_; }
  bool empty() const { return pos_ == end_; }
  std::string_view packet_name() const { return packet_; }

  // Every read takes `field`, the name errors use: "malformed PUBLISH: packet identifier (Two Byte
  // Integer) at byte 9: truncated, needs 2 bytes, 1 left".
  [[nodiscard]] absl::StatusOr<uint8_t> Byte(std::string_view field);
  [[nodiscard]] absl::StatusOr<uint16_t> TwoByteInt(std::string_view field);
  [[nodiscard]] absl::StatusOr<uint32_t> FourByteInt(std::string_view field);
  // At most 4 bytes, shortest form only (a non-minimal encoding is malformed).
  [[nodiscard]] absl::StatusOr<uint32_t> VariableByteInt(std::string_view field);
  // Two-byte length, then that many bytes of MQTT UTF-8 (FindUtf8Problem).
  [[nodiscard]] absl::StatusOr<std::string_view> Utf8String(std::string_view field);
  // Two-byte length, then that many bytes.
  [[nodiscard]] absl::StatusOr<std::string_view> Binary(std::string_view field);
  // Every byte left (a PUBLISH payload); never fails.
  std::string_view Rest();
  // The next `n` bytes as a Reader of their own (same packet offsets in errors), moving this one
  // past them: a property section. Malformed if fewer than `n` bytes are left.
  [[nodiscard]] absl::StatusOr<Reader> Section(size_t n, std::string_view field);

  // Malformed if any byte is left ("3 bytes after the payload"); `after` names what ended.
  [[nodiscard]] absl::Status ExpectEnd(std::string_view after) const;

  // Errors about a value the caller read, at byte `at` of the packet. `type` may be empty.
  absl::Status Malformed(size_t at, std::string_view field, std::string_view type,
                         std::string_view problem) const;
  absl::Status ProtocolError(size_t at, std::string_view field, std::string_view type,
                             std::string_view problem) const;

 private:
  absl::Status Need(size_t n, std::string_view field, std::string_view type) const;
  absl::StatusOr<std::string_view> Sized(std::string_view field, std::string_view type);

  std::string_view data_;
  std::string_view packet_;
  size_t pos_ = 0;
  size_t end_ = 0;
};

// Appends to the caller's std::string.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  size_t size() const { return out_->size(); }

  void Byte(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void TwoByteInt(uint16_t v);
  void FourByteInt(uint32_t v);
  // Values over kMaxVariableByteInt are written as kMaxVariableByteInt (callers check first).
  void VariableByteInt(uint32_t v);
  // Strings longer than kMaxStringBytes are cut there, at a UTF-8 character boundary; binary
  // data is cut at kMaxStringBytes. Encoders that must not cut check the length first.
  void Utf8String(std::string_view s);
  void Binary(std::string_view b);
  void Raw(std::string_view bytes) { out_->append(bytes.data(), bytes.size()); }

 private:
  std::string* out_;
};

// "0x1f": a byte (property identifier, reason code, flags) as errors show it.
std::string Hex(uint32_t v);

}  // namespace nobus::mqtt
