#include "server/stream_reactor.h"

#include <cstdio>
#include <random>

#include "common/logging.h"
#include "env/env.h"
#include "server/grpc_status.h"
#include "server/stream_registry.h"

namespace nobus::server {
namespace {

std::string NewUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);  // variant 10
  char out[37];
  std::snprintf(out, sizeof(out), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return out;
}

const char* RecordTypeName(zb::RecordType type) { return type == zb::JSON ? "JSON" : "PROTO"; }

}  // namespace

StreamReactor::StreamReactor(grpc::CallbackServerContext* call, ServerContext* server,
                             StreamRegistry* registry)
    : call_(call),
      server_(server),
      registry_(registry),
      core_(std::make_shared<StreamCore>(this, server->config().max_inflight_bytes_per_stream)) {
  server_->metrics().open_streams()->Add(1);
  registry_->Add(core_);
  // Every current SDK waits for the response headers before it sends create_stream.
  StartSendInitialMetadata();
  core_->Start();
}

void StreamReactor::IssueRead() { StartRead(&request_); }
void StreamReactor::IssueWrite(const zb::EphemeralStreamResponse* response) {
  StartWrite(response);
}
void StreamReactor::IssueFinish(grpc::Status status) { Finish(std::move(status)); }

void StreamReactor::OnReadDone(bool ok) {
  core_->ReadArrived();
  if (ok && core_->accepting()) {
    read_started_nanos_ = env::SystemClock()->MonotonicNanos();
    Handle(request_);
  }
  core_->ReadProcessed(ok);
}

void StreamReactor::OnWriteDone(bool ok) { core_->OnWriteDone(ok); }
void StreamReactor::OnCancel() { core_->OnCancel(); }

void StreamReactor::OnDone() {
  core_->Detach();
  registry_->Remove(core_.get());
  server_->metrics().open_streams()->Add(-1);
  grpc::Status status = core_->finish_status().value_or(grpc::Status::CANCELLED);
  server_->metrics().CountRequest("grpc", GrpcCodeName(status.error_code()));
  if (!stream_id_.empty()) {
    NOBUS_LOG_INFO(
        "stream closed table={} stream_id={} peer={} code={} acked_up_to={} message=\"{}\"",
        table_name_, stream_id_, call_->peer(), GrpcCodeName(status.error_code()),
        core_->acked_up_to(), status.error_message());
  }
  delete this;
}

