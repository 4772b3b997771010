// PUBLISH (MQTT 5.0 3.3, 3.1.1 3.3): the packet that carries a record to the endpoint.
//
//   fixed header flags: DUP (bit 3), QoS (bits 2-1: 0, 1 or 2), RETAIN (bit 0)
//   topic name (UTF-8 String) | packet identifier (2 bytes, QoS 1 and 2 only) | v5: properties
//   | payload: every byte left (may be empty)
//
// DecodePublish refuses (reason_code.h): InvalidArgument for QoS 3, DUP on a QoS 0 message, a
// Topic Name with a wildcard ('+', '#') or ill-formed UTF-8, an empty Topic Name in 3.1.1, and
// the malformed properties of properties.h; FailedPrecondition for Packet Identifier 0, an empty
// Topic Name without a Topic Alias (5.0) and the property rules. It does not judge what is legal
// but unwanted: a Topic Alias the endpoint did not allow (0x94), a Subscription Identifier sent
// by a client (MQTT-3.3.4-6: a Protocol Error), a Payload Format Indicator of 1 on a payload that
// is no UTF-8 (0x99, IsMqttUtf8 in wire.h), QoS 2 or RETAIN the endpoint does not support.
// Pure functions, thread-safe, no I/O; views point into the caller's packet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mqtt/fixed_header.h"
#include "mqtt/properties.h"

namespace nobus::mqtt {

struct Publish {
  bool dup = false;
  uint8_t qos = 0;  // 0, 1 or 2
  bool retain = false;
  std::string_view topic;  // empty only in 5.0 with properties.topic_alias
  uint16_t packet_id = 0;  // non-zero for QoS 1 and 2; 0 for QoS 0
  Properties properties;   // 5.0 only
  std::string_view payload;
  bool operator==(const Publish&) const = default;
};

// Decodes one whole PUBLISH packet on a connection of `version`.
[[nodiscard]] absl::StatusOr<Publish> DecodePublish(std::string_view packet, Version version);
// A temporary would leave the views of the decoded packet dangling: keep the bytes in a variable.
absl::StatusOr<Publish> DecodePublish(std::string&& packet, Version version) = delete;

// Encodes `p` (packet_id only for QoS > 0, properties only in 5.0). InvalidArgument if the topic
// is longer than 65,535 bytes or the packet exceeds the largest Remaining Length.
[[nodiscard]] absl::StatusOr<std::string> EncodePublish(const Publish& p, Version version);

}  // namespace nobus::mqtt
