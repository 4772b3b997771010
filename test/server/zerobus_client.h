// Test harness: a minimal synchronous Zerobus client on the generated stubs, for driving one
// EphemeralStream call step by step (requests, acks, close signals, final status). Test-only.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "databricks/zerobus/zerobus.grpc.pb.h"

namespace nobus::server::testing {

namespace zb = ::databricks::zerobus;

class TestStream {
 public:
  // Starts the call with `headers` (e.g. {"authorization", "Bearer t"}); every read is bounded
  // by a 60 s call deadline so a server bug fails the test instead of hanging it.
  TestStream(zb::Zerobus::Stub* stub, const std::map<std::string, std::string>& headers = {});
  ~TestStream();  // cancels an unfinished call

  // Waits for the server's initial metadata (headers), as the official SDKs do.
  void WaitForHeaders();
  bool Send(const zb::EphemeralStreamRequest& request);
  // Sends create_stream; returns the stream id, or "" if the call failed (see Finish()).
  std::string Create(const std::string& table, zb::RecordType type,
                     const std::string& descriptor = "");
  // Reads responses until an ack >= `offset` (true) or the call ends (false). Every ack seen is
  // appended to acks(); close signals are counted.
  bool WaitForAck(int64_t offset);
  // Half-closes, drains the remaining responses, returns the final status.
  grpc::Status CloseAndFinish();
  // Reads until the server ends the call; returns its status.
  grpc::Status Finish();
  // Cancels the call (what Python 0.2.0 does to close) and collects the status.
  void Cancel();

  const std::vector<int64_t>& acks() const { return acks_; }
  int close_signals() const { return close_signals_; }
  int64_t last_ack() const { return acks_.empty() ? -1 : acks_.back(); }

 private:
  void Record(const zb::EphemeralStreamResponse& response);

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<zb::EphemeralStreamRequest, zb::EphemeralStreamResponse>>
      stream_;
  std::vector<int64_t> acks_;
  int close_signals_ = 0;
  bool finished_ = false;
  grpc::Status status_;
};

zb::EphemeralStreamRequest JsonRecord(int64_t offset, const std::string& json);
zb::EphemeralStreamRequest JsonBatch(int64_t offset, const std::vector<std::string>& records);
zb::EphemeralStreamRequest ProtoRecord(int64_t offset, const std::string& bytes);
zb::EphemeralStreamRequest ProtoBatch(int64_t offset, const std::vector<std::string>& records);

}  // namespace nobus::server::testing
