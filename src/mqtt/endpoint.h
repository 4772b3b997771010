// The MQTT endpoint (doc/mqtt.md; protocol facts: specs/mqtt.md): devices CONNECT with MQTT 5.0 or
// 3.1.1 and PUBLISH one JSON object per message; each message is decoded by the table's JSON
// decoder (exactly like a gRPC JSON record) and appended to the WAL as one record; QoS 1 is
// answered with PUBACK once the record is durable. Topic = table name `catalog.schema.table`.
// Subscriptions, retained messages (5.0), Wills (5.0), QoS 2 and enhanced authentication are
// refused with their reason codes.
//
// Wiring: NewMqttServer(options, endpoint) is a net::FramedServer with MQTT's framing (fixed
// header + Variable Byte Integer length) whose frames go to Endpoint::Handle, and whose
// connections closed by the listener itself (oversize packet, keep-alive timeout) get their
// DISCONNECT from Endpoint::LastWords.
//
// Thread-safety: Handle and LastWords are called from the event-loop threads, one at a time per
// connection; the per-connection Session is touched only there. Appends complete on the WAL's
// thread and answer through the Reply. The Endpoint must outlive its server.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "auth/authorizer.h"
#include "common/metrics.h"
#include "common/status.h"
#include "mqtt/routes.h"
#include "net/framed_server.h"
#include "table/ingest_service.h"

namespace nobus::mqtt {

struct EndpointOptions {
  // The ingest service while the node serves; Unavailable while recovering or draining.
  std::function<absl::StatusOr<table::IngestService*>()> serving;
  // Who may write which table (borrowed; null: anyone). When enabled, a CONNECT must carry a
  // token (5.0 User Property "Authorization: Bearer <token>", or the password).
  const auth::Authorizer* auth = nullptr;
  MetricsRegistry* metrics = nullptr;  // optional
  uint32_t max_packet_bytes = 1 << 20;  // announced as Maximum Packet Size; larger: 0x95
  uint16_t receive_maximum = 4096;      // announced: QoS 1 messages in flight per connection
  int connect_timeout_ms = 10000;       // a connection must send its CONNECT within this
  // Topic routing rules (routes.h), tried in order before the topic is taken as a table name.
  std::vector<Route> routes;
};

class Endpoint {
 public:
  explicit Endpoint(EndpointOptions options);
  ~Endpoint();

  // A net::FrameHandler: one whole MQTT packet (fixed header included).
  void Handle(std::string packet, net::ConnectionContext& connection, net::Reply reply);
  // net::FramedServerOptions::last_words: the DISCONNECT a 5.0 client gets when the listener
  // closes its connection (0x95 for a packet too large, 0x8D for a keep-alive timeout, 0x81 for a
  // malformed fixed header, 0x8B when nobusd stops); nothing for a 3.1.1 client or before CONNECT.
  std::optional<std::string> LastWords(const absl::Status& why, net::ConnectionContext& connection);

  const EndpointOptions& options() const;

  struct Impl;  // endpoint_impl.h

 private:
  std::shared_ptr<Impl> impl_;
};

// The listener: `options.protocol`, `framing`, `idle_timeout_ms`, `last_words` and
// `max_frame_bytes` are set here from the endpoint (borrowed; must outlive the server).
std::unique_ptr<net::FramedServer> NewMqttServer(net::FramedServerOptions options,
                                                 Endpoint* endpoint);

}  // namespace nobus::mqtt
