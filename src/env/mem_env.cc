#include "env/mem_env.h"

#include <algorithm>
#include <cstring>

namespace nobus::env {

struct MemFileSystem::Node {
  std::mutex mu;
  std::string data;
  std::string synced;
  int64_t mtime_ms = 0;
};

namespace {

std::string Normalize(std::string_view path) {
  std::string p(path);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

class MemFile final : public File {
 public:
  MemFile(std::string path, std::shared_ptr<MemFileSystem::Node> node, bool writable)
      : path_(std::move(path)), node_(std::move(node)), writable_(writable) {}

  absl::Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> l(node_->mu);
    return WriteLocked(node_->data.size(), data);
  }
  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    std::lock_guard<std::mutex> l(node_->mu);
    return WriteLocked(offset, data);
  }
  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    std::lock_guard<std::mutex> l(node_->mu);
    if (closed_) return absl::FailedPreconditionError(Cat("read of closed file ", path_));
    if (offset >= node_->data.size()) return size_t{0};
    size_t k = std::min<size_t>(n, node_->data.size() - offset);
    std::memcpy(scratch, node_->data.data() + offset, k);
    return k;
  }
  absl::Status Sync() override {
    std::lock_guard<std::mutex> l(node_->mu);
    node_->synced = node_->data;
    return absl::OkStatus();
  }
  absl::Status Truncate(uint64_t size) override {
    std::lock_guard<std::mutex> l(node_->mu);
    if (!writable_) return absl::PermissionDeniedError(Cat("truncate of read-only ", path_));
    node_->data.resize(size);
    return absl::OkStatus();
  }
  absl::Status Preallocate(uint64_t) override { return absl::OkStatus(); }
  absl::StatusOr<uint64_t> Size() const override {
    std::lock_guard<std::mutex> l(node_->mu);
    return node_->data.size();
  }
  absl::Status Close() override {
    closed_ = true;
    return absl::OkStatus();
  }

 private:
  absl::Status WriteLocked(uint64_t offset, std::string_view data) {
    if (closed_) return absl::FailedPreconditionError(Cat("write to closed file ", path_));
    if (!writable_) return absl::PermissionDeniedError(Cat("write to read-only ", path_));
    if (node_->data.size() < offset + data.size()) node_->data.resize(offset + data.size());
    std::memcpy(node_->data.data() + offset, data.data(), data.size());
    return absl::OkStatus();
  }

  std::string path_;
  std::shared_ptr<MemFileSystem::Node> node_;
  bool writable_;
  bool closed_ = false;
};

}  // namespace

MemFileSystem::MemFileSystem() {
  dirs_.insert("/");
  dirs_.insert(".");
}
MemFileSystem::~MemFileSystem() = default;

absl::StatusOr<std::unique_ptr<File>> MemFileSystem::Open(std::string_view path, OpenMode mode) {
  std::string p = Normalize(path);
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(p);
  if (it == files_.end()) {
    if (mode == OpenMode::kRead || mode == OpenMode::kReadWrite)
      return absl::NotFoundError(Cat("open ", p, ": No such file or directory"));
    if (!dirs_.count(std::string(Dirname(p))))
      return absl::NotFoundError(Cat("open ", p, ": parent directory does not exist"));
    it = files_.emplace(p, std::make_shared<Node>()).first;
    it->second->mtime_ms = ++now_ms_;
  } else if (mode == OpenMode::kCreateNew) {
    return absl::AlreadyExistsError(Cat("open ", p, ": File exists"));
  } else if (mode == OpenMode::kTruncate) {
    std::lock_guard<std::mutex> nl(it->second->mu);
    it->second->data.clear();
  }
  return std::unique_ptr<File>(new MemFile(p, it->second, mode != OpenMode::kRead));
}

absl::Status MemFileSystem::Delete(std::string_view path) {
  std::lock_guard<std::mutex> l(mu_);
  if (files_.erase(Normalize(path)) == 0)
    return absl::NotFoundError(Cat("unlink ", path, ": No such file or directory"));
  return absl::OkStatus();
}

absl::Status MemFileSystem::Rename(std::string_view from, std::string_view to) {
  return Move(from, to, /*replace=*/true);
}

absl::Status MemFileSystem::RenameNoReplace(std::string_view from, std::string_view to) {
  return Move(from, to, /*replace=*/false);
}

