#include "mqtt/connect.h"

#include "mqtt/internal.h"
#include "mqtt/wire.h"

namespace nobus::mqtt {
namespace {

constexpr std::string_view kConnect = "CONNECT";
constexpr std::string_view kConnack = "CONNACK";

// Connect flags.
constexpr uint8_t kReservedFlag = 0x01;
constexpr uint8_t kCleanStartFlag = 0x02;
constexpr uint8_t kWillFlag = 0x04;
constexpr uint8_t kWillRetainFlag = 0x20;
constexpr uint8_t kPasswordFlag = 0x40;
constexpr uint8_t kUserNameFlag = 0x80;

// Protocol name and level: the version, or Unimplemented.
absl::StatusOr<Version> ReadVersion(Reader& r) {
  NOBUS_ASSIGN_OR_RETURN(std::string_view name, r.Utf8String("protocol name"));
  const size_t level_at = r.position();
  NOBUS_ASSIGN_OR_RETURN(uint8_t level, r.Byte("protocol level"));
  if (name == "MQTT" && (level == 4 || level == 5)) return static_cast<Version>(level);
  std::string what = Cat("protocol name \"", name, "\" level ", static_cast<int>(level));
  if (name == "MQIsdp") what += " (MQTT 3.1)";
  return absl::UnimplementedError(
      Cat("unsupported CONNECT: ", what, " at byte ", level_at,
          "; supported: \"MQTT\" level 4 (3.1.1) and 5 (5.0)"));
}

// The connect flags byte: its checks, and the Will's QoS and retain into `c`.
absl::StatusOr<uint8_t> ReadFlags(Reader& r, Connect& c) {
  const size_t at = r.position();
  NOBUS_ASSIGN_OR_RETURN(uint8_t flags, r.Byte("connect flags"));
  const std::string_view field = "connect flags";
  if (flags & kReservedFlag) return r.Malformed(at, field, "Byte", "reserved bit 0 is set");
  const uint8_t will_qos = (flags >> 3) & 0x03;
  const bool will_retain = (flags & kWillRetainFlag) != 0;
  if (will_qos == 3) return r.Malformed(at, field, "Byte", "Will QoS 3");
  if (!(flags & kWillFlag) && (will_qos != 0 || will_retain)) {
    return r.Malformed(at, field, "Byte", "Will QoS or Will Retain set without the Will Flag");
  }
  if (c.version == Version::kV311 && (flags & kPasswordFlag) && !(flags & kUserNameFlag)) {
    return r.Malformed(at, field, "Byte", "Password Flag set without the User Name Flag");
  }
  c.clean_start = (flags & kCleanStartFlag) != 0;
  if (flags & kWillFlag) c.will = Will{.qos = will_qos, .retain = will_retain};
  return flags;
}

absl::Status ReadWill(Reader& r, Version version, Will& will) {
  if (version == Version::kV5) {
    NOBUS_ASSIGN_OR_RETURN(will.properties, ReadProperties(r, PropertyContext::kWill));
  }
  const size_t at = r.position();
  NOBUS_ASSIGN_OR_RETURN(will.topic, r.Utf8String("will topic"));
  if (!IsValidTopicName(will.topic)) {
    return r.Malformed(at, "will topic", "UTF-8 String", "empty or contains a wildcard");
  }
  NOBUS_ASSIGN_OR_RETURN(will.payload, r.Binary("will payload"));
  return absl::OkStatus();
}

void WriteConnectBody(Writer& w, const Connect& c) {
  w.Utf8String("MQTT");
  w.Byte(static_cast<uint8_t>(c.version));
  uint8_t flags = c.clean_start ? kCleanStartFlag : 0;
  if (c.will) {
    flags |= kWillFlag | static_cast<uint8_t>((c.will->qos & 0x03) << 3);
    if (c.will->retain) flags |= kWillRetainFlag;
  }
  if (c.password) flags |= kPasswordFlag;
  if (c.username) flags |= kUserNameFlag;
  w.Byte(flags);
  w.TwoByteInt(c.keep_alive_s);
  if (c.version == Version::kV5) WriteProperties(w, c.properties);
  w.Utf8String(c.client_id);
  if (c.will) {
    if (c.version == Version::kV5) WriteProperties(w, c.will->properties);
    w.Utf8String(c.will->topic);
    w.Binary(c.will->payload);
  }
  if (c.username) w.Utf8String(*c.username);
  if (c.password) w.Binary(*c.password);
}

// 3.1.1 return code -> reason code (the inverse of V311ConnackReturnCode on its images).
constexpr ReasonCode kV311ReturnCodes[] = {
    ReasonCode::kSuccess,           ReasonCode::kUnsupportedProtocolVersion,
    ReasonCode::kClientIdentifierNotValid, ReasonCode::kServerUnavailable,
    ReasonCode::kBadUserNameOrPassword,    ReasonCode::kNotAuthorized};

}  // namespace

absl::StatusOr<Connect> DecodeConnect(std::string_view packet) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, internal::ExpectHeader(packet, PacketType::kConnect));
  Reader r(packet, kConnect, h.header_bytes);
  Connect c;
  NOBUS_ASSIGN_OR_RETURN(c.version, ReadVersion(r));
  NOBUS_ASSIGN_OR_RETURN(uint8_t flags, ReadFlags(r, c));
  NOBUS_ASSIGN_OR_RETURN(c.keep_alive_s, r.TwoByteInt("keep alive"));
  if (c.version == Version::kV5) {
    const size_t at = r.position();
    NOBUS_ASSIGN_OR_RETURN(c.properties, ReadProperties(r, PropertyContext::kConnect));
    if (c.properties.authentication_data && !c.properties.authentication_method) {
      return r.ProtocolError(at, "properties", "",
                             "Authentication Data without an Authentication Method");
    }
  }
  NOBUS_ASSIGN_OR_RETURN(c.client_id, r.Utf8String("client identifier"));
  if (c.will) NOBUS_RETURN_IF_ERROR(ReadWill(r, c.version, *c.will));
  if (flags & kUserNameFlag) {
    NOBUS_ASSIGN_OR_RETURN(c.username, r.Utf8String("user name"));
  }
  if (flags & kPasswordFlag) {
    NOBUS_ASSIGN_OR_RETURN(c.password, r.Binary("password"));
  }
  NOBUS_RETURN_IF_ERROR(r.ExpectEnd("payload"));
  return c;
}

