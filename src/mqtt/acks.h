// The small packets: PUBACK / PUBREC / PUBREL / PUBCOMP (MQTT 5.0 3.4-3.7), DISCONNECT (3.14),
// AUTH (3.15, 5.0 only), PINGREQ / PINGRESP (3.12, 3.13).
//
//   PUBACK..PUBCOMP: packet identifier (2 bytes, non-zero) | v5: reason code | v5: properties.
//     5.0 short forms: Remaining Length 2 = Success without properties, 3 = a reason code without
//     properties. 3.1.1: the packet identifier only. PUBREL's fixed header flags are 0b0010.
//   DISCONNECT: 3.1.1: nothing. 5.0: reason code | properties; Remaining Length 0 = Normal
//     disconnection, 1 = a reason code without properties.
//   AUTH: reason code | properties; Remaining Length 0 = Success, 1 = no properties.
//   PINGREQ, PINGRESP: nothing.
//
// Decoders refuse (reason_code.h): InvalidArgument for a reason code the packet may not carry
// (reason_code.h IsValidReasonCode), bytes after the end, AUTH on a 3.1.1 connection, and the
// malformed properties of properties.h; FailedPrecondition for Packet Identifier 0 and the
// property rules. Encoders use the short forms, and on 5.0 leave out the Reason String and User
// Properties when the packet would exceed the peer's Maximum Packet Size (`max_packet_bytes`).
// Pure functions, thread-safe, no I/O; views point into the caller's packet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mqtt/fixed_header.h"
#include "mqtt/properties.h"
#include "mqtt/reason_code.h"

namespace nobus::mqtt {

// PUBACK, PUBREC, PUBREL or PUBCOMP.
struct Ack {
  PacketType type = PacketType::kPuback;
  uint16_t packet_id = 0;
  ReasonCode reason = ReasonCode::kSuccess;  // 5.0 only
  Properties properties;                     // 5.0 only: Reason String, User Properties
  bool operator==(const Ack&) const = default;
};

struct Disconnect {
  ReasonCode reason = ReasonCode::kSuccess;  // 5.0 only (0 = Normal disconnection)
  Properties properties;  // 5.0 only: Session Expiry Interval, Reason String, User Properties,
                          // Server Reference
  bool operator==(const Disconnect&) const = default;
};

struct Auth {
  ReasonCode reason = ReasonCode::kSuccess;  // Success, Continue authentication, Re-authenticate
  Properties properties;  // Authentication Method / Data, Reason String, User Properties
  bool operator==(const Auth&) const = default;
};

struct Pingreq {
  bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
  bool operator==(const Pingresp&) const = default;
};

// One whole PUBACK, PUBREC, PUBREL or PUBCOMP packet (ack.type tells which).
[[nodiscard]] absl::StatusOr<Ack> DecodeAck(std::string_view packet, Version version);
// A temporary would leave the views of the decoded packet dangling: keep the bytes in a variable.
absl::StatusOr<Ack> DecodeAck(std::string&& packet, Version version) = delete;
// a.type must be one of the four (PUBACK is written otherwise).
std::string EncodeAck(const Ack& a, Version version,
                      std::optional<uint32_t> max_packet_bytes = std::nullopt);

[[nodiscard]] absl::StatusOr<Disconnect> DecodeDisconnect(std::string_view packet,
                                                          Version version);
absl::StatusOr<Disconnect> DecodeDisconnect(std::string&& packet, Version version) = delete;
// In 3.1.1 (where only a client sends DISCONNECT) the two bytes e0 00.
std::string EncodeDisconnect(const Disconnect& d, Version version,
                             std::optional<uint32_t> max_packet_bytes = std::nullopt);

[[nodiscard]] absl::StatusOr<Auth> DecodeAuth(std::string_view packet, Version version);
absl::StatusOr<Auth> DecodeAuth(std::string&& packet, Version version) = delete;
std::string EncodeAuth(const Auth& a, std::optional<uint32_t> max_packet_bytes = std::nullopt);

[[nodiscard]] absl::StatusOr<Pingreq> DecodePingreq(std::string_view packet);
[[nodiscard]] absl::StatusOr<Pingresp> DecodePingresp(std::string_view packet);
std::string EncodePingreq();   // c0 00
std::string EncodePingresp();  // d0 00

}  // namespace nobus::mqtt
