#include "client/wire_format.h"

#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/slice.h>

#include <vector>

namespace nobus::client {
namespace {

// Field tags (field number << 3 | wire type 2 = length-delimited; 0 = varint).
constexpr char kIngestRecordTag = 0x12;       // EphemeralStreamRequest.ingest_record = 2
constexpr char kIngestBatchTag = 0x1a;        // EphemeralStreamRequest.ingest_record_batch = 3
constexpr char kOffsetTag = 0x08;             // offset_id = 1, varint
constexpr char kProtoTag = 0x12;              // proto_encoded_record / proto_encoded_batch = 2
constexpr char kJsonTag = 0x1a;               // json_record / json_batch = 3

void UnrefChunk(void* chunk) { static_cast<Chunk*>(chunk)->Unref(); }

}  // namespace

size_t FrameHeader(const WireMessage& message, RecordFormat format, char* out, size_t* skip) {
  const char payload_tag = format == RecordFormat::kJson ? kJsonTag : kProtoTag;
  const uint64_t offset = static_cast<uint64_t>(message.physical_offset);
  char* p = out;
  if (message.single_record) {
    // The arena item is 0x0a len bytes; we write our own tag instead of its 0x0a.
    uint64_t inner = 1 + VarintSize(offset) + message.payload_bytes;
    *p++ = kIngestRecordTag;
    p = PutVarint(p, inner);
    *p++ = kOffsetTag;
    p = PutVarint(p, offset);
    *p++ = payload_tag;
    *skip = 1;
  } else {
    uint64_t inner =
        1 + VarintSize(offset) + 1 + VarintSize(message.payload_bytes) + message.payload_bytes;
    *p++ = kIngestBatchTag;
    p = PutVarint(p, inner);
    *p++ = kOffsetTag;
    p = PutVarint(p, offset);
    *p++ = payload_tag;
    p = PutVarint(p, message.payload_bytes);
    *skip = 0;
  }
  return static_cast<size_t>(p - out);
}

grpc::ByteBuffer FrameRequest(const WireMessage& message, RecordFormat format) {
  char header[kMaxFrameHeaderBytes];
  size_t skip = 0;
  size_t header_size = FrameHeader(message, format, header, &skip);
  std::vector<grpc::Slice> slices;
  slices.reserve(message.runs.size() + 1);
  slices.emplace_back(header, header_size);
  for (const RecordSpan& run : message.runs) {
    size_t from = slices.size() == 1 ? skip : 0;
    run.chunk->Ref();
    slices.emplace_back(const_cast<char*>(run.data()) + from, run.size - from, &UnrefChunk,
                        run.chunk);
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

std::string FrameRequestToString(const WireMessage& message, RecordFormat format) {
  char header[kMaxFrameHeaderBytes];
  size_t skip = 0;
  size_t header_size = FrameHeader(message, format, header, &skip);
  std::string out(header, header_size);
  for (size_t i = 0; i < message.runs.size(); ++i) {
    size_t from = i == 0 ? skip : 0;
    out.append(message.runs[i].data() + from, message.runs[i].size - from);
  }
  return out;
}

grpc::ByteBuffer CreateStreamRequest(const TableProperties& table) {
  zb::EphemeralStreamRequest request;
  zb::CreateIngestStreamRequest* create = request.mutable_create_stream();
  create->set_table_name(table.table_name);
  if (table.format == RecordFormat::kJson) {
    create->set_record_type(zb::JSON);
  } else {
    create->set_record_type(zb::PROTO);
    create->set_descriptor_proto(table.descriptor_proto);
  }
  std::string bytes = request.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

absl::Status ParseResponse(grpc::ByteBuffer* buffer, zb::EphemeralStreamResponse* response) {
  grpc::ProtoBufferReader reader(buffer);
  if (!response->ParseFromZeroCopyStream(&reader))
    return absl::InvalidArgumentError("the server sent a response that is not an "
                                      "EphemeralStreamResponse");
  return absl::OkStatus();
}

}  // namespace nobus::client
