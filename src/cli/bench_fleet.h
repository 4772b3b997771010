// The async driver of `nobus bench` (--driver async, bench_command.cc): many light streams from
// one process, the way a fleet of small producers loads a node. Every stream is one
// EphemeralStream call on gRPC's callback API over a few shared channels (HTTP/2 connections),
// with no thread of its own, so one process drives 10,000+ streams.
//
// Pacing: one pacer thread makes each stream's requests due at --rate (streams start spread over
// one period, as independent producers would, instead of all at once). A due request is written
// as its own message (ingest_record, or ingest_record_batch of --batch-size records) as soon as
// the call's previous write finished. Unlike the SDK driver (bench_stream.h) nothing coalesces
// requests and a broken call is not retried: it fails its stream (counted in "errors").
//
// Measures what the SDK driver does: ack latency per request from the moment it was due to the
// ack covering it (so waiting behind a slow write counts), and time-to-table samples from each
// table's probe stream (every request of it, at most one per 10 ms).
//
// Lifecycle: Open (starts every call, waits for the create_stream responses) -> Run (paces until
// the deadline, then half-closes every stream and waits for the server to end every call after
// its last ack) -> Totals. Thread-safety: Open, Run and Totals from one thread; each stream's
// state is guarded by its own mutex (taken by gRPC reactions and the pacer).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/bench_stats.h"
#include "cli/bench_stream.h"
#include "common/status.h"

namespace nobus::cli::bench {

class FleetStream;
struct HistogramShard;
struct FleetChannels;

class Fleet {
 public:
  using Clock = std::chrono::steady_clock;

  // Opens one stream per config on `channels` connections to `endpoint` ("http://host:port" or
  // "https://host:port"; TLS trusts `tls_roots_pem`, or the system's roots when empty). Every
  // config must have rate > 0 and persistent = false. Fails with the first stream's error.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Fleet>> Open(
      const std::string& endpoint, const std::string& tls_roots_pem, int channels,
      std::vector<StreamConfig> configs);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Paces every stream from `start` until `deadline`, then closes them (waits up to
  // `close_timeout` for their acks, then cancels the rest).
  void Run(Clock::time_point start, Clock::time_point deadline, Clock::duration close_timeout);
  // Sums over the streams; after Run.
  LoadTotals Totals() const;

  // A stream got its create_stream response / its call ended (gRPC threads).
  void StreamOpened();
  void StreamEnded();

 private:
  Fleet();
  // Waits until every stream's call ended, or `until`; true when all did.
  bool WaitEnded(Clock::time_point until);

  std::unique_ptr<FleetChannels> channels_;
  std::vector<std::unique_ptr<HistogramShard>> shards_;
  std::vector<std::unique_ptr<FleetStream>> streams_;
  std::vector<Clock::duration> periods_;  // per stream: time between two requests
  std::mutex mu_;
  std::condition_variable cv_;  // opened_ or ended_ changed
  size_t opened_ = 0;
  size_t ended_ = 0;
};

}  // namespace nobus::cli::bench
