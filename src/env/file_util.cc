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

absl::Status ReplaceFileAtomically(FileSystem* fs, std::string_view path, std::string_view data) {
  std::string tmp = Cat(path, ".tmp");
  {
    NOBUS_ASSIGN_OR_RETURN(auto file, fs->Open(tmp, OpenMode::kTruncate));
    NOBUS_RETURN_IF_ERROR(file->Append(data));
    NOBUS_RETURN_IF_ERROR(file->Sync());
    NOBUS_RETURN_IF_ERROR(file->Close());
  }
  NOBUS_RETURN_IF_ERROR(fs->Rename(tmp, path));
  return fs->SyncDir(Dirname(path));
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
