// The fixed header and framing: packet types, the flags each type must carry, the Remaining
// Length, "need N more bytes", and oversize packets refused from the fixed header alone.
#include "mqtt/fixed_header.h"

#include <gtest/gtest.h>

#include <string>

#include "mqtt/mqtt_test_util.h"
#include "mqtt/reason_code.h"

namespace nobus::mqtt {
namespace {

using namespace std::string_literals;
using testing::FromHex;
using testing::IsMalformed;

TEST(MqttFramingTest, NeedMoreUntilTheWholePacketIsThere) {
  const std::string packet = FromHex("321a000e6d61696e2e64656661756c742e7400017b226964223a347d");
  auto f = FramePacket("", 1024);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->packet_bytes, 0u);
  EXPECT_EQ(f->need_more_bytes, 2u);
  f = FramePacket(packet.substr(0, 1), 1024);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->packet_bytes, 0u);
  EXPECT_EQ(f->need_more_bytes, 1u);
  for (size_t k = 2; k < packet.size(); ++k) {
    f = FramePacket(packet.substr(0, k), 1024);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(f->packet_bytes, packet.size());
    EXPECT_EQ(f->need_more_bytes, packet.size() - k);
    EXPECT_FALSE(f->complete());
  }
  // The whole packet, then the start of the next: only the first is framed.
  f = FramePacket(packet + "\xc0", 1024);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->complete());
  EXPECT_EQ(f->packet_bytes, packet.size());
}

TEST(MqttFramingTest, MultiByteRemainingLengthNeedsOneMoreByteAtATime) {
  std::string big = MakePacket(PacketType::kPublish, 0, std::string(300, 'x'));
  EXPECT_EQ(testing::ToHex(big.substr(0, 3)), "30ac02");
  auto f = FramePacket(big.substr(0, 2), 1 << 20);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->packet_bytes, 0u);
  EXPECT_EQ(f->need_more_bytes, 1u);
  f = FramePacket(big.substr(0, 3), 1 << 20);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->packet_bytes, 303u);
  EXPECT_EQ(f->need_more_bytes, 300u);
}

TEST(MqttFramingTest, OversizeRefusedFromTheFixedHeaderAlone) {
  // 5 bytes of a PUBLISH claiming 268,435,455 bytes: refused before any body byte arrives.
  auto f = FramePacket(FromHex("30ffffff7f"), 65536);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonCodeFor(f.status()), ReasonCode::kPacketTooLarge);
  EXPECT_TRUE(testing::IsError(f.status(), absl::StatusCode::kResourceExhausted,
                              "PUBLISH packet of 268435460 bytes"))
      << f.status();
  // The limit counts the fixed header: 16 KiB exactly passes, one more byte does not.
  const std::string at_limit = MakePacket(PacketType::kConnect, 0, std::string(16384 - 3, 'x'));
  ASSERT_EQ(at_limit.size(), 16384u);
  EXPECT_TRUE(FramePacket(at_limit.substr(0, 3), 16384).ok());
  EXPECT_EQ(FramePacket(at_limit.substr(0, 3), 16383).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(MqttFramingTest, RemainingLengthRefusals) {
  EXPECT_TRUE(IsMalformed(FramePacket(FromHex("30ffffffff01"), 1u << 30).status(),
                          "Remaining Length (Variable Byte Integer) at byte 1: longer than 4"));
  // Refused as soon as the fifth byte is known to follow, whatever comes after.
  EXPECT_TRUE(IsMalformed(FramePacket(FromHex("30ffffffff"), 1u << 30).status(),
                          "longer than 4 bytes"));
  EXPECT_TRUE(IsMalformed(FramePacket(FromHex("308000"), 1u << 30).status(),
                          "not in its shortest form (2 bytes)"));
  EXPECT_TRUE(IsMalformed(ParsePacketHeader(FromHex("3080")).status(), "truncated"));
  EXPECT_TRUE(IsMalformed(ParsePacketHeader(FromHex("c001")).status(),
                          "Remaining Length 1 at byte 1 says 3 bytes, the packet has 2"));
  EXPECT_TRUE(IsMalformed(ParsePacketHeader(FromHex("c00000")).status(), "the packet has 3"));
  EXPECT_TRUE(IsMalformed(ParsePacketHeader("").status(), "no bytes"));
}

TEST(MqttFramingTest, ReservedFlagsOfEveryType) {
  for (int type = 0; type < 16; ++type) {
    for (int flags = 0; flags < 16; ++flags) {
      const std::string packet = {static_cast<char>(type << 4 | flags), 0};
      auto h = ParsePacketHeader(packet);
      auto f = FramePacket(packet, 16);
      const auto t = static_cast<PacketType>(type);
      bool valid;
      if (type == 0) {
        valid = false;
      } else if (t == PacketType::kPublish) {
        valid = ((flags >> 1) & 3) != 3;
      } else if (t == PacketType::kPubrel || t == PacketType::kSubscribe ||
                 t == PacketType::kUnsubscribe) {
        valid = flags == 2;
      } else {
        valid = flags == 0;
      }
      SCOPED_TRACE(Cat("type ", type, " flags ", flags));
      EXPECT_EQ(h.ok(), valid) << h.status();
      EXPECT_EQ(f.ok(), valid) << f.status();
      if (!valid) {
        EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
        EXPECT_EQ(ReasonCodeFor(h.status()), ReasonCode::kMalformedPacket);
        EXPECT_EQ(f.status(), h.status());
      } else {
        EXPECT_EQ(h->type, t);
        EXPECT_EQ(h->flags, flags);
        EXPECT_EQ(h->packet_bytes(), 2u);
      }
    }
  }
  EXPECT_TRUE(IsMalformed(ParsePacketHeader(FromHex("6000")).status(),
                          "malformed PUBREL: fixed header flags at byte 0: 0x00, must be 0x02"));
  EXPECT_TRUE(IsMalformed(ParsePacketHeader(FromHex("3600")).status(), "QoS 3"));
  EXPECT_TRUE(IsMalformed(ParsePacketHeader(FromHex("0000")).status(), "reserved packet type 0"));
}

TEST(MqttFramingTest, PublishFlags) {
  auto h = ParsePacketHeader(FromHex("3d00"));
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->dup());
  EXPECT_EQ(h->qos(), 2);
  EXPECT_TRUE(h->retain());
}

TEST(MqttFramingTest, Names) {
  EXPECT_EQ(PacketTypeName(PacketType::kUnsubscribe), "UNSUBSCRIBE");
  EXPECT_EQ(PacketTypeName(static_cast<PacketType>(0)), "type 0");
  EXPECT_EQ(VersionName(Version::kV311), "3.1.1");
  EXPECT_EQ(VersionName(Version::kV5), "5.0");
}

}  // namespace
}  // namespace nobus::mqtt
