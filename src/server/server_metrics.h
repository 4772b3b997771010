// The server's metrics (GET /metrics), registered once in the process-wide registry:
//   nobus_ingest_records_total{table}   records made durable through a front end
//   nobus_ingest_bytes_total{table}     their bytes as received (JSON text or protobuf encoding)
//   nobus_requests_total{api,code}      api = grpc (one per call, code = final gRPC status name),
//                                        rest or table_api (one per HTTP request, code = HTTP
//                                        status)
//   nobus_ack_latency_seconds           request received -> durable (gRPC and REST)
//   nobus_open_streams                  gRPC streams currently open
//   nobus_stream_duplicate_requests_total{table}  requests of persistent streams resent at or
//                                        below their durable offset: acked, not written again
// Thread-safety: all methods are thread-safe; pointers returned stay valid for the registry's life.
#pragma once

#include <string>

#include "common/metrics.h"

namespace nobus::server {

class ServerMetrics {
 public:
  // Borrows `registry`, which must outlive this object.
  explicit ServerMetrics(MetricsRegistry* registry);

  MetricsRegistry* registry() const { return registry_; }
  Counter* IngestRecords(const std::string& table);
  Counter* IngestBytes(const std::string& table);
  Counter* DuplicateRequests(const std::string& table);
  void CountRequest(const std::string& api, const std::string& code);
  Histogram* ack_latency() const { return ack_latency_; }
  Gauge* open_streams() const { return open_streams_; }

 private:
  MetricsRegistry* registry_;
  Histogram* ack_latency_;
  Gauge* open_streams_;
};

}  // namespace nobus::server
