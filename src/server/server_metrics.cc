#include "server/server_metrics.h"

namespace nobus::server {

ServerMetrics::ServerMetrics(MetricsRegistry* registry)
    : registry_(registry),
      ack_latency_(registry->GetHistogram(
          "nobus_ack_latency_seconds",
          "Time from receiving an ingest request to its rows being durable (fsynced).",
          LatencyBucketsSeconds())),
      open_streams_(registry->GetGauge("nobus_open_streams", "gRPC ingest streams now open.")) {}

Counter* ServerMetrics::IngestRecords(const std::string& table) {
  return registry_->GetCounter("nobus_ingest_records_total",
                               "Records made durable through the front ends.", {{"table", table}});
}

Counter* ServerMetrics::DuplicateRequests(const std::string& table) {
  return registry_->GetCounter(
      "nobus_stream_duplicate_requests_total",
      "Requests of persistent streams resent at or below their durable offset: acknowledged, "
      "not written again.",
      {{"table", table}});
}

Counter* ServerMetrics::IngestBytes(const std::string& table) {
  return registry_->GetCounter("nobus_ingest_bytes_total",
                               "Bytes of records made durable, as received.", {{"table", table}});
}

void ServerMetrics::CountRequest(const std::string& api, const std::string& code) {
  registry_
      ->GetCounter("nobus_requests_total", "Requests by front end and result code.",
                   {{"api", api}, {"code", code}})
      ->Add();
}

}  // namespace nobus::server
