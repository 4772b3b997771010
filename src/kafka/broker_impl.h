// Internal to src/kafka: the Broker's state and its per-API handlers (broker.cc, metadata.cc,
// produce.cc). Thread-safety: the handlers run concurrently; the state they share is atomic or
// thread-safe (ProducerStates, the ingest service, metrics).
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "kafka/api.h"
#include "kafka/broker.h"
#include "kafka/request_header.h"
#include "kafka/wire.h"
#include "table/catalog.h"

namespace nobus::kafka {

// The counters of one table as one connection's client software writes it.
struct TableCounters {
  Counter* ingest_records;  // nobus_ingest_records_total{table}
  Counter* records;         // nobus_kafka_records_total{table, software}
  Counter* written;         // nobus_kafka_batches_total{table, result="written"}
  Counter* duplicate;       // ... result="duplicate"
  Counter* rejected;        // ... result="rejected"
};

// A connection's state (ConnectionContext::state): SASL, the client software, cached counters.
// Touched only by the connection's own calls (one at a time, in frame order), never by the
// completions of its appends.
struct Session {
  std::string mechanism;      // after SaslHandshake: "PLAIN" or "OAUTHBEARER"
  bool raw_token_next = false;  // SaslHandshake v0: the next frame is the bare SASL token
  std::string authorization;  // "Bearer <token>" once authenticated; empty before
  std::string software = "unknown";  // client_software_name of ApiVersions v3+ (a metric label)
  std::map<std::string, TableCounters, std::less<>> counters;  // by table; null without metrics
};

struct Request {
  RequestHeader header;
  std::string peer;
  std::string frame;  // the whole request frame (header and body)
  std::shared_ptr<Session> session;
};

// A reader over the request's body (after its header).
inline Reader BodyReader(const Request& req) {
  return Reader(std::string_view(req.frame).substr(req.header.body_offset));
}

struct Broker::Impl {
  explicit Impl(BrokerOptions o);

  Answer ApiVersions(const Request& req);
  Answer Metadata(const Request& req);
  Answer InitProducerId(const Request& req);
  Answer FindCoordinator(const Request& req);
  Answer Fetch(const Request& req);
  void Produce(Request req, Reply reply);  // produce.cc
  // SASL (sasl.cc).
  Answer SaslHandshake(const Request& req);
  Answer SaslAuthenticate(const Request& req);
  Answer RawSaslToken(Session& session, const std::string& peer, std::string_view token);
  // Whether the connection may write `table`: OK without auth, else the SASL token's grant.
  absl::Status Authorize(const Session& session, const table::TableName& table) const;
  // The counters of an existing `table` for this connection (registered on first use), or
  // nullptr without metrics.
  const TableCounters* CountersFor(Session& session, const std::string& table);
  // A client-provided name or version as a metric label value: [A-Za-z0-9._-] only, at most 40
  // characters, and at most 100 distinct software names per node ("other" beyond).
  std::string SoftwareLabel(std::string_view name);

  BrokerOptions options;
  std::atomic<int64_t> next_producer_id{1};
  ProducerStates producers;
  Counter* produce_requests = nullptr;  // nobus_kafka_produce_requests_total
  Counter* batches_rejected = nullptr;  // nobus_kafka_batches_rejected_total
  Counter* duplicate_batches = nullptr; // nobus_kafka_duplicate_batches_total
  std::mutex software_mu;
  std::set<std::string, std::less<>> software_seen;  // guarded by software_mu
};

}  // namespace nobus::kafka
