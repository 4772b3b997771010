// Endpoint::Impl::Publish (doc/mqtt.md "PUBLISH and its answers"): one message = one row. The
// topic names the table (the CONNECT's table header, if any, must match), the payload is decoded
// by the table's JSON decoder, and the row is appended to the WAL as one record; QoS 1 gets its
// PUBACK once the record is durable. A message that cannot be written gets a PUBACK with a
// failure reason code on 5.0 (the connection stays), or closes a 3.1.1 connection (whose PUBACK
// has no reason code); QoS 0 gets nothing. Trouble of the node, not of the message, ends the
// connection (DISCONNECT 0x88 / 0x89) so that the client resends after reconnecting.
#include "common/logging.h"
#include "mqtt/endpoint_impl.h"
#include "mqtt/wire.h"
#include "schema/row_codec.h"

namespace nobus::mqtt {
namespace {

// What a failed append means for the client: a message it must not resend (refused) or trouble
// of the node (end the connection; the client resends).
struct AppendFailure {
  bool refuse_message;
  ReasonCode code;
};

AppendFailure ClassifyAppendError(const absl::Status& st) {
  if (absl::IsNotFound(st)) return {true, ReasonCode::kTopicNameInvalid};        // table dropped
  if (absl::IsInvalidArgument(st)) return {true, ReasonCode::kPayloadFormatInvalid};  // too large
  if (absl::IsResourceExhausted(st)) return {false, ReasonCode::kServerBusy};    // disk low
  return {false, ReasonCode::kServerUnavailable};  // WAL failed or node closing
}

}  // namespace

void Endpoint::Impl::Publish(Session& s, const mqtt::Publish& p, net::Reply reply) {
  const bool v5 = s.version == Version::kV5;
  if (p.retain && v5)
    return reply(s.Disconnect(ReasonCode::kRetainNotSupported,
                              "RETAIN is not supported (the CONNACK announced Retain Available 0): "
                              "nobus keeps no retained messages"));
  if (p.properties.topic_alias)
    return reply(s.Disconnect(ReasonCode::kTopicAliasInvalid,
                              "Topic Alias is not supported (the CONNACK announced Topic Alias "
                              "Maximum 0): send the table name as the topic"));
  if (!p.properties.subscription_identifiers.empty())
    return reply(s.Disconnect(ReasonCode::kProtocolError,
                              "a client's PUBLISH may not carry a Subscription Identifier"));

  PublishCounters counters;  // once the table is known
  // One message that cannot be written: 5.0 PUBACK with `code`; 3.1.1 closes; QoS 0 nothing.
  auto refuse = [&](ReasonCode code, std::string_view why) {
    if (counters.rejected != nullptr) counters.rejected->Add();
    NOBUS_LOG_WARN_LIMITED("mqtt: refused a PUBLISH (QoS {}) to '{}' of {}: {} ({})", p.qos,
                           p.topic, s.Who(), ReasonCodeName(code), why);
    if (p.qos == 0) return reply(net::Answer{});
    if (!v5) return reply(s.Disconnect(code, why));
    Ack ack{.type = p.qos == 2 ? PacketType::kPubrec : PacketType::kPuback,
            .packet_id = p.packet_id, .reason = code};
    ack.properties.reason_string = why;
    reply(net::Answer{s.Encode(ack)});
  };

  absl::StatusOr<table::IngestService*> ingest = options.serving();
  if (!ingest.ok())
    return reply(s.Disconnect(ReasonCode::kServerUnavailable, MessageOf(ingest.status())));
  if (!s.target || s.target->topic != p.topic) {
    s.target.reset();
    const Route* route = FindRoute(options.routes, p.topic);
    absl::StatusOr<table::TableName> name =
        route != nullptr ? absl::StatusOr<table::TableName>(route->table)
                         : table::ParseTableName(p.topic);
    if (!name.ok())
      return refuse(ReasonCode::kTopicNameInvalid,
                    Cat("topic '", p.topic, "' matches no routing rule (mqtt_routes) and is not a "
                        "table name catalog.schema.table: ", MessageOf(name.status())));
    if (s.table && !(*name == *s.table))
      return refuse(ReasonCode::kTopicNameInvalid,
                    Cat("this connection writes table '", s.table->ToString(),
                        "' (its CONNECT's x-databricks-zerobus-table-name); topic '", p.topic,
                        "' names another"));
    absl::StatusOr<std::shared_ptr<const table::LiveTable>> live = (*ingest)->OpenTable(*name);
    if (!live.ok() && absl::IsNotFound(live.status()))
      return refuse(ReasonCode::kTopicNameInvalid, MessageOf(live.status()));
    if (!live.ok())
      return reply(s.Disconnect(ReasonCode::kServerUnavailable, MessageOf(live.status())));
    const std::string full_name = (*live)->info().name.ToString();
    s.target = Session::Target{.topic = std::string(p.topic), .route = route, .name = *name,
                               .table = *live,
                               .counters = {CountersFor(full_name, 0), CountersFor(full_name, 1),
                                            CountersFor(full_name, 2)}};
  }
  Session::Target& target = *s.target;
  counters = target.counters[p.qos];
  if (options.auth != nullptr && options.auth->enabled())  // each time: tokens expire
    if (absl::Status st = options.auth->AuthorizeTable(s.authorization, target.name).status();
        !st.ok())
      return refuse(ReasonCode::kNotAuthorized, MessageOf(st));
  if (p.properties.payload_format_indicator == 1 && !IsMqttUtf8(p.payload))
    return refuse(ReasonCode::kPayloadFormatInvalid,
                  "the Payload Format Indicator says UTF-8 but the payload is not UTF-8");
  std::string_view record = p.payload;
  std::string with_levels;
  if (target.route != nullptr && !target.route->level_columns.empty()) {
    if (absl::Status st = WithLevelColumns(*target.route, p.topic, p.payload, &with_levels); !st.ok())
      return refuse(ReasonCode::kPayloadFormatInvalid, MessageOf(st));
    record = with_levels;
  }
  std::string blob;
  schema::RowBlobWriter writer(&blob);
  if (absl::Status st = target.table->json_decoder().Decode(record, &writer); !st.ok())
    return refuse(ReasonCode::kPayloadFormatInvalid,
                  Cat(MessageOf(st), " (table '", target.name.ToString(),
                      "' takes one JSON object of its columns per message)"));

  if (p.qos == 2) return PublishQos2(s, p, **ingest, std::move(blob), std::move(reply));
  const uint8_t qos = p.qos;
  const uint16_t packet_id = p.packet_id;
  const Version version = s.version;
  const std::optional<uint32_t> max_packet = s.client_max_packet;
  table::DurableCallback done = [reply, counters, qos, packet_id, version,
                                 max_packet](absl::Status st) {
    if (st.ok()) {
      if (counters.written != nullptr) counters.written->Add(), counters.ingest_records->Add();
      if (qos == 1)
        reply(net::Answer{
            EncodeAck(Ack{.type = PacketType::kPuback, .packet_id = packet_id}, version)});
      return;
    }
    if (counters.rejected != nullptr) counters.rejected->Add();
    NOBUS_LOG_WARN_LIMITED("mqtt: a PUBLISH (QoS {}) was not made durable: {}", qos,
                           MessageOf(st));
    // The WAL failed before the sync: the message may or may not be durable; the client resends.
    if (qos == 1)
      reply(DisconnectAnswer(version, max_packet, ReasonCode::kServerUnavailable,
                             Cat("the write-ahead log failed: ", MessageOf(st), "; reconnect and "
                                 "resend")));
  };
  absl::Status appended = (*ingest)->Append(*target.table, std::move(blob), 1, std::move(done));
  if (!appended.ok()) {
    const AppendFailure f = ClassifyAppendError(appended);
    if (f.code == ReasonCode::kTopicNameInvalid) s.target.reset();
    if (f.refuse_message) return refuse(f.code, MessageOf(appended));
    return reply(s.Disconnect(f.code, MessageOf(appended)));
  }
  if (qos == 0) reply(net::Answer{});  // best effort: answered now, written when durable
}

}  // namespace nobus::mqtt
