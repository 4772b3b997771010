// The Kafka endpoint's request handling: a producer-only broker in front of the ingest service
// (doc/kafka.md; protocol facts: specs/kafka-produce.md). One node, one partition per topic, topic
// = table name "catalog.schema.table", record value = one JSON object of the table's columns
// (decoded exactly like a gRPC JSON record).
//
// APIs: ApiVersions 0-3 (the downgrade rule), Metadata 0-12, Produce 3-9 (0-2 answered
// UNSUPPORTED_VERSION), InitProducerId 0-4; Fetch 4-12 and FindCoordinator 0-4 are advertised (old
// librdkafka enables RecordBatch v2, compression and idempotence only then) and answered with an
// error. Any other API key closes the connection with a log line naming it.
//
// Produce: each partition's RecordBatch is checked (CRC, magic, codec, idempotent sequence),
// every record decoded, then appended as one WAL record; acks=1/-1 are answered once it is
// durable, with base offset = the record's WAL LSN x 2^20 (monotonic per table; record i of a
// batch is base + i). acks=0 gets no answer.
//
// Thread-safety: Handle is called concurrently from the event-loop threads; replies are sent from
// those threads or the WAL's completion thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/metrics.h"
#include "common/status.h"
#include "kafka/producer_state.h"
#include "kafka/server.h"
#include "auth/authorizer.h"
#include "table/ingest_service.h"

namespace nobus::kafka {

struct BrokerOptions {
  // The ingest service while the node serves; Unavailable while recovering or draining.
  std::function<absl::StatusOr<table::IngestService*>()> serving;
  std::string advertised_host = "127.0.0.1";  // what Metadata tells clients to connect to
  int advertised_port = 9092;
  std::string cluster_id = "nobus";
  int64_t max_batch_bytes = 10 << 20;  // a partition's records, compressed or not
  // Who may write which table (borrowed; null: anyone). When it is enabled, clients authenticate
  // with SASL PLAIN (the token as the password) or OAUTHBEARER (the token) first.
  const auth::Authorizer* auth = nullptr;
  MetricsRegistry* metrics = nullptr;  // optional
};

class Broker {
 public:
  explicit Broker(BrokerOptions options);

  // The address Metadata names (known once the listener is bound). Call before the listener
  // serves (KafkaServer::Serve): it is not synchronized with Handle.
  void Advertise(std::string host, int port);

  // A FrameHandler (server.h).
  void Handle(std::string frame, ConnectionContext& connection, Reply reply);

  // Base offsets: the WAL LSN of a batch's record, shifted so records of one batch never overlap
  // the next batch's.
  static int64_t OffsetOf(uint64_t lsn) { return static_cast<int64_t>(lsn) << 20; }

  struct Impl;  // broker_impl.h

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace nobus::kafka
