// Test harness: a raw Zerobus client on the generated stubs that drives one EphemeralStream call,
// for the integration tests (protocol step by step) and the crash test (pipelined load). Requests
// go out exactly as built with Send (any offset, any order, create_stream or not), or numbered
// 0, 1, 2, ... with at most max_in_flight unacknowledged with SendNext. A reader thread, started
// by Create or by the first wait, collects every response: the acks in arrival order (cumulative:
// durability_ack_up_to_offset = N covers every offset <= N of this call), close signals, and the
// protocol violations it sees (an ack going backwards or past the highest offset sent, a second
// create_stream_response, an unknown response). Unlike the SDKs it never reconnects or resends:
// when the call breaks (the server was killed) it reports what was acknowledged.
//
// Lifecycle: construct (starts the call; every wait is bounded by the call deadline, so a server
// bug fails the test instead of hanging it) -> [WaitForHeaders] -> Create -> Send / SendNext ...
// -> CloseAndFinish, Finish or Cancel (the destructor cancels an unfinished call). Thread-safety:
// the getters from any thread; everything else from one thread (the writer). Borrows the stub,
// which must outlive the stream. Test-only.
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

#include "databricks/zerobus/zerobus.grpc.pb.h"

namespace nobus::server::testing {

namespace zb = ::databricks::zerobus;

struct TestStreamOptions {
  std::map<std::string, std::string> headers;  // e.g. {"authorization", "Bearer t"}
  int64_t call_deadline_ms = 60000;
  int max_in_flight = 64;  // SendNext: requests sent and not yet acknowledged
  // Waits (up to the deadline) for the connection instead of failing at once when the first
  // connect attempt fails, as the SDKs' retries would: for tests that open many fresh
  // connections at once, where a busy machine can refuse one.
  bool wait_for_ready = false;
};

class TestStream {
 public:
  explicit TestStream(zb::Zerobus::Stub* stub, TestStreamOptions options = {});
  ~TestStream();  // cancels an unfinished call
  TestStream(const TestStream&) = delete;
  TestStream& operator=(const TestStream&) = delete;

  // Waits for the server's initial metadata (headers), as the official SDKs do. Only before
  // anything was read (Create does it).
  void WaitForHeaders();
  // Waits for the headers, sends create_stream and reads its response, then starts the reader.
  // Returns the stream id, or "" if the call failed (see Finish()).
  std::string Create(const std::string& table, zb::RecordType type,
                     const std::string& descriptor = "");
  // Writes `request` as it is; false when the call is broken.
  bool Send(const zb::EphemeralStreamRequest& request);
  // Sets the next offset (0, 1, 2, ...) on `request` (an ingest_record or ingest_record_batch)
  // and writes it, first waiting while max_in_flight requests are unacknowledged. Returns the
  // offset, or -1 when the call ended (the request was then maybe handed to the transport: see
  // requests_written).
  int64_t SendNext(zb::EphemeralStreamRequest request);
  // Blocks until an ack >= `offset` arrived (true) or the call ended (false).
  bool WaitForAck(int64_t offset);
  // Half-closes, waits for the server to end the call, returns its status.
  grpc::Status CloseAndFinish();
  // Waits until the server ends the call; returns its status.
  grpc::Status Finish();
  // Cancels the call unless it already ended (what Python 0.2.0 does to close); returns the
  // final status.
  grpc::Status Cancel();

  // Every ack in arrival order; the last one (-1 if none).
  std::vector<int64_t> acks() const;
  int64_t last_ack() const;
  int close_signals() const;
  // The call ended (or broke): no more responses will arrive.
  bool ended() const;
  // Requests SendNext handed to the transport (offsets 0 .. requests_written()-1); any of them
  // may have reached the server.
  int64_t requests_written() const;
  std::vector<std::string> violations() const;

 private:
  void StartReader();
  void ReadLoop();
  void Handle(const zb::EphemeralStreamResponse& response);  // requires mu_
  int64_t LastAckLocked() const { return acks_.empty() ? -1 : acks_.back(); }

  const int max_in_flight_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<zb::EphemeralStreamRequest, zb::EphemeralStreamResponse>>
      call_;
  std::thread reader_;     // writer thread only
  bool finished_ = false;  // writer thread only
  grpc::Status status_;    // writer thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;  // an ack arrived or the call ended
  int64_t next_offset_ = 0;     // one past the highest offset sent
  std::vector<int64_t> acks_;
  bool created_ = false;
  bool ended_ = false;
  int close_signals_ = 0;
  std::vector<std::string> violations_;
};

zb::EphemeralStreamRequest JsonRecord(int64_t offset, const std::string& json);
zb::EphemeralStreamRequest JsonBatch(int64_t offset, const std::vector<std::string>& records);
zb::EphemeralStreamRequest ProtoRecord(int64_t offset, const std::string& bytes);
zb::EphemeralStreamRequest ProtoBatch(int64_t offset, const std::vector<std::string>& records);

}  // namespace nobus::server::testing
