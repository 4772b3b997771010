// MQTT 5.0 properties: where each may appear, repetition, value rules, types and lengths.
#include "mqtt/properties.h"

#include <gtest/gtest.h>

#include <string>

#include "mqtt/mqtt_test_util.h"
#include "mqtt/reason_code.h"

namespace nobus::mqtt {
namespace {

using namespace std::string_literals;
using testing::FromHex;
using testing::IsMalformed;
using testing::IsProtocolError;
using C = PropertyContext;

absl::StatusOr<Properties> Read(const std::string& section, C where) {
  Reader r(section, "TEST");
  auto p = ReadProperties(r, where);
  if (p.ok() && !r.empty()) return absl::InternalError("bytes left after the properties");
  return p;
}

// A section of one property: length, then `bytes` (identifier and value).
std::string One(const std::string& bytes) {
  return std::string(1, static_cast<char>(bytes.size())) + bytes;
}

TEST(MqttPropertiesTest, AllowedContextsFollowTable2_4) {
  EXPECT_TRUE(IsPropertyAllowed(PropertyId::kUserProperty, C::kPubcomp));
  EXPECT_TRUE(IsPropertyAllowed(PropertyId::kSessionExpiryInterval, C::kDisconnect));
  EXPECT_FALSE(IsPropertyAllowed(PropertyId::kSessionExpiryInterval, C::kPublish));
  EXPECT_TRUE(IsPropertyAllowed(PropertyId::kWillDelayInterval, C::kWill));
  EXPECT_FALSE(IsPropertyAllowed(PropertyId::kWillDelayInterval, C::kConnect));
  EXPECT_TRUE(IsPropertyAllowed(PropertyId::kContentType, C::kWill));
  EXPECT_TRUE(IsPropertyAllowed(PropertyId::kSubscriptionIdentifier, C::kSubscribe));
  EXPECT_FALSE(IsPropertyAllowed(PropertyId::kSubscriptionIdentifier, C::kUnsubscribe));
  EXPECT_TRUE(IsPropertyAllowed(PropertyId::kReasonString, C::kAuth));
  EXPECT_FALSE(IsPropertyAllowed(PropertyId::kReasonString, C::kConnect));
  EXPECT_FALSE(IsPropertyAllowed(PropertyId::kReasonString, C::kPublish));
  EXPECT_TRUE(IsPropertyAllowed(PropertyId::kServerReference, C::kDisconnect));
  EXPECT_FALSE(IsPropertyAllowed(PropertyId::kMaximumQos, C::kConnect));
  EXPECT_TRUE(IsPropertyAllowed(PropertyId::kTopicAlias, C::kPublish));
  EXPECT_FALSE(IsPropertyAllowed(PropertyId::kTopicAlias, C::kWill));
  EXPECT_EQ(PropertyName(PropertyId::kTopicAliasMaximum), "Topic Alias Maximum");
  EXPECT_EQ(PropertyContextName(C::kWill), "Will Properties");
}

TEST(MqttPropertiesTest, ReadsEveryType) {
  // Session Expiry (4 bytes), Receive Maximum (2), Request Problem Information (byte), User
  // Property (pair) twice, Authentication Method (string), Authentication Data (binary).
  const std::string section = One(FromHex("110000003c") + FromHex("2100ff") + FromHex("1700") +
                                  FromHex("26000161000162") + FromHex("26000161000163") +
                                  FromHex("150003616263") + FromHex("16000100"));
  auto p = Read(section, C::kConnect);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->session_expiry_interval_s, 60u);
  EXPECT_EQ(p->receive_maximum, 255);
  EXPECT_EQ(p->request_problem_information, false);
  ASSERT_EQ(p->user_properties.size(), 2u);
  EXPECT_EQ(p->user_properties[0], (UserProperty{"a", "b"}));
  EXPECT_EQ(p->user_properties[1], (UserProperty{"a", "c"}));
  EXPECT_EQ(p->authentication_method, "abc");
  EXPECT_EQ(p->authentication_data, std::string_view("\0", 1));
  // Subscription Identifier is a Variable Byte Integer and may repeat in PUBLISH.
  auto pub = Read(One(FromHex("0b8001") + FromHex("0b01")), C::kPublish);
  ASSERT_TRUE(pub.ok()) << pub.status();
  EXPECT_EQ(pub->subscription_identifiers, (std::vector<uint32_t>{128, 1}));
}

TEST(MqttPropertiesTest, EmptySection) {
  auto p = Read(FromHex("00"), C::kPuback);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->empty());
}

