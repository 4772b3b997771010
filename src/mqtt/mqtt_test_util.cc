#include "mqtt/mqtt_test_util.h"

#include <cstdlib>

namespace nobus::mqtt::testing {
namespace {

using R = ReasonCode;

Properties ConnectProperties() {
  Properties p;
  p.session_expiry_interval_s = 0;
  p.receive_maximum = 100;
  p.maximum_packet_size = 65536;
  p.topic_alias_maximum = 0;
  p.request_response_information = false;
  p.request_problem_information = true;
  p.user_properties = {{"Authorization", "Bearer x"},
                       {"x-databricks-zerobus-table-name", "main.default.t"},
                       {"Authorization", "second, kept in order"}};
  p.authentication_method = "nobus-token";
  p.authentication_data = std::string_view("\x00\x01\xff", 3);
  return p;
}

Properties WillProperties() {
  Properties p;
  p.will_delay_interval_s = 10;
  p.payload_format_indicator = 1;
  p.message_expiry_interval_s = 60;
  p.content_type = "application/json";
  p.response_topic = "replies/dev-1";
  p.correlation_data = "corr";
  p.user_properties = {{"k", "v"}};
  return p;
}

Properties PublishProperties() {
  Properties p;
  p.payload_format_indicator = 1;
  p.message_expiry_interval_s = 3600;
  p.content_type = "application/json";
  p.response_topic = "replies/1";
  p.correlation_data = std::string_view("\x01\x02\x03", 3);
  p.subscription_identifiers = {1, 268'435'455};
  p.topic_alias = 2;
  p.user_properties = {{"trace", "abc"}, {"trace", "def"}};
  return p;
}

Properties ConnackProperties() {
  Properties p;
  p.session_expiry_interval_s = 0;
  p.receive_maximum = 4096;
  p.maximum_qos = 1;
  p.retain_available = false;
  p.maximum_packet_size = 65536;
  p.assigned_client_identifier = "auto-1";
  p.topic_alias_maximum = 0;
  p.reason_string = "welcome";
  p.user_properties = {{"node", "n1"}};
  p.wildcard_subscription_available = false;
  p.subscription_identifier_available = false;
  p.shared_subscription_available = false;
  p.server_keep_alive_s = 60;
  p.response_information = "resp/";
  p.server_reference = "other:8883";
  p.authentication_method = "nobus-token";
  p.authentication_data = "ok";
  return p;
}

Properties Diagnostics(std::string_view reason) {
  Properties p;
  p.reason_string = reason;
  p.user_properties = {{"why", "because"}};
  return p;
}

}  // namespace

std::vector<Sample> SamplePackets(Version version) {
  const bool v5 = version == Version::kV5;
  const auto props = [&](Properties p) { return v5 ? std::move(p) : Properties(); };
  std::vector<Sample> s;
  s.push_back({"connect", Connect{.version = version, .clean_start = true, .keep_alive_s = 60,
                                  .properties = props(ConnectProperties()), .client_id = "dev-1",
                                  .username = "token", .password = "secret"}});
  s.push_back({"connect with will",
               Connect{.version = version, .keep_alive_s = 5, .client_id = "",
                       .will = Will{.properties = props(WillProperties()), .topic = "wills/dev",
                                    .payload = std::string_view("\x00gone", 5), .qos = 2,
                                    .retain = true}}});
  s.push_back({"connack", Connack{.session_present = true,
                                  .properties = props(ConnackProperties())}});
  s.push_back({"connack refused", Connack{.reason = R::kNotAuthorized}});
  s.push_back({"publish qos0", Publish{.topic = "main.default.t", .payload = R"({"id":1})"}});
  s.push_back({"publish qos1", Publish{.qos = 1, .topic = "main.default.t", .packet_id = 7,
                                       .properties = props(PublishProperties()),
                                       .payload = R"({"id":2})"}});
  s.push_back({"publish qos2", Publish{.dup = true, .qos = 2, .retain = true, .topic = "a/b",
                                       .packet_id = 65535, .payload = ""}});
  for (PacketType t : {PacketType::kPuback, PacketType::kPubrec, PacketType::kPubrel,
                       PacketType::kPubcomp}) {
    s.push_back({Cat(PacketTypeName(t), " short"), Ack{.type = t, .packet_id = 1}});
    const R failure = t == PacketType::kPuback || t == PacketType::kPubrec
                          ? R::kPayloadFormatInvalid
                          : R::kPacketIdentifierNotFound;
    s.push_back({Cat(PacketTypeName(t), " reason"),
                 Ack{.type = t, .packet_id = 2, .reason = v5 ? failure : R::kSuccess}});
    s.push_back({Cat(PacketTypeName(t), " properties"),
                 Ack{.type = t, .packet_id = 3, .reason = v5 ? failure : R::kSuccess,
                     .properties = props(Diagnostics("no"))}});
  }
  Properties sub_props;
  sub_props.subscription_identifiers = {12};
  sub_props.user_properties = {{"a", "b"}};
  s.push_back({"subscribe",
               Subscribe{.packet_id = 3, .properties = props(sub_props),
                         .subscriptions = {{.filter = "a/+", .max_qos = 1},
                                           {.filter = "$share/g/#", .max_qos = 2,
                                            .no_local = v5, .retain_as_published = v5,
                                            .retain_handling = static_cast<uint8_t>(v5 ? 2 : 0)},
                                           {.filter = "#"}}}});
  s.push_back({"suback", Suback{.packet_id = 3, .properties = props(Diagnostics("refused")),
                                .reasons = v5 ? std::vector<R>{R::kWildcardSubscriptionsNotSupported,
                                                               R::kSharedSubscriptionsNotSupported,
                                                               R::kSubscriptionIdentifiersNotSupported}
                                              : std::vector<R>{R::kUnspecifiedError,
                                                               R::kGrantedQos1, R::kSuccess}}});
  Properties unsub_props;
  unsub_props.user_properties = {{"u", "p"}};
  s.push_back({"unsubscribe", Unsubscribe{.packet_id = 4, .properties = props(unsub_props),
                                          .filters = {"a/+", "#"}}});
  s.push_back({"unsuback", Unsuback{.packet_id = 4, .properties = props(Diagnostics("none")),
                                    .reasons = v5 ? std::vector<R>{R::kNoSubscriptionExisted,
                                                                   R::kSuccess}
                                                  : std::vector<R>{}}});
  s.push_back({"pingreq", Pingreq{}});
  s.push_back({"pingresp", Pingresp{}});
  s.push_back({"disconnect", Disconnect{}});
  if (v5) {
    Properties disc = Diagnostics("bye");
    disc.session_expiry_interval_s = 0;
    disc.server_reference = "other:8883";
    s.push_back({"disconnect reason", Disconnect{.reason = R::kSessionTakenOver}});
    s.push_back({"disconnect properties",
                 Disconnect{.reason = R::kMaximumConnectTime, .properties = disc}});
    Properties auth;
    auth.authentication_method = "SCRAM-SHA-256";
    auth.authentication_data = "xyz";
    auth.reason_string = "go on";
    auth.user_properties = {{"x", "y"}};
    s.push_back({"auth short", Auth{}});
    s.push_back({"auth", Auth{.reason = R::kContinueAuthentication, .properties = auth}});
  }
  return s;
}

std::vector<std::string> EncodedSamples(Version version) {
  std::vector<std::string> out;
  for (const Sample& s : SamplePackets(version)) {
    auto bytes = EncodePacket(s.packet, version);
    if (!bytes.ok()) std::abort();
    out.push_back(*std::move(bytes));
  }
  return out;
}

}  // namespace nobus::mqtt::testing
