// Packets written by independent implementations, decoded by nobus (and, for the packets a server
// sends, compared with nobus's encoders byte for byte where both choose the same form).
//
// mqtt-packet 9.0.2 (npm, the codec of MQTT.js), installed under /tmp (`npm install
// mqtt-packet@9.0.2`) and run by hand with Node 20: `mqtt.generate(packet, {protocolVersion})`
// for each packet described in the comments below, printed with `buf.toString('hex')`.
//
// mosquitto_pub 2.0.11 (libmosquitto 2.0.11, Debian bookworm's mosquitto-clients) against a
// throwaway Python socket listener on 127.0.0.1 that recorded every byte the client sent and
// answered CONNACK (20 03 00 00 00 / 20 02 00 00), PUBACK, PUBREC and PUBCOMP:
//   mosquitto_pub -V mqttv5 -i dev-1 -D connect user-property Authorization "Bearer x"
//     -D connect user-property x-databricks-zerobus-table-name main.default.t
//     -t main.default.t -q 1 -m '{"id":1}'
//   mosquitto_pub -V mqttv5 -i dev-2 -k 30 -D connect session-expiry-interval 0
//     -D connect receive-maximum 10 -D publish content-type application/json
//     -D publish user-property trace abc -D publish payload-format-indicator 1
//     -t main.default.t -q 0 -m '{"id":2}'
//   mosquitto_pub -V mqttv5 -i dev-3 -u token -P secret -t main.default.t -q 2 -m '{"id":3}'
//   mosquitto_pub -V mqttv311 -i dev-4 -u token -P secret -t main.default.t -q 1 -m '{"id":4}'
//   mosquitto_pub -V mqttv311 -i dev-5 --will-topic wills/dev-5 --will-payload gone
//     --will-qos 1 --will-retain -t main.default.t -q 2 -m '{"id":5}'
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "mqtt/mqtt_test_util.h"
#include "mqtt/packets.h"

namespace nobus::mqtt {
namespace {

using testing::FromHex;
using testing::ToHex;

// Decodes `hex` as a packet of type T; the bytes stay alive (for the views) until the test ends.
template <typename T>
T Decode(const std::string& hex, Version v) {
  static std::deque<std::string> held;
  held.push_back(FromHex(hex));
  auto p = DecodePacket(held.back(), v);
  EXPECT_TRUE(p.ok()) << hex << ": " << p.status();
  if (!p.ok() || !std::holds_alternative<T>(*p)) {
    ADD_FAILURE() << "not the expected packet type: " << hex;
    return T();
  }
  return std::get<T>(*p);
}

// The bytes are kept alive for the views of the decoded packets.
struct Held {
  std::string bytes;
  explicit Held(std::string_view hex) : bytes(FromHex(hex)) {}
};

const std::vector<UserProperty> kZerobusAuth = {
    {"Authorization", "Bearer x"}, {"x-databricks-zerobus-table-name", "main.default.t"}};

TEST(MqttPacketClientTest, MqttPacketConnectV5WithZerobusUserProperties) {
  // {cmd:'connect', protocolVersion:5, clean:true, keepalive:60, clientId:'dev-1',
  //  properties:{sessionExpiryInterval:0, receiveMaximum:100, maximumPacketSize:65536,
  //  requestProblemInformation:true, userProperties:{Authorization:'Bearer x',
  //  'x-databricks-zerobus-table-name':'main.default.t'}}}
  Held h("106d00044d5154540502003c5b11000000002100642700010000170126000d417574686f72697a6174696f"
         "6e0008426561726572207826001f782d64617461627269636b732d7a65726f6275732d7461626c652d6e61"
         "6d65000e6d61696e2e64656661756c742e7400056465762d31");
  auto c = DecodeConnect(h.bytes);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, Version::kV5);
  EXPECT_TRUE(c->clean_start);
  EXPECT_EQ(c->keep_alive_s, 60);
  EXPECT_EQ(c->client_id, "dev-1");
  EXPECT_EQ(c->properties.session_expiry_interval_s, 0u);
  EXPECT_EQ(c->properties.receive_maximum, 100);
  EXPECT_EQ(c->properties.maximum_packet_size, 65536u);
  EXPECT_EQ(c->properties.request_problem_information, true);
  EXPECT_EQ(c->properties.user_properties, kZerobusAuth);
  EXPECT_FALSE(c->will || c->username || c->password);
}

TEST(MqttPacketClientTest, MqttPacketConnectV5WithWill) {
  // {clean:false, keepalive:30, clientId:'c2', username:'u', password:<00 01 ff>, will:{topic:
  //  'wills/c2', payload:'gone', qos:1, retain:true, properties:{willDelayInterval:5,
  //  payloadFormatIndicator:true, contentType:'text/plain'}}}
  Held h("103c00044d51545405ec001e0000026332141800000005010103000a746578742f706c61696e000877696c"
         "6c732f63320004676f6e6500017500030001ff");
  auto c = DecodeConnect(h.bytes);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->clean_start);
  ASSERT_TRUE(c->will);
  EXPECT_EQ(c->will->topic, "wills/c2");
  EXPECT_EQ(c->will->payload, "gone");
  EXPECT_EQ(c->will->qos, 1);
  EXPECT_TRUE(c->will->retain);
  EXPECT_EQ(c->will->properties.will_delay_interval_s, 5u);
  EXPECT_EQ(c->will->properties.payload_format_indicator, 1);
  EXPECT_EQ(c->will->properties.content_type, "text/plain");
  EXPECT_EQ(c->username, "u");
  EXPECT_EQ(c->password, std::string_view("\x00\x01\xff", 3));
}

