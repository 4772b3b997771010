// MQTT 5.0 properties (section 2.2.2): the Property Length (Variable Byte Integer), then
// identifier / value pairs. Each identifier is allowed only in some packets (and in the Will
// Properties of CONNECT), has one data type (Byte, Two / Four Byte Integer, Variable Byte Integer,
// UTF-8 String, Binary Data, UTF-8 String Pair) and, except User Property (anywhere) and
// Subscription Identifier (in PUBLISH), may appear at most once.
//
// Decoding (ReadProperties) refuses, with the status codes of reason_code.h:
//   InvalidArgument (Malformed Packet): an unknown identifier, one not allowed in this packet, a
//     value cut short or not of its type (ill-formed UTF-8), a section longer than the packet,
//     a Response Topic that is no valid Topic Name;
//   FailedPrecondition (Protocol Error): a repeated property, and the values the specification
//     forbids: Receive Maximum, Maximum Packet Size, Topic Alias or Subscription Identifier 0, a
//     Byte that must be 0 or 1 (Payload Format Indicator, Request Problem / Response Information,
//     Maximum QoS, the *Available bytes) with another value.
// Views in a decoded Properties point into the packet. Pure functions, thread-safe, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mqtt/wire.h"

namespace nobus::mqtt {

enum class PropertyId : uint8_t {
  kPayloadFormatIndicator = 0x01,
  kMessageExpiryInterval = 0x02,
  kContentType = 0x03,
  kResponseTopic = 0x08,
  kCorrelationData = 0x09,
  kSubscriptionIdentifier = 0x0B,
  kSessionExpiryInterval = 0x11,
  kAssignedClientIdentifier = 0x12,
  kServerKeepAlive = 0x13,
  kAuthenticationMethod = 0x15,
  kAuthenticationData = 0x16,
  kRequestProblemInformation = 0x17,
  kWillDelayInterval = 0x18,
  kRequestResponseInformation = 0x19,
  kResponseInformation = 0x1A,
  kServerReference = 0x1C,
  kReasonString = 0x1F,
  kReceiveMaximum = 0x21,
  kTopicAliasMaximum = 0x22,
  kTopicAlias = 0x23,
  kMaximumQos = 0x24,
  kRetainAvailable = 0x25,
  kUserProperty = 0x26,
  kMaximumPacketSize = 0x27,
  kWildcardSubscriptionAvailable = 0x28,
  kSubscriptionIdentifierAvailable = 0x29,
  kSharedSubscriptionAvailable = 0x2A,
};

// "Session Expiry Interval", ...; "unknown property" for other values. Static strings.
std::string_view PropertyName(PropertyId id);

// Where a property section sits: a packet type, or the Will Properties of a CONNECT.
enum class PropertyContext : uint8_t {
  kConnect,
  kWill,
  kConnack,
  kPublish,
  kPuback,
  kPubrec,
  kPubrel,
  kPubcomp,
  kSubscribe,
  kSuback,
  kUnsubscribe,
  kUnsuback,
  kDisconnect,
  kAuth,
};
std::string_view PropertyContextName(PropertyContext where);  // "CONNECT", "Will Properties"

// Whether `id` may appear in `where` (MQTT 5.0 table 2-4).
bool IsPropertyAllowed(PropertyId id, PropertyContext where);

struct UserProperty {
  std::string_view name;
  std::string_view value;
  bool operator==(const UserProperty&) const = default;
};

// Every property of every packet; a decoder sets only those its packet allows. Encoders write
// every property that is set, in identifier order (User Properties in their order): set only
// those the packet allows, or the peer refuses the packet.
struct Properties {
  std::optional<uint8_t> payload_format_indicator;  // 0 unspecified bytes, 1 UTF-8
  std::optional<uint32_t> message_expiry_interval_s;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> response_topic;
  std::optional<std::string_view> correlation_data;
  std::vector<uint32_t> subscription_identifiers;  // several in PUBLISH, at most one in SUBSCRIBE
  std::optional<uint32_t> session_expiry_interval_s;
  std::optional<std::string_view> assigned_client_identifier;
  std::optional<uint16_t> server_keep_alive_s;
  std::optional<std::string_view> authentication_method;
  std::optional<std::string_view> authentication_data;
  std::optional<bool> request_problem_information;
  std::optional<uint32_t> will_delay_interval_s;
  std::optional<bool> request_response_information;
  std::optional<std::string_view> response_information;
  std::optional<std::string_view> server_reference;
  std::optional<std::string_view> reason_string;
  std::optional<uint16_t> receive_maximum;
  std::optional<uint16_t> topic_alias_maximum;
  std::optional<uint16_t> topic_alias;
  std::optional<uint8_t> maximum_qos;  // 0 or 1
  std::optional<bool> retain_available;
  std::vector<UserProperty> user_properties;  // in wire order; names may repeat
  std::optional<uint32_t> maximum_packet_size;
  std::optional<bool> wildcard_subscription_available;
  std::optional<bool> subscription_identifier_available;
  std::optional<bool> shared_subscription_available;

  bool empty() const { return *this == Properties(); }
  bool operator==(const Properties&) const = default;
};

// Reads a Property Length and the properties after it from `r`, for a section in `where`.
[[nodiscard]] absl::StatusOr<Properties> ReadProperties(Reader& r, PropertyContext where);

// Writes the Property Length and every property set in `p`.
void WriteProperties(Writer& w, const Properties& p);

// `p` without Reason String and User Properties: what a sender drops when they would take a
// packet over the peer's Maximum Packet Size (MQTT-3.1.2-25 and its siblings in every ack).
Properties WithoutDiagnostics(const Properties& p);

}  // namespace nobus::mqtt
