// SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK: options in both versions, the reason codes the
// endpoint answers with, refusals.
#include "mqtt/subscribe.h"

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

TEST(MqttSubscribeTest, V5Options) {
  // Filter "a", options 0b0010_1110: Retain Handling 2, Retain As Published, No Local, QoS 2.
  auto s = DecodeSubscribe(FromHex("82070001" "00" "0001612e"), Version::kV5);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->packet_id, 1);
  ASSERT_EQ(s->subscriptions.size(), 1u);
  EXPECT_EQ(s->subscriptions[0], (Subscription{.filter = "a", .max_qos = 2, .no_local = true,
                                               .retain_as_published = true,
                                               .retain_handling = 2}));
  EXPECT_EQ(ToHex(EncodeSubscribe(*s, Version::kV5)), "82070001000001612e");
}

TEST(MqttSubscribeTest, RoundTripsInBothVersions) {
  for (Version v : {Version::kV311, Version::kV5}) {
    for (const testing::Sample& sample : testing::SamplePackets(v)) {
      SCOPED_TRACE(Cat(VersionName(v), " ", sample.name));
      if (const auto* s = std::get_if<Subscribe>(&sample.packet)) {
        auto back = DecodeSubscribe(testing::Keep(EncodeSubscribe(*s, v)), v);
        ASSERT_TRUE(back.ok()) << back.status();
        EXPECT_EQ(*back, *s);
      } else if (const auto* u = std::get_if<Unsubscribe>(&sample.packet)) {
        auto back = DecodeUnsubscribe(testing::Keep(EncodeUnsubscribe(*u, v)), v);
        ASSERT_TRUE(back.ok()) << back.status();
        EXPECT_EQ(*back, *u);
      } else if (const auto* sa = std::get_if<Suback>(&sample.packet)) {
        auto back = DecodeSuback(testing::Keep(EncodeSuback(*sa, v)), v);
        ASSERT_TRUE(back.ok()) << back.status();
        EXPECT_EQ(*back, *sa);
      } else if (const auto* ua = std::get_if<Unsuback>(&sample.packet)) {
        auto back = DecodeUnsuback(testing::Keep(EncodeUnsuback(*ua, v)), v);
        ASSERT_TRUE(back.ok()) << back.status();
        EXPECT_EQ(*back, *ua);
      }
    }
  }
}

TEST(MqttSubscribeTest, Refusals) {
  // 3.1.1: reserved bits of the requested QoS byte, QoS 3.
  EXPECT_TRUE(IsMalformed(DecodeSubscribe(FromHex("820600010001" "6104"), Version::kV311).status(),
                          "subscription options (Byte) at byte 7: reserved bits 7-2 set"));
  EXPECT_TRUE(IsMalformed(DecodeSubscribe(FromHex("820600010001" "6103"), Version::kV311).status(),
                          "QoS 3"));
  // 5.0: reserved bits 7-6, QoS 3, Retain Handling 3.
  EXPECT_TRUE(IsMalformed(DecodeSubscribe(FromHex("82070001000001" "6140"), Version::kV5).status(),
                          "subscription options (Byte) at byte 8: reserved bits 7-6 set"));
  EXPECT_TRUE(IsProtocolError(
      DecodeSubscribe(FromHex("82070001000001" "6103"), Version::kV5).status(), "Maximum QoS 3"));
  EXPECT_TRUE(IsProtocolError(
      DecodeSubscribe(FromHex("82070001000001" "6130"), Version::kV5).status(),
      "Retain Handling 3"));
  // Packet identifier 0; no filter; an empty filter; a filter without its options byte.
  EXPECT_TRUE(IsProtocolError(
      DecodeSubscribe(FromHex("82060000" "00016100"), Version::kV311).status(),
      "protocol error in SUBSCRIBE: packet identifier (Two Byte Integer) at byte 2: 0"));
  EXPECT_TRUE(IsProtocolError(DecodeSubscribe(FromHex("8203000100"), Version::kV5).status(),
                              "payload at byte 5: no Topic Filter"));
  EXPECT_TRUE(IsMalformed(DecodeSubscribe(FromHex("820500010000" "00"), Version::kV311).status(),
                          "topic filter (UTF-8 String) at byte 4: empty"));
  EXPECT_TRUE(IsMalformed(DecodeSubscribe(FromHex("820500010001" "61"), Version::kV311).status(),
                          "subscription options (Byte) at byte 7: truncated"));
  // Two Subscription Identifiers; a Topic Alias (not a SUBSCRIBE property).
  EXPECT_TRUE(IsProtocolError(
      DecodeSubscribe(FromHex("820b0001040b010b02" "00016100"), Version::kV5).status(),
      "appears more than once"));
  EXPECT_TRUE(IsMalformed(
      DecodeSubscribe(FromHex("820a000103230001" "00016100"), Version::kV5).status(),
      "not allowed in SUBSCRIBE"));
  // Reserved fixed header flags.
  EXPECT_TRUE(IsMalformed(DecodeSubscribe(FromHex("800600010001" "6100"), Version::kV311).status(),
                          "fixed header flags at byte 0: 0x00, must be 0x02"));
  // Wildcard placement is not judged by the codec.
  auto odd = DecodeSubscribe(FromHex("820800010003" "612b6200"), Version::kV311);
  ASSERT_TRUE(odd.ok()) << odd.status();
  EXPECT_FALSE(IsValidTopicFilter(odd->subscriptions[0].filter));
}

