#include "client/unacked_queue.h"

#include <algorithm>

namespace nobus::client {

UnackedQueue::UnackedQueue(size_t chunk_bytes) : arena_(chunk_bytes) {}

UnackedQueue::~UnackedQueue() {
  for (QueuedRequest& request : queue_) request.span.chunk->Unref();
}

int64_t UnackedQueue::Append(size_t encoded_bytes, uint32_t records, bool batch, char** out) {
  RecordSpan span = arena_.Allocate(encoded_bytes);
  *out = span.chunk->data() + span.pos;
  queue_.push_back(QueuedRequest{span, records, batch});
  bytes_ += static_cast<int64_t>(encoded_bytes);
  return next_offset() - 1;
}

int64_t UnackedQueue::StartCall(bool logical_offsets) {
  int64_t resent = static_cast<int64_t>(sent_);
  sent_ = 0;
  inflight_.clear();
  first_inflight_physical_ = logical_offsets ? front_offset_ : 0;
  next_physical_ = first_inflight_physical_;
  return resent;
}

absl::StatusOr<AckResult> UnackedQueue::Resume(int64_t durable, bool adopt) {
  AckResult result;
  if (durable < -1) return absl::InternalError(Cat("the server resumed at offset ", durable));
  if (adopt && queue_.empty() && front_offset_ == 0) {
    front_offset_ = durable + 1;
  } else if (durable < durable_offset()) {
    return absl::DataLossError(
        Cat("the server reports the stream durable up to offset ", durable,
            " but had acknowledged up to ", durable_offset(),
            ": acknowledged records were lost on the server"));
  } else if (durable >= next_offset()) {
    return absl::FailedPreconditionError(
        Cat("the server reports the stream durable up to offset ", durable,
            " but this producer handed out offsets only up to ", next_offset() - 1,
            ": another producer wrote this stream"));
  } else {
    PopFront(static_cast<size_t>(durable - durable_offset()), &result);
  }
  first_inflight_physical_ = next_physical_ = front_offset_;
  result.durable_offset = durable_offset();
  return result;
}

bool UnackedQueue::TakeNext(bool coalesce, uint64_t max_bytes, WireMessage* out) {
  if (!HasUnsent()) return false;
  out->physical_offset = next_physical_;
  out->requests = 0;
  out->records = 0;
  out->payload_bytes = 0;
  out->runs.clear();
  while (sent_ < queue_.size()) {
    const QueuedRequest& request = queue_[sent_];
    if (out->requests > 0 && (!coalesce || out->payload_bytes + request.span.size > max_bytes))
      break;
    RecordSpan* last = out->runs.empty() ? nullptr : &out->runs.back();
    if (last != nullptr && last->chunk == request.span.chunk &&
        last->pos + last->size == request.span.pos) {
      last->size += request.span.size;
    } else {
      out->runs.push_back(request.span);
    }
    out->single_record = out->requests == 0 && !request.batch;
    ++out->requests;
    out->records += request.records;
    out->payload_bytes += request.span.size;
    ++sent_;
    if (!coalesce) break;
  }
  if (out->requests > 1) out->single_record = false;
  inflight_.push_back(front_offset_ + static_cast<int64_t>(sent_) - 1);
  ++next_physical_;
  return true;
}

absl::StatusOr<AckResult> UnackedQueue::Ack(int64_t physical_offset) {
  AckResult result;
  if (physical_offset >= next_physical_) {
    return absl::InternalError(Cat("the server acknowledged offset ", physical_offset,
                                   " but only offsets below ", next_physical_,
                                   " were sent on this call"));
  }
  if (physical_offset < first_inflight_physical_) {
    result.durable_offset = durable_offset();
    return result;
  }
  int64_t durable = -1;
  while (first_inflight_physical_ <= physical_offset) {
    durable = inflight_.front();
    inflight_.pop_front();
    ++first_inflight_physical_;
  }
  PopFront(static_cast<size_t>(durable - durable_offset()), &result);
  result.durable_offset = durable_offset();
  return result;
}

void UnackedQueue::PopFront(size_t count, AckResult* result) {
  for (size_t i = 0; i < count; ++i) {
    QueuedRequest& request = queue_.front();
    result->requests += 1;
    result->records += request.records;
    result->bytes += request.span.size;
    bytes_ -= request.span.size;
    request.span.chunk->Unref();
    queue_.pop_front();
  }
  front_offset_ += static_cast<int64_t>(count);
  sent_ -= std::min(sent_, count);
}

std::vector<UnackedQueue::Unacked> UnackedQueue::CopyUnacked() const {
  std::vector<Unacked> out;
  out.reserve(queue_.size());
  int64_t offset = front_offset_;
  for (const QueuedRequest& request : queue_) {
    absl::StatusOr<std::vector<std::string>> records =
        DecodeRecords(request.span.data(), request.span.size);
    out.push_back(Unacked{offset++, request.batch,
                          records.ok() ? *std::move(records) : std::vector<std::string>()});
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DecodeRecords(const char* data, size_t size) {
  std::vector<std::string> records;
  size_t pos = 0;
  while (pos < size) {
    if (static_cast<uint8_t>(data[pos]) != 0x0a)
      return absl::InvalidArgumentError(Cat("encoded records: bad tag at byte ", pos));
    ++pos;
    uint64_t length = 0;
    int shift = 0;
    while (true) {
      if (pos >= size || shift > 63)
        return absl::InvalidArgumentError("encoded records: truncated length");
      uint8_t byte = static_cast<uint8_t>(data[pos++]);
      length |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
      shift += 7;
    }
    if (length > size - pos)
      return absl::InvalidArgumentError("encoded records: record runs past the end");
    records.emplace_back(data + pos, length);
    pos += length;
  }
  return records;
}

}  // namespace nobus::client
