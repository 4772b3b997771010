// nobus C++ SDK: one ingest stream into one table. Created by Client::CreateStream (a Zerobus
// EphemeralStream: at-least-once) or Client::CreatePersistentStream / ResumePersistentStream (a
// PersistentStream: exactly-once, see "Persistent streams" below); see client.h for the whole
// picture and doc/sdk.md for a walkthrough.
//
// Offsets. Every accepted Ingest / IngestMessage / IngestBatch call gets the next logical offset
// of this Stream object: 0, 1, 2, ... (a batch takes one offset for all its records). Logical
// offsets never change, across reconnects included; the wire's per-call offsets are internal.
//
// Durability. Ingest returns once the record is queued in this process (not yet sent, not
// durable). The record is durable — on the server's disk, fsynced — once the server acknowledges
// its offset: WaitForOffset(offset) / Flush() / Close() returning OK, an AckEvent with
// durable_offset >= offset, or Stats().durable_offset >= offset. Acknowledgements are cumulative
// and arrive in offset order. Delivery on an ephemeral stream is at-least-once: after a reconnect,
// records the server made durable without acknowledging are sent again and may land twice (a
// persistent stream lands them once).
//
// Recovery. Retriable failures (errors.h) are handled inside: the SDK reconnects with backoff and
// re-sends every unacknowledged record in order, with the same logical offsets; Ingest keeps
// accepting records meanwhile (up to the in-flight limits). If recovery gives up, or on a
// non-retriable failure, the stream fails: every later call returns that status (IsNonRetriable
// tells the kind), and GetUnackedRecords / GetUnackedBatches return what was never acknowledged so
// it can be re-ingested elsewhere (Client::RecreateStream does exactly that).
//
// Persistent streams. The server keeps the stream's offsets: stream_id() is stable (persist it to
// resume after a crash of this process), offsets continue across connections and processes (a
// resumed stream's first Ingest gets resume_watermark() + 1), and the server stores each offset
// once. On every reconnect the SDK resumes the id, counts every queued request up to the server's
// durable offset as acknowledged and re-sends only the rest under their own offsets, so nothing
// lands twice. Each request travels as its own wire message (never coalesced). ABORTED (another
// producer resumed the stream, or it was retired) and FAILED_PRECONDITION on a resume (retired,
// expired) fail the stream as non-retriable.
//
// Thread-safety: every method may be called from any number of threads concurrently; records of
// concurrent Ingest calls are ordered by the offsets they get. Callbacks (StreamOptions) must not
// call blocking methods of the stream (see options.h).
//
// Lifecycle: Close() flushes and ends the stream. Destroying a stream that was not closed cancels
// its call at once without waiting: records not yet acknowledged are dropped (at-least-once users
// should Close or Flush first). Destruction blocks only until the SDK's thread has stopped.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nobus/options.h"
#include "nobus/table.h"

namespace google::protobuf {
class MessageLite;
}

namespace nobus {

namespace client {
class StreamCore;
}

// One request that was never acknowledged, as ingested: `offset` is its logical offset and
// `records` its records (one for Ingest, all of them for IngestBatch).
struct UnackedBatch {
  int64_t offset = -1;
  bool batch = false;  // ingested with IngestBatch
  std::vector<std::string> records;
};

class Stream {
 public:
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Queues one record: JSON text for a kJson stream, a serialized message for kProto. Returns its
  // logical offset. Does not wait for the network; blocks only while the in-flight window is full
  // (mode kBlock) — with kFailFast it returns ResourceExhausted (retriable) instead.
  // Errors: the stream's failure status if it has failed; FailedPrecondition (non-retriable) once
  // Close has begun; InvalidArgument (non-retriable) for a record that does not fit
  // max_message_bytes. The record is copied; the caller keeps ownership of `record`.
  [[nodiscard]] absl::StatusOr<int64_t> Ingest(std::string_view record,
                                               WhenFull mode = WhenFull::kBlock);