absl::Status MemFileSystem::Move(std::string_view from, std::string_view to, bool replace) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(Normalize(from));
  if (it == files_.end())
    return absl::NotFoundError(Cat("rename ", from, ": No such file or directory"));
  auto [dest, inserted] = files_.try_emplace(Normalize(to), it->second);
  if (!inserted) {
    if (!replace)
      return absl::AlreadyExistsError(Cat("rename ", from, " -> ", to, ": File exists"));
    if (dest == it) return absl::OkStatus();  // renamed onto itself
    dest->second = it->second;
  }
  files_.erase(it);
  return absl::OkStatus();
}

absl::Status MemFileSystem::CreateDirs(std::string_view path) {
  std::string p = Normalize(path);
  std::lock_guard<std::mutex> l(mu_);
  for (size_t i = 1; i <= p.size(); ++i) {
    if (i == p.size() || p[i] == '/') {
      std::string prefix = p.substr(0, i);
      if (files_.count(prefix))
        return absl::FailedPreconditionError(Cat(prefix, " exists and is not a directory"));
      dirs_.insert(prefix);
    }
  }
  return absl::OkStatus();
}

absl::Status MemFileSystem::DeleteDir(std::string_view path) {
  std::string p = Normalize(path);
  std::lock_guard<std::mutex> l(mu_);
  std::string prefix = p + "/";
  for (const auto& [name, node] : files_)
    if (name.starts_with(prefix))
      return absl::FailedPreconditionError(Cat("rmdir ", p, ": Directory not empty"));
  if (dirs_.erase(p) == 0) return absl::NotFoundError(Cat("rmdir ", p, ": not found"));
  return absl::OkStatus();
}

absl::Status MemFileSystem::SyncDir(std::string_view path) {
  std::string dir = Normalize(path);
  std::lock_guard<std::mutex> l(mu_);
  if (!dirs_.count(dir)) return absl::NotFoundError(Cat("open dir ", dir, ": not found"));
  for (auto it = durable_files_.begin(); it != durable_files_.end();) {
    it = Dirname(it->first) == dir ? durable_files_.erase(it) : std::next(it);
  }
  for (const auto& [name, node] : files_)
    if (Dirname(name) == dir) durable_files_[name] = node;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MemFileSystem::ListDir(std::string_view path) {
  std::string dir = Normalize(path);
  std::lock_guard<std::mutex> l(mu_);
  if (!dirs_.count(dir)) return absl::NotFoundError(Cat("opendir ", dir, ": not found"));
  std::set<std::string> names;
  std::string prefix = dir == "/" ? "/" : dir + "/";
  auto add = [&](const std::string& full) {
    if (!full.starts_with(prefix) || full.size() == prefix.size()) return;
    std::string rest = full.substr(prefix.size());
    names.insert(rest.substr(0, rest.find('/')));
  };
  for (const auto& [name, node] : files_) add(name);
  for (const auto& d : dirs_) add(d);
  return std::vector<std::string>(names.begin(), names.end());
}

absl::StatusOr<FileInfo> MemFileSystem::Stat(std::string_view path) {
  std::string p = Normalize(path);
  std::lock_guard<std::mutex> l(mu_);
  FileInfo info;
  if (dirs_.count(p)) {
    info.is_dir = true;
    return info;
  }
  auto it = files_.find(p);
  if (it == files_.end())
    return absl::NotFoundError(Cat("stat ", p, ": No such file or directory"));
  std::lock_guard<std::mutex> nl(it->second->mu);
  info.size_bytes = it->second->data.size();
  info.mtime_ms = it->second->mtime_ms;
  return info;
}

absl::StatusOr<DiskSpace> MemFileSystem::GetDiskSpace(std::string_view path) {
  NOBUS_RETURN_IF_ERROR(Stat(path).status());
  std::lock_guard<std::mutex> l(mu_);
  uint64_t used = 0;
  for (const auto& [name, node] : files_) {
    std::lock_guard<std::mutex> nl(node->mu);
    used += node->data.size();
  }
  return DiskSpace{.free_bytes = capacity_bytes_ > used ? capacity_bytes_ - used : 0,
                   .total_bytes = capacity_bytes_};
}

void MemFileSystem::SetCapacity(uint64_t total_bytes) {
  std::lock_guard<std::mutex> l(mu_);
  capacity_bytes_ = total_bytes;
}

void MemFileSystem::SimulatePowerLoss() {
  std::lock_guard<std::mutex> l(mu_);
  files_ = durable_files_;
  for (auto& [name, node] : files_) {
    std::lock_guard<std::mutex> nl(node->mu);
    node->data = node->synced;
  }
}

}  // namespace nobus::env
