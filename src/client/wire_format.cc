#include "client/wire_format.h"

#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/slice.h>

#include <algorithm>
#include <vector>

namespace nobus::client {
namespace {

// Field tags (field number << 3 | wire type 2 = length-delimited; 0 = varint).
constexpr char kEphemeralRecordTag = 0x12;    // EphemeralStreamRequest.ingest_record = 2
constexpr char kEphemeralBatchTag = 0x1a;     // EphemeralStreamRequest.ingest_record_batch = 3
constexpr char kPersistentRecordTag = 0x1a;   // PersistentStreamRequest.ingest_record = 3
constexpr char kPersistentBatchTag = 0x22;    // PersistentStreamRequest.ingest_record_batch = 4
constexpr char kOffsetTag = 0x08;             // offset_id = 1, varint
constexpr char kProtoTag = 0x12;              // proto_encoded_record / proto_encoded_batch = 2
constexpr char kJsonTag = 0x1a;               // json_record / json_batch = 3

void UnrefChunk(void* chunk) { static_cast<Chunk*>(chunk)->Unref(); }

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

void SetRecordType(const TableProperties& table, zb::RecordType* type, std::string* descriptor) {
  if (table.format == RecordFormat::kJson) {
    *type = zb::JSON;
  } else {
    *type = zb::PROTO;
    *descriptor = table.descriptor_proto;
  }
}

void FillCreate(const TableProperties& table, zb::CreateIngestStreamRequest* create) {
  create->set_table_name(table.table_name);
  zb::RecordType type = zb::JSON;
  std::string descriptor;
  SetRecordType(table, &type, &descriptor);
  create->set_record_type(type);
  if (table.format == RecordFormat::kProto) create->set_descriptor_proto(descriptor);
}

int64_t DurationMs(const zb::CloseStreamSignal& signal) {
  if (!signal.has_duration()) return 0;
  return std::max<int64_t>(0, signal.duration().seconds() * 1000 +
                                  signal.duration().nanos() / 1'000'000);
}

void FromAck(const zb::IngestRecordResponse& ack, ServerMessage* m) {
  m->kind = ServerMessage::Kind::kAck;
  if (ack.has_durability_ack_up_to_offset()) m->offset = ack.durability_ack_up_to_offset();
}

void Convert(const zb::EphemeralStreamResponse& r, ServerMessage* m) {
  *m = ServerMessage{};
  if (r.has_create_stream_response()) {
    m->kind = ServerMessage::Kind::kCreated;
    m->stream_id = r.create_stream_response().stream_id();
  } else if (r.has_ingest_record_response()) {
    FromAck(r.ingest_record_response(), m);
  } else if (r.has_close_stream_signal()) {
    m->kind = ServerMessage::Kind::kCloseSignal;
    m->duration_ms = DurationMs(r.close_stream_signal());
  }
}

void Convert(const zb::PersistentStreamResponse& r, ServerMessage* m) {
  *m = ServerMessage{};
  if (r.has_create_stream_response()) {
    m->kind = ServerMessage::Kind::kCreated;
    m->stream_id = r.create_stream_response().stream_id();
  } else if (r.has_resume_stream_response()) {
    m->kind = ServerMessage::Kind::kResumed;
    if (r.resume_stream_response().has_last_committed_offset())
      m->offset = r.resume_stream_response().last_committed_offset();
  } else if (r.has_ingest_record_response()) {
    FromAck(r.ingest_record_response(), m);
  } else if (r.has_close_stream_signal()) {
    m->kind = ServerMessage::Kind::kCloseSignal;
    m->duration_ms = DurationMs(r.close_stream_signal());
  } else if (r.has_commit_ack()) {
    m->kind = ServerMessage::Kind::kCommitAck;
    if (r.commit_ack().has_committed_up_to_offset())
      m->offset = r.commit_ack().committed_up_to_offset();
    if (r.commit_ack().has_table_version()) m->table_version = r.commit_ack().table_version();
  }
}

// Parses `input` (a ByteBuffer or a string) as `Response` and converts it.
template <typename Response, typename Parse>
absl::Status ParseAs(Parse parse, const char* name, ServerMessage* m) {
  Response response;
  if (!parse(&response))
    return absl::InvalidArgumentError(
        Cat("the server sent a response that is not a ", name));
  Convert(response, m);
  return absl::OkStatus();
}

}  // namespace

size_t FrameHeader(const WireMessage& message, RecordFormat format, Rpc rpc, char* out,
                   size_t* skip) {
  const bool persistent = rpc == Rpc::kPersistent;
  const char payload_tag = format == RecordFormat::kJson ? kJsonTag : kProtoTag;
  const uint64_t offset = static_cast<uint64_t>(message.physical_offset);
  char* p = out;
  if (message.single_record) {
    // The arena item is 0x0a len bytes; we write our own tag instead of its 0x0a.
    uint64_t inner = 1 + VarintSize(offset) + message.payload_bytes;
    *p++ = persistent ? kPersistentRecordTag : kEphemeralRecordTag;
    p = PutVarint(p, inner);
    *p++ = kOffsetTag;
    p = PutVarint(p, offset);
    *p++ = payload_tag;
    *skip = 1;
  } else {
    uint64_t inner =
        1 + VarintSize(offset) + 1 + VarintSize(message.payload_bytes) + message.payload_bytes;
    *p++ = persistent ? kPersistentBatchTag : kEphemeralBatchTag;
    p = PutVarint(p, inner);
    *p++ = kOffsetTag;
    p = PutVarint(p, offset);
    *p++ = payload_tag;
    p = PutVarint(p, message.payload_bytes);
    *skip = 0;
  }
  return static_cast<size_t>(p - out);
}

grpc::ByteBuffer FrameRequest(const WireMessage& message, RecordFormat format, Rpc rpc) {
  char header[kMaxFrameHeaderBytes];
  size_t skip = 0;
  size_t header_size = FrameHeader(message, format, rpc, header, &skip);
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

std::string FrameRequestToString(const WireMessage& message, RecordFormat format, Rpc rpc) {
  char header[kMaxFrameHeaderBytes];
  size_t skip = 0;
  size_t header_size = FrameHeader(message, format, rpc, header, &skip);
  std::string out(header, header_size);
  for (size_t i = 0; i < message.runs.size(); ++i) {
    size_t from = i == 0 ? skip : 0;
    out.append(message.runs[i].data() + from, message.runs[i].size - from);
  }
  return out;
}

grpc::ByteBuffer CreateStreamRequest(const TableProperties& table) {
  zb::EphemeralStreamRequest request;
  FillCreate(table, request.mutable_create_stream());
  return ToByteBuffer(request.SerializeAsString());
}

grpc::ByteBuffer PersistentFirstRequest(const TableProperties& table,
                                        const std::string& stream_id) {
  zb::PersistentStreamRequest request;
  if (stream_id.empty()) {
    FillCreate(table, request.mutable_create_stream()->mutable_create_stream());
  } else {
    zb::ResumeIngestStreamRequest* resume = request.mutable_resume_stream();
    resume->set_stream_id(stream_id);
    zb::RecordType type = zb::JSON;
    std::string descriptor;
    SetRecordType(table, &type, &descriptor);
    resume->set_record_type(type);
    if (table.format == RecordFormat::kProto) resume->set_descriptor_proto(descriptor);
  }
  return ToByteBuffer(request.SerializeAsString());
}

absl::Status ParseResponse(grpc::ByteBuffer* buffer, Rpc rpc, ServerMessage* message) {
  grpc::ProtoBufferReader reader(buffer);
  if (rpc == Rpc::kPersistent) {
    return ParseAs<zb::PersistentStreamResponse>(
        [&](auto* r) { return r->ParseFromZeroCopyStream(&reader); }, "PersistentStreamResponse",
        message);
  }
  return ParseAs<zb::EphemeralStreamResponse>(
      [&](auto* r) { return r->ParseFromZeroCopyStream(&reader); }, "EphemeralStreamResponse",
      message);
}

absl::Status ParseResponseBytes(const std::string& bytes, Rpc rpc, ServerMessage* message) {
  if (rpc == Rpc::kPersistent) {
    return ParseAs<zb::PersistentStreamResponse>(
        [&](auto* r) { return r->ParseFromString(bytes); }, "PersistentStreamResponse", message);
  }
  return ParseAs<zb::EphemeralStreamResponse>(
      [&](auto* r) { return r->ParseFromString(bytes); }, "EphemeralStreamResponse", message);
}

}  // namespace nobus::client
