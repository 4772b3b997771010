#include "server/zerobus_service.h"

#include "common/logging.h"
#include "server/grpc_status.h"
#include "server/stream_reactor.h"
#include "table/streams.h"

namespace nobus::server {
namespace {

namespace zb = ::databricks::zerobus;

constexpr int64_t kFenceTimeoutMs = 30'000;

std::string Metadata(grpc::CallbackServerContext* call, const char* key) {
  const auto& md = call->client_metadata();
  auto it = md.find(key);
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

}  // namespace

grpc::ServerBidiReactor<zb::EphemeralStreamRequest, zb::EphemeralStreamResponse>*
ZerobusService::EphemeralStream(grpc::CallbackServerContext* call) {
  return new EphemeralReactor(call, server_, streams_);  // deletes itself in OnDone
}

grpc::ServerBidiReactor<zb::PersistentStreamRequest, zb::PersistentStreamResponse>*
ZerobusService::PersistentStream(grpc::CallbackServerContext* call) {
  return new PersistentReactor(call, server_, streams_);  // deletes itself in OnDone
}

grpc::ServerUnaryReactor* ZerobusService::RetireStream(grpc::CallbackServerContext* call,
                                                       const zb::RetireStreamRequest* request,
                                                       zb::RetireStreamResponse*) {
  absl::Status status = Retire(call, *request);
  if (!status.ok())
    NOBUS_LOG_WARN_LIMITED("RetireStream refused stream_id={} peer={} error=\"{}\"",
                           request->stream_id(), call->peer(), status.ToString());
  server_->metrics().CountRequest("grpc", GrpcCodeName(ToGrpcStatus(status).error_code()));
  grpc::ServerUnaryReactor* reactor = call->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::Status ZerobusService::Retire(grpc::CallbackServerContext* call,
                                    const zb::RetireStreamRequest& request) {
  NOBUS_ASSIGN_OR_RETURN(table::IngestService * ingest, server_->Serving());
  const std::string authorization = Metadata(call, "authorization");
  NOBUS_RETURN_IF_ERROR(server_->auth().Authenticate(authorization));
  if (!request.has_stream_id() || request.stream_id().empty())
    return absl::InvalidArgumentError("RetireStream needs stream_id (the persistent stream to end)");
  const std::string& id = request.stream_id();
  NOBUS_ASSIGN_OR_RETURN(table::ParsedStreamId parsed, table::ParseStreamId(id));
  NOBUS_ASSIGN_OR_RETURN(
      table::TableName name,
      table::ParseTableName(request.has_table_name() ? request.table_name() : parsed.table));
  NOBUS_RETURN_IF_ERROR(server_->auth().AuthorizeTable(authorization, name).status());
  NOBUS_RETURN_IF_ERROR(ingest->OpenTable(name).status());  // NotFound first
  if (name.ToString() != parsed.table)
    return absl::InvalidArgumentError(Cat("stream '", id, "' belongs to table '", parsed.table,
                                          "', not to table_name '", request.table_name(), "'"));
  NOBUS_RETURN_IF_ERROR(streams_->Evict(
      id, Cat("persistent stream '", id, "' was retired (RetireStream): it can never be resumed"),
      kFenceTimeoutMs));
  return ingest->RetireStream(name, id);
}

}  // namespace nobus::server
