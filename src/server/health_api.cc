// nobusd's health endpoints (no authentication; for load balancers, Kubernetes and operators):
//   GET /livez   200 "ok" while the process answers HTTP at all (restart it when this fails)
//   GET /readyz  200 when this node can take records and make them durable now, else 503; the
//                JSON body lists the reasons (recovering, draining, wal_failed, disk_low,
//                slow_disk) and the state behind them (disks, WAL, stuck tables)
//   GET /healthz 200 "ok" once recovery is done and until a drain begins, else 503 with
//                "recovering" or "draining" (the serving state only; kept for existing probes)
// Also refreshes the readiness gauges before /metrics renders. Semantics: doc/operations.md.
#include "server/http_routes.h"

namespace nobus::server {
namespace {

using nlohmann::json;

constexpr const char* kReasonCodes[] = {"recovering", "draining", "wal_failed", "disk_low",
                                        "slow_disk"};

// The readiness reasons and the state behind them.
json Readiness(ServerContext* server) {
  json reasons = json::array();
  json out = json::object();
  switch (server->state()) {
    case ServingState::kRecovering:
      reasons.push_back({{"code", "recovering"},
                         {"message", "replaying the write-ahead log into the tables"}});
      break;
    case ServingState::kDraining:
      reasons.push_back({{"code", "draining"}, {"message", "shutting down: streams are closing"}});
      break;
    case ServingState::kServing:
      break;
  }
  if (table::IngestService* ingest = server->ingest(); ingest != nullptr) {
    table::NodeHealth h = ingest->Health();
    for (const table::NotReadyReason& r : h.not_ready)
      reasons.push_back({{"code", r.code}, {"message", r.message}});
    json disks = json::array();
    for (const table::DiskReport& d : h.disks) {
      json disk = {{"path", d.path},
                   {"free_bytes", d.space.free_bytes},
                   {"total_bytes", d.space.total_bytes},
                   {"pause_below_bytes", d.pause_below_bytes},
                   {"resume_above_bytes", d.resume_above_bytes}};
      if (!d.error.empty()) disk["error"] = d.error;
      disks.push_back(std::move(disk));
    }
    out["disks"] = std::move(disks);
    out["admission_paused"] = h.admission_paused;
    out["wal"] = {{"error", h.wal_error},
                  {"reopens", h.wal_reopens},
                  {"sync_running_ms", h.sync_running_ms},
                  {"last_sync_ms", h.last_sync_ms}};
    out["stuck_tables"] = h.stuck_tables;
  }
  out["ready"] = reasons.empty();
  out["reasons"] = std::move(reasons);
  return out;
}

void UpdateReadinessMetrics(ServerContext* server, const json& readiness) {
  MetricsRegistry* r = server->metrics().registry();
  r->GetGauge("nobus_ready", "1 when the node can take records and make them durable (/readyz).")
      ->Set(readiness["ready"].get<bool>() ? 1 : 0);
  for (const char* code : kReasonCodes) {
    bool on = false;
    for (const json& reason : readiness["reasons"]) on = on || reason["code"] == code;
    r->GetGauge("nobus_not_ready", "1 while this reason keeps the node not ready (/readyz).",
                {{"reason", code}})
        ->Set(on ? 1 : 0);
  }
}

}  // namespace

void AddHealthRoutes(http::Router* router, ServerContext* server) {
  // On the event loop: answered from memory, never queued behind inserts.
  auto route = [router](const char* path, http::Handler handler) {
    router->Add("GET", path, http::Runs::kEventLoop, std::move(handler));
  };
  route("/livez", [](const http::Request&, http::Response& res) {
    res.SetContent("ok\n", "text/plain");
  });
  route("/readyz", [server](const http::Request&, http::Response& res) {
    json readiness = Readiness(server);
    UpdateReadinessMetrics(server, readiness);
    ReplyJson(res, readiness["ready"].get<bool>() ? 200 : 503, readiness);
  });
  route("/healthz", [server](const http::Request&, http::Response& res) {
    switch (server->state()) {
      case ServingState::kServing:
        res.SetContent("ok\n", "text/plain");
        return;
      case ServingState::kRecovering:
        res.status = 503;
        res.SetContent("recovering\n", "text/plain");
        return;
      case ServingState::kDraining:
        res.status = 503;
        res.SetContent("draining\n", "text/plain");
        return;
    }
  });
  route("/metrics", [server](const http::Request&, http::Response& res) {
    UpdateReadinessMetrics(server, Readiness(server));
    res.SetContent(server->metrics().registry()->Render(), "text/plain; version=0.0.4");
  });
}

}  // namespace nobus::server
