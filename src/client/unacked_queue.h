// Internal to src/client: the bookkeeping of one stream's records between Ingest and durability.
// It owns the queued requests (one per Ingest/IngestBatch call, in logical-offset order), knows
// which of them were sent on the current gRPC call and under which physical (wire) offsets, turns
// the server's cumulative acks of physical offsets back into logical offsets, and frees what is
// durable. On every new call the physical numbering restarts at 0 and everything unacknowledged
// is sent again from the front, in order.
//
// Persistent streams (PersistentStream RPC) put logical offsets on the wire: StartCall(true)
// numbers the call's messages from the front's logical offset, each message carries exactly one
// request (TakeNext without coalescing), and after the server's resume_stream_response, Resume(W)
// counts every request <= W as acknowledged and re-bases the numbering on the new front, so a
// resent request always carries the offset it had before.
//
//   logical:   0 1 2 3 4 5 6 7 8        (front_offset_ = 3: requests 0-2 are durable)
//   queued:          [3 4 5 6 7 8]
//   sent on call:    [3 4 5 6]          as wire messages p0 = {3,4}, p1 = {5}, p2 = {6}
//   Ack(p1) -> durable up to 5, queue becomes [6 7 8], in flight p2.
//
// Thread-safety: none; the stream's mutex guards it. Pure bookkeeping (no I/O), unit-tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "client/record_arena.h"
#include "common/status.h"

namespace nobus::client {

// One queued request: its encoded records and how many there are.
struct QueuedRequest {
  RecordSpan span;
  uint32_t records = 0;
  bool batch = false;  // from IngestBatch (sent as ingest_record_batch even alone)
};

// The requests of one wire message, ready to be framed (wire_format.h).
struct WireMessage {
  int64_t physical_offset = 0;
  // True: one request from Ingest, sent as ingest_record; false: ingest_record_batch.
  bool single_record = false;
  uint32_t requests = 0;
  uint32_t records = 0;
  uint64_t payload_bytes = 0;  // sum of the runs' sizes
  // The encoded records, merged into runs where requests are adjacent in one chunk.
  std::vector<RecordSpan> runs;
};

struct AckResult {
  int64_t durable_offset = -1;  // logical, after this ack
  int64_t requests = 0;         // newly durable
  int64_t records = 0;
  int64_t bytes = 0;
};

class UnackedQueue {
 public:
  explicit UnackedQueue(size_t chunk_bytes = RecordArena::kDefaultChunkBytes);
  ~UnackedQueue();
  UnackedQueue(const UnackedQueue&) = delete;
  UnackedQueue& operator=(const UnackedQueue&) = delete;

  // Queues a request of `records` records taking `encoded_bytes` (see EncodedRecordSize) and
  // returns its logical offset; *out receives where to write the encoded records.
  int64_t Append(size_t encoded_bytes, uint32_t records, bool batch, char** out);

  // Starts a new call: every queued request is unsent again and physical offsets restart at 0,
  // or with `logical_offsets` at the logical offset of the front (persistent streams). Returns how
  // many queued requests had been sent before (they will be re-sent unless Resume acks them).
  int64_t StartCall(bool logical_offsets = false);

  // Persistent streams, right after StartCall(true), with the server's resume_stream_response:
  // every request with a logical offset <= `durable` (-1: none) is durable. `adopt` (the first
  // call of a Stream that resumes an existing id, queue empty): the next offset becomes
  // durable + 1. Otherwise the queued requests <= `durable` are acknowledged (the result says
  // which, like Ack) and the rest will be sent again with their own offsets. DataLoss when
  // `durable` is below what the server acknowledged before; FailedPrecondition when it is at or
  // past next_offset() (another producer wrote the stream).
  [[nodiscard]] absl::StatusOr<AckResult> Resume(int64_t durable, bool adopt);

  bool HasUnsent() const { return sent_ < queue_.size(); }
  // Takes the next unsent request(s) into one wire message and registers it as in flight under
  // the next physical offset. With `coalesce`, consecutive requests are packed together while
  // the payload stays within `max_bytes` (a larger single request still goes alone). Without,
  // exactly one request. False if nothing is unsent.
  bool TakeNext(bool coalesce, uint64_t max_bytes, WireMessage* out);

  // Applies the server's "durable up to physical offset N" on the current call. An ack at or below
  // an earlier one changes nothing; an ack of an offset never sent on this call is an error
  // (Internal: the server broke the protocol).
  [[nodiscard]] absl::StatusOr<AckResult> Ack(int64_t physical_offset);

  int64_t next_offset() const { return front_offset_ + static_cast<int64_t>(queue_.size()); }
  int64_t durable_offset() const { return front_offset_ - 1; }
  // Queued (unacknowledged) requests and their encoded bytes.
  size_t size() const { return queue_.size(); }
  int64_t bytes() const { return bytes_; }
  // Wire messages sent on the current call and not acknowledged yet.
  int64_t messages_in_flight() const { return static_cast<int64_t>(inflight_.size()); }
  // Requests sent on the current call and not acknowledged yet.
  size_t sent_unacked() const { return sent_; }

  // Copies of the unacknowledged requests, decoded back to records.
  struct Unacked {
    int64_t offset;
    bool batch;
    std::vector<std::string> records;
  };
  std::vector<Unacked> CopyUnacked() const;

 private:
  void PopFront(size_t count, AckResult* result);

  RecordArena arena_;
  std::deque<QueuedRequest> queue_;
  int64_t front_offset_ = 0;  // logical offset of queue_.front()
  int64_t bytes_ = 0;
  size_t sent_ = 0;           // queue_[0, sent_) were sent on the current call
  // Per wire message in flight on this call, oldest first: the logical offset of its last request.
  std::deque<int64_t> inflight_;
  int64_t first_inflight_physical_ = 0;
  int64_t next_physical_ = 0;
};

// Splits encoded records (a sequence of repeated-field items) back into records. InvalidArgument
// if the bytes are not such a sequence (cannot happen for bytes this SDK encoded).
[[nodiscard]] absl::StatusOr<std::vector<std::string>> DecodeRecords(const char* data,
                                                                     size_t size);

}  // namespace nobus::client
