// ForwardingFileSystem: a FileSystem that passes every call unchanged to a base FileSystem. Meant
// for tests and decorators: subclass it and override only the methods that inject faults or add
// behaviour; everything else reaches the base as is. PutIfAbsent and PutAtomically are not
// forwarded: FileSystem's defaults build them from this object's Open, RenameNoReplace, Rename and
// SyncDir, so a subclass that overrides those sees every whole-file write too.
// Ownership: borrows `base` (default: the process-wide PosixFileSystem()), which must outlive this
// object and every File opened through it. Files are the base's own, not wrapped.
// Thread-safety: as thread-safe as the base (FileSystem implementations are); subclasses must keep
// their own state safe. Durability: exactly the base's.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "env/env.h"

namespace nobus::env {

class ForwardingFileSystem : public FileSystem {
 public:
  explicit ForwardingFileSystem(FileSystem* base = PosixFileSystem()) : base_(base) {}

  FileSystem* base() const { return base_; }

  absl::StatusOr<std::unique_ptr<File>> Open(std::string_view path, OpenMode mode) override {
    return base_->Open(path, mode);
  }
  absl::Status Delete(std::string_view path) override { return base_->Delete(path); }
  absl::Status Rename(std::string_view from, std::string_view to) override {
    return base_->Rename(from, to);
  }
  absl::Status RenameNoReplace(std::string_view from, std::string_view to) override {
    return base_->RenameNoReplace(from, to);
  }
  absl::Status CreateDirs(std::string_view path) override { return base_->CreateDirs(path); }
  absl::Status DeleteDir(std::string_view path) override { return base_->DeleteDir(path); }
  absl::Status SyncDir(std::string_view path) override { return base_->SyncDir(path); }
  absl::StatusOr<std::vector<std::string>> ListDir(std::string_view path) override {
    return base_->ListDir(path);
  }
  absl::StatusOr<FileInfo> Stat(std::string_view path) override { return base_->Stat(path); }
  absl::StatusOr<DiskSpace> GetDiskSpace(std::string_view path) override {
    return base_->GetDiskSpace(path);
  }

 private:
  FileSystem* const base_;
};

}  // namespace nobus::env
