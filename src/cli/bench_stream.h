// One load-generating stream of `nobus bench` (bench_command.cc): opens an SDK stream to a bench
// table, ingests generated records (bench_records.h) as fast as allowed (or paced to a rate) until
// a deadline, closes (waits for every ack), and measures on the way:
//   - ack latency of every request: from just before the Ingest/IngestBatch call to the SDK's
//     receipt of the ack covering it (AckEvent::time), so it includes time spent blocked on a full
//     in-flight window and in the SDK's send queue;
//   - for the table's probe stream: about every 10 ms one request is a time-to-table sample; its
//     last probe value and the wall-clock time of its ack are kept (bench_watch.h finds the commit).
//
// Lifecycle: Open (connects; not timed) -> Run on a thread of its own -> result(). Thread-safety:
// Run is called once from one thread; the SDK's ack callback updates the ack state under a mutex;
// result() is read after Run returned.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/bench_records.h"
#include "cli/bench_stats.h"
#include "nobus/client.h"

namespace nobus::cli::bench {

struct StreamConfig {
  std::string table;
  size_t table_index = 0;
  int32_t stream = 0;   // stream number (written into every record)
  bool probe = false;   // the table's probe stream
  Format format = Format::kJson;
  int64_t record_bytes = 1024;
  int64_t batch_size = 1;  // records per request; 1 = Ingest, else IngestBatch
  double rate = 0;         // records/s cap; 0 = unlimited
  std::string token;
  bool persistent = false;  // a persistent (exactly-once) stream instead of an ephemeral one
};

// A time-to-table sample: a probe value and when the client learned it was durable.
struct TttSample {
  size_t table_index = 0;
  int64_t probe = 0;
  double ack_wall_ms = 0;  // system clock, ms since the epoch
};

struct StreamResult {
  absl::Status status;
  int64_t records = 0;  // acknowledged
  int64_t bytes = 0;    // their record bytes
  int64_t requests = 0;
  int64_t reconnects = 0;
  std::chrono::steady_clock::time_point closed;  // when Close returned
  LatencyHistogram ack_us;
  std::vector<TttSample> samples;
};

// What a run's streams got, summed (each driver fills one).
struct LoadTotals {
  int64_t records = 0;  // acknowledged
  int64_t bytes = 0;
  int64_t requests = 0;
  int64_t reconnects = 0;
  int64_t failed_streams = 0;
  std::string first_error;                     // of the first failed stream
  std::chrono::steady_clock::time_point end;   // when the last stream closed
  LatencyHistogram ack_us;
  std::vector<TttSample> samples;

  void Add(const StreamResult& r);
};

class StreamRunner {
 public:
  StreamRunner(const Client* client, StreamConfig config);
  ~StreamRunner();

  [[nodiscard]] absl::Status Open();
  // Ingests from `start` until `deadline`, then closes the stream.
  void Run(std::chrono::steady_clock::time_point start,
           std::chrono::steady_clock::time_point deadline);
  const StreamResult& result() const { return result_; }

 private:
  struct Inflight {
    std::chrono::steady_clock::time_point sent;
    int64_t sample_probe = -1;  // >= 0: a time-to-table sample
  };
  // Called by the SDK for each ack (gRPC thread).
  void OnAck(const AckEvent& ack);
  // Ingests one request of `n` records starting at `seq`; false when the stream failed.
  bool SendOne(int64_t seq, int64_t n, bool sample);

  const Client* client_;
  const StreamConfig config_;
  RecordMaker maker_;
  std::unique_ptr<Stream> stream_;
  std::vector<std::string> batch_;  // records of one IngestBatch request
  int64_t bytes_sent_ = 0;          // record bytes of the accepted Ingest calls
  std::mutex mu_;                   // guards the ack state below
  std::deque<Inflight> inflight_;   // front = the oldest unacknowledged request
  int64_t next_acked_ = 0;          // offset of inflight_.front()
  StreamResult result_;
};

}  // namespace nobus::cli::bench
