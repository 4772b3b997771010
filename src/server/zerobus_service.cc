#include "server/zerobus_service.h"

#include "server/stream_reactor.h"

namespace nobus::server {

grpc::ServerBidiReactor<::databricks::zerobus::EphemeralStreamRequest,
                        ::databricks::zerobus::EphemeralStreamResponse>*
ZerobusService::EphemeralStream(grpc::CallbackServerContext* call) {
  return new StreamReactor(call, server_, streams_);  // deletes itself in OnDone
}

}  // namespace nobus::server
