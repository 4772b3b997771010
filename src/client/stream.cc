// nobus::Stream: encodes the caller's records for the queue and forwards to StreamCore.
#include <cstring>
#include <limits>

#include "client/record_arena.h"
#include "client/stream_core.h"
#include "google/protobuf/message_lite.h"
#include "nobus/errors.h"
#include "nobus/stream.h"

namespace nobus {

using client::EncodedRecordSize;
using client::PutRecordHeader;

Stream::Stream(std::unique_ptr<client::StreamCore> core) : core_(std::move(core)) {}

Stream::~Stream() = default;

absl::StatusOr<int64_t> Stream::Ingest(std::string_view record, WhenFull mode) {
  return core_->Append(
      EncodedRecordSize(record.size()), record.size(), 1, false,
      [&](char* out) {
        out = PutRecordHeader(out, record.size());
        if (!record.empty()) std::memcpy(out, record.data(), record.size());
      },
      mode);
}

absl::StatusOr<int64_t> Stream::IngestMessage(const google::protobuf::MessageLite& message,
                                              WhenFull mode) {
  size_t size = message.ByteSizeLong();
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()))
    return MakeNonRetriable(absl::InvalidArgumentError("message larger than 2 GiB"));
  return core_->Append(
      EncodedRecordSize(size), size, 1, false,
      [&](char* out) {
        out = PutRecordHeader(out, size);
        message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out));
      },
      mode);
}

absl::StatusOr<int64_t> Stream::IngestBatchImpl(size_t count, const std::string_view* views,
                                                const std::string* strings, WhenFull mode) {
  if (count == 0) return MakeNonRetriable(absl::InvalidArgumentError("IngestBatch: empty batch"));
  if (count > std::numeric_limits<uint32_t>::max())
    return MakeNonRetriable(absl::InvalidArgumentError("IngestBatch: too many records"));
  auto record = [&](size_t i) {
    return views != nullptr ? views[i] : std::string_view(strings[i]);
  };
  size_t total = 0, payload = 0;
  for (size_t i = 0; i < count; ++i) {
    total += EncodedRecordSize(record(i).size());
    payload += record(i).size();
  }
  return core_->Append(
      total, payload, static_cast<uint32_t>(count), true,
      [&](char* out) {
        for (size_t i = 0; i < count; ++i) {
          std::string_view r = record(i);
          out = PutRecordHeader(out, r.size());
          if (!r.empty()) std::memcpy(out, r.data(), r.size());
          out += r.size();
        }
      },
      mode);
}

absl::StatusOr<int64_t> Stream::IngestBatch(std::span<const std::string_view> records,
                                            WhenFull mode) {
  return IngestBatchImpl(records.size(), records.data(), nullptr, mode);
}

absl::StatusOr<int64_t> Stream::IngestBatch(std::span<const std::string> records, WhenFull mode) {
  return IngestBatchImpl(records.size(), nullptr, records.data(), mode);
}

absl::Status Stream::WaitForOffset(int64_t offset) { return core_->WaitForOffset(offset); }
absl::Status Stream::Flush() { return core_->Flush(); }
absl::Status Stream::Close() { return core_->Close(); }
absl::StatusOr<int64_t> Stream::WaitForCommit(int64_t offset) {
  return core_->WaitForCommit(offset);
}

std::vector<std::string> Stream::GetUnackedRecords() const {
  std::vector<std::string> records;
  for (UnackedBatch& batch : core_->Unacked())
    for (std::string& record : batch.records) records.push_back(std::move(record));
  return records;
}

std::vector<UnackedBatch> Stream::GetUnackedBatches() const { return core_->Unacked(); }
absl::Status Stream::status() const { return core_->status(); }
StreamStats Stream::Stats() const { return core_->Stats(); }
std::string Stream::stream_id() const { return core_->stream_id(); }
bool Stream::persistent() const { return core_->persistent(); }
int64_t Stream::resume_watermark() const { return core_->resume_watermark(); }
const TableProperties& Stream::table() const { return core_->table(); }
const StreamOptions& Stream::options() const { return core_->options(); }

}  // namespace nobus
