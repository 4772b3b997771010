// The front door: DecodePacket / EncodePacket over every packet type in both versions, truncation
// at every byte of every valid packet, and the reason code every refusal maps to.
#include "mqtt/packets.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "mqtt/mqtt_test_util.h"

namespace nobus::mqtt {
namespace {

using testing::FromHex;
using testing::IsMalformed;

constexpr Version kBoth[] = {Version::kV311, Version::kV5};

TEST(MqttPacketsTest, EveryTypeRoundTripsInBothVersions) {
  for (Version v : kBoth) {
    std::set<PacketType> seen;
    for (const testing::Sample& s : testing::SamplePackets(v)) {
      SCOPED_TRACE(Cat(VersionName(v), " ", s.name));
      auto bytes = EncodePacket(s.packet, v);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      auto framing = FramePacket(*bytes, bytes->size());
      ASSERT_TRUE(framing.ok()) << framing.status();
      EXPECT_TRUE(framing->complete());
      EXPECT_EQ(framing->packet_bytes, bytes->size());
      auto back = DecodePacket(*bytes, v);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(*back, s.packet);
      EXPECT_EQ(TypeOf(*back), TypeOf(s.packet));
      EXPECT_EQ(static_cast<uint8_t>((*bytes)[0]) >> 4, static_cast<uint8_t>(TypeOf(s.packet)));
      seen.insert(TypeOf(s.packet));
    }
    // Every type but AUTH (5.0 only) in both versions.
    EXPECT_EQ(seen.size(), v == Version::kV5 ? 15u : 14u);
  }
}

TEST(MqttPacketsTest, TruncationAtEveryByteIsRefused) {
  for (Version v : kBoth) {
    for (const std::string& packet : testing::EncodedSamples(v)) {
      SCOPED_TRACE(Cat(VersionName(v), " ", testing::ToHex(packet)));
      // Cut short: the framing asks for the rest; decoding refuses it as malformed.
      for (size_t k = 0; k < packet.size(); ++k) {
        const std::string cut = packet.substr(0, k);
        auto framing = FramePacket(cut, 1 << 20);
        ASSERT_TRUE(framing.ok()) << framing.status();
        EXPECT_FALSE(framing->complete());
        EXPECT_LE(k + framing->need_more_bytes, packet.size());
        auto p = DecodePacket(cut, v);
        EXPECT_TRUE(IsMalformed(p.status(), "")) << k;
      }
      // The Remaining Length kept but the body cut: every refusal is malformed or, where the
      // cut leaves a legal prefix that breaks a rule (no Topic Filter), a protocol error.
      const size_t header_bytes = ParsePacketHeader(packet)->header_bytes;
      for (size_t k = header_bytes; k < packet.size(); ++k) {
        const std::string body = packet.substr(header_bytes, k - header_bytes);
        const std::string refit = MakePacket(static_cast<PacketType>(
                                                 static_cast<uint8_t>(packet[0]) >> 4),
                                             static_cast<uint8_t>(packet[0]) & 0x0f, body);
        auto p = DecodePacket(refit, v);
        if (p.ok()) continue;  // e.g. a PUBLISH whose payload was cut
        const ReasonCode reason = ReasonCodeFor(p.status());
        EXPECT_TRUE(reason == ReasonCode::kMalformedPacket || reason == ReasonCode::kProtocolError)
            << p.status();
      }
    }
  }
}

TEST(MqttPacketsTest, StreamOfPacketsIsFramedOneByOne) {
  std::string stream;
  for (const std::string& packet : testing::EncodedSamples(Version::kV5)) stream += packet;
  size_t count = 0;
  std::string_view rest = stream;
  while (!rest.empty()) {
    auto f = FramePacket(rest, 1 << 16);
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_TRUE(f->complete());
    auto p = DecodePacket(rest.substr(0, f->packet_bytes), Version::kV5);
    ASSERT_TRUE(p.ok()) << p.status();
    rest.remove_prefix(f->packet_bytes);
    ++count;
  }
  EXPECT_EQ(count, testing::SamplePackets(Version::kV5).size());
}

TEST(MqttPacketsTest, VersionMatters) {
  // A 5.0 PUBLISH with properties read as 3.1.1: the property length becomes payload.
  const std::string v5 = *EncodePublish({.topic = "t", .payload = "x"}, Version::kV5);
  auto as311 = DecodePacket(v5, Version::kV311);
  ASSERT_TRUE(as311.ok());
  EXPECT_EQ(std::get<Publish>(*as311).payload, std::string_view("\0x", 2));
  // A 5.0 PUBACK with a reason code is malformed in 3.1.1.
  EXPECT_TRUE(IsMalformed(DecodePacket(FromHex("4003000799"), Version::kV311).status(),
                          "1 bytes after the packet identifier"));
  EXPECT_TRUE(IsMalformed(DecodePacket(FromHex("f000"), Version::kV311).status(),
                          "does not exist in MQTT 3.1.1"));
  // CONNECT carries its own version whatever the connection's is.
  const std::string& connect = testing::Keep(testing::EncodedSamples(Version::kV5)[0]);
  auto c = DecodePacket(connect, Version::kV311);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(std::get<Connect>(*c).version, Version::kV5);
}

TEST(MqttPacketsTest, ErrorsMapToReasonCodes) {
  EXPECT_EQ(ReasonCodeFor(absl::OkStatus()), ReasonCode::kSuccess);
  EXPECT_EQ(ReasonCodeFor(DecodePacket(FromHex("3600"), Version::kV5).status()),
            ReasonCode::kMalformedPacket);
  EXPECT_EQ(ReasonCodeFor(DecodePacket(FromHex("40020000"), Version::kV5).status()),
            ReasonCode::kProtocolError);
  EXPECT_EQ(ReasonCodeFor(DecodePacket(FromHex("100e00064d5149736470030200000000"),
                                       Version::kV5).status()),
            ReasonCode::kUnsupportedProtocolVersion);
  EXPECT_EQ(ReasonCodeFor(FramePacket(FromHex("30ff7f"), 1024).status()),
            ReasonCode::kPacketTooLarge);
  EXPECT_EQ(ReasonCodeFor(absl::InternalError("x")), ReasonCode::kUnspecifiedError);
  // Annotated errors map the same.
  EXPECT_EQ(ReasonCodeFor(Annotate(absl::FailedPreconditionError("x"), "conn 7")),
            ReasonCode::kProtocolError);
  EXPECT_EQ(ReasonCodeName(ReasonCode::kSharedSubscriptionsNotSupported),
            "Shared Subscriptions not supported");
  EXPECT_EQ(ReasonCodeName(static_cast<ReasonCode>(0x03)), "unknown");
}

TEST(MqttPacketsTest, ReasonCodesPerPacket) {
  EXPECT_TRUE(IsValidReasonCode(PacketType::kSuback, ReasonCode::kWildcardSubscriptionsNotSupported));
  EXPECT_FALSE(IsValidReasonCode(PacketType::kUnsuback, ReasonCode::kSharedSubscriptionsNotSupported));
  EXPECT_TRUE(IsValidReasonCode(PacketType::kDisconnect, ReasonCode::kMaximumConnectTime));
  EXPECT_FALSE(IsValidReasonCode(PacketType::kConnack, ReasonCode::kMaximumConnectTime));
  EXPECT_TRUE(IsValidReasonCode(PacketType::kConnack, ReasonCode::kPacketTooLarge));
  EXPECT_FALSE(IsValidReasonCode(PacketType::kPuback, ReasonCode::kPacketIdentifierNotFound));
  EXPECT_TRUE(IsValidReasonCode(PacketType::kPubcomp, ReasonCode::kPacketIdentifierNotFound));
  EXPECT_FALSE(IsValidReasonCode(PacketType::kPublish, ReasonCode::kSuccess));
  EXPECT_EQ(V311SubackReturnCode(ReasonCode::kGrantedQos2), 2);
  EXPECT_EQ(V311SubackReturnCode(ReasonCode::kNotAuthorized), 0x80);
}

}  // namespace
}  // namespace nobus::mqtt