TEST(MqttPacketClientTest, MqttPacketConnectV311WithUserNameAndPassword) {
  // {protocolVersion:4, clean:true, keepalive:60, clientId:'dev-1', username:'token',
  //  password:'dapi-secret'}
  const std::string hex =
      "102500044d51545404c2003c00056465762d310005746f6b656e000b646170692d736563726574";
  Held h(hex);
  auto c = DecodeConnect(h.bytes);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, Version::kV311);
  EXPECT_EQ(c->username, "token");
  EXPECT_EQ(c->password, "dapi-secret");
  EXPECT_EQ(ToHex(EncodeConnect(*c)), hex);
}

TEST(MqttPacketClientTest, MqttPacketPublishesOfEveryQos) {
  // {cmd:'publish', topic:'main.default.t', payload:'{"id":1}', qos:0 | qos:1, messageId:7},
  // {topic:'a/b', qos:2, messageId:65535, dup:true, retain:true}; protocolVersion 4, then 5.
  struct Case {
    Version v;
    const char* hex;
    Publish want;
  };
  const Case cases[] = {
      {Version::kV311, "3018000e6d61696e2e64656661756c742e747b226964223a317d",
       {.topic = "main.default.t", .payload = R"({"id":1})"}},
      {Version::kV311, "321a000e6d61696e2e64656661756c742e7400077b226964223a317d",
       {.qos = 1, .topic = "main.default.t", .packet_id = 7, .payload = R"({"id":1})"}},
      {Version::kV311, "3d0f0003612f62ffff7b226964223a317d",
       {.dup = true, .qos = 2, .retain = true, .topic = "a/b", .packet_id = 65535,
        .payload = R"({"id":1})"}},
      {Version::kV5, "3019000e6d61696e2e64656661756c742e74007b226964223a317d",
       {.topic = "main.default.t", .payload = R"({"id":1})"}},
      {Version::kV5, "321b000e6d61696e2e64656661756c742e740007007b226964223a317d",
       {.qos = 1, .topic = "main.default.t", .packet_id = 7, .payload = R"({"id":1})"}},
      {Version::kV5, "3d100003612f62ffff007b226964223a317d",
       {.dup = true, .qos = 2, .retain = true, .topic = "a/b", .packet_id = 65535,
        .payload = R"({"id":1})"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.hex);
    Held h(c.hex);
    auto p = DecodePublish(h.bytes, c.v);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(*p, c.want);
    EXPECT_EQ(ToHex(*EncodePublish(c.want, c.v)), c.hex);
  }
}

TEST(MqttPacketClientTest, MqttPacketPublishesWithProperties) {
  // qos:1, messageId:8, properties:{payloadFormatIndicator:true, messageExpiryInterval:3600,
  //  topicAlias:2, responseTopic:'replies/1', correlationData:<01 02 03>,
  //  userProperties:{trace:'abc'}, contentType:'application/json'}
  Held h("3257000e6d61696e2e64656661756c742e7400083c01010200000e102300020800097265706c69657"
         "32f31090003010203260005747261636500036162630300106170706c69636174696f6e2f6a736f6e7b2269"
         "64223a317d");
  auto p = DecodePublish(h.bytes, Version::kV5);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->packet_id, 8);
  EXPECT_EQ(p->properties.payload_format_indicator, 1);
  EXPECT_EQ(p->properties.message_expiry_interval_s, 3600u);
  EXPECT_EQ(p->properties.topic_alias, 2);
  EXPECT_EQ(p->properties.response_topic, "replies/1");
  EXPECT_EQ(p->properties.correlation_data, std::string_view("\x01\x02\x03", 3));
  EXPECT_EQ(p->properties.user_properties, (std::vector<UserProperty>{{"trace", "abc"}}));
  EXPECT_EQ(p->properties.content_type, "application/json");
  EXPECT_EQ(p->payload, R"({"id":1})");
  // qos:0, properties:{userProperties:{k:['v1','v2']}}: one name, two values, in order.
  Held h2("3029000e6d61696e2e64656661756c742e74102600016b000276312600016b000276327b226964223a317d");
  auto q = DecodePublish(h2.bytes, Version::kV5);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->properties.user_properties,
            (std::vector<UserProperty>{{"k", "v1"}, {"k", "v2"}}));
  EXPECT_EQ(ToHex(*EncodePublish(*q, Version::kV5)), ToHex(h2.bytes));
}

