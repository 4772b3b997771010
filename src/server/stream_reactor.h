// The two gRPC ingest calls (callback API): EphemeralStream (specs/zerobus-wire.md) and
// PersistentStream (doc/exactly-once.md). Each sends its initial metadata at once, handles the
// call's first message (create_stream; or resume_stream, which fences the stream's previous call
// and answers with its durable offset) and hands every later request to its StreamSession. Each
// writes StreamCore's messages as its own RPC's response message.
//
// Lifecycle: created by ZerobusService for each call; deletes itself in OnDone. Reactions run on
// gRPC threads; the read reaction also decodes and appends (and blocks while the WAL applies
// backpressure, or while a resume waits for the fenced call's in-flight requests). The shared
// StreamCore outlives it for late durable callbacks.
#pragma once

#include <string>

#include "databricks/zerobus/zerobus.grpc.pb.h"
#include "server/context.h"
#include "server/stream_core.h"
#include "server/stream_session.h"

namespace nobus::server {

class StreamRegistry;

class EphemeralReactor final
    : public grpc::ServerBidiReactor<zb::EphemeralStreamRequest, zb::EphemeralStreamResponse>,
      public StreamOps {
 public:
  EphemeralReactor(grpc::CallbackServerContext* call, ServerContext* server,
                   StreamRegistry* registry);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  void IssueRead() override;
  void IssueWrite(const StreamMessage& message) override;
  void IssueFinish(grpc::Status status) override;

 private:
  void Handle();
  void HandleCreate(const zb::CreateIngestStreamRequest& request);

  StreamSession session_;
  zb::EphemeralStreamRequest request_;
  zb::EphemeralStreamResponse response_;
};

class PersistentReactor final
    : public grpc::ServerBidiReactor<zb::PersistentStreamRequest, zb::PersistentStreamResponse>,
      public StreamOps {
 public:
  PersistentReactor(grpc::CallbackServerContext* call, ServerContext* server,
                    StreamRegistry* registry);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  void IssueRead() override;
  void IssueWrite(const StreamMessage& message) override;
  void IssueFinish(grpc::Status status) override;

 private:
  void Handle();
  void HandleCreate(const zb::CreateIngestStreamRequest& request);
  void HandleResume(const zb::ResumeIngestStreamRequest& request);
  // Claims `id` for this call (fencing its previous one), then reads its durable offset.
  absl::StatusOr<std::optional<int64_t>> Claim(const OpenedStream& stream, const std::string& id,
                                               bool resume);

  StreamSession session_;
  zb::PersistentStreamRequest request_;
  zb::PersistentStreamResponse response_;
};

}  // namespace nobus::server