std::string StreamReactor::Header(const char* key) const {
  const auto& md = call_->client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

void StreamReactor::Handle(const zb::EphemeralStreamRequest& request) {
  const int64_t limit = server_->config().max_message_bytes;
  const int64_t size = static_cast<int64_t>(request.ByteSizeLong());
  absl::Status status;
  if (size > limit) {
    status = absl::InvalidArgumentError(Cat("request message of ", size,
                                            " bytes exceeds the server's limit of ", limit,
                                            " bytes (max_message_bytes): send smaller batches"));
  } else if (request.has_create_stream()) {
    if (stream_) {
      status = absl::InvalidArgumentError(
          "create_stream may only be sent once, as the first "
          "message of a call");
    } else {
      HandleCreate(request.create_stream());
      return;
    }
  } else if (!stream_) {
    status = absl::InvalidArgumentError("expected create_stream as the first message");
  } else if (request.has_ingest_record()) {
    status = HandleRecord(request.ingest_record());
  } else if (request.has_ingest_record_batch()) {
    status = HandleBatch(request.ingest_record_batch());
  } else {
    status = absl::InvalidArgumentError(
        "request carries no payload (expected ingest_record or ingest_record_batch)");
  }
  if (!status.ok()) {
    NOBUS_LOG_WARN_LIMITED("stream failed table={} stream_id={} peer={} error=\"{}\"", table_name_,
                   stream_id_, call_->peer(), status.ToString());
    core_->Fail(ToGrpcStatus(status));
  }
}

void StreamReactor::HandleCreate(const zb::CreateIngestStreamRequest& request) {
  StreamHeaders headers;
  headers.authorization = Header("authorization");
  const auto& md = call_->client_metadata();
  auto it = md.find("x-databricks-zerobus-table-name");
  if (it != md.end()) headers.table_name = std::string(it->second.data(), it->second.size());
  absl::StatusOr<OpenedStream> opened = OpenStream(request, headers, *server_);
  if (!opened.ok()) {
    NOBUS_LOG_WARN_LIMITED("stream rejected table={} peer={} sdk=\"{}\" user_agent=\"{}\" error=\"{}\"",
                   request.table_name(), call_->peer(), Header("x-zerobus-sdk"),
                   Header("user-agent"), opened.status().ToString());
    core_->Fail(ToGrpcStatus(opened.status()));
    return;
  }
  registry_->SetCaller(core_.get(), opened->caller);
  stream_ = std::move(*opened);
  table_name_ = stream_->table->info().name.ToString();
  stream_id_ = NewUuid();
  records_total_ = server_->metrics().IngestRecords(table_name_);
  bytes_total_ = server_->metrics().IngestBytes(table_name_);
  zb::EphemeralStreamResponse response;
  response.mutable_create_stream_response()->set_stream_id(stream_id_);
  core_->MarkOpened();
  core_->Send(std::move(response));
  NOBUS_LOG_INFO(
      "stream opened table={} stream_id={} record_type={} peer={} sdk=\"{}\" "
      "user_agent=\"{}\"",
      table_name_, stream_id_, RecordTypeName(stream_->record_type), call_->peer(),
      Header("x-zerobus-sdk"), Header("user-agent"));
}

absl::Status StreamReactor::CheckOffset(bool has_offset, int64_t offset_id, const char* what) {
  if (!has_offset)
    return absl::InvalidArgumentError(
        Cat(what, ".offset_id is required (expected ", next_offset_, ")"));
  if (offset_id != next_offset_)
    return absl::InvalidArgumentError(Cat(what, ".offset_id out of order: expected ", next_offset_,
                                          ", got ", offset_id,
                                          " (offsets start at 0 on every call and grow by 1 "
                                          "per request)"));
  return absl::OkStatus();
}

absl::Status StreamReactor::HandleRecord(const zb::IngestRecordRequest& request) {
  NOBUS_RETURN_IF_ERROR(CheckOffset(request.has_offset_id(), request.offset_id(), "ingest_record"));
  const bool json = stream_->record_type == zb::JSON;
  switch (request.record_case()) {
    case zb::IngestRecordRequest::kJsonRecord:
    case zb::IngestRecordRequest::kProtoEncodedRecord: {
      bool is_json = request.record_case() == zb::IngestRecordRequest::kJsonRecord;
      if (is_json != json)
        return absl::InvalidArgumentError(
            Cat("ingest_record at offset ", request.offset_id(), " carries a ",
                is_json ? "json_record" : "proto_encoded_record",
                " but the stream's record_type is ", RecordTypeName(stream_->record_type)));
      const std::string& record = is_json ? request.json_record() : request.proto_encoded_record();
      return DecodeAndAppend(
          request.offset_id(), 1, [&](int) -> const std::string& { return record; }, false);
    }
    default:
      return absl::InvalidArgumentError(
          Cat("ingest_record at offset ", request.offset_id(), " carries no record"));
  }
}

absl::Status StreamReactor::HandleBatch(const zb::IngestRecordBatchRequest& request) {
  NOBUS_RETURN_IF_ERROR(
      CheckOffset(request.has_offset_id(), request.offset_id(), "ingest_record_batch"));
  const bool json = stream_->record_type == zb::JSON;
  if (request.batch_case() == zb::IngestRecordBatchRequest::BATCH_NOT_SET)
    return absl::InvalidArgumentError(
        Cat("ingest_record_batch at offset ", request.offset_id(), " carries no batch"));
  bool is_json = request.batch_case() == zb::IngestRecordBatchRequest::kJsonBatch;
  if (is_json != json)
    return absl::InvalidArgumentError(
        Cat("ingest_record_batch at offset ", request.offset_id(), " carries a ",
            is_json ? "json_batch" : "proto_encoded_batch", " but the stream's record_type is ",
            RecordTypeName(stream_->record_type)));
  const auto& records =
      is_json ? request.json_batch().records() : request.proto_encoded_batch().records();
  return DecodeAndAppend(
      request.offset_id(), records.size(),
      [&](int i) -> const std::string& { return records.Get(i); }, true);
}

absl::Status StreamReactor::DecodeAndAppend(int64_t offset, int count,
                                            const std::function<const std::string&(int)>& record,
                                            bool batch) {
  std::string blob;
  schema::RowBlobWriter writer(&blob);
  int64_t bytes = 0;
  for (int i = 0; i < count; ++i) {
    const std::string& r = record(i);
    absl::Status s = stream_->decoder->Decode(r, &writer);
    if (!s.ok())
      return absl::InvalidArgumentError(
          batch ? Cat("record ", i, " of the batch at offset ", offset, ": ", s.message())
                : Cat("record at offset ", offset, ": ", s.message()));
    bytes += static_cast<int64_t>(r.size());
  }
  ++next_offset_;
  core_->BeginRequest(offset, bytes);
  if (count == 0) {
    core_->CompleteRequest(offset, bytes, absl::OkStatus());
    return absl::OkStatus();
  }
  std::shared_ptr<StreamCore> core = core_;
  Counter* records_total = records_total_;
  Counter* bytes_total = bytes_total_;
  Histogram* latency = server_->metrics().ack_latency();
  const int64_t started = read_started_nanos_;
  absl::Status s = server_->ingest()->Append(
      *stream_->table, std::move(blob), count,
      [core, offset, bytes, count, records_total, bytes_total, latency,
       started](absl::Status durable) {
        if (durable.ok()) {
          records_total->Add(count);
          bytes_total->Add(bytes);
          latency->Observe((env::SystemClock()->MonotonicNanos() - started) * 1e-9);
        }
        core->CompleteRequest(offset, bytes, durable);
      });
  if (!s.ok()) {
    core_->AbortRequest(offset, bytes);
    return s;
  }
  return absl::OkStatus();
}

}  // namespace nobus::server