std::optional<uint8_t> PeekProtocolLevel(std::string_view packet) {
  if (packet.size() < 2 || (static_cast<uint8_t>(packet[0]) >> 4) != 1) return std::nullopt;
  size_t at = 1;  // skip the Remaining Length, whatever it says
  while (at < packet.size() && at < 5 && (static_cast<uint8_t>(packet[at]) & 0x80)) ++at;
  ++at;
  if (at + 2 > packet.size()) return std::nullopt;
  const size_t name_bytes = (size_t{static_cast<uint8_t>(packet[at])} << 8) |
                            static_cast<uint8_t>(packet[at + 1]);
  const size_t level_at = at + 2 + name_bytes;
  if (level_at >= packet.size()) return std::nullopt;
  return static_cast<uint8_t>(packet[level_at]);
}

std::string EncodeConnect(const Connect& c) {
  std::string body;
  Writer w(&body);
  WriteConnectBody(w, c);
  return MakePacket(PacketType::kConnect, 0, body);
}

std::string EncodeConnack(const Connack& c, Version version,
                          std::optional<uint32_t> max_packet_bytes) {
  const bool success = c.reason == ReasonCode::kSuccess;
  const uint8_t ack_flags = c.session_present && success ? 1 : 0;
  if (version == Version::kV311) {
    const char body[2] = {static_cast<char>(ack_flags),
                          static_cast<char>(V311ConnackReturnCode(c.reason))};
    return MakePacket(PacketType::kConnack, 0, std::string_view(body, 2));
  }
  return internal::EncodeWithin(c.properties, max_packet_bytes, [&](const Properties& p) {
    std::string body;
    Writer w(&body);
    w.Byte(ack_flags);
    w.Byte(static_cast<uint8_t>(c.reason));
    WriteProperties(w, p);
    return MakePacket(PacketType::kConnack, 0, body);
  });
}

absl::StatusOr<Connack> DecodeConnack(std::string_view packet, Version version) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, internal::ExpectHeader(packet, PacketType::kConnack));
  Reader r(packet, kConnack, h.header_bytes);
  Connack c;
  const size_t flags_at = r.position();
  NOBUS_ASSIGN_OR_RETURN(uint8_t flags, r.Byte("acknowledge flags"));
  if (flags & 0xfe) return r.Malformed(flags_at, "acknowledge flags", "Byte", "reserved bits set");
  c.session_present = flags != 0;
  const size_t code_at = r.position();
  NOBUS_ASSIGN_OR_RETURN(uint8_t code, r.Byte(version == Version::kV5 ? "reason code"
                                                                       : "return code"));
  if (version == Version::kV311) {
    if (code > 5) return r.Malformed(code_at, "return code", "Byte", Cat("unknown ", Hex(code)));
    c.reason = kV311ReturnCodes[code];
  } else {
    c.reason = static_cast<ReasonCode>(code);
    if (!IsValidReasonCode(PacketType::kConnack, c.reason)) {
      return r.Malformed(code_at, "reason code", "Byte", Cat(Hex(code), " is not a reason code of CONNACK"));
    }
    NOBUS_ASSIGN_OR_RETURN(c.properties, ReadProperties(r, PropertyContext::kConnack));
  }
  if (c.session_present && c.reason != ReasonCode::kSuccess) {
    return r.ProtocolError(flags_at, "acknowledge flags", "Byte",
                           "Session Present with a failure code");
  }
  NOBUS_RETURN_IF_ERROR(r.ExpectEnd(version == Version::kV5 ? "properties" : "return code"));
  return c;
}

}  // namespace nobus::mqtt