TEST(MqttPacketClientTest, MqttPacketPubrelDisconnectSubscribe) {
  // pubrel {messageId:9}: 3.1.1, 5.0 (mqtt-packet writes the long form with reason 0 and an
  // empty property section), 5.0 with reasonCode 0x92 and reasonString 'unknown id'.
  EXPECT_EQ(Decode<Ack>("62020009", Version::kV311),
            (Ack{.type = PacketType::kPubrel, .packet_id = 9}));
  EXPECT_EQ(Decode<Ack>("620400090000", Version::kV5),
            (Ack{.type = PacketType::kPubrel, .packet_id = 9}));
  Held rel("62110009920d1f000a756e6b6e6f776e206964");
  auto a = DecodeAck(rel.bytes, Version::kV5);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->reason, ReasonCode::kPacketIdentifierNotFound);
  EXPECT_EQ(a->properties.reason_string, "unknown id");
  EXPECT_EQ(ToHex(EncodeAck(*a, Version::kV5)), ToHex(rel.bytes));
  // disconnect: 3.1.1, 5.0, and 5.0 {reasonCode:0x8e, properties:{sessionExpiryInterval:0,
  //  reasonString:'bye'}}.
  EXPECT_EQ(Decode<Disconnect>("e000", Version::kV311), Disconnect());
  EXPECT_EQ(Decode<Disconnect>("e0020000", Version::kV5), Disconnect());
  Held disc("e00d8e0b11000000001f0003627965");
  auto d = DecodeDisconnect(disc.bytes, Version::kV5);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->reason, ReasonCode::kSessionTakenOver);
  EXPECT_EQ(d->properties.session_expiry_interval_s, 0u);
  EXPECT_EQ(d->properties.reason_string, "bye");
  EXPECT_EQ(ToHex(EncodeDisconnect(*d, Version::kV5)), ToHex(disc.bytes));
  // subscribe {messageId:3, subscriptions:[{topic:'a/+', qos:1}, {topic:'#', qos:0}]}.
  for (const auto& [v, hex] : {std::pair{Version::kV311, "820c00030003612f2b0100012300"},
                               std::pair{Version::kV5, "820d0003000003612f2b0100012300"}}) {
    Held sub(hex);
    auto s = DecodeSubscribe(sub.bytes, v);
    ASSERT_TRUE(s.ok()) << s.status();
    ASSERT_EQ(s->subscriptions.size(), 2u);
    EXPECT_EQ(s->subscriptions[0], (Subscription{.filter = "a/+", .max_qos = 1}));
    EXPECT_EQ(s->subscriptions[1], (Subscription{.filter = "#"}));
    EXPECT_EQ(ToHex(EncodeSubscribe(*s, v)), hex);
  }
  // {messageId:4, properties:{subscriptionIdentifier:12, userProperties:{a:'b'}},
  //  subscriptions:[{topic:'$share/g/x', qos:2, nl:true, rap:true, rh:2}]}
  Held shared("82190004090b0c26000161000162000a2473686172652f672f782e");
  auto s = DecodeSubscribe(shared.bytes, Version::kV5);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->properties.subscription_identifiers, (std::vector<uint32_t>{12}));
  EXPECT_EQ(s->subscriptions[0],
            (Subscription{.filter = "$share/g/x", .max_qos = 2, .no_local = true,
                          .retain_as_published = true, .retain_handling = 2}));
}

