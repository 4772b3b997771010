// The two gRPC ingest calls (callback API): EphemeralStream (specs/zerobus-wire.md) and
// PersistentStream (doc/exactly-once.md). Each sends its initial metadata at once, handles the
// call's first message (create_stream; or resume_stream, which fences the stream's previous call
// and answers with its durable offset) and hands every later request to its StreamSession. Each
// writes StreamCore's messages as its own RPC's response message.
//
// Lifecycle: created by ZerobusService for each call; deletes itself in OnDone. Reactions run on
// gRPC threads; the read reaction also decodes and appends (never waiting for room: a stream
// whose request is queued for admission reads nothing more until it is admitted; it blocks only
// while a resume waits for the fenced call's in-flight requests). The shared
// StreamCore outlives it for late durable callbacks.
#pragma once

#include <mutex>
#include <string>

#include "databricks/zerobus/zerobus.grpc.pb.h"
#include "server/context.h"
#include "server/stream_core.h"
#include "server/stream_session.h"

namespace nobus::server {

class StreamRegistry;

// StreamCore's messages as each RPC's response message.
void ToResponse(const StreamMessage& message, zb::EphemeralStreamResponse* response);
void ToResponse(const StreamMessage& message, zb::PersistentStreamResponse* response);

// The gRPC side both calls share (CRTP: Derived::Handle handles the request just read).
template <typename Derived, typename Request, typename Response>
class StreamReactor : public grpc::ServerBidiReactor<Request, Response>, public StreamOps {
 public:
  void OnReadDone(bool ok) override {
    session_.OnRead(ok, [this] { static_cast<Derived*>(this)->Handle(); });
  }
  void OnWriteDone(bool ok) override {
    { std::lock_guard<std::mutex> filled(write_mu_); }
    session_.core().OnWriteDone(ok);
  }
  void OnCancel() override { session_.core().OnCancel(); }
  void OnDone() override {
    session_.Done();
    delete static_cast<Derived*>(this);
  }
  void IssueRead() override { this->StartRead(&request_); }
  void IssueWrite(const StreamMessage& message) override {
    {
      std::lock_guard<std::mutex> filling(write_mu_);
      ToResponse(message, &response_);
    }
    this->StartWrite(&response_);
  }
  void IssueFinish(grpc::Status status) override { this->Finish(std::move(status)); }

 protected:
  StreamReactor(grpc::CallbackServerContext* call, ServerContext* server, StreamRegistry* registry)
      : session_(call, server, registry, this) {}
  // Called last by Derived's constructor: every current SDK waits for the response headers
  // before it sends its first message.
  void Begin() {
    this->StartSendInitialMetadata();
    session_.core().Start();
  }

  StreamSession session_;
  Request request_;
  Response response_;
  // gRPC runs OnWriteDone after the StartWrite it completes, but through synchronization that
  // ThreadSanitizer cannot see (libgrpc is not instrumented). Taking this mutex around the fill
  // and at OnWriteDone states that order, so the next write's fill (often on another thread,
  // after StreamCore's lock) is not reported as racing with this one's read of the message.
  std::mutex write_mu_;
};

class EphemeralReactor final
    : public StreamReactor<EphemeralReactor, zb::EphemeralStreamRequest,
                           zb::EphemeralStreamResponse> {
 public:
  EphemeralReactor(grpc::CallbackServerContext* call, ServerContext* server,
                   StreamRegistry* registry);
  void Handle();

 private:
  void HandleCreate(const zb::CreateIngestStreamRequest& request);
};

class PersistentReactor final
    : public StreamReactor<PersistentReactor, zb::PersistentStreamRequest,
                           zb::PersistentStreamResponse> {
 public:
  PersistentReactor(grpc::CallbackServerContext* call, ServerContext* server,
                    StreamRegistry* registry);
  void Handle();

 private:
  void HandleCreate(const zb::CreateIngestStreamRequest& request);
  void HandleResume(const zb::ResumeIngestStreamRequest& request);
  // Claims `id` for this call (fencing its previous one), then reads its durable offset.
  absl::StatusOr<std::optional<int64_t>> Claim(const OpenedStream& stream, const std::string& id,
                                               bool resume);
};

}  // namespace nobus::server
