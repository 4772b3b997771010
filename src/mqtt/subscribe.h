// SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK (MQTT 5.0 3.8-3.11, 3.1.1 3.8-3.11). The endpoint
// takes no subscriptions, but parses them to answer each Topic Filter with a reason code (5.0:
// e.g. 0x9E Shared Subscriptions not supported, 0xA1, 0xA2, 0x87; 3.1.1: 0x80 Failure).
//
//   SUBSCRIBE (flags 0b0010): packet identifier | v5: properties | (topic filter, options)+
//     options 3.1.1: requested QoS (bits 1-0), bits 7-2 reserved = 0;
//     5.0: maximum QoS (1-0), No Local (2), Retain As Published (3), Retain Handling (5-4),
//     bits 7-6 reserved = 0
//   SUBACK: packet identifier | v5: properties | one reason code (3.1.1 return code) per filter
//   UNSUBSCRIBE (flags 0b0010): packet identifier | v5: properties | topic filter+
//   UNSUBACK: packet identifier | v5: properties | one reason code per filter (none in 3.1.1)
//
// Decoders refuse (reason_code.h): InvalidArgument for an empty Topic Filter or ill-formed UTF-8,
// reserved option bits, QoS 3 in 3.1.1, a reason code the packet may not carry, and the malformed
// properties of properties.h; FailedPrecondition for Packet Identifier 0, no Topic Filter at all,
// QoS 3 or Retain Handling 3 in 5.0, and the property rules. Wildcard placement in a filter is not
// judged here (wire.h IsValidTopicFilter; the answer is 0x8F Topic Filter invalid). Pure
// functions, thread-safe, no I/O; views point into the caller's packet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mqtt/fixed_header.h"
#include "mqtt/properties.h"
#include "mqtt/reason_code.h"

namespace nobus::mqtt {

struct Subscription {
  std::string_view filter;
  uint8_t max_qos = 0;  // 0-2
  bool no_local = false;             // 5.0 only
  bool retain_as_published = false;  // 5.0 only
  uint8_t retain_handling = 0;       // 5.0 only, 0-2
  bool operator==(const Subscription&) const = default;
};

struct Subscribe {
  uint16_t packet_id = 0;
  Properties properties;  // 5.0 only: a Subscription Identifier, User Properties
  std::vector<Subscription> subscriptions;  // at least one
  bool operator==(const Subscribe&) const = default;
};

struct Unsubscribe {
  uint16_t packet_id = 0;
  Properties properties;  // 5.0 only: User Properties
  std::vector<std::string_view> filters;  // at least one
  bool operator==(const Unsubscribe&) const = default;
};

struct Suback {
  uint16_t packet_id = 0;
  Properties properties;  // 5.0 only: Reason String, User Properties
  // One per Subscription. 3.1.1 writes V311SubackReturnCode (0x00-0x02, else 0x80) and reads
  // 0x80 as kUnspecifiedError.
  std::vector<ReasonCode> reasons;
  bool operator==(const Suback&) const = default;
};

struct Unsuback {
  uint16_t packet_id = 0;
  Properties properties;            // 5.0 only: Reason String, User Properties
  std::vector<ReasonCode> reasons;  // 5.0 only, one per filter
  bool operator==(const Unsuback&) const = default;
};

[[nodiscard]] absl::StatusOr<Subscribe> DecodeSubscribe(std::string_view packet, Version version);
// A temporary would leave the views of the decoded packet dangling: keep the bytes in a variable.
absl::StatusOr<Subscribe> DecodeSubscribe(std::string&& packet, Version version) = delete;
std::string EncodeSubscribe(const Subscribe& s, Version version);

[[nodiscard]] absl::StatusOr<Unsubscribe> DecodeUnsubscribe(std::string_view packet,
                                                            Version version);
absl::StatusOr<Unsubscribe> DecodeUnsubscribe(std::string&& packet, Version version) = delete;
std::string EncodeUnsubscribe(const Unsubscribe& u, Version version);

// On 5.0 the Reason String and User Properties are left out when the packet would exceed the
// client's Maximum Packet Size (`max_packet_bytes`).
std::string EncodeSuback(const Suback& s, Version version,
                         std::optional<uint32_t> max_packet_bytes = std::nullopt);
[[nodiscard]] absl::StatusOr<Suback> DecodeSuback(std::string_view packet, Version version);
absl::StatusOr<Suback> DecodeSuback(std::string&& packet, Version version) = delete;

std::string EncodeUnsuback(const Unsuback& u, Version version,
                           std::optional<uint32_t> max_packet_bytes = std::nullopt);
[[nodiscard]] absl::StatusOr<Unsuback> DecodeUnsuback(std::string_view packet, Version version);
absl::StatusOr<Unsuback> DecodeUnsuback(std::string&& packet, Version version) = delete;

}  // namespace nobus::mqtt