TEST(MqttPropertiesTest, RepeatedPropertyIsAProtocolError) {
  auto p = Read(One(FromHex("2100ff") + FromHex("210001")), C::kConnect);
  EXPECT_TRUE(IsProtocolError(p.status(), "protocol error in TEST: Receive Maximum (property "
                                          "0x21) at byte 4: appears more than once"));
  EXPECT_EQ(ReasonCodeFor(p.status()), ReasonCode::kProtocolError);
  EXPECT_TRUE(IsProtocolError(Read(One(FromHex("0b01") + FromHex("0b02")), C::kSubscribe).status(),
                              "Subscription Identifier (property 0x0b) at byte 3: appears more"));
  EXPECT_TRUE(IsProtocolError(Read(One(FromHex("1f0000") + FromHex("1f0000")), C::kPuback).status(),
                              "Reason String"));
}

TEST(MqttPropertiesTest, PropertyNotAllowedHereIsMalformed) {
  auto p = Read(One(FromHex("1f0000")), C::kConnect);
  EXPECT_TRUE(IsMalformed(p.status(), "malformed TEST: Reason String (property 0x1f) at byte 1: "
                                      "not allowed in CONNECT"));
  EXPECT_EQ(ReasonCodeFor(p.status()), ReasonCode::kMalformedPacket);
  EXPECT_TRUE(IsMalformed(Read(One(FromHex("180000000a")), C::kConnect).status(),
                          "Will Delay Interval (property 0x18) at byte 1: not allowed in CONNECT"));
  EXPECT_TRUE(IsMalformed(Read(One(FromHex("110000000a")), C::kWill).status(),
                          "not allowed in Will Properties"));
  EXPECT_TRUE(IsMalformed(Read(One(FromHex("0b01")), C::kUnsubscribe).status(),
                          "not allowed in UNSUBSCRIBE"));
  EXPECT_TRUE(IsMalformed(Read(One(FromHex("0500")), C::kPublish).status(),
                          "property identifier at byte 1: unknown property 0x05"));
  EXPECT_TRUE(IsMalformed(Read(One(FromHex("8001")), C::kPublish).status(),
                          "unknown property 0x80"));
}

TEST(MqttPropertiesTest, LengthMustMatch) {
  // Property Length 5 with only 3 bytes after it.
  EXPECT_TRUE(IsMalformed(Read(FromHex("052100ff"), C::kConnect).status(),
                          "Property Length (Variable Byte Integer) at byte 0: 5 exceeds the 3"));
  // A value running past the section's end (Receive Maximum needs 2 bytes, the section has 1).
  EXPECT_TRUE(IsMalformed(Read(FromHex("022100") + "\xff\xff"s, C::kConnect).status(),
                          "Receive Maximum (property 0x21) (Two Byte Integer) at byte 2: "
                          "truncated, needs 2 bytes, 1 left"));
  // A string pair whose value is cut by the section.
  EXPECT_TRUE(IsMalformed(Read(FromHex("06260001610001") + "b"s, C::kConnect).status(),
                          "User Property (property 0x26) value (UTF-8 String) at byte 5"));
  EXPECT_TRUE(IsMalformed(Read(FromHex("ffffffff0f"), C::kConnect).status(),
                          "longer than 4 bytes"));
  EXPECT_TRUE(IsMalformed(Read("", C::kConnect).status(), "Property Length"));
}

