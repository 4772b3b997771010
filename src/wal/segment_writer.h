// The file end of the WAL writer: creates segment files (preallocated, optionally pre-zeroed),
// writes framed records at the segment's end and fdatasyncs. Internal to src/wal; driven only by
// the Wal's writer thread. Lifecycle: Create(first_lsn), then Write/Sync any number of times, then
// Close (or Create again to roll, after Close). Not thread-safe; owns its File.
// Durability: Write returns once the bytes are written (OS cache); Sync once they are synced.
// Create returns once the header and the directory entry are synced.
#pragma once

#include <memory>
#include <string>

#include "env/env.h"
#include "wal/format.h"

namespace nobus::wal {

class SegmentWriter {
 public:
  SegmentWriter(env::FileSystem* fs, std::string dir, uint64_t segment_size_bytes, bool prezero);
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  [[nodiscard]] absl::Status Create(Lsn first_lsn);
  [[nodiscard]] absl::Status Write(std::string_view data);
  [[nodiscard]] absl::Status Sync();
  [[nodiscard]] absl::Status Close();

  // True if a record of `n` bytes, written after `pending` bytes not yet passed to Write, fits in
  // the segment's configured size, or if it would be the segment's first record (a record larger
  // than a segment gets a segment of its own).
  bool Fits(uint64_t pending, uint64_t n) const;
  bool is_open() const { return file_ != nullptr; }
  uint64_t offset() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  absl::Status ZeroFill();

  env::FileSystem* fs_;
  std::string dir_;
  uint64_t segment_size_;
  bool prezero_;
  std::unique_ptr<env::File> file_;
  std::string path_;
  uint64_t offset_ = 0;
};

}  // namespace nobus::wal
