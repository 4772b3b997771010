// The MQTT endpoint's packet dispatch, the listener's framing and last words, the client
// registry, SUBSCRIBE / UNSUBSCRIBE refusals and the metrics (endpoint.h).
#include "mqtt/endpoint.h"

#include <utility>

#include "common/logging.h"
#include "mqtt/endpoint_impl.h"

namespace nobus::mqtt {

Endpoint::Impl::Impl(EndpointOptions o) : options(std::move(o)) {
  if (options.metrics != nullptr)
    connections = options.metrics->GetGauge("nobus_mqtt_connections",
                                            "Open MQTT connections (CONNECT accepted).");
}

void Endpoint::Impl::CountConnect(Version version, std::string_view result) {
  if (options.metrics == nullptr) return;
  options.metrics
      ->GetCounter("nobus_mqtt_connects_total",
                   "MQTT CONNECT packets by protocol version and result (accepted, or the "
                   "refusal's reason code).",
                   {{"version", std::string(VersionName(version))}, {"result", std::string(result)}})
      ->Add();
}

PublishCounters Endpoint::Impl::CountersFor(const std::string& table, int qos) {
  if (options.metrics == nullptr) return {};
  auto counter = [&](const char* result) {
    return options.metrics->GetCounter(
        "nobus_mqtt_publishes_total",
        "MQTT PUBLISH packets by table, QoS and result (written: durable; rejected: refused).",
        {{"table", table}, {"qos", std::to_string(qos)}, {"result", result}});
  };
  return PublishCounters{
      .ingest_records = options.metrics->GetCounter(
          "nobus_ingest_records_total", "Records acknowledged as durable.", {{"table", table}}),
      .written = counter("written"),
      .rejected = counter("rejected"),
      .duplicate = qos == 2 ? counter("duplicate") : nullptr};
}

void Endpoint::Impl::Register(const std::shared_ptr<Session>& session) {
  std::shared_ptr<Session> older;
  {
    std::lock_guard<std::mutex> l(mu);
    std::weak_ptr<Session>& slot = clients[session->client_id];
    older = slot.lock();
    slot = session;
  }
  if (older == nullptr || older == session) return;
  NOBUS_LOG_INFO("mqtt: {} takes over the session of the connection from {}", session->Who(),
                 older->peer);
  older->push(older->Disconnect(ReasonCode::kSessionTakenOver,
                                Cat("another connection (", session->peer,
                                    ") connected with client identifier '", session->client_id,
                                    "'")));
}

void Endpoint::Impl::Unregister(const Session* session) {
  std::lock_guard<std::mutex> l(mu);
  auto it = clients.find(session->client_id);
  if (it == clients.end()) return;
  std::shared_ptr<Session> current = it->second.lock();
  if (current == nullptr || current.get() == session) clients.erase(it);
}

Session::Session(std::shared_ptr<Endpoint::Impl> e, std::string p,
                 std::function<void(net::Answer)> push_fn)
    : endpoint(std::move(e)), peer(std::move(p)), push(std::move(push_fn)) {}

Session::~Session() {
  endpoint->DetachQos2(*this);
  if (!connected) return;
  endpoint->Unregister(this);
  if (endpoint->connections != nullptr) endpoint->connections->Add(-1);
}

std::string Session::Who() const {
  if (!connected) return Cat("connection from ", peer);
  return Cat("client '", client_id, "' (MQTT ", VersionName(version), ") from ", peer);
}

std::string Session::Encode(const Packet& packet) const {
  absl::StatusOr<std::string> bytes = EncodePacket(packet, version, client_max_packet);
  return bytes.ok() ? *std::move(bytes) : std::string();  // only PUBLISH encoding can fail
}

net::Answer DisconnectAnswer(Version version, std::optional<uint32_t> client_max_packet,
                             ReasonCode code, std::string_view why) {
  if (version != Version::kV5) return net::Answer{.close = true};
  mqtt::Disconnect d{.reason = code};
  d.properties.reason_string = why;
  absl::StatusOr<std::string> bytes = EncodePacket(d, version, client_max_packet);
  return net::Answer{.response = bytes.ok() ? *std::move(bytes) : std::string(), .close = true};
}

net::Answer Session::Disconnect(ReasonCode code, std::string_view why) const {
  NOBUS_LOG_WARN_LIMITED("mqtt: closing the connection of {}: {} ({})", Who(),
                         ReasonCodeName(code), why);
  if (!connected) return net::Answer{.close = true};
  return DisconnectAnswer(version, client_max_packet, code, why);
}

net::Answer Endpoint::Impl::Subscribe(const Session& session, const mqtt::Subscribe& subscribe) {
  Suback ack{.packet_id = subscribe.packet_id};
  ack.reasons.assign(subscribe.subscriptions.size(), ReasonCode::kUnspecifiedError);
  constexpr std::string_view kWhy =
      "nobus ingests messages into tables and has none to deliver: subscriptions are not "
      "supported";
  if (session.version == Version::kV5) ack.properties.reason_string = kWhy;
  NOBUS_LOG_WARN_LIMITED("mqtt: refused SUBSCRIBE of {} ({} filters)", session.Who(),
                         subscribe.subscriptions.size());
  return net::Answer{session.Encode(ack)};
}

net::Answer Endpoint::Impl::Unsubscribe(const Session& session,
                                        const mqtt::Unsubscribe& unsubscribe) {
  Unsuback ack{.packet_id = unsubscribe.packet_id};
  ack.reasons.assign(unsubscribe.filters.size(), ReasonCode::kNoSubscriptionExisted);
  return net::Answer{session.Encode(ack)};
}

namespace {

// Answers every packet type after CONNECT (PUBLISH goes to publish_handler.cc).
struct PacketVisitor {
  Endpoint::Impl& impl;
  Session& s;
  net::Reply& reply;
  void operator()(const mqtt::Publish& p) { impl.Publish(s, p, std::move(reply)); }
  void operator()(const mqtt::Subscribe& p) { reply(impl.Subscribe(s, p)); }
  void operator()(const mqtt::Unsubscribe& p) { reply(impl.Unsubscribe(s, p)); }
  void operator()(const Pingreq&) { reply(net::Answer{s.Encode(Pingresp{})}); }
  void operator()(const mqtt::Disconnect&) {
    NOBUS_LOG_DEBUG("mqtt: {} disconnected", s.Who());
    reply(net::Answer{.close = true});
  }
  void operator()(const mqtt::Auth&) {
    reply(s.Disconnect(ReasonCode::kProtocolError,
                       "AUTH: nobus has no enhanced authentication (connect with a token as "
                       "the password or the Authorization user property)"));
  }
  void operator()(const Ack& a) {
    if (a.type == PacketType::kPubrel) return impl.Pubrel(s, a, std::move(reply));
    // A server that sends no PUBLISH gets no PUBACK, PUBREC or PUBCOMP.
    reply(s.Disconnect(ReasonCode::kProtocolError,
                       Cat(PacketTypeName(a.type), " for packet identifier ", a.packet_id,
                           ": nobus sends no PUBLISH")));
  }
  void operator()(const Connect&) {
    reply(s.Disconnect(ReasonCode::kProtocolError, "a second CONNECT on the connection"));
  }
  template <class P>
  void operator()(const P& p) {  // CONNACK, SUBACK, UNSUBACK, PINGRESP: only a server sends them
    reply(s.Disconnect(ReasonCode::kProtocolError,
                       Cat(PacketTypeName(TypeOf(Packet(p))), " is sent by servers, not clients")));
  }
};

}  // namespace

Endpoint::Endpoint(EndpointOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

Endpoint::~Endpoint() = default;

const EndpointOptions& Endpoint::options() const { return impl_->options; }

void Endpoint::Handle(std::string packet, net::ConnectionContext& connection, net::Reply reply) {
  if (connection.state == nullptr)
    connection.state = std::make_shared<Session>(impl_, connection.peer, connection.push);
  const std::shared_ptr<Session> session = std::static_pointer_cast<Session>(connection.state);
  if (!session->connected) {
    net::Answer answer = impl_->Connect(*session, packet);
    if (session->connected) impl_->Register(session);
    return reply(std::move(answer));
  }
  absl::StatusOr<Packet> decoded = DecodePacket(packet, session->version);
  if (!decoded.ok())
    return reply(session->Disconnect(ReasonCodeFor(decoded.status()), MessageOf(decoded.status())));
  std::visit(PacketVisitor{*impl_, *session, reply}, *decoded);
}

std::optional<std::string> Endpoint::LastWords(const absl::Status& why,
                                               net::ConnectionContext& connection) {
  const auto session = std::static_pointer_cast<Session>(connection.state);
  if (session == nullptr || !session->connected || session->version != Version::kV5)
    return std::nullopt;
  const ReasonCode code = absl::IsDeadlineExceeded(why) ? ReasonCode::kKeepAliveTimeout
                         : absl::IsUnavailable(why)     ? ReasonCode::kServerShuttingDown
                                                        : ReasonCodeFor(why);
  return session->Disconnect(code, MessageOf(why)).response;
}

namespace {

constexpr size_t kMinHeadBytes = 2;  // a packet type byte and one Remaining Length byte

}  // namespace

std::unique_ptr<net::FramedServer> NewMqttServer(net::FramedServerOptions options,
                                                 Endpoint* endpoint) {
  const uint32_t max_packet = endpoint->options().max_packet_bytes;
  options.protocol = "mqtt";
  options.max_frame_bytes = max_packet;
  options.idle_timeout_ms = endpoint->options().connect_timeout_ms;
  options.max_inflight_per_connection = endpoint->options().receive_maximum;
  options.framing = net::Framing{
      .min_head_bytes = kMinHeadBytes,
      .frame_size = [max_packet](std::string_view head) -> absl::StatusOr<size_t> {
        NOBUS_ASSIGN_OR_RETURN(Framing f, FramePacket(head, max_packet));
        return f.packet_bytes;  // 0 while the Remaining Length is incomplete: one more byte
      }};
  options.last_words = [endpoint](const absl::Status& why, net::ConnectionContext& c) {
    return endpoint->LastWords(why, c);
  };
  return std::make_unique<net::FramedServer>(
      std::move(options), [endpoint](std::string packet, net::ConnectionContext& connection,
                                     net::Reply reply) {
        endpoint->Handle(std::move(packet), connection, std::move(reply));
      });
}

}  // namespace nobus::mqtt
