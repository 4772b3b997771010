// One EphemeralStream call (gRPC callback API): the server side of the Zerobus ingest protocol
// (specs/zerobus-wire.md). Sends initial metadata at once, validates create_stream (stream_open.h),
// then for each ingest_record / ingest_record_batch checks the offset (0, 1, 2, ...) and record
// kind, decodes every record into one row blob (nothing of a request is appended unless all of its
// records decode) and hands it to IngestService::Append without waiting for durability, so reads
// continue while earlier requests are being synced. Acks, in-flight limits and ending are
// StreamCore's job.
//
// Lifecycle: created by ZerobusService for each call; deletes itself in OnDone. Reactions run on
// gRPC threads; the read reaction also decodes and appends (and blocks while the WAL applies
// backpressure). The shared StreamCore outlives it for late durable callbacks.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "databricks/zerobus/zerobus.grpc.pb.h"
#include "server/context.h"
#include "server/stream_core.h"
#include "server/stream_open.h"

namespace nobus::server {

class StreamRegistry;

class StreamReactor final
    : public grpc::ServerBidiReactor<zb::EphemeralStreamRequest, zb::EphemeralStreamResponse>,
      public StreamOps {
 public:
  StreamReactor(grpc::CallbackServerContext* call, ServerContext* server, StreamRegistry* registry);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  void IssueRead() override;
  void IssueWrite(const zb::EphemeralStreamResponse* response) override;
  void IssueFinish(grpc::Status status) override;

 private:
  void Handle(const zb::EphemeralStreamRequest& request);
  void HandleCreate(const zb::CreateIngestStreamRequest& request);
  absl::Status HandleRecord(const zb::IngestRecordRequest& request);
  absl::Status HandleBatch(const zb::IngestRecordBatchRequest& request);
  absl::Status CheckOffset(bool has_offset, int64_t offset_id, const char* what);
  // Decodes `records` (count of them, record(i) gives the i-th) into one blob and appends it.
  absl::Status DecodeAndAppend(int64_t offset, int count,
                               const std::function<const std::string&(int)>& record, bool batch);
  std::string Header(const char* key) const;

  grpc::CallbackServerContext* const call_;
  ServerContext* const server_;
  StreamRegistry* const registry_;
  std::shared_ptr<StreamCore> core_;
  zb::EphemeralStreamRequest request_;
  std::optional<OpenedStream> stream_;
  std::string table_name_;
  std::string stream_id_;
  Counter* records_total_ = nullptr;
  Counter* bytes_total_ = nullptr;
  int64_t next_offset_ = 0;
  int64_t read_started_nanos_ = 0;
};

}  // namespace nobus::server
