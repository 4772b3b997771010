#include "mqtt/publish.h"

#include "mqtt/internal.h"
#include "mqtt/wire.h"

namespace nobus::mqtt {
namespace {

constexpr std::string_view kPublish = "PUBLISH";

absl::Status CheckTopicName(const Reader& r, size_t at, std::string_view topic) {
  const size_t wildcard = topic.find_first_of("+#");
  if (wildcard == std::string_view::npos) return absl::OkStatus();
  return r.Malformed(at + 2 + wildcard, "topic name", "UTF-8 String",
                     Cat("wildcard '", topic[wildcard], "' in a Topic Name"));
}

}  // namespace

absl::StatusOr<Publish> DecodePublish(std::string_view packet, Version version) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, internal::ExpectHeader(packet, PacketType::kPublish));
  Reader r(packet, kPublish, h.header_bytes);
  Publish p{.dup = h.dup(), .qos = h.qos(), .retain = h.retain()};
  if (p.qos == 0 && p.dup) {
    return r.Malformed(0, "fixed header flags", "", "DUP set on a QoS 0 message");
  }
  const size_t topic_at = r.position();
  NOBUS_ASSIGN_OR_RETURN(p.topic, r.Utf8String("topic name"));
  NOBUS_RETURN_IF_ERROR(CheckTopicName(r, topic_at, p.topic));
  if (p.topic.empty() && version == Version::kV311) {
    return r.Malformed(topic_at, "topic name", "UTF-8 String", "empty");
  }
  if (p.qos > 0) {
    const size_t id_at = r.position();
    NOBUS_ASSIGN_OR_RETURN(p.packet_id, r.TwoByteInt("packet identifier"));
    if (p.packet_id == 0) {
      return r.ProtocolError(id_at, "packet identifier", "Two Byte Integer",
                             Cat("0 on a QoS ", static_cast<int>(p.qos), " message"));
    }
  }
  if (version == Version::kV5) {
    NOBUS_ASSIGN_OR_RETURN(p.properties, ReadProperties(r, PropertyContext::kPublish));
    if (p.topic.empty() && !p.properties.topic_alias) {
      return r.ProtocolError(topic_at, "topic name", "UTF-8 String",
                             "empty without a Topic Alias");
    }
  }
  p.payload = r.Rest();
  return p;
}

absl::StatusOr<std::string> EncodePublish(const Publish& p, Version version) {
  if (p.topic.size() > kMaxStringBytes) {
    return absl::InvalidArgumentError(
        Cat("PUBLISH topic name of ", p.topic.size(), " bytes, at most ", kMaxStringBytes));
  }
  std::string body;
  Writer w(&body);
  w.Utf8String(p.topic);
  if (p.qos > 0) w.TwoByteInt(p.packet_id);
  if (version == Version::kV5) WriteProperties(w, p.properties);
  if (body.size() > kMaxVariableByteInt ||
      p.payload.size() > kMaxVariableByteInt - body.size()) {
    return absl::InvalidArgumentError(Cat("PUBLISH of ", body.size() + p.payload.size(),
                                          " bytes after the fixed header, at most ",
                                          kMaxVariableByteInt));
  }
  w.Raw(p.payload);
  const uint8_t flags = static_cast<uint8_t>((p.dup ? 0x08 : 0) | ((p.qos & 0x03) << 1) |
                                             (p.retain ? 0x01 : 0));
  return MakePacket(PacketType::kPublish, flags, body);
}

}  // namespace nobus::mqtt
