// Test harness: a scriptable in-process Zerobus server (gRPC callback API, 127.0.0.1 port 0) for
// deterministic SDK tests. Each incoming call follows the next CallScript (then the default
// one): answer or refuse create_stream, ack each request or hold acks, fail the call after N
// requests, send close_stream_signal, send a bogus ack. It records what it received and which
// records it acknowledged ("durable"), so a test can compare them with what it ingested.
// Test-only; thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "databricks/zerobus/zerobus.grpc.pb.h"

namespace nobus::client::testing {

namespace zb = ::databricks::zerobus;

struct CallScript {
  // Non-OK: the call ends with this status right after create_stream.
  grpc::Status create_status = grpc::Status::OK;
  // Never answer create_stream (the client's recovery timeout must fire).
  bool no_create_response = false;
  // Acknowledge each request at once; false: hold acks until FakeZerobus::ReleaseAcks.
  bool ack = true;
  // After receiving this many requests on the call, end it with fail_status; the request that
  // reached the count is not acknowledged.
  int fail_after = -1;
  grpc::Status fail_status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected failure");
  // After acknowledging this many requests, send close_stream_signal{signal_seconds}; then end
  // the call with UNAVAILABLE at once (end_after_signal) or when the client half-closes.
  int close_signal_after = -1;
  int64_t signal_seconds = 5;
  bool end_after_signal = false;
  // Right after create_stream_response, acknowledge this (never sent) offset.
  int64_t bogus_ack = -1;
};

struct CallLog {
  std::multimap<std::string, std::string> headers;
  zb::CreateIngestStreamRequest create;
  std::vector<zb::EphemeralStreamRequest> requests;
  bool half_closed = false;  // the client ended its side (read returned end of stream)
};

class FakeZerobus {
 public:
  FakeZerobus();
  ~FakeZerobus();

  std::string address() const { return address_; }
  std::string endpoint() const { return "http://" + address_; }

  // Scripts for the next calls, in order; afterwards `default_script`.
  void PushScript(CallScript script);
  void SetDefaultScript(CallScript script);
  // Acknowledges everything received on live calls and stops holding acks (for later calls too).
  void ReleaseAcks();

  int calls() const;
  CallLog call(int index) const;
  // Records acknowledged so far, in acknowledgement order across calls.
  std::vector<std::string> durable() const;
  // Blocks until `n` calls have ended (OnDone ran); false after 30 s.
  bool WaitForEndedCalls(int n) const;
  // Blocks until `n` requests have been received in total; false after 30 s.
  bool WaitForRequests(int n) const;

  class Reactor;

 private:
  friend class Reactor;
  class Service;

  CallScript NextScript();
  int NewCall(const grpc::CallbackServerContext* context, Reactor* reactor);

  // One lock for the server and all its reactors (recursive: reactions may run inline).
  mutable std::recursive_mutex mu_;
  mutable std::condition_variable_any cv_;
  std::deque<CallScript> scripts_;
  CallScript default_script_;
  bool release_acks_ = false;
  std::vector<CallLog> logs_;
  std::vector<std::string> durable_;
  int total_requests_ = 0;
  int ended_ = 0;
  std::set<Reactor*> live_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace nobus::client::testing
