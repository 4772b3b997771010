#include "server/stream_session.h"

#include "common/logging.h"
#include "env/env.h"
#include "server/grpc_status.h"
#include "server/stream_registry.h"

namespace nobus::server {
namespace {

const char* RecordTypeName(zb::RecordType type) { return type == zb::JSON ? "JSON" : "PROTO"; }

}  // namespace

StreamSession::StreamSession(grpc::CallbackServerContext* call, ServerContext* server,
                             StreamRegistry* registry, StreamOps* ops)
    : call_(call),
      server_(server),
      registry_(registry),
      core_(std::make_shared<StreamCore>(ops, server->config().max_inflight_bytes_per_stream)) {
  server_->metrics().open_streams()->Add(1);
  registry_->Add(core_);
}

std::string StreamSession::Header(const char* key) const {
  const auto& md = call_->client_metadata();
  auto it = md.find(key);
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

StreamHeaders StreamSession::Headers() const {
  StreamHeaders headers;
  headers.authorization = Header("authorization");
  const auto& md = call_->client_metadata();
  auto it = md.find("x-databricks-zerobus-table-name");
  if (it != md.end()) headers.table_name = std::string(it->second.data(), it->second.size());
  return headers;
}

absl::Status StreamSession::CheckSize(const google::protobuf::Message& request) const {
  const int64_t limit = server_->config().max_message_bytes;
  const int64_t size = static_cast<int64_t>(request.ByteSizeLong());
  if (size <= limit) return absl::OkStatus();
  return absl::InvalidArgumentError(Cat("request message of ", size,
                                        " bytes exceeds the server's limit of ", limit,
                                        " bytes (max_message_bytes): send smaller batches"));
}

void StreamSession::Open(OpenedStream stream, std::string stream_id,
                         std::optional<int64_t> persistent) {
  registry_->SetCaller(core_.get(), stream.caller);
  stream_ = std::move(stream);
  table_name_ = stream_->table->info().name.ToString();
  stream_id_ = std::move(stream_id);
  records_total_ = server_->metrics().IngestRecords(table_name_);
  bytes_total_ = server_->metrics().IngestBytes(table_name_);
  if (persistent) {
    persistent_ = true;
    next_offset_ = *persistent + 1;
    duplicates_total_ = server_->metrics().DuplicateRequests(table_name_);
    core_->StartAt(*persistent);
  }
  core_->MarkOpened();
  log_label_ = std::make_shared<const std::string>(
      Cat("table=", table_name_, " stream_id=", stream_id_, " peer=", call_->peer()));
  NOBUS_LOG_INFO(
      "stream opened table={} stream_id={} kind={} record_type={} next_offset={} peer={} "
      "sdk=\"{}\" user_agent=\"{}\"",
      table_name_, stream_id_, persistent_ ? "persistent" : "ephemeral",
      RecordTypeName(stream_->record_type), next_offset_, call_->peer(), Header("x-zerobus-sdk"),
      Header("user-agent"));
}

void StreamSession::Refuse(const absl::Status& status, const std::string& table) {
  NOBUS_LOG_WARN_LIMITED("stream rejected table={} peer={} sdk=\"{}\" user_agent=\"{}\" error=\"{}\"",
                         table, call_->peer(), Header("x-zerobus-sdk"), Header("user-agent"),
                         status.ToString());
  core_->Fail(ToGrpcStatus(status));
}

void StreamSession::Fail(const absl::Status& status) {
  NOBUS_LOG_WARN_LIMITED("stream failed {} error=\"{}\"",
                         log_label_ ? *log_label_ : Cat("peer=", call_->peer()), status.ToString());
  core_->Fail(ToGrpcStatus(status));
}

void StreamSession::OnRead(bool ok, const std::function<void()>& handle) {
  core_->ReadArrived();
  if (ok && core_->accepting()) {
    read_started_nanos_ = env::SystemClock()->MonotonicNanos();
    handle();
  }
  core_->ReadProcessed(ok);
}

void StreamSession::Done() {
  core_->Detach();
  registry_->Remove(core_.get());
  if (persistent_) registry_->Release(stream_id_, core_.get());
  server_->metrics().open_streams()->Add(-1);
  grpc::Status status = core_->finish_status().value_or(grpc::Status::CANCELLED);
  server_->metrics().CountRequest("grpc", GrpcCodeName(status.error_code()));
  if (!stream_id_.empty()) {
    NOBUS_LOG_INFO(
        "stream closed table={} stream_id={} peer={} code={} acked_up_to={} message=\"{}\"",
        table_name_, stream_id_, call_->peer(), GrpcCodeName(status.error_code()),
        core_->acked_up_to(), status.error_message());
  }
}

absl::StatusOr<bool> StreamSession::CheckOffset(bool has_offset, int64_t offset_id,
                                                const char* what) {
  if (!has_offset)
    return absl::InvalidArgumentError(
        Cat(what, ".offset_id is required (expected ", next_offset_, ")"));
  if (offset_id == next_offset_) return true;
  if (persistent_ && offset_id >= 0 && offset_id < next_offset_) {
    duplicates_total_->Add();
    core_->Duplicate(offset_id);
    return false;
  }
  if (persistent_) {
    std::string gap = Cat(what, ".offset_id ", offset_id,
                          " leaves a gap: the next offset of persistent stream '", stream_id_,
                          "' is ", next_offset_);
    // After a failover the requests in between may be acknowledged and waiting in the old node's
    // WAL: retriable, the resume answers more once that node is back and has committed them.
    if (server_->ingest()->OtherNodesMayWrite(*stream_->table)) {
      registry_->NoteGap(stream_id_, next_offset_ - 1, env::SystemClock()->NowMillis());
      return absl::UnavailableError(Cat(
          gap, " on this node; other nodes may write this table (shared --table-root), and the "
               "requests in between may wait in another node's write-ahead log until it is back: "
               "resume later"));
    }
    return absl::InvalidArgumentError(
        Cat(gap, " (offsets continue across connections; a resume returns the last durable one)"));
  }
  return absl::InvalidArgumentError(Cat(what, ".offset_id out of order: expected ", next_offset_,
                                        ", got ", offset_id,
                                        " (offsets start at 0 on every call and grow by 1 "
                                        "per request)"));
}

absl::Status StreamSession::HandleRecord(const zb::IngestRecordRequest& request) {
  NOBUS_ASSIGN_OR_RETURN(bool fresh,
                         CheckOffset(request.has_offset_id(), request.offset_id(), "ingest_record"));
  if (!fresh) return absl::OkStatus();
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

absl::Status StreamSession::HandleBatch(const zb::IngestRecordBatchRequest& request) {
  NOBUS_ASSIGN_OR_RETURN(bool fresh, CheckOffset(request.has_offset_id(), request.offset_id(),
                                                 "ingest_record_batch"));
  if (!fresh) return absl::OkStatus();
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
  if (persistent_ && records.empty())
    return absl::InvalidArgumentError(
        Cat("ingest_record_batch at offset ", request.offset_id(),
            " is empty: on a persistent stream every offset must carry records (an empty request "
            "would leave nothing durable to resume from)"));
  return DecodeAndAppend(
      request.offset_id(), records.size(),
      [&](int i) -> const std::string& { return records.Get(i); }, true);
}

absl::Status StreamSession::DecodeAndAppend(int64_t offset, int count,
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
  table::StreamMark mark;
  if (persistent_) mark = table::StreamMark{stream_id_, offset};
  // While the node's buffers are full the append waits in its admission queue, and this stream
  // reads nothing more until it is admitted: no gRPC thread waits for room.
  absl::StatusOr<table::Admission> admission = server_->ingest()->AppendOrQueue(
      *stream_->table, std::move(blob), count,
      [core, offset, bytes, count, records_total, bytes_total, latency,
       started](absl::StatusOr<wal::Lsn> durable) {
        if (durable.ok()) {
          records_total->Add(count);
          bytes_total->Add(bytes);
          latency->Observe((env::SystemClock()->MonotonicNanos() - started) * 1e-9);
        }
        core->CompleteRequest(offset, bytes, durable.status());
      },
      [core, offset, bytes, label = log_label_](absl::Status admitted) {
        if (!admitted.ok()) {
          NOBUS_LOG_WARN_LIMITED("stream failed {} error=\"{}\"", *label, admitted.ToString());
          core->AbortRequest(offset, bytes);
          core->Fail(ToGrpcStatus(admitted));
        }
        core->Admitted(offset);
      },
      std::move(mark));
  if (!admission.ok()) {
    core_->AbortRequest(offset, bytes);
    return admission.status();
  }
  if (*admission == table::Admission::kQueued) core_->AwaitAdmission(offset);
  return absl::OkStatus();
}

}  // namespace nobus::server
