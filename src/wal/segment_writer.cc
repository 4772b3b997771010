#include "wal/segment_writer.h"

#include <algorithm>

namespace nobus::wal {

namespace {

absl::Status ZeroFill(env::File* file, uint64_t size) {
  constexpr uint64_t kChunk = 1 << 20;
  const std::string zeros(std::min(kChunk, size), '\0');
  for (uint64_t off = 0; off < size; off += zeros.size()) {
    uint64_t n = std::min<uint64_t>(zeros.size(), size - off);
    NOBUS_RETURN_IF_ERROR(file->WriteAt(off, std::string_view(zeros.data(), n)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<env::File>> PrepareSegmentFile(env::FileSystem* fs,
                                                              const std::string& path,
                                                              uint64_t size_bytes, bool prezero) {
  NOBUS_ASSIGN_OR_RETURN(auto file, fs->Open(path, env::OpenMode::kTruncate));
  NOBUS_RETURN_IF_ERROR(file->Preallocate(size_bytes));
  if (prezero) {
    NOBUS_RETURN_IF_ERROR(ZeroFill(file.get(), size_bytes));
    NOBUS_RETURN_IF_ERROR(file->Sync());
  }
  return file;
}

SegmentWriter::SegmentWriter(env::FileSystem* fs, std::string dir, uint64_t segment_size_bytes,
                             bool prezero)
    : fs_(fs), dir_(std::move(dir)), segment_size_(segment_size_bytes), prezero_(prezero) {}

absl::Status SegmentWriter::Create(Lsn first_lsn) {
  const std::string path = env::JoinPath(dir_, SegmentFileName(first_lsn));
  NOBUS_ASSIGN_OR_RETURN(auto file, PrepareSegmentFile(fs_, path, segment_size_, prezero_));
  return Adopt(std::move(file), path, first_lsn);
}

absl::Status SegmentWriter::Adopt(std::unique_ptr<env::File> file, const std::string& prepared_path,
                                  Lsn first_lsn) {
  file_ = std::move(file);
  path_ = env::JoinPath(dir_, SegmentFileName(first_lsn));
  SegmentHeader header{first_lsn, prezero_ ? kFlagPrezeroed : 0};
  NOBUS_RETURN_IF_ERROR(file_->WriteAt(0, EncodeSegmentHeader(header)));
  NOBUS_RETURN_IF_ERROR(file_->Sync());
  offset_ = kSegmentHeaderSize;
  if (prepared_path == path_) return fs_->SyncDir(dir_);
  NOBUS_RETURN_IF_ERROR(fs_->Rename(prepared_path, path_));
  NOBUS_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  // Reopened under the new name, so that I/O errors name the segment, not the prepared file.
  NOBUS_RETURN_IF_ERROR(file_->Close());
  NOBUS_ASSIGN_OR_RETURN(file_, fs_->Open(path_, env::OpenMode::kReadWrite));
  return absl::OkStatus();
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

SegmentPreparer::SegmentPreparer(env::FileSystem* fs, const std::string& dir,
                                 uint64_t segment_size_bytes, bool prezero)
    : fs_(fs),
      path_(env::JoinPath(dir, kPreparedSegmentName)),
      segment_size_(segment_size_bytes),
      prezero_(prezero),
      result_(absl::FailedPreconditionError("no wal segment is being prepared")) {}

SegmentPreparer::~SegmentPreparer() {
  if (thread_.joinable()) thread_.join();
}

void SegmentPreparer::Start() {
  if (started_) return;
  started_ = true;
  thread_ =
      std::thread([this] { result_ = PrepareSegmentFile(fs_, path_, segment_size_, prezero_); });
}

absl::StatusOr<std::unique_ptr<env::File>> SegmentPreparer::Take() {
  if (thread_.joinable()) thread_.join();
  started_ = false;
  absl::StatusOr<std::unique_ptr<env::File>> out = std::move(result_);
  result_ = absl::FailedPreconditionError("no wal segment is being prepared");
  return out;
}

absl::Status SegmentPreparer::Discard() {
  const bool had_file = started_;
  absl::StatusOr<std::unique_ptr<env::File>> file = Take();
  if (!had_file) return absl::OkStatus();
  if (file.ok()) NOBUS_RETURN_IF_ERROR((*file)->Close());
  absl::Status st = fs_->Delete(path_);
  return absl::IsNotFound(st) ? absl::OkStatus() : st;
}

}  // namespace nobus::wal
