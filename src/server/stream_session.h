// What both gRPC ingest RPCs (EphemeralStream, PersistentStream) do once a stream is open
// (specs/zerobus-wire.md, doc/exactly-once.md): check each request's offset and record kind,
// decode every record into one row blob (nothing of a request is appended unless all of its
// records decode) and hand it to IngestService::AppendOrQueue without waiting for durability, so
// reads continue while earlier requests are being synced; while the node's buffers are full the
// stream stops reading until its request is admitted (no thread waits). Acks, in-flight limits and ending are
// StreamCore's job; the reactors (stream_reactor.h) own the gRPC side and the first message.
//
// Offsets: an ephemeral stream's requests carry 0, 1, 2, ... on every call; a persistent stream's
// continue after the durable offset of earlier calls, a resent lower offset is acknowledged and
// not written (counted in nobus_stream_duplicate_requests_total), a gap fails the call.
//
// Lifecycle: a member of its reactor; the StreamCore it creates is shared with the registry and
// every pending durable callback. Thread-safety: used by the reactor's read reaction only (one at
// a time), except core(), which is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "databricks/zerobus/zerobus.pb.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "server/context.h"
#include "server/stream_core.h"
#include "server/stream_open.h"

namespace nobus::server {

namespace zb = ::databricks::zerobus;

class StreamRegistry;

class StreamSession {
 public:
  // Registers the stream (registry, metrics); `ops` is the reactor.
  StreamSession(grpc::CallbackServerContext* call, ServerContext* server, StreamRegistry* registry,
                StreamOps* ops);

  StreamCore& core() { return *core_; }
  const std::shared_ptr<StreamCore>& shared_core() const { return core_; }
  ServerContext& server() { return *server_; }
  StreamRegistry& registry() { return *registry_; }
  bool opened() const { return stream_.has_value(); }
  // The request metadata a stream opens with (authorization, table name header).
  StreamHeaders Headers() const;
  std::string Header(const char* key) const;

  // InvalidArgument when `request` is larger than max_message_bytes.
  [[nodiscard]] absl::Status CheckSize(const google::protobuf::Message& request) const;
  // The stream is open: records go to `stream` from now on. `persistent` gives the stream's
  // durable offset from earlier calls (-1: none) for a persistent stream, nullopt for ephemeral.
  void Open(OpenedStream stream, std::string stream_id, std::optional<int64_t> persistent);
  // The first message was refused: logs it and ends the call with `status`.
  void Refuse(const absl::Status& status, const std::string& table);
  // A request failed: logs it and ends the call with `status` after in-flight acks.
  void Fail(const absl::Status& status);

  [[nodiscard]] absl::Status HandleRecord(const zb::IngestRecordRequest& request);
  [[nodiscard]] absl::Status HandleBatch(const zb::IngestRecordBatchRequest& request);

  // The read reaction: brackets the handling of one read in the core.
  void OnRead(bool ok, const std::function<void()>& handle);
  // OnDone: metrics, the log line, and the stream's registrations.
  void Done();

 private:
  // OK with true: write the request; OK with false: a persistent stream's resend (acked, skipped).
  [[nodiscard]] absl::StatusOr<bool> CheckOffset(bool has_offset, int64_t offset_id,
                                                 const char* what);
  // Decodes `records` (count of them, record(i) gives the i-th) into one blob and appends it.
  [[nodiscard]] absl::Status DecodeAndAppend(int64_t offset, int count,
                                             const std::function<const std::string&(int)>& record,
                                             bool batch);

  grpc::CallbackServerContext* const call_;
  ServerContext* const server_;
  StreamRegistry* const registry_;
  std::shared_ptr<StreamCore> core_;
  std::optional<OpenedStream> stream_;
  std::string table_name_;
  std::string stream_id_;
  // "table=... stream_id=... peer=..." for log lines, shared with admission callbacks (Open).
  std::shared_ptr<const std::string> log_label_;
  bool persistent_ = false;
  Counter* records_total_ = nullptr;
  Counter* bytes_total_ = nullptr;
  Counter* duplicates_total_ = nullptr;
  int64_t next_offset_ = 0;
  int64_t read_started_nanos_ = 0;
};

}  // namespace nobus::server
