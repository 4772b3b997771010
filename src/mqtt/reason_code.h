// MQTT 5.0 reason codes (section 2.4), which of them each packet may carry, and the one error
// mechanism of the codec: a decode error is an absl::Status whose code says which reason code
// the endpoint answers with (ReasonCodeFor), and whose message says precisely what was wrong
// (packet, field, data type, byte offset):
//
//   status              reason code                          when
//   InvalidArgument     0x81 Malformed Packet                the bytes cannot be parsed per the
//                       specification: truncated, a bad Remaining Length or length prefix,
//                       reserved flags or bits, QoS 3, ill-formed UTF-8 or U+0000, a wildcard in
//                       a Topic Name, a property unknown or not allowed in the packet, a property
//                       section longer than the packet, a reason code the packet may not carry,
//                       inconsistent Will flags, bytes after the end
//   FailedPrecondition  0x82 Protocol Error                  parsed, but a value the protocol
//                       forbids: Packet Identifier 0, a property repeated, a property value out
//                       of range (Receive Maximum 0, Topic Alias 0, ...), an empty Topic Name
//                       without a Topic Alias, Authentication Data without a Method, a SUBSCRIBE
//                       or UNSUBSCRIBE without a Topic Filter
//   Unimplemented       0x84 Unsupported Protocol Version    CONNECT with a protocol name or
//                       level other than "MQTT" 4 or 5 (MQTT 3.1 "MQIsdp" 3 included)
//   ResourceExhausted   0x95 Packet too large                FramePacket over the maximum size
//   anything else       0x80 Unspecified error
//
// On a 5.0 connection the endpoint sends CONNACK (before the connection is accepted) or DISCONNECT
// with that reason code, then closes. MQTT 3.1.1 has no reason codes: the endpoint closes the
// connection, except for Unimplemented on CONNECT, answered with CONNACK return code 0x01
// (EncodeConnack maps ReasonCode::kUnsupportedProtocolVersion to it). connect.h
// PeekProtocolLevel tells which CONNACK format a refused CONNECT understands.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "mqtt/fixed_header.h"

namespace nobus::mqtt {

enum class ReasonCode : uint8_t {
  kSuccess = 0x00,  // also Normal disconnection (DISCONNECT) and Granted QoS 0 (SUBACK)
  kGrantedQos1 = 0x01,
  kGrantedQos2 = 0x02,
  kDisconnectWithWillMessage = 0x04,
  kNoMatchingSubscribers = 0x10,
  kNoSubscriptionExisted = 0x11,
  kContinueAuthentication = 0x18,
  kReAuthenticate = 0x19,
  kUnspecifiedError = 0x80,
  kMalformedPacket = 0x81,
  kProtocolError = 0x82,
  kImplementationSpecificError = 0x83,
  kUnsupportedProtocolVersion = 0x84,
  kClientIdentifierNotValid = 0x85,
  kBadUserNameOrPassword = 0x86,
  kNotAuthorized = 0x87,
  kServerUnavailable = 0x88,
  kServerBusy = 0x89,
  kBanned = 0x8A,
  kServerShuttingDown = 0x8B,
  kBadAuthenticationMethod = 0x8C,
  kKeepAliveTimeout = 0x8D,
  kSessionTakenOver = 0x8E,
  kTopicFilterInvalid = 0x8F,
  kTopicNameInvalid = 0x90,
  kPacketIdentifierInUse = 0x91,
  kPacketIdentifierNotFound = 0x92,
  kReceiveMaximumExceeded = 0x93,
  kTopicAliasInvalid = 0x94,
  kPacketTooLarge = 0x95,
  kMessageRateTooHigh = 0x96,
  kQuotaExceeded = 0x97,
  kAdministrativeAction = 0x98,
  kPayloadFormatInvalid = 0x99,
  kRetainNotSupported = 0x9A,
  kQosNotSupported = 0x9B,
  kUseAnotherServer = 0x9C,
  kServerMoved = 0x9D,
  kSharedSubscriptionsNotSupported = 0x9E,
  kConnectionRateExceeded = 0x9F,
  kMaximumConnectTime = 0xA0,
  kSubscriptionIdentifiersNotSupported = 0xA1,
  kWildcardSubscriptionsNotSupported = 0xA2,
};

// "Success", "Malformed Packet", ...; "unknown" for a value that is no reason code. Static.
std::string_view ReasonCodeName(ReasonCode code);

// Whether a 5.0 packet of `type` may carry `code` (the packet column of the table in 2.4):
// CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH; false for the
// other types. Decoders refuse any other value as malformed.
bool IsValidReasonCode(PacketType type, ReasonCode code);

// The reason code for a decode error, by the table above; kSuccess for OK. Annotate() keeps the
// status code, so annotated errors map the same.
ReasonCode ReasonCodeFor(const absl::Status& status);

// MQTT 3.1.1 CONNACK return codes and SUBACK return codes from a 5.0 reason code:
//   CONNACK: 0x00 -> 0 (accepted), 0x84 -> 1 (unacceptable protocol version), 0x85 -> 2
//   (identifier rejected), 0x86 -> 4 (bad user name or password), 0x87 / 0x8A / 0x8C -> 5 (not
//   authorized), any other -> 3 (server unavailable);
//   SUBACK: 0x00-0x02 -> the granted QoS, any other -> 0x80 (failure).
uint8_t V311ConnackReturnCode(ReasonCode code);
uint8_t V311SubackReturnCode(ReasonCode code);

}  // namespace nobus::mqtt
