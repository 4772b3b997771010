#include "mqtt/packets.h"

#include <type_traits>

namespace nobus::mqtt {
namespace {

template <typename T>
absl::StatusOr<Packet> Widen(absl::StatusOr<T> v) {
  if (!v.ok()) return std::move(v).status();
  return Packet(*std::move(v));
}

}  // namespace

PacketType TypeOf(const Packet& p) {
  return std::visit(
      [](const auto& v) -> PacketType {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Connect>) return PacketType::kConnect;
        if constexpr (std::is_same_v<T, Connack>) return PacketType::kConnack;
        if constexpr (std::is_same_v<T, Publish>) return PacketType::kPublish;
        if constexpr (std::is_same_v<T, Ack>) return v.type;
        if constexpr (std::is_same_v<T, Subscribe>) return PacketType::kSubscribe;
        if constexpr (std::is_same_v<T, Suback>) return PacketType::kSuback;
        if constexpr (std::is_same_v<T, Unsubscribe>) return PacketType::kUnsubscribe;
        if constexpr (std::is_same_v<T, Unsuback>) return PacketType::kUnsuback;
        if constexpr (std::is_same_v<T, Pingreq>) return PacketType::kPingreq;
        if constexpr (std::is_same_v<T, Pingresp>) return PacketType::kPingresp;
        if constexpr (std::is_same_v<T, Disconnect>) return PacketType::kDisconnect;
        if constexpr (std::is_same_v<T, Auth>) return PacketType::kAuth;
      },
      p);
}

absl::StatusOr<Packet> DecodePacket(std::string_view packet, Version version) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, ParsePacketHeader(packet));
  switch (h.type) {
    case PacketType::kConnect: return Widen(DecodeConnect(packet));
    case PacketType::kConnack: return Widen(DecodeConnack(packet, version));
    case PacketType::kPublish: return Widen(DecodePublish(packet, version));
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp: return Widen(DecodeAck(packet, version));
    case PacketType::kSubscribe: return Widen(DecodeSubscribe(packet, version));
    case PacketType::kSuback: return Widen(DecodeSuback(packet, version));
    case PacketType::kUnsubscribe: return Widen(DecodeUnsubscribe(packet, version));
    case PacketType::kUnsuback: return Widen(DecodeUnsuback(packet, version));
    case PacketType::kPingreq: return Widen(DecodePingreq(packet));
    case PacketType::kPingresp: return Widen(DecodePingresp(packet));
    case PacketType::kDisconnect: return Widen(DecodeDisconnect(packet, version));
    case PacketType::kAuth: return Widen(DecodeAuth(packet, version));
  }
  return absl::InvalidArgumentError("malformed packet: reserved packet type 0 at byte 0");
}

absl::StatusOr<std::string> EncodePacket(const Packet& p, Version version,
                                         std::optional<uint32_t> max_packet_bytes) {
  return std::visit(
      [&](const auto& v) -> absl::StatusOr<std::string> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Connect>) return EncodeConnect(v);
        if constexpr (std::is_same_v<T, Connack>) return EncodeConnack(v, version, max_packet_bytes);
        if constexpr (std::is_same_v<T, Publish>) return EncodePublish(v, version);
        if constexpr (std::is_same_v<T, Ack>) return EncodeAck(v, version, max_packet_bytes);
        if constexpr (std::is_same_v<T, Subscribe>) return EncodeSubscribe(v, version);
        if constexpr (std::is_same_v<T, Suback>) return EncodeSuback(v, version, max_packet_bytes);
        if constexpr (std::is_same_v<T, Unsubscribe>) return EncodeUnsubscribe(v, version);
        if constexpr (std::is_same_v<T, Unsuback>) {
          return EncodeUnsuback(v, version, max_packet_bytes);
        }
        if constexpr (std::is_same_v<T, Pingreq>) return EncodePingreq();
        if constexpr (std::is_same_v<T, Pingresp>) return EncodePingresp();
        if constexpr (std::is_same_v<T, Disconnect>) {
          return EncodeDisconnect(v, version, max_packet_bytes);
        }
        if constexpr (std::is_same_v<T, Auth>) return EncodeAuth(v, max_packet_bytes);
      },
      p);
}

}  // namespace nobus::mqtt
