// The front door of the MQTT codec: every packet type as one std::variant, decoded and encoded
// by type. The endpoint's read loop:
//
//   FramePacket(buffered, max_packet_bytes)          // fixed_header.h: need more, or a size
//   first packet: DecodeConnect(packet)              // connect.h: the connection's version
//   later:        DecodePacket(packet, version)      // any packet, checked for that version
//   on error:     ReasonCodeFor(status)              // reason_code.h: 0x81, 0x82, 0x84, 0x95
//
// Decoding is direction-agnostic: DecodePacket accepts every type, including those only a server
// sends (CONNACK, SUBACK, ...); the endpoint refuses the ones a client may not send. Each packet's
// rules are in its header (connect.h, publish.h, acks.h, subscribe.h); errors follow the table in
// reason_code.h. Pure functions, thread-safe, no I/O; a decoded Packet's views point into the
// caller's bytes, which must outlive it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/status.h"
#include "mqtt/acks.h"
#include "mqtt/connect.h"
#include "mqtt/fixed_header.h"
#include "mqtt/publish.h"
#include "mqtt/reason_code.h"
#include "mqtt/subscribe.h"

namespace nobus::mqtt {

using Packet = std::variant<Connect, Connack, Publish, Ack, Subscribe, Suback, Unsubscribe,
                            Unsuback, Pingreq, Pingresp, Disconnect, Auth>;

// The packet type of `p` (an Ack's own type).
PacketType TypeOf(const Packet& p);

// Decodes one whole packet (as FramePacket delimited it) on a connection of `version`. A
// CONNECT is decoded with its own version (DecodeConnect) whatever `version` says.
[[nodiscard]] absl::StatusOr<Packet> DecodePacket(std::string_view packet, Version version);
// A temporary would leave the views of the decoded packet dangling: keep the bytes in a variable.
absl::StatusOr<Packet> DecodePacket(std::string&& packet, Version version) = delete;

// Encodes `p` for a connection of `version` (a Connect with its own version). `max_packet_bytes`
// (the peer's Maximum Packet Size) applies to the 5.0 packets with a Reason String, as in their
// encoders. Errors only from EncodePublish (a packet too large to encode).
[[nodiscard]] absl::StatusOr<std::string> EncodePacket(
    const Packet& p, Version version, std::optional<uint32_t> max_packet_bytes = std::nullopt);

}  // namespace nobus::mqtt
