// CONNECT and CONNACK (MQTT 5.0 3.1 / 3.2, 3.1.1 3.1 / 3.2). CONNECT is the first packet of a
// connection and carries its protocol version; the endpoint decodes it with DecodeConnect and
// passes connect.version to the decoder of every later packet.
//
//   CONNECT: protocol name "MQTT" | protocol level 4 or 5 | connect flags (user name 7, password 6,
//     will retain 5, will QoS 4-3, will 2, clean start 1, reserved 0 = 0) | keep alive (2 bytes)
//     | v5: properties | payload: client identifier | will: (v5: will properties) will topic,
//     will payload (binary) | user name | password (binary)
//   CONNACK: acknowledge flags (session present bit 0, others 0) | 3.1.1 return code / 5.0
//     reason code | v5: properties
//
// DecodeConnect refuses (reason_code.h): Unimplemented for another protocol name or level (MQTT
// 3.1's "MQIsdp" level 3 included); InvalidArgument for a malformed packet (reserved flag, Will
// QoS 3, Will QoS or Retain without the Will Flag, in 3.1.1 a password without a user name, a Will
// Topic that is no valid Topic Name, bytes after the payload, ...); FailedPrecondition for
// Authentication Data without an Authentication Method and the property rules of properties.h.
// Policy (client id length, keep alive range, credentials) is the endpoint's. Pure functions,
// thread-safe, no I/O; views in a decoded packet point into the caller's bytes.
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

struct Will {
  Properties properties;  // 5.0 Will Properties
  std::string_view topic;
  std::string_view payload;  // binary
  uint8_t qos = 0;
  bool retain = false;
  bool operator==(const Will&) const = default;
};

struct Connect {
  Version version = Version::kV5;
  bool clean_start = false;  // Clean Session in 3.1.1
  uint16_t keep_alive_s = 0;
  Properties properties;       // 5.0 only
  std::string_view client_id;  // may be empty
  std::optional<Will> will;
  std::optional<std::string_view> username;
  std::optional<std::string_view> password;  // binary
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;  // written only with kSuccess (MQTT-3.2.2-4 / 3.2.2-6)
  // The 5.0 reason code; on 3.1.1 it is written as V311ConnackReturnCode(reason), and a decoded
  // 3.1.1 return code reads as kSuccess, kUnsupportedProtocolVersion, kClientIdentifierNotValid,
  // kServerUnavailable, kBadUserNameOrPassword or kNotAuthorized.
  ReasonCode reason = ReasonCode::kSuccess;
  Properties properties;  // 5.0 only
  bool operator==(const Connack&) const = default;
};

// Decodes one whole CONNECT packet (fixed header included), of either version.
[[nodiscard]] absl::StatusOr<Connect> DecodeConnect(std::string_view packet);
// A temporary would leave the views of the decoded packet dangling: keep the bytes in a variable.
absl::StatusOr<Connect> DecodeConnect(std::string&& packet) = delete;

// The protocol level byte of a CONNECT packet, read without checking anything after it: lets the
// endpoint answer a CONNECT that DecodeConnect refused in the CONNACK format the client reads
// (level 5: a 5.0 CONNACK with ReasonCodeFor(status); otherwise a 3.1.1 CONNACK for Unimplemented
// and no CONNACK for the rest). nullopt if the packet is no CONNECT or too short.
std::optional<uint8_t> PeekProtocolLevel(std::string_view packet);

// Encodes a CONNECT of c.version (a client's packet: for tests). Strings longer than 65,535
// bytes are cut.
std::string EncodeConnect(const Connect& c);

// Encodes a CONNACK. In 5.0, if the packet would exceed the client's Maximum Packet Size
// (`max_packet_bytes`, its CONNECT property), the Reason String and User Properties are left out.
std::string EncodeConnack(const Connack& c, Version version,
                          std::optional<uint32_t> max_packet_bytes = std::nullopt);
[[nodiscard]] absl::StatusOr<Connack> DecodeConnack(std::string_view packet, Version version);
absl::StatusOr<Connack> DecodeConnack(std::string&& packet, Version version) = delete;

}  // namespace nobus::mqtt
