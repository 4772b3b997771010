// nobus C++ SDK: options of a Client and of a Stream, the headers provider used for
// authentication, and the values the SDK hands to callbacks and progress readers.
//
// Option names and defaults follow the official Zerobus SDKs (Rust core / Python) so a setting
// means the same thing everywhere; the in-flight limits are deliberately smaller than the Rust
// core's one million requests so that memory stays bounded by default. Plain values; copy freely.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nobus {

// What Ingest does when the in-flight window (max_inflight_requests / max_inflight_bytes) is full.
enum class WhenFull {
  kBlock,     // wait until acknowledgements free room (or the stream fails)
  kFailFast,  // return ResourceExhausted (retriable) at once; nothing is queued
};

// Supplies the gRPC request headers (metadata) for each connection attempt: authentication and
// routing. Called once per attempt, on the SDK's own thread, before the call starts; it may block
// (e.g. fetch a token). Keys must be lower case. If it fails, the attempt fails: a status marked
// with MakeNonRetriable ends the stream, any other is retried like a connection failure.
// Implementations must be thread-safe (several streams may share one provider).
class HeadersProvider {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  virtual ~HeadersProvider() = default;
  virtual absl::StatusOr<Headers> GetHeaders() = 0;
};

// A provider returning `authorization: Bearer <token>` and
// `x-databricks-zerobus-table-name: <table_name>` (what nobusd and the hosted service expect).
std::shared_ptr<HeadersProvider> BearerTokenHeaders(std::string token, std::string table_name);

// Passed to StreamOptions::ack_callback each time the server acknowledges durability.
struct AckEvent {
  // Every request with a logical offset <= durable_offset is durable (fsynced by the server).
  int64_t durable_offset = -1;
  // Newly durable by this acknowledgement: requests (Ingest/IngestBatch calls) and records.
  int64_t requests = 0;
  int64_t records = 0;
  // When the SDK received the acknowledgement (for latency measurements).
  std::chrono::steady_clock::time_point time;
};

struct StreamOptions {
  // Backpressure: at most this many requests (one per Ingest / IngestBatch call) and this many
  // record bytes may be ingested but not yet acknowledged. Ingest blocks (or fails fast) above
  // either limit. The SDK's memory for queued records is about max_inflight_bytes plus 1 MiB
  // (records are packed into 1 MiB chunks; a worst-case mix of sizes at most doubles it).
  int64_t max_inflight_requests = 50'000;
  int64_t max_inflight_bytes = 64ll << 20;

  // Automatic recovery from retriable failures: reconnect and re-send every unacknowledged record.
  // Off: the first retriable failure fails the stream (records stay retrievable).
  bool recovery = true;
  // One connection attempt may take this long to get its create_stream_response.
  int64_t recovery_timeout_ms = 15'000;
  // Wait between failed connection attempts (the first reconnect after an established call broke
  // starts at once). Each further attempt of the same outage waits recovery_backoff_multiplier
  // times longer, up to recovery_backoff_max_ms, with +-10% jitter. Multiplier 1 (the default)
  // gives the official SDKs' fixed interval.
  int64_t recovery_backoff_ms = 2'000;
  double recovery_backoff_multiplier = 1.0;
  int64_t recovery_backoff_max_ms = 30'000;
  // Connection attempts per outage before the stream fails. The count starts over once the
  // server acknowledges progress again.
  int recovery_retries = 4;

  // With requests outstanding, no response from the server for this long counts as a broken
  // connection (retriable: reconnect and re-send).
  int64_t server_lack_of_ack_timeout_ms = 60'000;
  // How long Flush, Close and WaitForOffset wait for acknowledgements.
  int64_t flush_timeout_ms = 300'000;
  // After a close_stream_signal, how long to wait for the acknowledgements of requests already
  // sent before reconnecting (also bounded by the duration the server announces). Official name:
  // stream_paused_max_wait_time_ms.
  int64_t stream_paused_max_wait_time_ms = 60'000;

  // One Ingest record or IngestBatch, as sent (records plus a few framing bytes each), may be
  // at most this large; the server's limit is 10 MB. Larger input fails locally with a
  // non-retriable InvalidArgument.
  int64_t max_message_bytes = 10ll << 20;
  // Records waiting to be sent are packed into one ingest_record_batch message of up to this many
  // bytes (records keep their own offsets). Set coalesce_records = false for servers that predate
  // batches: every Ingest is then sent as its own ingest_record message. Persistent streams never
  // coalesce: there a wire offset names exactly one Ingest / IngestBatch call.
  bool coalesce_records = true;
  int64_t max_wire_message_bytes = 1ll << 20;

  // Persistent streams only (Client::CreatePersistentStream / ResumePersistentStream): ask the
  // server to report when rows are committed to the Delta table (request header
  // x-nobus-commit-acks: true; a nobus extension, other servers ignore it), which
  // Stream::WaitForCommit waits for. InvalidArgument on an ephemeral stream.
  bool commit_acks = false;

  // Authentication and routing headers; null sends only x-databricks-zerobus-table-name (fine for
  // a nobusd without tokens on loopback).
  std::shared_ptr<HeadersProvider> headers_provider;

  // Called after each acknowledgement that makes new requests durable, in offset order, on a gRPC
  // thread (possibly inside an Ingest call of another thread). Must be quick and must not call
  // blocking Stream methods (Ingest with WhenFull::kBlock, Flush, WaitForOffset, Close): they
  // wait for acknowledgements this thread delivers.
  std::function<void(const AckEvent&)> ack_callback;
  // Called once, on the SDK's thread, when an opened stream fails for good (non-retriable
  // error or recovery gave up), with the same status later calls return.
  std::function<void(const absl::Status&)> failure_callback;
};

struct ClientOptions {
  // For https:// endpoints: PEM root certificates; empty uses the system's.
  std::string tls_root_certs_pem;
  // Prefixed to gRPC's user-agent and sent as x-zerobus-sdk (identifies the application in logs).
  std::string application_name;
};

// Progress counters of one stream (Stream::Stats). Offsets are logical (see Stream).
struct StreamStats {
  int64_t requests_ingested = 0;    // Ingest + IngestBatch calls accepted
  int64_t records_ingested = 0;
  int64_t bytes_ingested = 0;       // record payload bytes
  int64_t durable_offset = -1;      // highest acknowledged logical offset
  int64_t committed_offset = -1;    // commit acks: highest offset reported in the Delta table
  int64_t requests_durable = 0;
  int64_t records_durable = 0;
  int64_t inflight_requests = 0;    // ingested, not yet acknowledged
  int64_t inflight_bytes = 0;       // their encoded bytes (what max_inflight_bytes bounds)
  int64_t max_inflight_bytes_seen = 0;
  int64_t wire_messages_sent = 0;   // gRPC messages, resends included
  int64_t requests_resent = 0;      // requests sent again after a reconnect
  int64_t calls_started = 0;        // gRPC calls (connection attempts) made
  int64_t reconnects = 0;           // calls started after the first open call ended
};

}  // namespace nobus
