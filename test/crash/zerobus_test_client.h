// Test harness: a pipelined Zerobus ingest stream (one EphemeralStream call) on the generated
// stubs. The caller's thread sends requests, each given the next offset (0, 1, 2, ... as the
// protocol requires), with up to `max_in_flight` of them unacknowledged; a reader thread collects
// the cumulative acks (`durability_ack_up_to_offset = N` covers every offset <= N of this call).
//
// Unlike the SDKs it never reconnects or resends: when the call breaks (the server was killed) it
// reports what was acknowledged, which is what a crash test checks against the table. It also
// records protocol violations it sees (acks going backwards or past the last offset sent, a second
// create_stream_response).
//
// Lifecycle: construct -> Create -> Send ... -> CloseAndFinish or Finish (the destructor cancels
// and finishes an unfinished call). Thread-safety: Create, Send, CloseAndFinish and Finish from one
// thread (the writer); acked_up_to, ended, WaitForAck and violations from any thread. Borrows the
// stub, which must outlive the stream. Test-only.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "databricks/zerobus/zerobus.grpc.pb.h"

namespace nobus::crash {

namespace zb = ::databricks::zerobus;

struct PipelinedStreamOptions {
  int max_in_flight = 64;             // requests sent and not yet acknowledged
  int64_t call_deadline_ms = 180000;  // bounds every wait, so a hung server fails instead of hangs
  std::map<std::string, std::string> headers;  // e.g. {"authorization", "Bearer t"}
};

class PipelinedStream {
 public:
  explicit PipelinedStream(zb::Zerobus::Stub* stub, PipelinedStreamOptions options = {});
  ~PipelinedStream();
  PipelinedStream(const PipelinedStream&) = delete;
  PipelinedStream& operator=(const PipelinedStream&) = delete;

  // Starts the call, waits for the response headers (as the SDKs do), sends create_stream and
  // reads its response, then starts the reader thread. Returns the stream id, or the call's status
  // (as an absl::Status) when the call ended first.
  [[nodiscard]] absl::StatusOr<std::string> Create(const std::string& table, zb::RecordType type,
                                                   const std::string& descriptor = "");

  // Sets the next offset on `request` (an ingest_record or ingest_record_batch) and writes it,
  // first waiting while max_in_flight requests are unacknowledged. Returns the offset, or -1 when
  // the call ended (the request was then maybe handed to the transport: see requests_written).
  int64_t Send(zb::EphemeralStreamRequest request);

  // Requests handed to the transport so far (offsets 0 .. requests_written()-1); any of them may
  // have reached the server.
  int64_t requests_written() const;
  // Highest acknowledged offset, -1 if none.
  int64_t acked_up_to() const;
  // The server ended the call (or it broke): no more acks will arrive.
  bool ended() const;
  // Blocks until acked_up_to() >= offset (true) or the call ended (false).
  bool WaitForAck(int64_t offset);
  int close_signals() const;
  std::vector<std::string> violations() const;

  // Half-closes, waits for the server to end the call, returns its status.
  grpc::Status CloseAndFinish();
  // Cancels the call unless it already ended, waits for the reader, returns the final status.
  grpc::Status Finish();

 private:
  void ReadLoop();
  void Handle(const zb::EphemeralStreamResponse& response);  // requires mu_
  grpc::Status JoinAndFinish();

  zb::Zerobus::Stub* const stub_;
  const PipelinedStreamOptions options_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<zb::EphemeralStreamRequest, zb::EphemeralStreamResponse>>
      call_;
  std::thread reader_;
  bool finished_ = false;  // writer thread only
  grpc::Status status_;    // writer thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;  // an ack arrived or the call ended
  int64_t next_offset_ = 0;     // offsets handed to Write so far
  int64_t acked_ = -1;
  bool ended_ = false;
  int close_signals_ = 0;
  std::vector<std::string> violations_;
};

}  // namespace nobus::crash
