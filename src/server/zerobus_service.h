// The gRPC service databricks.zerobus.Zerobus (callback API): one StreamReactor per
// EphemeralStream call. The protocol is described in specs/zerobus-wire.md and doc/server.md.
// Thread-safety: gRPC calls EphemeralStream from its threads; the service itself is stateless.
#pragma once

#include "databricks/zerobus/zerobus.grpc.pb.h"
#include "server/context.h"
#include "server/stream_registry.h"

namespace nobus::server {

class ZerobusService final : public ::databricks::zerobus::Zerobus::CallbackService {
 public:
  // Borrows both; they must outlive the gRPC server.
  ZerobusService(ServerContext* server, StreamRegistry* streams)
      : server_(server), streams_(streams) {}

  grpc::ServerBidiReactor<::databricks::zerobus::EphemeralStreamRequest,
                          ::databricks::zerobus::EphemeralStreamResponse>*
  EphemeralStream(grpc::CallbackServerContext* call) override;

 private:
  ServerContext* const server_;
  StreamRegistry* const streams_;
};

}  // namespace nobus::server
