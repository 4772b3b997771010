// create_stream validation for the gRPC ingest stream (specs/zerobus-wire.md "Stream lifecycle",
// step 2): state, record type, table name (and the x-databricks-zerobus-table-name header),
// authorization, table existence and, for PROTO streams, the descriptor against the table schema.
// The result carries what the stream needs to decode its records. Pure function of its inputs
// plus catalog reads; thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "databricks/zerobus/zerobus.pb.h"
#include "schema/record_decoder.h"
#include "server/context.h"
#include "table/ingest_service.h"

namespace nobus::server {

struct StreamHeaders {
  std::string authorization;              // "Bearer <token>", empty when absent
  std::optional<std::string> table_name;  // x-databricks-zerobus-table-name
};

struct OpenedStream {
  std::shared_ptr<const table::LiveTable> table;
  std::unique_ptr<schema::RecordDecoder> proto_decoder;  // PROTO streams only
  const schema::RecordDecoder* decoder = nullptr;        // the table's JSON decoder or the above
  ::databricks::zerobus::RecordType record_type = ::databricks::zerobus::PROTO;
  auth::Caller caller;  // who opened it (an access token is checked again while it lives)
};

// Codes: Unavailable (recovering/draining), InvalidArgument (record type, name, header,
// descriptor), Unauthenticated, PermissionDenied, NotFound (no such table), Unimplemented
// (create_stream.stream_id: resuming is the PersistentStream RPC's).
[[nodiscard]] absl::StatusOr<OpenedStream> OpenStream(
    const ::databricks::zerobus::CreateIngestStreamRequest& request, const StreamHeaders& headers,
    const ServerContext& server);

}  // namespace nobus::server
