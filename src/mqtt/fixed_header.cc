#include "mqtt/fixed_header.h"

#include "mqtt/wire.h"

namespace nobus::mqtt {
namespace {

absl::Status Malformed(std::string_view what, std::string_view problem) {
  return absl::InvalidArgumentError(Cat("malformed ", what, ": ", problem));
}

// Checks the first byte: the type and its flags.
absl::Status CheckFirstByte(uint8_t first) {
  const auto type = static_cast<PacketType>(first >> 4);
  const uint8_t flags = first & 0x0f;
  if (first >> 4 == 0) return Malformed("fixed header", "reserved packet type 0 at byte 0");
  if (type == PacketType::kPublish) {
    if (((flags >> 1) & 0x03) == 3) {
      return Malformed("PUBLISH", "fixed header flags at byte 0: QoS 3");
    }
    return absl::OkStatus();
  }
  if (flags != RequiredFlags(type)) {
    return Malformed(PacketTypeName(type), Cat("fixed header flags at byte 0: ", Hex(flags),
                                               ", must be ", Hex(RequiredFlags(type))));
  }
  return absl::OkStatus();
}

// The Remaining Length at `bytes[1..]`: its value and size, or nullopt if cut short.
struct Length {
  uint32_t value = 0;
  uint8_t bytes = 0;
};
absl::StatusOr<std::optional<Length>> ParseLength(std::string_view bytes) {
  Length len;
  for (size_t i = 1; i <= 4; ++i) {
    if (i >= bytes.size()) return std::nullopt;
    const uint8_t b = static_cast<uint8_t>(bytes[i]);
    len.value |= static_cast<uint32_t>(b & 0x7f) << (7 * (i - 1));
    if ((b & 0x80) != 0) continue;
    if (i > 1 && b == 0) {
      return Malformed("fixed header", Cat("Remaining Length (Variable Byte Integer) at byte 1: "
                                           "not in its shortest form (", i, " bytes)"));
    }
    len.bytes = static_cast<uint8_t>(i);
    return len;
  }
  return Malformed("fixed header",
                   "Remaining Length (Variable Byte Integer) at byte 1: longer than 4 bytes");
}

}  // namespace

std::string_view PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kConnect: return "CONNECT";
    case PacketType::kConnack: return "CONNACK";
    case PacketType::kPublish: return "PUBLISH";
    case PacketType::kPuback: return "PUBACK";
    case PacketType::kPubrec: return "PUBREC";
    case PacketType::kPubrel: return "PUBREL";
    case PacketType::kPubcomp: return "PUBCOMP";
    case PacketType::kSubscribe: return "SUBSCRIBE";
    case PacketType::kSuback: return "SUBACK";
    case PacketType::kUnsubscribe: return "UNSUBSCRIBE";
    case PacketType::kUnsuback: return "UNSUBACK";
    case PacketType::kPingreq: return "PINGREQ";
    case PacketType::kPingresp: return "PINGRESP";
    case PacketType::kDisconnect: return "DISCONNECT";
    case PacketType::kAuth: return "AUTH";
  }
  return "type 0";
}

std::string_view VersionName(Version v) { return v == Version::kV5 ? "5.0" : "3.1.1"; }

uint8_t RequiredFlags(PacketType type) {
  switch (type) {
    case PacketType::kPubrel:
    case PacketType::kSubscribe:
    case PacketType::kUnsubscribe: return 0x02;
    default: return 0;
  }
}

absl::StatusOr<Framing> FramePacket(std::string_view buffered, size_t max_packet_bytes) {
  if (buffered.empty()) return Framing{.need_more_bytes = 2};
  NOBUS_RETURN_IF_ERROR(CheckFirstByte(static_cast<uint8_t>(buffered[0])));
  NOBUS_ASSIGN_OR_RETURN(std::optional<Length> len, ParseLength(buffered));
  if (!len) return Framing{.need_more_bytes = 1};
  const size_t packet_bytes = size_t{1} + len->bytes + len->value;
  if (packet_bytes > max_packet_bytes) {
    return absl::ResourceExhaustedError(
        Cat(PacketTypeName(static_cast<PacketType>(buffered[0] >> 4 & 0x0f)), " packet of ",
            packet_bytes, " bytes (Remaining Length ", len->value,
            ") exceeds the maximum packet size of ", max_packet_bytes, " bytes"));
  }
  return Framing{.packet_bytes = packet_bytes,
                 .need_more_bytes = packet_bytes > buffered.size() ? packet_bytes - buffered.size()
                                                                   : 0};
}

absl::StatusOr<FixedHeader> ParsePacketHeader(std::string_view packet) {
  if (packet.empty()) return Malformed("fixed header", "no bytes");
  NOBUS_RETURN_IF_ERROR(CheckFirstByte(static_cast<uint8_t>(packet[0])));
  FixedHeader h;
  h.type = static_cast<PacketType>(static_cast<uint8_t>(packet[0]) >> 4);
  h.flags = static_cast<uint8_t>(packet[0]) & 0x0f;
  NOBUS_ASSIGN_OR_RETURN(std::optional<Length> len, ParseLength(packet));
  if (!len) {
    return Malformed(PacketTypeName(h.type), "Remaining Length (Variable Byte Integer) at byte 1: "
                                             "truncated");
  }
  h.remaining_length = len->value;
  h.header_bytes = static_cast<uint8_t>(1 + len->bytes);
  if (h.packet_bytes() != packet.size()) {
    return Malformed(PacketTypeName(h.type),
                     Cat("Remaining Length ", h.remaining_length, " at byte 1 says ",
                         h.packet_bytes(), " bytes, the packet has ", packet.size()));
  }
  return h;
}

std::string MakePacket(PacketType type, uint8_t flags, std::string_view body) {
  std::string out;
  out.reserve(5 + body.size());
  Writer w(&out);
  w.Byte(static_cast<uint8_t>((static_cast<uint8_t>(type) << 4) | (flags & 0x0f)));
  w.VariableByteInt(static_cast<uint32_t>(body.size()));
  w.Raw(body);
  return out;
}

}  // namespace nobus::mqtt
