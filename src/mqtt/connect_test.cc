// CONNECT and CONNACK: round trips in both versions, every CONNECT refusal, the unsupported
// protocol versions, and CONNACK's bytes.
#include "mqtt/connect.h"

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

// A 5.0 CONNECT body after the fixed header: "MQTT" 5, `flags`, keep alive 60, `properties`
// (section bytes), then `payload`.
std::string V5Connect(uint8_t flags, const std::string& properties, const std::string& payload) {
  return MakePacket(PacketType::kConnect, 0,
                    FromHex("00044d51545405") + std::string(1, static_cast<char>(flags)) +
                        FromHex("003c") + properties + payload);
}

std::string V311Connect(uint8_t flags, const std::string& payload) {
  return MakePacket(PacketType::kConnect, 0,
                    FromHex("00044d51545404") + std::string(1, static_cast<char>(flags)) +
                        FromHex("003c") + payload);
}

const std::string kClientId = FromHex("000164");  // "d"

TEST(MqttConnectTest, RoundTripsInBothVersions) {
  for (Version v : {Version::kV311, Version::kV5}) {
    for (const testing::Sample& s : testing::SamplePackets(v)) {
      const Connect* c = std::get_if<Connect>(&s.packet);
      if (c == nullptr) continue;
      SCOPED_TRACE(Cat(VersionName(v), " ", s.name));
      const std::string bytes = EncodeConnect(*c);
      auto back = DecodeConnect(bytes);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(*back, *c);
      EXPECT_EQ(PeekProtocolLevel(bytes), static_cast<uint8_t>(v));
    }
  }
}

TEST(MqttConnectTest, KnownBytesOfASmallV311Connect) {
  Connect c{.version = Version::kV311, .clean_start = true, .keep_alive_s = 60,
            .client_id = "dev-1", .username = "token", .password = "dapi-secret"};
  // The same bytes mqtt-packet 9.0.2 writes (clients_test.cc).
  EXPECT_EQ(ToHex(EncodeConnect(c)),
            "102500044d51545404c2003c00056465762d310005746f6b656e000b646170692d736563726574");
}

TEST(MqttConnectTest, UnsupportedProtocolVersions) {
  // MQTT 3.1: "MQIsdp", level 3.
  const std::string v31 = MakePacket(PacketType::kConnect, 0,
                                     FromHex("00064d514973647003020000") + kClientId);
  auto c = DecodeConnect(v31);
  EXPECT_TRUE(testing::IsError(c.status(), absl::StatusCode::kUnimplemented,
                      "protocol name \"MQIsdp\" level 3 (MQTT 3.1) at byte 10"));
  EXPECT_EQ(ReasonCodeFor(c.status()), ReasonCode::kUnsupportedProtocolVersion);
  EXPECT_EQ(PeekProtocolLevel(v31), 3);
  // 3.1.1's answer to it: CONNACK return code 1.
  EXPECT_EQ(ToHex(EncodeConnack({.reason = ReasonCodeFor(c.status())}, Version::kV311)),
            "20020001");
  for (const char* body : {"00044d51545403", "00044d51545406", "00044d51545400",
                           "00044d515454ff", "00044d71747405", "00054d5154547805"}) {
    const std::string packet =
        MakePacket(PacketType::kConnect, 0, FromHex(body) + FromHex("0200003c00") + kClientId);
    EXPECT_EQ(DecodeConnect(packet).status().code(), absl::StatusCode::kUnimplemented) << body;
  }
}

TEST(MqttConnectTest, ConnectFlagRules) {
  const std::string props = FromHex("00");
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V5Connect(0x03, props, kClientId))).status(),
                          "malformed CONNECT: connect flags (Byte) at byte 9: reserved bit 0"));
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V5Connect(0x1c, props, kClientId))).status(),
                          "Will QoS 3"));
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V5Connect(0x08, props, kClientId))).status(),
                          "Will QoS or Will Retain set without the Will Flag"));
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V5Connect(0x20, props, kClientId))).status(),
                          "Will QoS or Will Retain set without the Will Flag"));
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V311Connect(0x42, kClientId + FromHex("0000")))).status(),
                          "Password Flag set without the User Name Flag"));
  // 5.0 allows a password without a user name.
  auto c = DecodeConnect(testing::Keep(V5Connect(0x42, props, kClientId + FromHex("0002ff00"))));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->username);
  EXPECT_EQ(c->password, std::string_view("\xff\x00", 2));
  EXPECT_TRUE(c->clean_start);
}

TEST(MqttConnectTest, PayloadRefusals) {
  const std::string props = FromHex("00");
  // The Will Flag promises a will topic and payload that are not there.
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V5Connect(0x04, props, kClientId))).status(),
                          "Property Length"));
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V5Connect(0x04, props, kClientId + "\x00"s))).status(),
                          "will topic (UTF-8 String) at byte 17: truncated"));
  // A will topic with a wildcard, or empty.
  EXPECT_TRUE(IsMalformed(
      DecodeConnect(testing::Keep(V5Connect(0x04, props, kClientId + FromHex("00" "0001230000")))).status(),
      "will topic (UTF-8 String) at byte 17: empty or contains a wildcard"));
  EXPECT_TRUE(IsMalformed(
      DecodeConnect(testing::Keep(V5Connect(0x04, props, kClientId + FromHex("00" "00000000")))).status(),
      "empty or contains a wildcard"));
  // A user name flag with no user name; a client id with U+0000; bytes after the payload.
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V5Connect(0x80, props, kClientId))).status(),
                          "user name (UTF-8 String) at byte 16: truncated"));
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V5Connect(0x00, props, FromHex("00026400")))).status(),
                          "client identifier (UTF-8 String) at byte 16: invalid UTF-8: U+0000"));
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V5Connect(0x00, props, kClientId + "x"s))).status(),
                          "1 bytes after the payload at byte 16"));
  // 3.1.1 has no properties: the byte a 5.0 client would send is the client id's length.
  EXPECT_TRUE(IsMalformed(DecodeConnect(testing::Keep(V311Connect(0x00, FromHex("03") + kClientId))).status(),
                          "client identifier (UTF-8 String) at byte 12: length 768 exceeds"));
  // Not a CONNECT at all.
  EXPECT_TRUE(IsMalformed(DecodeConnect(FromHex("c000")).status(), "expected CONNECT, got PINGREQ"));
}