TEST(MqttPacketClientTest, NobusServerPacketsMatchMqttPacket) {
  // connack 5.0 {reasonCode:0, properties:{sessionExpiryInterval:0, assignedClientIdentifier:
  //  'auto-1', serverKeepAlive:60, receiveMaximum:4096, topicAliasMaximum:0, maximumQoS:1,
  //  retainAvailable:false, maximumPacketSize:65536, wildcardSubscriptionAvailable:false,
  //  subscriptionIdentifiersAvailable:false, sharedSubscriptionAvailable:false}}
  Connack zerobus;
  zerobus.properties.session_expiry_interval_s = 0;
  zerobus.properties.assigned_client_identifier = "auto-1";
  zerobus.properties.server_keep_alive_s = 60;
  zerobus.properties.receive_maximum = 4096;
  zerobus.properties.topic_alias_maximum = 0;
  zerobus.properties.maximum_qos = 1;
  zerobus.properties.retain_available = false;
  zerobus.properties.maximum_packet_size = 65536;
  zerobus.properties.wildcard_subscription_available = false;
  zerobus.properties.subscription_identifier_available = false;
  zerobus.properties.shared_subscription_available = false;
  const std::string connack_hex =
      "202900002611000000001200066175746f2d3113003c211000220000240125002700010000280029002a00";
  EXPECT_EQ(ToHex(EncodeConnack(zerobus, Version::kV5)), connack_hex);
  EXPECT_EQ(Decode<Connack>(connack_hex, Version::kV5), zerobus);
  // {reasonCode:0x87, properties:{reasonString:'token expired'}}
  Connack refused{.reason = ReasonCode::kNotAuthorized};
  refused.properties.reason_string = "token expired";
  EXPECT_EQ(ToHex(EncodeConnack(refused, Version::kV5)),
            "20130087101f000d746f6b656e2065787069726564");
  // 3.1.1 {sessionPresent:true, returnCode:0}, {returnCode:4}
  EXPECT_EQ(ToHex(EncodeConnack({.session_present = true}, Version::kV311)), "20020100");
  EXPECT_EQ(ToHex(EncodeConnack({.reason = ReasonCode::kBadUserNameOrPassword}, Version::kV311)),
            "20020004");
  // puback {messageId:7, reasonCode:0} (5.0 short form), {reasonCode:0x99, properties:
  //  {reasonString:'not JSON'}}, 3.1.1 {messageId:7}
  EXPECT_EQ(ToHex(EncodeAck({.packet_id = 7}, Version::kV5)), "40020007");
  Ack not_json{.packet_id = 7, .reason = ReasonCode::kPayloadFormatInvalid};
  not_json.properties.reason_string = "not JSON";
  EXPECT_EQ(ToHex(EncodeAck(not_json, Version::kV5)), "400f0007990b1f00086e6f74204a534f4e");
  EXPECT_EQ(ToHex(EncodeAck({.packet_id = 7}, Version::kV311)), "40020007");
  // suback {messageId:3, granted:[0x9e, 0xa2, 0xa1]} (5.0), {granted:[0x80, 1]} (3.1.1)
  EXPECT_EQ(ToHex(EncodeSuback({.packet_id = 3,
                                .reasons = {ReasonCode::kSharedSubscriptionsNotSupported,
                                            ReasonCode::kWildcardSubscriptionsNotSupported,
                                            ReasonCode::kSubscriptionIdentifiersNotSupported}},
                               Version::kV5)),
            "90060003009ea2a1");
  EXPECT_EQ(ToHex(EncodeSuback({.packet_id = 3,
                                .reasons = {ReasonCode::kUnspecifiedError, ReasonCode::kGrantedQos1}},
                               Version::kV311)),
            "900400038001");
  // unsuback {messageId:5, granted:[0x11]} (5.0), {messageId:5} (3.1.1); pingresp
  EXPECT_EQ(ToHex(EncodeUnsuback({.packet_id = 5, .reasons = {ReasonCode::kNoSubscriptionExisted}},
                                 Version::kV5)),
            "b00400050011");
  EXPECT_EQ(ToHex(EncodeUnsuback({.packet_id = 5}, Version::kV311)), "b0020005");
  EXPECT_EQ(ToHex(EncodePingresp()), "d000");
  // auth {reasonCode:0x18, properties:{authenticationMethod:'SCRAM', authenticationData:'xyz'}}
  Auth auth{.reason = ReasonCode::kContinueAuthentication};
  auth.properties.authentication_method = "SCRAM";
  auth.properties.authentication_data = "xyz";
  EXPECT_EQ(ToHex(EncodeAuth(auth)), "f010180e150005534352414d16000378797a");
}

