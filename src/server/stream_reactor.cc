#include "server/stream_reactor.h"

#include "common/uuid.h"
#include "env/env.h"
#include "server/stream_registry.h"
#include "table/streams.h"

namespace nobus::server {
namespace {

// How long a resume waits for the fenced call's in-flight requests.
constexpr int64_t kFenceTimeoutMs = 30'000;

// StreamMessage -> the RPC's response message (both name their fields alike).
template <typename Response>
void Fill(const StreamMessage& m, Response* r) {
  r->Clear();
  switch (m.kind) {
    case StreamMessage::Kind::kCreated:
      r->mutable_create_stream_response()->set_stream_id(m.stream_id);
      break;
    case StreamMessage::Kind::kResumed:
      if constexpr (std::is_same_v<Response, zb::PersistentStreamResponse>) {
        auto* resumed = r->mutable_resume_stream_response();
        if (m.offset) resumed->set_last_committed_offset(*m.offset);
      }
      break;
    case StreamMessage::Kind::kAck:
      r->mutable_ingest_record_response()->set_durability_ack_up_to_offset(m.offset.value_or(-1));
      break;
    case StreamMessage::Kind::kCommitted:
      if constexpr (std::is_same_v<Response, zb::PersistentStreamResponse>) {
        r->mutable_commit_ack()->set_committed_up_to_offset(m.offset.value_or(-1));
        r->mutable_commit_ack()->set_table_version(m.table_version);
      }
      break;
    case StreamMessage::Kind::kClose: {
      auto* duration = r->mutable_close_stream_signal()->mutable_duration();
      duration->set_seconds(m.duration_ms / 1000);
      duration->set_nanos(static_cast<int32_t>(m.duration_ms % 1000) * 1000000);
      break;
    }
  }
}

// The records of an open stream; InvalidArgument for anything else after the first message.
absl::Status HandleIngest(StreamSession& session, bool has_record, const zb::IngestRecordRequest& r,
                          bool has_batch, const zb::IngestRecordBatchRequest& b) {
  if (!session.opened()) return absl::InvalidArgumentError("expected create_stream as the first message");
  if (has_record) return session.HandleRecord(r);
  if (has_batch) return session.HandleBatch(b);
  return absl::InvalidArgumentError(
      "request carries no payload (expected ingest_record or ingest_record_batch)");
}

}  // namespace

void ToResponse(const StreamMessage& m, zb::EphemeralStreamResponse* r) { Fill(m, r); }
void ToResponse(const StreamMessage& m, zb::PersistentStreamResponse* r) { Fill(m, r); }

// ---- EphemeralStream

EphemeralReactor::EphemeralReactor(grpc::CallbackServerContext* call, ServerContext* server,
                                   StreamRegistry* registry)
    : StreamReactor(call, server, registry) {
  Begin();
}

void EphemeralReactor::Handle() {
  absl::Status status = session_.CheckSize(request_);
  if (status.ok() && request_.has_create_stream()) {
    if (!session_.opened()) return HandleCreate(request_.create_stream());
    status = absl::InvalidArgumentError(
        "create_stream may only be sent once, as the first message of a call");
  }
  if (status.ok())
    status = HandleIngest(session_, request_.has_ingest_record(), request_.ingest_record(),
                          request_.has_ingest_record_batch(), request_.ingest_record_batch());
  if (!status.ok()) session_.Fail(status);
}

void EphemeralReactor::HandleCreate(const zb::CreateIngestStreamRequest& request) {
  absl::StatusOr<OpenedStream> opened = OpenStream(request, session_.Headers(), session_.server());
  if (!opened.ok()) return session_.Refuse(opened.status(), request.table_name());
  std::string id = NewUuid();
  session_.Open(std::move(*opened), id, std::nullopt);
  session_.core().Send(StreamMessage{.kind = StreamMessage::Kind::kCreated, .stream_id = id});
}

// ---- PersistentStream

PersistentReactor::PersistentReactor(grpc::CallbackServerContext* call, ServerContext* server,
                                     StreamRegistry* registry)
    : StreamReactor(call, server, registry) {
  Begin();
}

void PersistentReactor::Handle() {
  absl::Status status = session_.CheckSize(request_);
  const bool first = request_.has_create_stream() || request_.has_resume_stream();
  if (status.ok() && first) {
    if (!session_.opened()) {
      if (request_.has_create_stream())
        return HandleCreate(request_.create_stream().create_stream());
      return HandleResume(request_.resume_stream());
    }
    status = absl::InvalidArgumentError(
        "create_stream or resume_stream may only be sent once, as the first message of a call");
  }
  if (status.ok() && !session_.opened())
    status = absl::InvalidArgumentError(
        "expected create_stream or resume_stream as the first message");
  if (status.ok())
    status = HandleIngest(session_, request_.has_ingest_record(), request_.ingest_record(),
                          request_.has_ingest_record_batch(), request_.ingest_record_batch());
  if (!status.ok()) session_.Fail(status);
}

absl::StatusOr<std::optional<int64_t>> PersistentReactor::Claim(const OpenedStream& stream,
                                                                const std::string& id,
                                                                bool resume) {
  NOBUS_RETURN_IF_ERROR(session_.registry().Claim(
      id, session_.shared_core(),
      Cat("persistent stream '", id,
          "' was resumed by another call: this call no longer owns it (fenced, like a Kafka "
          "producer epoch); only one producer may write a stream at a time"),
      kFenceTimeoutMs));
  if (!resume) return std::optional<int64_t>();
  return session_.server().ingest()->ResumeStream(*stream.table, id);
}

void PersistentReactor::HandleCreate(const zb::CreateIngestStreamRequest& request) {
  absl::StatusOr<OpenedStream> opened = OpenStream(request, session_.Headers(), session_.server());
  if (!opened.ok()) return session_.Refuse(opened.status(), request.table_name());
  absl::StatusOr<std::string> id = session_.server().ingest()->CreateStream(*opened->table);
  if (!id.ok()) return session_.Refuse(id.status(), request.table_name());
  absl::Status claimed = Claim(*opened, *id, /*resume=*/false).status();
  if (!claimed.ok()) return session_.Refuse(claimed, request.table_name());
  if (session_.Header("x-nobus-commit-acks") == "true") session_.core().EnableCommitAcks();
  session_.Open(std::move(*opened), *id, /*persistent=*/-1);
  session_.core().Send(StreamMessage{.kind = StreamMessage::Kind::kCreated, .stream_id = *id});
}

void PersistentReactor::HandleResume(const zb::ResumeIngestStreamRequest& request) {
  if (!request.has_stream_id() || request.stream_id().empty())
    return session_.Refuse(absl::InvalidArgumentError(
                               "resume_stream.stream_id is required (the stream_id a "
                               "create_stream of this table returned)"),
                           "");
  const std::string& id = request.stream_id();
  absl::StatusOr<table::ParsedStreamId> parsed = table::ParseStreamId(id);
  if (!parsed.ok()) return session_.Refuse(parsed.status(), "");
  zb::CreateIngestStreamRequest create;
  create.set_table_name(parsed->table);
  if (request.has_descriptor_proto()) create.set_descriptor_proto(request.descriptor_proto());
  if (request.has_record_type()) create.set_record_type(request.record_type());
  absl::StatusOr<OpenedStream> opened = OpenStream(create, session_.Headers(), session_.server());
  if (!opened.ok()) return session_.Refuse(opened.status(), parsed->table);
  absl::StatusOr<std::optional<int64_t>> durable = Claim(*opened, id, /*resume=*/true);
  if (durable.ok()) {  // a failover's gap that is still open: refused until it fills
    absl::Status gap =
        session_.registry().CheckGap(id, *durable, env::SystemClock()->NowMillis());
    if (!gap.ok()) durable = gap;
  }
  if (!durable.ok()) return session_.Refuse(durable.status(), parsed->table);
  const bool commit_acks = session_.Header("x-nobus-commit-acks") == "true";
  std::optional<table::IngestService::Committed> committed;
  if (commit_acks) {
    session_.core().EnableCommitAcks();
    committed = session_.server().ingest()->CommittedOffset(*opened->table, id);
  }
  session_.Open(std::move(*opened), id, durable->value_or(-1));
  session_.core().Send(StreamMessage{.kind = StreamMessage::Kind::kResumed, .offset = *durable});
  // What earlier calls got committed: a resumed call may wait for it without sending anything.
  if (committed) session_.core().Committed(committed->offset, committed->version);
}

}  // namespace nobus::server
