// A fault-injecting FileSystem for tests: wraps another FileSystem (usually MemFileSystem) and
// makes chosen writes or syncs fail, reports ENOSPC, tears a write (only a prefix reaches the
// file), stalls syncs until released, and forwards SimulatePowerLoss to a wrapped MemFileSystem.
// Writes are File::Append and File::WriteAt, counted across all files from the moment a fault is
// armed. Thread-safe. Does not own the wrapped FileSystem, which must outlive it and every File
// it opened.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

#include "env/env.h"
#include "env/forwarding_file_system.h"

namespace nobus::env {

class MemFileSystem;

class FaultFileSystem final : public ForwardingFileSystem {
 public:
  explicit FaultFileSystem(FileSystem* base);
  ~FaultFileSystem() override;

  // The n-th write from now (n >= 1) fails with `status` and writes nothing.
  void FailNthWrite(int n, absl::Status status);
  // The n-th sync from now fails with `status`.
  void FailNthSync(int n, absl::Status status);
  // The n-th write from now writes only its first `keep_bytes` bytes and fails (Unavailable),
  // as if the process died in the middle of it.
  void TearNthWrite(int n, size_t keep_bytes);
  // While on, every write and Preallocate fails with ResourceExhausted ("No space left on
  // device") and writes nothing.
  void SetNoSpace(bool on);
  // While `status` is not OK, every sync fails with it (a failing disk); OkStatus clears it.
  void SetFailSyncs(absl::Status status);
  // Reports `space` from GetDiskSpace instead of the wrapped FileSystem's (nullopt: forward).
  void SetDiskSpace(std::optional<DiskSpace> space);
  absl::StatusOr<DiskSpace> GetDiskSpace(std::string_view path) override;
  // While paused, File::Sync blocks before doing anything; WaitForBlockedSyncs(k) returns once k
  // syncs are blocked. ResumeSyncs releases them.
  void PauseSyncs();
  void ResumeSyncs();
  void WaitForBlockedSyncs(int k);
  // Drops everything not synced, if the wrapped FileSystem is a MemFileSystem; false otherwise.
  bool SimulatePowerLoss();
  // Clears every armed fault and resumes syncs.
  void Reset();

  int writes() const;  // writes that reached the wrapped file (whole or torn), since creation
  int syncs() const;   // syncs passed to the wrapped file (failed injected ones included)

  // Wraps the base's file so its writes, syncs and preallocations see the armed faults; the
  // other FileSystem calls are forwarded unchanged.
  absl::StatusOr<std::unique_ptr<File>> Open(std::string_view path, OpenMode mode) override;

  // What happens to one write or sync; used by the File wrapper.
  struct Decision {
    absl::Status status;           // returned to the caller after the (partial) write
    size_t keep_bytes = SIZE_MAX;  // bytes actually written (SIZE_MAX: all)
  };
  Decision OnWrite(std::string_view path, size_t size);
  absl::Status OnSync(std::string_view path);
  absl::Status OnPreallocate(std::string_view path);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int writes_ = 0;
  int syncs_ = 0;
  int fail_write_in_ = 0;  // 0: not armed; else countdown
  absl::Status fail_write_status_;
  int fail_sync_in_ = 0;
  absl::Status fail_sync_status_;
  int tear_write_in_ = 0;
  size_t tear_keep_ = 0;
  bool no_space_ = false;
  absl::Status fail_syncs_;  // sticky sync failure while not OK
  std::optional<DiskSpace> disk_space_;
  bool syncs_paused_ = false;
  int blocked_syncs_ = 0;
};

}  // namespace nobus::env