TEST(MqttUnsubscribeTest, Refusals) {
  auto u = DecodeUnsubscribe(FromHex("a20800010001610001" "62"), Version::kV311);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->filters, (std::vector<std::string_view>{"a", "b"}));
  EXPECT_TRUE(IsProtocolError(DecodeUnsubscribe(FromHex("a2020001"), Version::kV311).status(),
                              "no Topic Filter"));
  EXPECT_TRUE(IsMalformed(DecodeUnsubscribe(FromHex("a2080001020b01000161"), Version::kV5).status(),
                          "Subscription Identifier (property 0x0b) at byte 5: not allowed in "
                          "UNSUBSCRIBE"));
  EXPECT_TRUE(IsMalformed(DecodeUnsubscribe(FromHex("a20600010000" "0000"), Version::kV5).status(),
                          "topic filter (UTF-8 String) at byte 5: empty"));
  EXPECT_TRUE(IsMalformed(DecodeUnsubscribe(FromHex("a0050001000161"), Version::kV311).status(),
                          "must be 0x02"));
}

TEST(MqttSubackTest, ReasonCodesTheEndpointAnswersWith) {
  Suback v5{.packet_id = 3,
            .reasons = {ReasonCode::kSharedSubscriptionsNotSupported,
                        ReasonCode::kSubscriptionIdentifiersNotSupported,
                        ReasonCode::kWildcardSubscriptionsNotSupported,
                        ReasonCode::kNotAuthorized}};
  EXPECT_EQ(ToHex(EncodeSuback(v5, Version::kV5)), "9007000300" "9ea1a287");
  // 3.1.1 knows only 0x80 Failure.
  EXPECT_EQ(ToHex(EncodeSuback(v5, Version::kV311)), "90060003" "80808080");
  EXPECT_EQ(ToHex(EncodeSuback({.packet_id = 3, .reasons = {ReasonCode::kGrantedQos1}},
                               Version::kV311)),
            "9003000301");
  EXPECT_TRUE(IsMalformed(DecodeSuback(FromHex("9003000303"), Version::kV311).status(),
                          "0x03 is not a reason code of SUBACK"));
  EXPECT_TRUE(IsMalformed(DecodeSuback(FromHex("900400030011"), Version::kV5).status(),
                          "0x11 is not a reason code of SUBACK"));
  EXPECT_TRUE(IsProtocolError(DecodeSuback(FromHex("9003000300"), Version::kV5).status(),
                              "no reason code"));
}

TEST(MqttUnsubackTest, Forms) {
  EXPECT_EQ(ToHex(EncodeUnsuback({.packet_id = 5, .reasons = {ReasonCode::kSuccess}},
                                 Version::kV311)),
            "b0020005");
  EXPECT_EQ(ToHex(EncodeUnsuback({.packet_id = 5, .reasons = {ReasonCode::kNoSubscriptionExisted}},
                                 Version::kV5)),
            "b00400050011");
  EXPECT_TRUE(IsMalformed(DecodeUnsuback(FromHex("b003000500"), Version::kV311).status(),
                          "1 bytes after the packet identifier"));
  EXPECT_TRUE(IsMalformed(DecodeUnsuback(FromHex("b00400050010"), Version::kV5).status(),
                          "0x10 is not a reason code of UNSUBACK"));
  Unsuback big{.packet_id = 5, .reasons = {ReasonCode::kSuccess}};
  big.properties.reason_string = std::string_view("0123456789");
  EXPECT_EQ(ToHex(EncodeUnsuback(big, Version::kV5, 10)), "b00400050000");
}

}  // namespace
}  // namespace nobus::mqtt
