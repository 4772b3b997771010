// The MQTT fixed header (MQTT 5.0 2.1, 3.1.1 2.2) and packet framing. Every packet starts with
//
//   byte 1: packet type (bits 7-4) | flags (bits 3-0) | Remaining Length: Variable Byte Integer,
//   1-4 bytes, the bytes after it (at most 268,435,455)
//
// The flags are fixed per type: 0b0010 for PUBREL, SUBSCRIBE and UNSUBSCRIBE, 0 for every other
// type but PUBLISH, whose flags are DUP (bit 3), QoS (bits 2-1, 3 is malformed) and RETAIN
// (bit 0). The TCP layer frames the byte stream with FramePacket and hands each whole packet to a
// decoder (packets.h DecodePacket, or connect.h DecodeConnect for the first one).
//
// Errors: InvalidArgument (a Malformed Packet: packet type 0, reserved flags, a bad Remaining
// Length) and ResourceExhausted (Packet too large); reason_code.h maps them to reason codes.
// Pure functions, thread-safe, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nobus::mqtt {

enum class PacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,  // MQTT 5.0 only; the decoders refuse it on a 3.1.1 connection
};

// "CONNECT", "PUBLISH", ...; "type 0" for the reserved value. Static strings.
std::string_view PacketTypeName(PacketType type);

// The protocol level of a connection, from its CONNECT. MQTT 3.1 (level 3, "MQIsdp") is refused.
enum class Version : uint8_t {
  kV311 = 4,
  kV5 = 5,
};
std::string_view VersionName(Version v);  // "3.1.1", "5.0"

struct FixedHeader {
  PacketType type = PacketType::kConnect;
  uint8_t flags = 0;              // bits 3-0 of the first byte (checked for the type)
  uint32_t remaining_length = 0;  // the bytes after the fixed header
  uint8_t header_bytes = 0;       // 2-5

  size_t packet_bytes() const { return header_bytes + size_t{remaining_length}; }
  // PUBLISH flags.
  bool dup() const { return (flags & 0x08) != 0; }
  uint8_t qos() const { return (flags >> 1) & 0x03; }
  bool retain() const { return (flags & 0x01) != 0; }
};

// What FramePacket knows about the packet at the front of the bytes buffered so far.
struct Framing {
  // The whole packet's size (fixed header included); 0 while the fixed header is incomplete.
  size_t packet_bytes = 0;
  // How many more bytes to read before calling again: the rest of the fixed header (a lower
  // bound: 1 per missing Remaining Length byte) or the rest of the packet; 0 when the whole packet
  // is buffered (its bytes are the first `packet_bytes` of the buffer).
  size_t need_more_bytes = 0;

  bool complete() const { return packet_bytes != 0 && need_more_bytes == 0; }
};

// Frames the packet at the front of `buffered`. Checks the fixed header (packet type, flags,
// Remaining Length) as soon as its bytes are there and refuses a packet of more than
// `max_packet_bytes` (the Maximum Packet Size this side announced, fixed header included) with
// ResourceExhausted before any of its body is needed. AUTH is accepted here whatever the version.
[[nodiscard]] absl::StatusOr<Framing> FramePacket(std::string_view buffered,
                                                  size_t max_packet_bytes);

// The fixed header of `packet`, which must be exactly one whole packet (InvalidArgument if it is
// cut short or longer). Decoders start with this.
[[nodiscard]] absl::StatusOr<FixedHeader> ParsePacketHeader(std::string_view packet);

// The flags a packet of `type` must carry (PUBLISH: any valid combination, returns 0).
uint8_t RequiredFlags(PacketType type);

// A packet: the fixed header for `type`, `flags` and body.size(), then `body`. The caller keeps
// body.size() <= kMaxVariableByteInt (encoders check).
std::string MakePacket(PacketType type, uint8_t flags, std::string_view body);

}  // namespace nobus::mqtt
