// PUBACK / PUBREC / PUBREL / PUBCOMP, DISCONNECT, AUTH, PINGREQ / PINGRESP: short forms, round
// trips in both versions, reason codes, refusals.
#include "mqtt/acks.h"

#include <gtest/gtest.h>

#include <string>

#include "mqtt/mqtt_test_util.h"

namespace nobus::mqtt {
namespace {

using namespace std::string_literals;
using testing::FromHex;
using testing::IsMalformed;
using testing::IsProtocolError;
using testing::ToHex;

constexpr PacketType kAckTypes[] = {PacketType::kPuback, PacketType::kPubrec,
                                    PacketType::kPubrel, PacketType::kPubcomp};

TEST(MqttAckTest, ShortFormsAndFlags) {
  EXPECT_EQ(ToHex(EncodeAck({.packet_id = 7}, Version::kV5)), "40020007");
  EXPECT_EQ(ToHex(EncodeAck({.packet_id = 7}, Version::kV311)), "40020007");
  EXPECT_EQ(ToHex(EncodeAck({.type = PacketType::kPubrel, .packet_id = 9}, Version::kV5)),
            "62020009");
  EXPECT_EQ(ToHex(EncodeAck({.type = PacketType::kPubrec, .packet_id = 1}, Version::kV311)),
            "50020001");
  EXPECT_EQ(ToHex(EncodeAck({.type = PacketType::kPubcomp, .packet_id = 1}, Version::kV311)),
            "70020001");
  // A failure without properties: the reason code alone (Remaining Length 3).
  EXPECT_EQ(ToHex(EncodeAck({.packet_id = 7, .reason = ReasonCode::kPayloadFormatInvalid},
                            Version::kV5)),
            "4003000799");
  // 3.1.1 has no reason codes: only the packet identifier is written.
  EXPECT_EQ(ToHex(EncodeAck({.packet_id = 7, .reason = ReasonCode::kPayloadFormatInvalid},
                            Version::kV311)),
            "40020007");
  // Every short and long form decodes to the same thing.
  for (const char* hex : {"40020007", "4003000700", "400400070000"}) {
    auto a = DecodeAck(FromHex(hex), Version::kV5);
    ASSERT_TRUE(a.ok()) << hex << ": " << a.status();
    EXPECT_EQ(*a, (Ack{.packet_id = 7})) << hex;
  }
}

TEST(MqttAckTest, RoundTripsOfEveryTypeAndReason) {
  for (PacketType t : kAckTypes) {
    for (ReasonCode r : {ReasonCode::kSuccess, ReasonCode::kNoMatchingSubscribers,
                         ReasonCode::kQuotaExceeded, ReasonCode::kPacketIdentifierNotFound}) {
      if (!IsValidReasonCode(t, r)) continue;
      for (bool with_properties : {false, true}) {
        SCOPED_TRACE(Cat(PacketTypeName(t), " ", ReasonCodeName(r), " ", with_properties));
        Ack a{.type = t, .packet_id = 513, .reason = r};
        if (with_properties) {
          a.properties.reason_string = "why";
          a.properties.user_properties = {{"k", "v"}};
        }
        auto back = DecodeAck(testing::Keep(EncodeAck(a, Version::kV5)), Version::kV5);
        ASSERT_TRUE(back.ok()) << back.status();
        EXPECT_EQ(*back, a);
        auto v311 = DecodeAck(testing::Keep(EncodeAck(a, Version::kV311)), Version::kV311);
        ASSERT_TRUE(v311.ok()) << v311.status();
        EXPECT_EQ(*v311, (Ack{.type = t, .packet_id = 513}));
      }
    }
  }
}

TEST(MqttAckTest, Refusals) {
  EXPECT_TRUE(IsProtocolError(DecodeAck(FromHex("40020000"), Version::kV5).status(),
                              "protocol error in PUBACK: packet identifier (Two Byte Integer) at "
                              "byte 2: 0"));
  EXPECT_TRUE(IsMalformed(DecodeAck(FromHex("4003000792"), Version::kV5).status(),
                          "reason code (Byte) at byte 4: 0x92 is not a reason code of PUBACK"));
  EXPECT_TRUE(IsMalformed(DecodeAck(FromHex("6203000910"), Version::kV5).status(),
                          "0x10 is not a reason code of PUBREL"));
  EXPECT_TRUE(IsMalformed(DecodeAck(FromHex("4003000700"), Version::kV311).status(),
                          "malformed PUBACK: 1 bytes after the packet identifier at byte 4"));
  EXPECT_TRUE(IsMalformed(DecodeAck(FromHex("400100"), Version::kV5).status(), "truncated"));
  EXPECT_TRUE(IsMalformed(DecodeAck(FromHex("4005000700021f"), Version::kV5).status(),
                          "Property Length"));
  EXPECT_TRUE(IsMalformed(DecodeAck(FromHex("60020009"), Version::kV5).status(),
                          "fixed header flags at byte 0: 0x00, must be 0x02"));
  EXPECT_TRUE(IsMalformed(
      DecodeAck(FromHex("40080007000423000178"), Version::kV5).status(),
      "Topic Alias (property 0x23) at byte 6: not allowed in PUBACK"));
  EXPECT_TRUE(IsMalformed(DecodeAck(FromHex("c000"), Version::kV5).status(),
                          "expected PUBACK, PUBREC, PUBREL or PUBCOMP, got PINGREQ"));
}

TEST(MqttAckTest, ReasonStringLeftOutOverTheClientsMaximumPacketSize) {
  Ack a{.packet_id = 7, .reason = ReasonCode::kPayloadFormatInvalid};
  a.properties.reason_string = "record 1 is not a JSON object";
  const std::string full = EncodeAck(a, Version::kV5);
  EXPECT_EQ(full.size(), 2 + 3 + 1 + 3 + a.properties.reason_string->size());
  EXPECT_EQ(EncodeAck(a, Version::kV5, 64), full);
  EXPECT_EQ(ToHex(EncodeAck(a, Version::kV5, 16)), "4003000799");
}

TEST(MqttDisconnectTest, FormsAndRoundTrips) {
  EXPECT_EQ(ToHex(EncodeDisconnect({}, Version::kV5)), "e000");
  EXPECT_EQ(ToHex(EncodeDisconnect({}, Version::kV311)), "e000");
  EXPECT_EQ(ToHex(EncodeDisconnect({.reason = ReasonCode::kPacketTooLarge}, Version::kV5)),
            "e00195");
  Disconnect d{.reason = ReasonCode::kMaximumConnectTime};
  d.properties.reason_string = "bye";
  d.properties.session_expiry_interval_s = 0;
  d.properties.server_reference = "b:8883";
  d.properties.user_properties = {{"x", "y"}};
  const std::string bytes = EncodeDisconnect(d, Version::kV5);
  auto back = DecodeDisconnect(bytes, Version::kV5);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, d);
  for (const char* hex : {"e000", "e00100", "e0020000"}) {
    auto n = DecodeDisconnect(FromHex(hex), Version::kV5);
    ASSERT_TRUE(n.ok()) << hex << ": " << n.status();
    EXPECT_EQ(*n, Disconnect());
  }
  auto v311 = DecodeDisconnect(FromHex("e000"), Version::kV311);
  ASSERT_TRUE(v311.ok());
  EXPECT_EQ(*v311, Disconnect());
}

TEST(MqttDisconnectTest, Refusals) {
  EXPECT_TRUE(IsMalformed(DecodeDisconnect(FromHex("e00100"), Version::kV311).status(),
                          "malformed DISCONNECT: 1 bytes after the fixed header at byte 2"));
  EXPECT_TRUE(IsMalformed(DecodeDisconnect(FromHex("e00101"), Version::kV5).status(),
                          "0x01 is not a reason code of DISCONNECT"));
  EXPECT_TRUE(IsMalformed(DecodeDisconnect(FromHex("e00400022300"), Version::kV5).status(),
                          "not allowed in DISCONNECT"));
  EXPECT_TRUE(IsProtocolError(
      DecodeDisconnect(FromHex("e00800061f00001f0000"), Version::kV5).status(),
      "Reason String (property 0x1f) at byte 7: appears more than once"));
  EXPECT_TRUE(IsMalformed(DecodeDisconnect(FromHex("e00300011f"), Version::kV5).status(),
                          "Reason String (property 0x1f) (UTF-8 String) at byte 5: truncated"));
  EXPECT_TRUE(IsMalformed(DecodeDisconnect(FromHex("e20000"), Version::kV5).status(),
                          "fixed header flags"));
}

TEST(MqttAuthTest, FormsRoundTripsAndV311) {
  EXPECT_EQ(ToHex(EncodeAuth({})), "f000");
  Auth a{.reason = ReasonCode::kContinueAuthentication};
  a.properties.authentication_method = "SCRAM-SHA-256";
  a.properties.authentication_data = std::string_view("\x00\x01", 2);
  auto back = DecodeAuth(testing::Keep(EncodeAuth(a)), Version::kV5);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, a);
  EXPECT_TRUE(IsMalformed(DecodeAuth(FromHex("f000"), Version::kV311).status(),
                          "malformed AUTH: packet type 15 at byte 0 does not exist in MQTT 3.1.1"));
  EXPECT_TRUE(IsMalformed(DecodeAuth(FromHex("f00187"), Version::kV5).status(),
                          "0x87 is not a reason code of AUTH"));
  EXPECT_TRUE(IsProtocolError(DecodeAuth(FromHex("f0061804160001ff"), Version::kV5).status(),
                              "Authentication Data without an Authentication Method"));
}

TEST(MqttPingTest, BytesAndRefusals) {
  EXPECT_EQ(ToHex(EncodePingreq()), "c000");
  EXPECT_EQ(ToHex(EncodePingresp()), "d000");
  EXPECT_TRUE(DecodePingreq(FromHex("c000")).ok());
  EXPECT_TRUE(DecodePingresp(FromHex("d000")).ok());
  EXPECT_TRUE(IsMalformed(DecodePingreq(FromHex("c00100")).status(),
                          "malformed PINGREQ: 1 bytes after the fixed header at byte 2"));
  EXPECT_TRUE(IsMalformed(DecodePingreq(FromHex("c100")).status(), "fixed header flags"));
  EXPECT_TRUE(IsMalformed(DecodePingreq(FromHex("d000")).status(), "expected PINGREQ"));
}

}  // namespace
}  // namespace nobus::mqtt