TEST(MqttConnectTest, PropertyRules) {
  EXPECT_TRUE(IsProtocolError(
      DecodeConnect(testing::Keep(V5Connect(0x02, FromHex("0416000161"), kClientId))).status(),
      "protocol error in CONNECT: properties at byte 12: Authentication Data without an "
      "Authentication Method"));
  EXPECT_TRUE(IsProtocolError(
      DecodeConnect(testing::Keep(V5Connect(0x02, FromHex("061100000000") + "\x11"s, kClientId))).status(),
      "Session Expiry Interval"));
  // Will Properties allow Will Delay Interval; CONNECT's do not.
  EXPECT_TRUE(IsMalformed(
      DecodeConnect(testing::Keep(V5Connect(0x02, FromHex("05180000000a"), kClientId))).status(),
      "Will Delay Interval (property 0x18) at byte 13: not allowed in CONNECT"));
  auto c = DecodeConnect(testing::Keep(V5Connect(0x06, FromHex("00"),
                                   kClientId + FromHex("05180000000a") + FromHex("0001610000"))));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->will);
  EXPECT_EQ(c->will->properties.will_delay_interval_s, 10u);
  EXPECT_EQ(c->will->topic, "a");
}

TEST(MqttConnectTest, PeekProtocolLevelNeverReadsPastTheEnd) {
  EXPECT_EQ(PeekProtocolLevel(""), std::nullopt);
  EXPECT_EQ(PeekProtocolLevel(FromHex("1006000400")), std::nullopt);
  EXPECT_EQ(PeekProtocolLevel(FromHex("30060004")), std::nullopt);  // PUBLISH
  EXPECT_EQ(PeekProtocolLevel(FromHex("10ff7f00044d51545405")), 5);
  EXPECT_EQ(PeekProtocolLevel(FromHex("10ffffffff")), std::nullopt);
}

TEST(MqttConnackTest, V311Bytes) {
  EXPECT_EQ(ToHex(EncodeConnack({.session_present = true}, Version::kV311)), "20020100");
  // Session Present is never sent with a refusal.
  EXPECT_EQ(ToHex(EncodeConnack({.session_present = true, .reason = ReasonCode::kNotAuthorized},
                                Version::kV311)),
            "20020005");
  const std::pair<ReasonCode, int> mapping[] = {
      {ReasonCode::kSuccess, 0},
      {ReasonCode::kUnsupportedProtocolVersion, 1},
      {ReasonCode::kClientIdentifierNotValid, 2},
      {ReasonCode::kServerUnavailable, 3},
      {ReasonCode::kServerBusy, 3},
      {ReasonCode::kQuotaExceeded, 3},
      {ReasonCode::kBadUserNameOrPassword, 4},
      {ReasonCode::kNotAuthorized, 5},
      {ReasonCode::kBanned, 5},
      {ReasonCode::kBadAuthenticationMethod, 5},
  };
  for (const auto& [reason, code] : mapping) {
    EXPECT_EQ(V311ConnackReturnCode(reason), code) << ReasonCodeName(reason);
    auto back = DecodeConnack(testing::Keep(EncodeConnack({.reason = reason}, Version::kV311)), Version::kV311);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(V311ConnackReturnCode(back->reason), code);
  }
  EXPECT_TRUE(IsMalformed(DecodeConnack(FromHex("20020006"), Version::kV311).status(),
                          "return code (Byte) at byte 3: unknown 0x06"));
  EXPECT_TRUE(IsMalformed(DecodeConnack(FromHex("20020200"), Version::kV311).status(),
                          "acknowledge flags (Byte) at byte 2: reserved bits set"));
  EXPECT_TRUE(IsProtocolError(DecodeConnack(FromHex("20020105"), Version::kV311).status(),
                              "Session Present with a failure code"));
}

TEST(MqttConnackTest, V5BytesAndTheClientsMaximumPacketSize) {
  EXPECT_EQ(ToHex(EncodeConnack({}, Version::kV5)), "2003000000");
  Connack refused{.reason = ReasonCode::kNotAuthorized};
  refused.properties.reason_string = "token expired";
  refused.properties.user_properties = {{"k", "v"}};
  const std::string full = EncodeConnack(refused, Version::kV5);
  EXPECT_EQ(ToHex(full), "201a008717" "1f000d746f6b656e2065787069726564" "260001" "6b0001" "76");
  EXPECT_EQ(EncodeConnack(refused, Version::kV5, full.size()), full);
  // One byte less than the full packet: Reason String and User Properties are left out.
  EXPECT_EQ(ToHex(EncodeConnack(refused, Version::kV5, full.size() - 1)), "2003008700");
  EXPECT_TRUE(IsMalformed(DecodeConnack(FromHex("2003000100"), Version::kV5).status(),
                          "reason code (Byte) at byte 3: 0x01 is not a reason code of CONNACK"));
  EXPECT_TRUE(IsMalformed(DecodeConnack(FromHex("200400000223"), Version::kV5).status(),
                          "Property Length"));
}

}  // namespace
}  // namespace nobus::mqtt
