// Internal to src/client: frames queued records as EphemeralStreamRequest messages without
// copying them. The records are already encoded as repeated-field items in the arena
// (record_arena.h); a request is a small header we write plus slices of the arena:
//
//   ingest_record (one request from Ingest):
//     0x12 len  0x08 offset  (0x1a json_record | 0x12 proto_encoded_record) | arena item minus its
//                                                                            0x0a tag byte
//   ingest_record_batch:
//     0x1a len  0x08 offset  (0x1a json_batch | 0x12 proto_encoded_batch) len | arena items
//
// which is byte for byte what protobuf would serialize for the same message (field order by
// number). Also builds the create_stream request and parses responses. Thread-safety: pure
// functions; the gRPC slices keep their chunk alive (Chunk::Ref) until gRPC releases them.
#pragma once

#include <cstddef>
#include <string>

#include <grpcpp/support/byte_buffer.h>

#include "client/unacked_queue.h"
#include "common/status.h"
#include "databricks/zerobus/zerobus.pb.h"
#include "nobus/table.h"

namespace nobus::client {

namespace zb = ::databricks::zerobus;

inline constexpr char kEphemeralStreamMethod[] = "/databricks.zerobus.Zerobus/EphemeralStream";
// Longest header FrameHeader writes.
inline constexpr size_t kMaxFrameHeaderBytes = 40;

// Writes the header of `message` into `out` (>= kMaxFrameHeaderBytes). Returns its length; the
// message is the header followed by the runs, the first run starting `*skip` bytes in.
size_t FrameHeader(const WireMessage& message, RecordFormat format, char* out, size_t* skip);

// The whole request as one ByteBuffer: the header plus one zero-copy slice per run.
grpc::ByteBuffer FrameRequest(const WireMessage& message, RecordFormat format);

// The same bytes in one string (tests).
std::string FrameRequestToString(const WireMessage& message, RecordFormat format);

// The first request of a call: create_stream with the table name, record type and, for
// protobuf, the descriptor.
grpc::ByteBuffer CreateStreamRequest(const TableProperties& table);

// Parses one response. InvalidArgument if the bytes are not an EphemeralStreamResponse.
[[nodiscard]] absl::Status ParseResponse(grpc::ByteBuffer* buffer,
                                         zb::EphemeralStreamResponse* response);

}  // namespace nobus::client