  // Serializes `message` straight into the SDK's buffers (no intermediate copy) and queues it like
  // Ingest. For kProto streams; the message type should be the one given to TableProperties.
  [[nodiscard]] absl::StatusOr<int64_t> IngestMessage(const google::protobuf::MessageLite& message,
                                                      WhenFull mode = WhenFull::kBlock);

  // Queues several records as one request with one logical offset, sent as one
  // ingest_record_batch: the server makes all of them durable or none. Same blocking and errors
  // as Ingest; an empty batch is InvalidArgument. Faster than one Ingest per record.
  [[nodiscard]] absl::StatusOr<int64_t> IngestBatch(std::span<const std::string_view> records,
                                                    WhenFull mode = WhenFull::kBlock);
  [[nodiscard]] absl::StatusOr<int64_t> IngestBatch(std::span<const std::string> records,
                                                    WhenFull mode = WhenFull::kBlock);

  // Blocks until `offset` is durable. OK means every request with a logical offset <= `offset` is
  // durable. InvalidArgument for an offset not handed out yet; DeadlineExceeded (retriable) after
  // flush_timeout_ms; the stream's failure status if it fails first (an offset that became durable
  // before the failure still returns OK).
  [[nodiscard]] absl::Status WaitForOffset(int64_t offset);

  // Blocks until every record ingested before this call is durable (OK), the stream fails (its
  // status) or flush_timeout_ms passes (DeadlineExceeded, retriable; records stay queued).
  [[nodiscard]] absl::Status Flush();

  // Persistent streams opened with StreamOptions::commit_acks: blocks until the server reports
  // every request with a logical offset <= `offset` committed to the Delta table (readable by
  // table readers), and returns a table version that holds them. Call it before Close (a closed
  // stream hears no more commit reports: FailedPrecondition). FailedPrecondition (non-retriable)
  // without commit_acks or on an ephemeral stream; InvalidArgument for an offset not handed out
  // yet; DeadlineExceeded (retriable) after flush_timeout_ms; the stream's failure status if it
  // fails first.
  [[nodiscard]] absl::StatusOr<int64_t> WaitForCommit(int64_t offset);

  // Stops accepting records (later Ingest calls fail with FailedPrecondition), waits like Flush
  // for every queued record to be durable, then ends the call gracefully (half-close, then cancel
  // if the server has not finished within 0.5 s). OK means all records are durable and the stream
  // is closed. If the flush times out, Close returns DeadlineExceeded and the stream stays
  // closed to new records (GetUnackedRecords shows what is missing). On a failed stream it returns
  // the failure status. Once it returned OK, calling it again returns OK at once.
  [[nodiscard]] absl::Status Close();

  // Records never acknowledged, in offset order (a batch contributes all its records). A copy;
  // meant for after a failure, but safe at any time.
  std::vector<std::string> GetUnackedRecords() const;
  std::vector<UnackedBatch> GetUnackedBatches() const;

  // OK while the stream is usable (connected or recovering), else why it failed, or
  // FailedPrecondition once closed.
  absl::Status status() const;
  // Progress counters; a consistent snapshot.
  StreamStats Stats() const;
  // The id the server gave the stream. Ephemeral: the current (or last) call's; changes on every
  // reconnect. Persistent: the stream's id, the same for its whole life (pass it to
  // Client::ResumePersistentStream or RetireStream).
  std::string stream_id() const;
  // True for a stream opened with CreatePersistentStream / ResumePersistentStream.
  bool persistent() const;
  // Persistent streams: the highest offset the server had durable when this Stream opened (a
  // resume): everything up to it is stored, and the first Ingest gets resume_watermark() + 1.
  // -1 when nothing was durable yet, for a newly created stream and for ephemeral streams.
  int64_t resume_watermark() const;

  const TableProperties& table() const;
  const StreamOptions& options() const;

 private:
  friend class Client;
  explicit Stream(std::unique_ptr<client::StreamCore> core);
  absl::StatusOr<int64_t> IngestBatchImpl(size_t count, const std::string_view* records,
                                          const std::string* strings, WhenFull mode);

  std::unique_ptr<client::StreamCore> core_;
};

}  // namespace nobus
