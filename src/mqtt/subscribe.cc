#include "mqtt/subscribe.h"

#include "mqtt/internal.h"
#include "mqtt/wire.h"

namespace nobus::mqtt {
namespace {

constexpr std::string_view kOptions = "subscription options";

absl::StatusOr<uint16_t> ReadPacketId(Reader& r) {
  const size_t at = r.position();
  NOBUS_ASSIGN_OR_RETURN(uint16_t id, r.TwoByteInt("packet identifier"));
  if (id == 0) return r.ProtocolError(at, "packet identifier", "Two Byte Integer", "0");
  return id;
}

absl::StatusOr<std::string_view> ReadFilter(Reader& r) {
  const size_t at = r.position();
  NOBUS_ASSIGN_OR_RETURN(std::string_view filter, r.Utf8String("topic filter"));
  if (filter.empty()) return r.Malformed(at, "topic filter", "UTF-8 String", "empty");
  return filter;
}

absl::Status ReadOptions(Reader& r, Version version, Subscription& s) {
  const size_t at = r.position();
  NOBUS_ASSIGN_OR_RETURN(uint8_t options, r.Byte(kOptions));
  s.max_qos = options & 0x03;
  if (version == Version::kV311) {
    if (options & 0xfc) return r.Malformed(at, kOptions, "Byte", "reserved bits 7-2 set");
    if (s.max_qos == 3) return r.Malformed(at, kOptions, "Byte", "QoS 3");
    return absl::OkStatus();
  }
  if (options & 0xc0) return r.Malformed(at, kOptions, "Byte", "reserved bits 7-6 set");
  if (s.max_qos == 3) return r.ProtocolError(at, kOptions, "Byte", "Maximum QoS 3");
  s.no_local = (options & 0x04) != 0;
  s.retain_as_published = (options & 0x08) != 0;
  s.retain_handling = (options >> 4) & 0x03;
  if (s.retain_handling == 3) return r.ProtocolError(at, kOptions, "Byte", "Retain Handling 3");
  return absl::OkStatus();
}

absl::Status NoFilter(const Reader& r) {
  return r.ProtocolError(r.position(), "payload", "", "no Topic Filter");
}

// The reason codes of a SUBACK or UNSUBACK, one byte each, up to the end of the packet.
absl::StatusOr<std::vector<ReasonCode>> ReadReasons(Reader& r, PacketType type, Version version) {
  std::vector<ReasonCode> reasons;
  reasons.reserve(r.remaining());
  while (!r.empty()) {
    const size_t at = r.position();
    NOBUS_ASSIGN_OR_RETURN(uint8_t code, r.Byte(version == Version::kV5 ? "reason code"
                                                                         : "return code"));
    ReasonCode reason = static_cast<ReasonCode>(code);
    const bool valid = version == Version::kV5 ? IsValidReasonCode(type, reason)
                                               : (code <= 2 || code == 0x80);
    if (!valid) {
      return r.Malformed(at, "reason code", "Byte",
                         Cat(Hex(code), " is not a reason code of ", PacketTypeName(type)));
    }
    if (code == 0x80) reason = ReasonCode::kUnspecifiedError;
    reasons.push_back(reason);
  }
  return reasons;
}

}  // namespace

absl::StatusOr<Subscribe> DecodeSubscribe(std::string_view packet, Version version) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, internal::ExpectHeader(packet, PacketType::kSubscribe));
  Reader r(packet, "SUBSCRIBE", h.header_bytes);
  Subscribe s;
  NOBUS_ASSIGN_OR_RETURN(s.packet_id, ReadPacketId(r));
  if (version == Version::kV5) {
    NOBUS_ASSIGN_OR_RETURN(s.properties, ReadProperties(r, PropertyContext::kSubscribe));
  }
  if (r.empty()) return NoFilter(r);
  s.subscriptions.reserve(r.remaining() / 3);
  while (!r.empty()) {
    Subscription sub;
    NOBUS_ASSIGN_OR_RETURN(sub.filter, ReadFilter(r));
    NOBUS_RETURN_IF_ERROR(ReadOptions(r, version, sub));
    s.subscriptions.push_back(sub);
  }
  return s;
}

std::string EncodeSubscribe(const Subscribe& s, Version version) {
  std::string body;
  Writer w(&body);
  w.TwoByteInt(s.packet_id);
  if (version == Version::kV5) WriteProperties(w, s.properties);
  for (const Subscription& sub : s.subscriptions) {
    w.Utf8String(sub.filter);
    uint8_t options = sub.max_qos & 0x03;
    if (version == Version::kV5) {
      options |= static_cast<uint8_t>((sub.no_local ? 0x04 : 0) |
                                      (sub.retain_as_published ? 0x08 : 0) |
                                      ((sub.retain_handling & 0x03) << 4));
    }
    w.Byte(options);
  }
  return MakePacket(PacketType::kSubscribe, RequiredFlags(PacketType::kSubscribe), body);
}

