// nobus C++ SDK — front door. Sends records to a Zerobus Ingest endpoint (nobusd, or the hosted
// Databricks service) over the Zerobus gRPC protocol and tells the application when they are
// durable.
//
//   #include "nobus/client.h"
//
//   auto client = nobus::Client::Create("http://127.0.0.1:7070");        // plaintext h2c
//   auto stream = (*client)->CreateStream(nobus::TableProperties::Json("main.default.events"));
//   absl::StatusOr<int64_t> offset = (*stream)->Ingest(R"({"id": 1, "msg": "hello"})");
//   absl::Status durable = (*stream)->WaitForOffset(*offset);   // or Flush() / Close()
//   absl::Status closed = (*stream)->Close();
//
// Where it sits: application -> Client/Stream (this SDK: queue, offsets, backpressure, recovery)
// -> gRPC EphemeralStream (or PersistentStream: exactly-once) -> nobusd front end -> WAL (ack
// after fdatasync) -> Delta table.
// Errors and what is retried: errors.h. Options and callbacks: options.h. Streams: stream.h.
// Walkthrough: doc/sdk.md; a complete program: examples/ingest_json.cc.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "nobus/errors.h"
#include "nobus/options.h"
#include "nobus/stream.h"
#include "nobus/table.h"

namespace nobus {

// Lifecycle: create once per endpoint and keep it; it may outlive or be outlived by its streams
// (each stream keeps what it needs). Thread-safety: all methods are thread-safe. Each stream
// uses its own HTTP/2 connection, so one slow or broken stream never stalls another.
class Client {
 public:
  // `endpoint`: "http://host:port" or "host:port" (plaintext HTTP/2) or "https://host:port"
  // (TLS). InvalidArgument (non-retriable) for a malformed endpoint. Does not connect yet.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Client>> Create(std::string endpoint,
                                                                     ClientOptions options = {});

  // Opens a stream: connects, sends create_stream and waits for the server's
  // create_stream_response (retrying retriable failures per `options`). Blocks until then.
  // Errors: non-retriable with the server's message (NOT_FOUND for an unknown table,
  // INVALID_ARGUMENT for a descriptor that does not match the table, UNAUTHENTICATED, ...);
  // InvalidArgument for inconsistent options or a kProto table without a descriptor; a retriable
  // status (e.g. UNAVAILABLE) if every attempt failed.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Stream>> CreateStream(
      TableProperties table, StreamOptions options = {}) const;

  // Opens a new stream with the table and options of `failed` (usually a failed stream) and
  // ingests every request `failed` never got acknowledged, in order (batches stay batches). The
  // new stream's offsets start at 0 again. `failed` is left as it was. For a persistent `failed`
  // it resumes the same stream id instead: requests the server has meanwhile are skipped, the
  // others keep their offsets (this fences any other producer of that id).
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Stream>> RecreateStream(const Stream& failed) const;

  // Persistent (exactly-once) streams, on the PersistentStream RPC; see stream.h "Persistent
  // streams". CreatePersistentStream opens a new stream: the server mints its id
  // (Stream::stream_id(); persist it before relying on a resume) and offsets start at 0.
  // ResumePersistentStream continues the stream `stream_id` (which must belong to
  // `table.table_name` and have the same record format): the server answers with its durable
  // offset W (Stream::resume_watermark()) and the first Ingest gets W + 1; a live call of that
  // stream elsewhere is fenced (it fails with ABORTED). Both block like CreateStream. Errors as
  // CreateStream's, plus, non-retriable: FAILED_PRECONDITION for a retired or expired stream (or
  // a table with too many live streams), INVALID_ARGUMENT for a malformed id or one of another
  // table. Against a server without persistent streams: UNIMPLEMENTED.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Stream>> CreatePersistentStream(
      TableProperties table, StreamOptions options = {}) const;
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Stream>> ResumePersistentStream(
      TableProperties table, std::string stream_id, StreamOptions options = {}) const;

  // Ends persistent stream `stream_id` of table `table_name` for good (unary RetireStream, one
  // attempt, 30 s deadline): its acknowledged rows are committed first, a live call of it fails
  // with ABORTED, later resumes with FAILED_PRECONDITION. Idempotent (OK again). `headers`
  // supplies authentication like StreamOptions::headers_provider (null: none). Errors:
  // non-retriable NOT_FOUND (unknown table), INVALID_ARGUMENT (malformed id, id of another
  // table), UNAUTHENTICATED, PERMISSION_DENIED; retriable otherwise (try again).
  [[nodiscard]] absl::Status RetireStream(const std::string& table_name,
                                          const std::string& stream_id,
                                          std::shared_ptr<HeadersProvider> headers = nullptr) const;

  // The gRPC target derived from the endpoint ("127.0.0.1:7070").
  const std::string& target() const { return target_; }
  bool tls() const { return tls_; }

 private:
  Client(std::string target, bool tls, ClientOptions options);
  absl::StatusOr<std::unique_ptr<Stream>> Open(TableProperties table, StreamOptions options,
                                               bool persistent, std::string resume_id) const;

  std::string target_;
  bool tls_ = false;
  ClientOptions options_;
};

}  // namespace nobus
