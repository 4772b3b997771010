// The HTTP front end of nobusd, on the event-driven server of src/http: GET /livez, /readyz,
// /healthz, /metrics (health_api.cc), POST /admin/v1/streams/close-all, the Unity-Catalog-shaped
// table API (table_api.cc), table upkeep (table_admin_api.cc), the OAuth token endpoint
// (token_api.cc) and REST ingestion (rest_ingest.cc). Routes and shapes: doc/server.md; limits
// and timeouts: the http_* keys of ServerConfig.
//
// Lifecycle: Bind, Start (serves on its own event-loop and worker threads), Stop (stops
// accepting and returns once running handlers have answered). Thread-safety: Bind/Start/Stop
// from one thread.
#pragma once

#include <memory>

#include "common/status.h"
#include "http/router.h"
#include "http/server.h"
#include "server/config.h"
#include "server/context.h"
#include "server/stream_registry.h"

namespace nobus::auth {
class HttpTls;
}

namespace nobus::server {

// kApi: every route, on the http_listen address. kOps: only /livez, /readyz, /healthz and
// /metrics, plaintext, on one thread of its own (ops_listen), so probes never queue behind ingest.
enum class HttpRole { kApi, kOps };

class HttpApi {
 public:
  // Borrows all three; they must outlive this object. With `tls` (may be null) it serves https.
  HttpApi(ServerContext* server, StreamRegistry* streams, auth::HttpTls* tls,
          HttpRole role = HttpRole::kApi);
  ~HttpApi();

  // Binds `listen` (port 0 picks a free port); returns the bound port.
  [[nodiscard]] absl::StatusOr<int> Bind(const HostPort& listen);
  void Start();
  void Stop();

 private:
  void AddOpsRoutes();

  ServerContext* const server_;
  StreamRegistry* const streams_;
  http::Router router_;
  std::unique_ptr<http::Server> http_;
};

}  // namespace nobus::server
