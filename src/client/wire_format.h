// Internal to src/client: frames queued records as EphemeralStreamRequest or
// PersistentStreamRequest messages without copying them. The records are already encoded as
// repeated-field items in the arena (record_arena.h); a request is a small header we write plus
// slices of the arena:
//
//   ingest_record (one request from Ingest):
//     R len  0x08 offset  (0x1a json_record | 0x12 proto_encoded_record) | arena item minus its
//                                                                         0x0a tag byte
//   ingest_record_batch:
//     B len  0x08 offset  (0x1a json_batch | 0x12 proto_encoded_batch) len | arena items
//
// with R/B the payload's tag in the RPC's request message: EphemeralStreamRequest ingest_record =
// 2 (0x12), ingest_record_batch = 3 (0x1a); PersistentStreamRequest ingest_record = 3 (0x1a),
// ingest_record_batch = 4 (0x22). That is byte for byte what protobuf would serialize for the
// same message (field order by number). Also builds each RPC's first request (create_stream,
// resume_stream) and parses either RPC's responses into one wire-neutral ServerMessage.
// Thread-safety: pure functions; the gRPC slices keep their chunk alive (Chunk::Ref) until gRPC
// releases them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <grpcpp/support/byte_buffer.h>

#include "client/unacked_queue.h"
#include "common/status.h"
#include "databricks/zerobus/zerobus.pb.h"
#include "nobus/table.h"

namespace nobus::client {

namespace zb = ::databricks::zerobus;

// Which bidi RPC a stream's calls use.
enum class Rpc {
  kEphemeral,   // EphemeralStream: offsets restart at 0 on every call (at-least-once)
  kPersistent,  // PersistentStream: logical offsets across calls, resume by id (exactly-once)
};

inline constexpr char kEphemeralStreamMethod[] = "/databricks.zerobus.Zerobus/EphemeralStream";
inline constexpr char kPersistentStreamMethod[] = "/databricks.zerobus.Zerobus/PersistentStream";
inline const char* MethodOf(Rpc rpc) {
  return rpc == Rpc::kPersistent ? kPersistentStreamMethod : kEphemeralStreamMethod;
}
// Longest header FrameHeader writes.
inline constexpr size_t kMaxFrameHeaderBytes = 40;

// Writes the header of `message` into `out` (>= kMaxFrameHeaderBytes). Returns its length; the
// message is the header followed by the runs, the first run starting `*skip` bytes in.
size_t FrameHeader(const WireMessage& message, RecordFormat format, Rpc rpc, char* out,
                   size_t* skip);

// The whole request as one ByteBuffer: the header plus one zero-copy slice per run.
grpc::ByteBuffer FrameRequest(const WireMessage& message, RecordFormat format,
                              Rpc rpc = Rpc::kEphemeral);

// The same bytes in one string (tests).
std::string FrameRequestToString(const WireMessage& message, RecordFormat format,
                                 Rpc rpc = Rpc::kEphemeral);

// The first request of an EphemeralStream call: create_stream with the table name, record type
// and, for protobuf, the descriptor.
grpc::ByteBuffer CreateStreamRequest(const TableProperties& table);
// The first request of a PersistentStream call: create_stream{create_stream{...}} (the server
// mints the id) when `stream_id` is empty, else resume_stream{stream_id, record_type,
// descriptor_proto}.
grpc::ByteBuffer PersistentFirstRequest(const TableProperties& table, const std::string& stream_id);

// One response of either RPC, reduced to what the SDK acts on.
struct ServerMessage {
  enum class Kind {
    kOther,        // a payload this SDK does not know (newer protocol versions): ignored
    kCreated,      // create_stream_response{stream_id}
    kResumed,      // resume_stream_response{last_committed_offset}
    kAck,          // ingest_record_response{durability_ack_up_to_offset}
    kCloseSignal,  // close_stream_signal{duration}
    kCommitAck,    // commit_ack{committed_up_to_offset, table_version} (nobus extension)
  };
  Kind kind = Kind::kOther;
  std::string stream_id;          // kCreated
  // kResumed: the durable offset (absent: nothing durable yet); kAck: the acked offset (absent:
  // the response carried none); kCommitAck: committed_up_to_offset.
  std::optional<int64_t> offset;
  int64_t duration_ms = 0;        // kCloseSignal; 0 when the duration is absent
  int64_t table_version = -1;     // kCommitAck
};

// Parses one response of `rpc`. InvalidArgument if the bytes are not that RPC's response.
[[nodiscard]] absl::Status ParseResponse(grpc::ByteBuffer* buffer, Rpc rpc,
                                         ServerMessage* message);
// The same from bytes (tests, and the ByteBuffer overload's second step).
[[nodiscard]] absl::Status ParseResponseBytes(const std::string& bytes, Rpc rpc,
                                              ServerMessage* message);

}  // namespace nobus::client
