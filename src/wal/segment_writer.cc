#include "wal/segment_writer.h"

#include <algorithm>

namespace nobus::wal {

SegmentWriter::SegmentWriter(env::FileSystem* fs, std::string dir, uint64_t segment_size_bytes,
                             bool prezero)
    : fs_(fs), dir_(std::move(dir)), segment_size_(segment_size_bytes), prezero_(prezero) {}

absl::Status SegmentWriter::ZeroFill() {
  constexpr uint64_t kChunk = 1 << 20;
  const std::string zeros(std::min(kChunk, segment_size_), '\0');
  for (uint64_t off = 0; off < segment_size_; off += zeros.size()) {
    uint64_t n = std::min<uint64_t>(zeros.size(), segment_size_ - off);
    NOBUS_RETURN_IF_ERROR(file_->WriteAt(off, std::string_view(zeros.data(), n)));
  }
  return absl::OkStatus();
}

absl::Status SegmentWriter::Create(Lsn first_lsn) {
  path_ = env::JoinPath(dir_, SegmentFileName(first_lsn));
  NOBUS_ASSIGN_OR_RETURN(file_, fs_->Open(path_, env::OpenMode::kTruncate));
  NOBUS_RETURN_IF_ERROR(file_->Preallocate(segment_size_));
  if (prezero_) NOBUS_RETURN_IF_ERROR(ZeroFill());
  SegmentHeader header{first_lsn, prezero_ ? kFlagPrezeroed : 0};
  NOBUS_RETURN_IF_ERROR(file_->WriteAt(0, EncodeSegmentHeader(header)));
  NOBUS_RETURN_IF_ERROR(file_->Sync());
  NOBUS_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  offset_ = kSegmentHeaderSize;
  return absl::OkStatus();
}

absl::Status SegmentWriter::Write(std::string_view data) {
  NOBUS_RETURN_IF_ERROR(file_->WriteAt(offset_, data));
  offset_ += data.size();
  return absl::OkStatus();
}

absl::Status SegmentWriter::Sync() { return file_->Sync(); }

absl::Status SegmentWriter::Close() {
  if (file_ == nullptr) return absl::OkStatus();
  absl::Status st = file_->Close();
  file_.reset();
  return st;
}

bool SegmentWriter::Fits(uint64_t pending, uint64_t n) const {
  return offset_ + pending == kSegmentHeaderSize || offset_ + pending + n <= segment_size_;
}

}  // namespace nobus::wal
