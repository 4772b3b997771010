// The file end of the WAL writer: creates segment files (preallocated, optionally pre-zeroed),
// writes framed records at the segment's end and fdatasyncs. Internal to src/wal; driven only by
// the Wal's writer thread. Lifecycle: Create(first_lsn) or Adopt(prepared file), then Write/Sync
// any number of times, then Close (or Create/Adopt again to roll, after Close). Not thread-safe;
// owns its File.
// Durability: Write returns once the bytes are written (OS cache); Sync once they are synced.
// Create and Adopt return once the header and the directory entry are synced.
//
// SegmentPreparer makes rolls cheap: it creates the next segment file ahead of time on a
// background thread (preallocated, and zero-filled and synced when pre-zeroing is on) under a
// name recovery ignores (kPreparedSegmentName); Adopt later gives it a header and its real name.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "env/env.h"
#include "wal/format.h"

namespace nobus::wal {

// Creates (or truncates) `path`, preallocates `size_bytes` and, with `prezero`, writes zeros over
// them and syncs the file. The file has no header yet.
absl::StatusOr<std::unique_ptr<env::File>> PrepareSegmentFile(env::FileSystem* fs,
                                                              const std::string& path,
                                                              uint64_t size_bytes, bool prezero);

class SegmentWriter {
 public:
  SegmentWriter(env::FileSystem* fs, std::string dir, uint64_t segment_size_bytes, bool prezero);
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Prepares the segment file for `first_lsn` in place, then writes its header as Adopt does.
  [[nodiscard]] absl::Status Create(Lsn first_lsn);
  // Takes over `file`, made by PrepareSegmentFile at `prepared_path` with this writer's size and
  // pre-zero setting: writes and syncs the header, renames the file to the segment name of
  // `first_lsn` and syncs the directory. A crash in between leaves either a file recovery
  // ignores or a segment with a valid header and no records, which recovery treats as empty.
  [[nodiscard]] absl::Status Adopt(std::unique_ptr<env::File> file,
                                   const std::string& prepared_path, Lsn first_lsn);
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
  env::FileSystem* fs_;
  std::string dir_;
  uint64_t segment_size_;
  bool prezero_;
  std::unique_ptr<env::File> file_;
  std::string path_;
  uint64_t offset_ = 0;
};

// Prepares one segment file at a time in the background. Driven by one thread (the Wal's writer);
// the background thread only touches the prepared file. Owns the thread and, until Take, the file.
class SegmentPreparer {
 public:
  SegmentPreparer(env::FileSystem* fs, const std::string& dir, uint64_t segment_size_bytes,
                  bool prezero);
  ~SegmentPreparer();  // waits for the background work
  SegmentPreparer(const SegmentPreparer&) = delete;
  SegmentPreparer& operator=(const SegmentPreparer&) = delete;

  // Starts preparing a file unless one is prepared or being prepared.
  void Start();
  // Waits for the file started by Start and hands it over; the error if preparing it failed,
  // FailedPrecondition if Start was not called.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<env::File>> Take();
  // Waits for the background work, then closes and deletes the prepared file, if any.
  [[nodiscard]] absl::Status Discard();
  const std::string& path() const { return path_; }

 private:
  env::FileSystem* const fs_;
  const std::string path_;
  const uint64_t segment_size_;
  const bool prezero_;
  bool started_ = false;
  std::thread thread_;
  absl::StatusOr<std::unique_ptr<env::File>> result_;  // written by thread_ until joined
};

}  // namespace nobus::wal