TEST(MqttPropertiesTest, ValueRules) {
  EXPECT_TRUE(IsProtocolError(Read(One(FromHex("210000")), C::kConnect).status(),
                              "Receive Maximum (property 0x21) at byte 2: value 0"));
  EXPECT_TRUE(IsProtocolError(Read(One(FromHex("2700000000")), C::kConnect).status(),
                              "Maximum Packet Size"));
  EXPECT_TRUE(IsProtocolError(Read(One(FromHex("230000")), C::kPublish).status(), "Topic Alias"));
  EXPECT_TRUE(IsProtocolError(Read(One(FromHex("0b00")), C::kPublish).status(),
                              "Subscription Identifier (property 0x0b) at byte 2: value 0"));
  for (const char* hex : {"0102", "1702", "1903"}) {
    const C where = hex[1] == '1' ? C::kPublish : C::kConnect;
    EXPECT_TRUE(IsProtocolError(Read(One(FromHex(hex)), where).status(), "must be 0 or 1")) << hex;
  }
  for (const char* hex : {"2402", "2502", "2802", "2902", "2a02"}) {
    EXPECT_TRUE(IsProtocolError(Read(One(FromHex(hex)), C::kConnack).status(), "must be 0 or 1"))
        << hex;
  }
  EXPECT_TRUE(IsMalformed(Read(One(FromHex("080003612f2b")), C::kPublish).status(),
                          "Response Topic (property 0x08) at byte 2: not a valid Topic Name"));
  EXPECT_TRUE(IsMalformed(Read(One(FromHex("0800026100")), C::kPublish).status(),
                          "invalid UTF-8: U+0000"));
  EXPECT_TRUE(IsMalformed(Read(One(FromHex("03000161") + FromHex("2600026180") + "\x00\x00"s),
                               C::kPublish).status(),
                          "invalid UTF-8"));
}

TEST(MqttPropertiesTest, WriteThenReadEveryProperty) {
  for (const testing::Sample& s : testing::SamplePackets(Version::kV5)) {
    SCOPED_TRACE(s.name);
    const Properties* p = std::visit(
        [](const auto& v) -> const Properties* {
          if constexpr (requires { v.properties; }) return &v.properties;
          return nullptr;
        },
        s.packet);
    if (p == nullptr) continue;
    std::string bytes;
    Writer w(&bytes);
    WriteProperties(w, *p);
    Reader r(bytes, "TEST");
    C where = C::kConnect;
    switch (TypeOf(s.packet)) {
      case PacketType::kConnack: where = C::kConnack; break;
      case PacketType::kPublish: where = C::kPublish; break;
      case PacketType::kPuback: where = C::kPuback; break;
      case PacketType::kPubrec: where = C::kPubrec; break;
      case PacketType::kPubrel: where = C::kPubrel; break;
      case PacketType::kPubcomp: where = C::kPubcomp; break;
      case PacketType::kSubscribe: where = C::kSubscribe; break;
      case PacketType::kSuback: where = C::kSuback; break;
      case PacketType::kUnsubscribe: where = C::kUnsubscribe; break;
      case PacketType::kUnsuback: where = C::kUnsuback; break;
      case PacketType::kDisconnect: where = C::kDisconnect; break;
      case PacketType::kAuth: where = C::kAuth; break;
      default: break;
    }
    auto back = ReadProperties(r, where);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, *p);
    EXPECT_TRUE(r.empty());
  }
}

TEST(MqttPropertiesTest, WithoutDiagnosticsDropsReasonStringAndUserProperties) {
  Properties p;
  p.reason_string = "why";
  p.user_properties = {{"a", "b"}};
  p.session_expiry_interval_s = 1;
  Properties q = WithoutDiagnostics(p);
  EXPECT_FALSE(q.reason_string);
  EXPECT_TRUE(q.user_properties.empty());
  EXPECT_EQ(q.session_expiry_interval_s, 1u);
}

}  // namespace
}  // namespace nobus::mqtt
