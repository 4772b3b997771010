#include "common/uuid.h"
#include "env/env.h"

namespace nobus::env {

absl::StatusOr<std::string> ReadFile(FileSystem* fs, std::string_view path) {
  NOBUS_ASSIGN_OR_RETURN(auto file, fs->Open(path, OpenMode::kRead));
  NOBUS_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::string data(size, '\0');
  NOBUS_ASSIGN_OR_RETURN(size_t n, file->ReadAt(0, size, data.data()));
  data.resize(n);
  NOBUS_RETURN_IF_ERROR(file->Close());
  return data;
}

absl::Status WriteFileDurably(FileSystem* fs, std::string_view path, std::string_view data) {
  NOBUS_ASSIGN_OR_RETURN(auto file, fs->Open(path, OpenMode::kTruncate));
  NOBUS_RETURN_IF_ERROR(file->Append(data));
  NOBUS_RETURN_IF_ERROR(file->Sync());
  NOBUS_RETURN_IF_ERROR(file->Close());
  return fs->SyncDir(Dirname(path));
}

namespace {

// The default whole-file write: a synced temporary of our own, renamed into place (over an
// existing file only if `replace`), then the directory synced; the temporary is deleted when the
// write or the rename fails.
absl::Status WriteThenRename(FileSystem* fs, std::string_view path, std::string_view data,
                             bool replace) {
  std::string_view dir = Dirname(path);
  std::string_view name = path.substr(path.rfind('/') + 1);
  std::string tmp = JoinPath(dir, Cat(".", name, ".", NewUuid(), ".tmp"));
  absl::Status s = [&]() -> absl::Status {
    NOBUS_ASSIGN_OR_RETURN(auto file, fs->Open(tmp, OpenMode::kCreateNew));
    NOBUS_RETURN_IF_ERROR(file->Append(data));
    NOBUS_RETURN_IF_ERROR(file->Sync());
    return file->Close();
  }();
  if (s.ok()) s = replace ? fs->Rename(tmp, path) : fs->RenameNoReplace(tmp, path);
  if (!s.ok()) {
    (void)fs->Delete(tmp);
    return s;
  }
  return fs->SyncDir(dir);
}

}  // namespace

absl::Status FileSystem::PutIfAbsent(std::string_view path, std::string_view data) {
  return WriteThenRename(this, path, data, /*replace=*/false);
}

absl::Status FileSystem::PutAtomically(std::string_view path, std::string_view data) {
  return WriteThenRename(this, path, data, /*replace=*/true);
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return Cat(dir, name);
  return Cat(dir, "/", name);
}

std::string_view Dirname(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace nobus::env
