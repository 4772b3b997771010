// PUBLISH: round trips of every QoS in both versions, with and without properties, and every
// refusal.
#include "mqtt/publish.h"

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
using testing::ToHex;

constexpr Version kBoth[] = {Version::kV311, Version::kV5};

TEST(MqttPublishTest, RoundTripsOfEveryQos) {
  for (Version v : kBoth) {
    for (uint8_t qos = 0; qos <= 2; ++qos) {
      for (bool with_properties : {false, true}) {
        SCOPED_TRACE(Cat(VersionName(v), " qos ", static_cast<int>(qos), " properties ",
                         with_properties));
        Publish p{.dup = qos > 0, .qos = qos, .retain = qos == 1, .topic = "main.default.t",
                  .packet_id = static_cast<uint16_t>(qos * 1000), .payload = R"({"a":"\u00e9"})"};
        if (with_properties && v == Version::kV5) {
          p.properties.payload_format_indicator = 1;
          p.properties.content_type = "application/json";
          p.properties.user_properties = {{"b", "2"}, {"a", "1"}};
        }
        auto bytes = EncodePublish(p, v);
        ASSERT_TRUE(bytes.ok()) << bytes.status();
        auto back = DecodePublish(*bytes, v);
        ASSERT_TRUE(back.ok()) << back.status();
        EXPECT_EQ(*back, p);
      }
    }
  }
}

TEST(MqttPublishTest, KnownBytes) {
  Publish p{.qos = 1, .topic = "a/b", .packet_id = 10, .payload = "hi"};
  EXPECT_EQ(ToHex(*EncodePublish(p, Version::kV311)), "3209" "0003612f62" "000a" "6869");
  EXPECT_EQ(ToHex(*EncodePublish(p, Version::kV5)), "320a" "0003612f62" "000a" "00" "6869");
  // The payload is every byte left, including none at all.
  auto empty = DecodePublish(FromHex("30050003612f62"), Version::kV311);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->payload, "");
}

TEST(MqttPublishTest, PayloadIsAViewIntoThePacket) {
  const std::string packet = *EncodePublish({.topic = "t", .payload = "xyz"}, Version::kV5);
  auto p = DecodePublish(packet, Version::kV5);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->payload.data(), packet.data() + packet.size() - 3);
  EXPECT_EQ(p->topic.data(), packet.data() + 4);
}

TEST(MqttPublishTest, QosAndDupRules) {
  EXPECT_TRUE(IsMalformed(DecodePublish(FromHex("36050003612f62"), Version::kV5).status(),
                          "QoS 3"));
  EXPECT_TRUE(IsMalformed(DecodePublish(FromHex("38050003612f62"), Version::kV311).status(),
                          "malformed PUBLISH: fixed header flags at byte 0: DUP set on a QoS 0"));
  for (Version v : kBoth) {
    auto st = DecodePublish(FromHex("32070003612f620000"), v);
    EXPECT_TRUE(IsProtocolError(st.status(), "packet identifier (Two Byte Integer) at byte 7: 0 "
                                             "on a QoS 1 message"));
    EXPECT_EQ(ReasonCodeFor(st.status()), ReasonCode::kProtocolError);
  }
  // QoS 2 without room for its packet identifier.
  EXPECT_TRUE(IsMalformed(DecodePublish(FromHex("34060003612f6201"), Version::kV5).status(),
                          "packet identifier (Two Byte Integer) at byte 7: truncated"));
}

TEST(MqttPublishTest, TopicNameRules) {
  for (Version v : kBoth) {
    EXPECT_TRUE(IsMalformed(DecodePublish(FromHex("30050003612f2b"), v).status(),
                            "topic name (UTF-8 String) at byte 6: wildcard '+' in a Topic Name"));
    EXPECT_TRUE(IsMalformed(DecodePublish(FromHex("30050003236162"), v).status(),
                            "at byte 4: wildcard '#'"));
    EXPECT_TRUE(IsMalformed(DecodePublish(FromHex("30050003610062"), v).status(),
                            "topic name (UTF-8 String) at byte 5: invalid UTF-8: U+0000"));
    EXPECT_TRUE(IsMalformed(DecodePublish(FromHex("30050003ed"  "a080"), v).status(),
                            "UTF-16 surrogate"));
    EXPECT_TRUE(IsMalformed(DecodePublish(FromHex("30040003ed"  "a0"), v).status(),
                            "topic name (UTF-8 String) at byte 2: length 3 exceeds the 2"));
  }
  EXPECT_TRUE(IsMalformed(DecodePublish(FromHex("30020000"), Version::kV311).status(),
                          "topic name (UTF-8 String) at byte 2: empty"));
  EXPECT_TRUE(IsProtocolError(DecodePublish(FromHex("3003000000"), Version::kV5).status(),
                              "topic name (UTF-8 String) at byte 2: empty without a Topic Alias"));
  // An empty topic with a Topic Alias is legal 5.0 (the endpoint refuses the alias).
  auto aliased = DecodePublish(FromHex("30070000032300017" "8"), Version::kV5);
  ASSERT_TRUE(aliased.ok()) << aliased.status();
  EXPECT_EQ(aliased->properties.topic_alias, 1);
  EXPECT_EQ(aliased->payload, "x");
}

TEST(MqttPublishTest, PropertyRules) {
  // Topic Alias 0; a repeated Content Type; a Session Expiry Interval (not a PUBLISH property).
  EXPECT_TRUE(IsProtocolError(DecodePublish(FromHex("3008000161032300007b"), Version::kV5).status(),
                              "Topic Alias (property 0x23) at byte 7: value 0"));
  EXPECT_TRUE(IsProtocolError(
      DecodePublish(FromHex("300a00016106030000030000"), Version::kV5).status(),
      "Content Type (property 0x03) at byte 9: appears more than once"));
  EXPECT_TRUE(IsMalformed(
      DecodePublish(FromHex("3009000161051100000000"), Version::kV5).status(),
      "Session Expiry Interval (property 0x11) at byte 6: not allowed in PUBLISH"));
  // Property Length running past the packet.
  EXPECT_TRUE(IsMalformed(DecodePublish(FromHex("300500016109"  "01"), Version::kV5).status(),
                          "Property Length (Variable Byte Integer) at byte 5: 9 exceeds the 1"));
  // Subscription Identifiers parse (the endpoint refuses them from a client).
  auto ids = DecodePublish(FromHex("3008000161040b010b02"), Version::kV5);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->properties.subscription_identifiers, (std::vector<uint32_t>{1, 2}));
}

TEST(MqttPublishTest, EncodeRefusesWhatCannotBeSent) {
  const std::string topic(kMaxStringBytes + 1, 't');
  EXPECT_EQ(EncodePublish({.topic = topic}, Version::kV5).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A payload view claiming more than 256 MiB (never read: the size check comes first).
  const char byte = 'x';
  std::string_view huge(&byte, kMaxVariableByteInt);
  EXPECT_EQ(EncodePublish({.topic = "t", .payload = huge}, Version::kV311).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nobus::mqtt
