// The gRPC service databricks.zerobus.Zerobus (callback API): one EphemeralReactor per
// EphemeralStream call, one PersistentReactor per PersistentStream call (stream_reactor.h), and
// the unary RetireStream. The protocol: specs/zerobus-wire.md, doc/server.md and
// doc/exactly-once.md. Thread-safety: gRPC calls the methods from its threads; the service keeps
// no state of its own (open streams live in the StreamRegistry).
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

  grpc::ServerBidiReactor<::databricks::zerobus::PersistentStreamRequest,
                          ::databricks::zerobus::PersistentStreamResponse>*
  PersistentStream(grpc::CallbackServerContext* call) override;

  // Ends a persistent stream for good: fences its open call, commits its acknowledged rows and
  // the retirement. Idempotent. Blocks a gRPC thread for the commit.
  grpc::ServerUnaryReactor* RetireStream(grpc::CallbackServerContext* call,
                                         const ::databricks::zerobus::RetireStreamRequest* request,
                                         ::databricks::zerobus::RetireStreamResponse*) override;

 private:
  absl::Status Retire(grpc::CallbackServerContext* call,
                      const ::databricks::zerobus::RetireStreamRequest& request);

  ServerContext* const server_;
  StreamRegistry* const streams_;
};

}  // namespace nobus::server
