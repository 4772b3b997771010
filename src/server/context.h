// What every front end of nobusd shares: configuration, authorization (src/auth), metrics, the ingest
// service (once recovery has finished) and the serving state that /healthz reports.
//
// Lifecycle: created by Server before the listeners; the ingest service is attached after
// recovery and stays valid until the listeners are stopped (Server stops them before closing it).
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>

#include "auth/authorizer.h"
#include "server/config.h"
#include "server/server_metrics.h"
#include "table/ingest_service.h"

namespace nobus::server {

enum class ServingState { kRecovering, kServing, kDraining };

class ServerContext {
 public:
  // Borrows `registry` and `authority` (the OAuth authority; null in tests without one).
  ServerContext(ServerConfig config, MetricsRegistry* registry, auth::Authority* authority = nullptr)
      : config_(std::move(config)),
        authority_(authority),
        auth_(config_.tokens, authority),
        metrics_(registry) {}

  const ServerConfig& config() const { return config_; }
  const auth::Authorizer& auth() const { return auth_; }
  // Null when the node has no OAuth authority (some tests).
  auth::Authority* authority() const { return authority_; }
  ServerMetrics& metrics() { return metrics_; }

  // Null while recovering.
  table::IngestService* ingest() const { return ingest_.load(std::memory_order_acquire); }
  void AttachIngest(table::IngestService* ingest) {
    ingest_.store(ingest, std::memory_order_release);
  }

  ServingState state() const { return state_.load(std::memory_order_acquire); }
  void SetState(ServingState state) { state_.store(state, std::memory_order_release); }
  // The ingest service when new work is accepted; Unavailable (recovering or draining) otherwise.
  [[nodiscard]] absl::StatusOr<table::IngestService*> Serving() const {
    ServingState s = state();
    table::IngestService* ingest = this->ingest();
    if (s == ServingState::kServing && ingest != nullptr) return ingest;
    if (s == ServingState::kDraining)
      return absl::UnavailableError(
          "the server is shutting down: retry against another node or "
          "after it restarts");
    return absl::UnavailableError("the server is recovering its write-ahead log: retry shortly");
  }

 private:
  const ServerConfig config_;
  auth::Authority* const authority_;
  const auth::Authorizer auth_;
  ServerMetrics metrics_;
  std::atomic<table::IngestService*> ingest_{nullptr};
  std::atomic<ServingState> state_{ServingState::kRecovering};
};

}  // namespace nobus::server
