// The HTTP front end of nobusd (cpp-httplib): GET /healthz, GET /metrics,
// POST /admin/v1/streams/close-all, the Unity-Catalog-shaped table API (table_api.cc) and REST
// ingestion (rest_ingest.cc). Routes and shapes: doc/server.md.
//
// Lifecycle: Bind, Start (serves on a background thread and a worker pool), Stop (stops accepting
// and returns once running handlers are done). Thread-safety: Bind/Start/Stop from one thread.
#pragma once

#include <memory>
#include <thread>

#include "common/status.h"
#include "server/config.h"
#include "server/context.h"
#include "server/stream_registry.h"

namespace httplib {
class Server;
}

namespace nobus::auth {
class HttpTls;
}

namespace nobus::server {

class HttpApi {
 public:
  // Borrows all three; they must outlive this object. With `tls` (may be null) it serves https.
  HttpApi(ServerContext* server, StreamRegistry* streams, auth::HttpTls* tls);
  ~HttpApi();

  // Binds `listen` (port 0 picks a free port); returns the bound port.
  [[nodiscard]] absl::StatusOr<int> Bind(const HostPort& listen);
  void Start();
  void Stop();

 private:
  void AddOpsRoutes();

  ServerContext* const server_;
  StreamRegistry* const streams_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
};

}  // namespace nobus::server