TEST(MqttMosquittoClientTest, V5QoS1WithZerobusUserProperties) {
  Held connect("106100044d5154540502003c4f26000d417574686f72697a6174696f6e00084265617265722078"
               "26001f782d64617461627269636b732d7a65726f6275732d7461626c652d6e616d65000e6d61696e"
               "2e64656661756c742e7421001400056465762d31");
  auto c = DecodeConnect(connect.bytes);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, Version::kV5);
  EXPECT_TRUE(c->clean_start);
  EXPECT_EQ(c->keep_alive_s, 60);
  EXPECT_EQ(c->client_id, "dev-1");
  EXPECT_EQ(c->properties.user_properties, kZerobusAuth);
  EXPECT_EQ(c->properties.receive_maximum, 20);  // mosquitto's default
  Publish p = Decode<Publish>("321b000e6d61696e2e64656661756c742e740001007b226964223a317d",
                              Version::kV5);
  EXPECT_EQ(p, (Publish{.qos = 1, .topic = "main.default.t", .packet_id = 1,
                        .payload = R"({"id":1})"}));
  EXPECT_EQ(Decode<Disconnect>("e000", Version::kV5), Disconnect());
}

TEST(MqttMosquittoClientTest, V5QoS0WithPublishProperties) {
  Held connect("101a00044d5154540502001e08110000000021000a00056465762d32");
  auto c = DecodeConnect(connect.bytes);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->keep_alive_s, 30);
  EXPECT_EQ(c->properties.session_expiry_interval_s, 0u);
  EXPECT_EQ(c->properties.receive_maximum, 10);
  Held publish("303b000e6d61696e2e64656661756c742e74220300106170706c69636174696f6e2f6a736f6e26"
               "00057472616365000361626301017b226964223a327d");
  auto p = DecodePublish(publish.bytes, Version::kV5);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->properties.content_type, "application/json");
  EXPECT_EQ(p->properties.user_properties, (std::vector<UserProperty>{{"trace", "abc"}}));
  EXPECT_EQ(p->properties.payload_format_indicator, 1);
  EXPECT_EQ(p->payload, R"({"id":2})");
}

TEST(MqttMosquittoClientTest, V5QoS2WithUserNameAndPassword) {
  Held connect("102400044d51545405c2003c0321001400056465762d330005746f6b656e0006736563726574");
  auto c = DecodeConnect(connect.bytes);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->username, "token");
  EXPECT_EQ(c->password, "secret");
  EXPECT_EQ(Decode<Publish>("341b000e6d61696e2e64656661756c742e740001007b226964223a337d",
                            Version::kV5),
            (Publish{.qos = 2, .topic = "main.default.t", .packet_id = 1,
                     .payload = R"({"id":3})"}));
  // mosquitto writes the 5.0 short form of PUBREL.
  EXPECT_EQ(Decode<Ack>("62020001", Version::kV5),
            (Ack{.type = PacketType::kPubrel, .packet_id = 1}));
}

TEST(MqttMosquittoClientTest, V311QoS1AndQoS2WithWill) {
  const std::string connect_hex =
      "102000044d51545404c2003c00056465762d340005746f6b656e0006736563726574";
  Held connect(connect_hex);
  auto c = DecodeConnect(connect.bytes);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->version, Version::kV311);
  EXPECT_EQ(c->client_id, "dev-4");
  EXPECT_EQ(ToHex(EncodeConnect(*c)), connect_hex);
  EXPECT_EQ(Decode<Publish>("321a000e6d61696e2e64656661756c742e7400017b226964223a347d",
                            Version::kV311),
            (Publish{.qos = 1, .topic = "main.default.t", .packet_id = 1,
                     .payload = R"({"id":4})"}));

  Held will("102400044d515454042e003c00056465762d35000b77696c6c732f6465762d350004676f6e65");
  auto w = DecodeConnect(will.bytes);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->will);
  EXPECT_EQ(w->will->topic, "wills/dev-5");
  EXPECT_EQ(w->will->payload, "gone");
  EXPECT_EQ(w->will->qos, 1);
  EXPECT_TRUE(w->will->retain);
  EXPECT_EQ(Decode<Publish>("341a000e6d61696e2e64656661756c742e7400017b226964223a357d",
                            Version::kV311)
                .qos,
            2);
  EXPECT_EQ(Decode<Ack>("62020001", Version::kV311),
            (Ack{.type = PacketType::kPubrel, .packet_id = 1}));
  EXPECT_EQ(Decode<Disconnect>("e000", Version::kV311), Disconnect());
}

}  // namespace
}  // namespace nobus::mqtt
