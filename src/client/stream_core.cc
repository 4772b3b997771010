// StreamCore: the application-facing half (append, wait, close, introspection) and validation.
#include "client/stream_core.h"

#include <algorithm>
#include <random>

#include "nobus/errors.h"

namespace nobus::client {
namespace {

absl::Status BadOption(std::string_view what) {
  return MakeNonRetriable(absl::InvalidArgumentError(Cat("stream options: ", what)));
}

}  // namespace

absl::Status ValidateStreamConfig(const TableProperties& table, const StreamOptions& options,
                                  const StreamMode& mode) {
  if (options.commit_acks && mode.rpc != Rpc::kPersistent)
    return BadOption("commit_acks needs a persistent stream (Client::CreatePersistentStream or "
                     "ResumePersistentStream)");
  if (table.table_name.empty())
    return BadOption("table_name is empty; use \"catalog.schema.table\"");
  if (table.format == RecordFormat::kProto && table.descriptor_proto.empty())
    return BadOption("a protobuf stream needs a descriptor: build the TableProperties with "
                     "TableProperties::Proto(name, Message::descriptor())");
  if (options.max_inflight_requests < 1) return BadOption("max_inflight_requests must be >= 1");
  if (options.max_message_bytes < 1) return BadOption("max_message_bytes must be >= 1");
  if (options.max_inflight_bytes < options.max_message_bytes)
    return BadOption(Cat("max_inflight_bytes (", options.max_inflight_bytes,
                         ") must be at least max_message_bytes (", options.max_message_bytes,
                         "), or the largest record could never be queued"));
  if (options.max_wire_message_bytes < 1) return BadOption("max_wire_message_bytes must be >= 1");
  if (options.recovery_timeout_ms < 1 || options.server_lack_of_ack_timeout_ms < 1 ||
      options.flush_timeout_ms < 1)
    return BadOption("recovery_timeout_ms, server_lack_of_ack_timeout_ms and flush_timeout_ms "
                     "must be >= 1");
  if (options.recovery_backoff_ms < 0 || options.recovery_retries < 0 ||
      options.stream_paused_max_wait_time_ms < 0 || options.recovery_backoff_multiplier < 1.0)
    return BadOption("recovery_backoff_ms, recovery_retries and stream_paused_max_wait_time_ms "
                     "must be >= 0 and recovery_backoff_multiplier >= 1");
  return absl::OkStatus();
}

StreamCore::StreamCore(ChannelFactory channels, TableProperties table, StreamOptions options,
                       std::string sdk_id, StreamMode mode)
    : channels_(std::move(channels)),
      table_(std::move(table)),
      options_(std::move(options)),
      sdk_id_(std::move(sdk_id)),
      rpc_(mode.rpc),
      retry_(options_, std::random_device{}()),
      stream_id_(std::move(mode.resume_id)) {}

StreamCore::~StreamCore() {
  {
    Lock lock(mu_);
    shutdown_ = true;
  }
  supervisor_cv_.notify_all();
  progress_cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
}

absl::Status StreamCore::Open() {
  supervisor_ = std::thread([this] { Supervise(); });
  Lock lock(mu_);
  progress_cv_.wait(lock, [&] { return opened_once_ || !failure_.ok(); });
  return failure_;
}

absl::Status StreamCore::AcceptingLocked() const {
  if (!failure_.ok()) return failure_;
  if (closing_ || closed_ || shutdown_)
    return MakeNonRetriable(absl::FailedPreconditionError(
        Cat("stream to ", table_.table_name, " is closed; create a new stream")));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> StreamCore::Append(size_t encoded_bytes, size_t payload_bytes,
                                           uint32_t records, bool batch, Encoder encode,
                                           WhenFull mode) {
  // The framing adds at most kMaxFrameHeaderBytes; what fits here fits the server's limit.
  if (static_cast<int64_t>(encoded_bytes + kMaxFrameHeaderBytes) > options_.max_message_bytes) {
    return MakeNonRetriable(absl::InvalidArgumentError(
        Cat(batch ? "batch" : "record", " of ", encoded_bytes,
            " bytes (encoded) does not fit max_message_bytes (", options_.max_message_bytes,
            "); split it")));
  }
  Lock lock(mu_);
  while (true) {
    NOBUS_RETURN_IF_ERROR(AcceptingLocked());
    bool room = static_cast<int64_t>(queue_.size()) < options_.max_inflight_requests &&
                queue_.bytes() + static_cast<int64_t>(encoded_bytes) <= options_.max_inflight_bytes;
    if (room) break;
    if (mode == WhenFull::kFailFast) {
      return absl::ResourceExhaustedError(
          Cat("in-flight window full (", queue_.size(), " requests, ", queue_.bytes(),
              " bytes unacknowledged; limits ", options_.max_inflight_requests, " / ",
              options_.max_inflight_bytes, "); retry after acknowledgements arrive"));
    }
    progress_cv_.wait(lock);
  }
  char* out = nullptr;
  int64_t offset = queue_.Append(encoded_bytes, records, batch, &out);
  encode(out);
  stats_.requests_ingested += 1;
  stats_.records_ingested += records;
  stats_.bytes_ingested += static_cast<int64_t>(payload_bytes);
  stats_.max_inflight_bytes_seen = std::max(stats_.max_inflight_bytes_seen, queue_.bytes());
  KickWriterLocked(lock);
  return offset;
}

absl::Status StreamCore::WaitDurableLocked(Lock& lock, int64_t offset) {
  Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(options_.flush_timeout_ms);
  while (queue_.durable_offset() < offset) {
    if (!failure_.ok()) return failure_;
    if (closed_ || shutdown_)
      return MakeNonRetriable(absl::FailedPreconditionError("stream is closed"));
    if (progress_cv_.wait_until(lock, deadline) == std::cv_status::timeout &&
        queue_.durable_offset() < offset) {
      return absl::DeadlineExceededError(
          Cat("offset ", offset, " not acknowledged within flush_timeout_ms (",
              options_.flush_timeout_ms, "); durable up to ", queue_.durable_offset(), ", ",
              queue_.size(), " requests unacknowledged"));
    }
  }
  return absl::OkStatus();
}

absl::Status StreamCore::WaitForOffset(int64_t offset) {
  Lock lock(mu_);
  if (offset < 0 || offset >= queue_.next_offset()) {
    return MakeNonRetriable(absl::InvalidArgumentError(
        Cat("offset ", offset, " was not handed out by this stream (next offset is ",
            queue_.next_offset(), ")")));
  }
  return WaitDurableLocked(lock, offset);
}

absl::Status StreamCore::Flush() {
  Lock lock(mu_);
  return WaitDurableLocked(lock, queue_.next_offset() - 1);
}

absl::Status StreamCore::Close() {
  Lock lock(mu_);
  if (closed_) return absl::OkStatus();
  if (!failure_.ok()) return failure_;
  if (!closing_) {
    closing_ = true;
    progress_cv_.notify_all();  // blocked Ingest calls now fail
  }
  NOBUS_RETURN_IF_ERROR(WaitDurableLocked(lock, queue_.next_offset() - 1));
  supervisor_cv_.notify_all();
  progress_cv_.wait(lock, [&] { return closed_ || !failure_.ok() || shutdown_; });
  if (closed_) return absl::OkStatus();
  return failure_.ok() ? absl::CancelledError("stream destroyed while closing") : failure_;
}

std::vector<UnackedBatch> StreamCore::Unacked() const {
  std::vector<UnackedQueue::Unacked> copies;
  {
    Lock lock(mu_);
    copies = queue_.CopyUnacked();
  }
  std::vector<UnackedBatch> out;
  out.reserve(copies.size());
  for (UnackedQueue::Unacked& c : copies)
    out.push_back(UnackedBatch{c.offset, c.batch, std::move(c.records)});
  return out;
}

absl::Status StreamCore::status() const {
  Lock lock(mu_);
  if (!failure_.ok()) return failure_;
  if (closed_) return MakeNonRetriable(absl::FailedPreconditionError("stream is closed"));
  return absl::OkStatus();
}

StreamStats StreamCore::Stats() const {
  Lock lock(mu_);
  StreamStats s = stats_;
  s.durable_offset = queue_.durable_offset();
  s.inflight_requests = static_cast<int64_t>(queue_.size());
  s.inflight_bytes = queue_.bytes();
  s.committed_offset = committed_offset_;
  return s;
}

std::string StreamCore::stream_id() const {
  Lock lock(mu_);
  return stream_id_;
}

}  // namespace nobus::client
