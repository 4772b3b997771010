#include "mqtt/acks.h"

#include "mqtt/internal.h"
#include "mqtt/wire.h"

namespace nobus::mqtt {
namespace {

bool IsAckType(PacketType t) {
  return t == PacketType::kPuback || t == PacketType::kPubrec || t == PacketType::kPubrel ||
         t == PacketType::kPubcomp;
}

PropertyContext ContextOf(PacketType t) {
  switch (t) {
    case PacketType::kPubrec: return PropertyContext::kPubrec;
    case PacketType::kPubrel: return PropertyContext::kPubrel;
    case PacketType::kPubcomp: return PropertyContext::kPubcomp;
    case PacketType::kDisconnect: return PropertyContext::kDisconnect;
    case PacketType::kAuth: return PropertyContext::kAuth;
    default: return PropertyContext::kPuback;
  }
}

// The optional 5.0 tail shared by the acks, DISCONNECT and AUTH: nothing (Success), a reason
// code, or a reason code and properties; then the end of the packet.
absl::Status ReadReasonTail(Reader& r, PacketType type, ReasonCode& reason, Properties& props) {
  if (r.empty()) return absl::OkStatus();
  const size_t at = r.position();
  NOBUS_ASSIGN_OR_RETURN(uint8_t code, r.Byte("reason code"));
  reason = static_cast<ReasonCode>(code);
  if (!IsValidReasonCode(type, reason)) {
    return r.Malformed(at, "reason code", "Byte",
                       Cat(Hex(code), " is not a reason code of ", PacketTypeName(type)));
  }
  if (!r.empty()) {
    NOBUS_ASSIGN_OR_RETURN(props, ReadProperties(r, ContextOf(type)));
  }
  return r.ExpectEnd("properties");
}

// The 5.0 tail in its shortest form: nothing for Success without properties, the reason code
// alone without properties.
void WriteReasonTail(Writer& w, ReasonCode reason, const Properties& p) {
  if (reason == ReasonCode::kSuccess && p.empty()) return;
  w.Byte(static_cast<uint8_t>(reason));
  if (!p.empty()) WriteProperties(w, p);
}

absl::Status ExpectEmpty(std::string_view packet, PacketType type) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, internal::ExpectHeader(packet, type));
  Reader r(packet, PacketTypeName(type), h.header_bytes);
  return r.ExpectEnd("fixed header");
}

}  // namespace

absl::StatusOr<Ack> DecodeAck(std::string_view packet, Version version) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, ParsePacketHeader(packet));
  if (!IsAckType(h.type)) {
    return absl::InvalidArgumentError(Cat("malformed packet: expected PUBACK, PUBREC, PUBREL or "
                                          "PUBCOMP, got ", PacketTypeName(h.type), " at byte 0"));
  }
  Reader r(packet, PacketTypeName(h.type), h.header_bytes);
  Ack a{.type = h.type};
  const size_t id_at = r.position();
  NOBUS_ASSIGN_OR_RETURN(a.packet_id, r.TwoByteInt("packet identifier"));
  if (a.packet_id == 0) {
    return r.ProtocolError(id_at, "packet identifier", "Two Byte Integer", "0");
  }
  if (version == Version::kV311) {
    NOBUS_RETURN_IF_ERROR(r.ExpectEnd("packet identifier"));
    return a;
  }
  NOBUS_RETURN_IF_ERROR(ReadReasonTail(r, h.type, a.reason, a.properties));
  return a;
}

std::string EncodeAck(const Ack& a, Version version, std::optional<uint32_t> max_packet_bytes) {
  const PacketType type = IsAckType(a.type) ? a.type : PacketType::kPuback;
  const auto encode = [&](const Properties& p) {
    std::string body;
    Writer w(&body);
    w.TwoByteInt(a.packet_id);
    if (version == Version::kV5) WriteReasonTail(w, a.reason, p);
    return MakePacket(type, RequiredFlags(type), body);
  };
  if (version == Version::kV311) return encode(Properties());
  return internal::EncodeWithin(a.properties, max_packet_bytes, encode);
}

absl::StatusOr<Disconnect> DecodeDisconnect(std::string_view packet, Version version) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, internal::ExpectHeader(packet, PacketType::kDisconnect));
  Reader r(packet, "DISCONNECT", h.header_bytes);
  Disconnect d;
  if (version == Version::kV311) {
    NOBUS_RETURN_IF_ERROR(r.ExpectEnd("fixed header"));
    return d;
  }
  NOBUS_RETURN_IF_ERROR(ReadReasonTail(r, PacketType::kDisconnect, d.reason, d.properties));
  return d;
}

std::string EncodeDisconnect(const Disconnect& d, Version version,
                             std::optional<uint32_t> max_packet_bytes) {
  if (version == Version::kV311) return MakePacket(PacketType::kDisconnect, 0, "");
  return internal::EncodeWithin(d.properties, max_packet_bytes, [&](const Properties& p) {
    std::string body;
    Writer w(&body);
    WriteReasonTail(w, d.reason, p);
    return MakePacket(PacketType::kDisconnect, 0, body);
  });
}

absl::StatusOr<Auth> DecodeAuth(std::string_view packet, Version version) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, internal::ExpectHeader(packet, PacketType::kAuth));
  if (version == Version::kV311) return internal::NotInV311(PacketType::kAuth);
  Reader r(packet, "AUTH", h.header_bytes);
  Auth a;
  NOBUS_RETURN_IF_ERROR(ReadReasonTail(r, PacketType::kAuth, a.reason, a.properties));
  if (a.properties.authentication_data && !a.properties.authentication_method) {
    return r.ProtocolError(h.header_bytes, "properties", "",
                           "Authentication Data without an Authentication Method");
  }
  return a;
}

std::string EncodeAuth(const Auth& a, std::optional<uint32_t> max_packet_bytes) {
  return internal::EncodeWithin(a.properties, max_packet_bytes, [&](const Properties& p) {
    std::string body;
    Writer w(&body);
    WriteReasonTail(w, a.reason, p);
    return MakePacket(PacketType::kAuth, 0, body);
  });
}

absl::StatusOr<Pingreq> DecodePingreq(std::string_view packet) {
  NOBUS_RETURN_IF_ERROR(ExpectEmpty(packet, PacketType::kPingreq));
  return Pingreq{};
}

absl::StatusOr<Pingresp> DecodePingresp(std::string_view packet) {
  NOBUS_RETURN_IF_ERROR(ExpectEmpty(packet, PacketType::kPingresp));
  return Pingresp{};
}

std::string EncodePingreq() { return MakePacket(PacketType::kPingreq, 0, ""); }
std::string EncodePingresp() { return MakePacket(PacketType::kPingresp, 0, ""); }

}  // namespace nobus::mqtt
