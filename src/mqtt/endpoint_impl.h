// Internal to src/mqtt's endpoint (endpoint.cc, connect_handler.cc, publish_handler.cc): the
// endpoint's shared state and one connection's Session. Thread-safety: a Session is touched only
// by its connection's Handle / LastWords calls (one at a time); Impl's client registry has its
// own mutex; counters are atomic.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mqtt/endpoint.h"
#include "mqtt/packets.h"
#include "mqtt/qos2.h"
#include "table/catalog.h"

namespace nobus::mqtt {

// The counters of one table as written at one QoS.
struct PublishCounters {
  Counter* ingest_records = nullptr;  // nobus_ingest_records_total{table}
  Counter* written = nullptr;         // nobus_mqtt_publishes_total{table, qos, result="written"}
  Counter* rejected = nullptr;        // ... result="rejected"
  Counter* duplicate = nullptr;       // ... result="duplicate" (QoS 2 resends, not written)
};

struct Session;

// The answer that ends a connection with `code`: on 5.0 a DISCONNECT with `why` as its Reason
// String (left out if the client's Maximum Packet Size is too small for it); on 3.1.1 nothing,
// the connection is just closed.
net::Answer DisconnectAnswer(Version version, std::optional<uint32_t> client_max_packet,
                             ReasonCode code, std::string_view why);

struct Endpoint::Impl : std::enable_shared_from_this<Endpoint::Impl> {
  explicit Impl(EndpointOptions o);

  net::Answer Connect(Session& session, std::string_view packet);  // connect_handler.cc
  void Publish(Session& session, const mqtt::Publish& publish, net::Reply reply);  // publish_handler.cc
  // QoS 2 (qos2.cc): the client's state at CONNECT (true: Session Present), the write of a QoS 2
  // message (session.target is its table) and PUBREL.
  absl::StatusOr<bool> AttachQos2(Session& session, bool clean_start);
  void DetachQos2(const Session& session);
  void PublishQos2(Session& session, const mqtt::Publish& publish, table::IngestService& ingest,
                   std::string blob, net::Reply reply);
  void Pubrel(Session& session, const Ack& pubrel, net::Reply reply);
  net::Answer Subscribe(const Session& session, const mqtt::Subscribe& subscribe);
  net::Answer Unsubscribe(const Session& session, const mqtt::Unsubscribe& unsubscribe);

  // Client identifiers of the open connections: a CONNECT with an identifier in use takes over
  // (the older connection gets DISCONNECT 0x8E and is closed).
  void Register(const std::shared_ptr<Session>& session);
  void Unregister(const Session* session);

  // The counters of `table` for QoS `qos`, registered on first use (null without metrics).
  PublishCounters CountersFor(const std::string& table, int qos);
  // nobus_mqtt_connects_total{version, result}.
  void CountConnect(Version version, std::string_view result);

  EndpointOptions options;
  Gauge* connections = nullptr;  // nobus_mqtt_connections
  std::mutex mu;
  std::map<std::string, std::weak_ptr<Session>, std::less<>> clients;  // guarded by mu
  uint64_t next_assigned_id = 0;                                       // guarded by mu
  std::map<std::string, std::shared_ptr<ClientQos2>, std::less<>> qos2_clients;  // guarded by mu
};

// One connection (net::ConnectionContext::state).
struct Session {
  Session(std::shared_ptr<Endpoint::Impl> endpoint, std::string peer,
          std::function<void(net::Answer)> push);
  ~Session();

  const std::shared_ptr<Endpoint::Impl> endpoint;
  const std::string peer;
  const std::function<void(net::Answer)> push;  // net::ConnectionContext::push
  bool connected = false;
  Version version = Version::kV5;
  std::string client_id;
  std::string authorization;  // "Bearer <token>", empty without one
  std::optional<table::TableName> table;  // the CONNECT's x-databricks-zerobus-table-name
  std::optional<uint32_t> client_max_packet;  // the client's Maximum Packet Size (5.0)
  std::shared_ptr<ClientQos2> qos2;            // the client's QoS 2 state (set at CONNECT)
  // The table the last PUBLISH named, kept so a connection's stream of messages to one table
  // does not look the table up each time.
  struct Target {
    std::string topic;
    const Route* route = nullptr;  // the rule that named the table; null: the topic did
    table::TableName name;
    std::shared_ptr<const table::LiveTable> table;
    PublishCounters counters[3];  // by QoS
  };
  std::optional<Target> target;

  // The label of a connection in log lines: "client 'id' from ip:port".
  std::string Who() const;
  // A 5.0 packet that ends the connection with `code` and `why` as its Reason String; on 3.1.1
  // the connection is just closed. Logs `why`.
  net::Answer Disconnect(ReasonCode code, std::string_view why) const;
  // Encodes `packet` for this connection (the client's Maximum Packet Size applies).
  std::string Encode(const Packet& packet) const;
};

}  // namespace nobus::mqtt