absl::StatusOr<Unsubscribe> DecodeUnsubscribe(std::string_view packet, Version version) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, internal::ExpectHeader(packet, PacketType::kUnsubscribe));
  Reader r(packet, "UNSUBSCRIBE", h.header_bytes);
  Unsubscribe u;
  NOBUS_ASSIGN_OR_RETURN(u.packet_id, ReadPacketId(r));
  if (version == Version::kV5) {
    NOBUS_ASSIGN_OR_RETURN(u.properties, ReadProperties(r, PropertyContext::kUnsubscribe));
  }
  if (r.empty()) return NoFilter(r);
  u.filters.reserve(r.remaining() / 3);
  while (!r.empty()) {
    NOBUS_ASSIGN_OR_RETURN(std::string_view filter, ReadFilter(r));
    u.filters.push_back(filter);
  }
  return u;
}

std::string EncodeUnsubscribe(const Unsubscribe& u, Version version) {
  std::string body;
  Writer w(&body);
  w.TwoByteInt(u.packet_id);
  if (version == Version::kV5) WriteProperties(w, u.properties);
  for (std::string_view filter : u.filters) w.Utf8String(filter);
  return MakePacket(PacketType::kUnsubscribe, RequiredFlags(PacketType::kUnsubscribe), body);
}

std::string EncodeSuback(const Suback& s, Version version,
                         std::optional<uint32_t> max_packet_bytes) {
  const auto encode = [&](const Properties& p) {
    std::string body;
    Writer w(&body);
    w.TwoByteInt(s.packet_id);
    if (version == Version::kV5) WriteProperties(w, p);
    for (ReasonCode reason : s.reasons) {
      w.Byte(version == Version::kV5 ? static_cast<uint8_t>(reason)
                                     : V311SubackReturnCode(reason));
    }
    return MakePacket(PacketType::kSuback, 0, body);
  };
  if (version == Version::kV311) return encode(Properties());
  return internal::EncodeWithin(s.properties, max_packet_bytes, encode);
}

absl::StatusOr<Suback> DecodeSuback(std::string_view packet, Version version) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, internal::ExpectHeader(packet, PacketType::kSuback));
  Reader r(packet, "SUBACK", h.header_bytes);
  Suback s;
  NOBUS_ASSIGN_OR_RETURN(s.packet_id, ReadPacketId(r));
  if (version == Version::kV5) {
    NOBUS_ASSIGN_OR_RETURN(s.properties, ReadProperties(r, PropertyContext::kSuback));
  }
  if (r.empty()) return r.ProtocolError(r.position(), "payload", "", "no reason code");
  NOBUS_ASSIGN_OR_RETURN(s.reasons, ReadReasons(r, PacketType::kSuback, version));
  return s;
}

std::string EncodeUnsuback(const Unsuback& u, Version version,
                           std::optional<uint32_t> max_packet_bytes) {
  const auto encode = [&](const Properties& p) {
    std::string body;
    Writer w(&body);
    w.TwoByteInt(u.packet_id);
    if (version == Version::kV5) {
      WriteProperties(w, p);
      for (ReasonCode reason : u.reasons) w.Byte(static_cast<uint8_t>(reason));
    }
    return MakePacket(PacketType::kUnsuback, 0, body);
  };
  if (version == Version::kV311) return encode(Properties());
  return internal::EncodeWithin(u.properties, max_packet_bytes, encode);
}

absl::StatusOr<Unsuback> DecodeUnsuback(std::string_view packet, Version version) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, internal::ExpectHeader(packet, PacketType::kUnsuback));
  Reader r(packet, "UNSUBACK", h.header_bytes);
  Unsuback u;
  NOBUS_ASSIGN_OR_RETURN(u.packet_id, ReadPacketId(r));
  if (version == Version::kV311) {
    NOBUS_RETURN_IF_ERROR(r.ExpectEnd("packet identifier"));
    return u;
  }
  NOBUS_ASSIGN_OR_RETURN(u.properties, ReadProperties(r, PropertyContext::kUnsuback));
  if (r.empty()) return r.ProtocolError(r.position(), "payload", "", "no reason code");
  NOBUS_ASSIGN_OR_RETURN(u.reasons, ReadReasons(r, PacketType::kUnsuback, version));
  return u;
}

}  // namespace nobus::mqtt
