// POSIX implementation of env.h: pread/pwrite, fdatasync, fallocate, renameat2(RENAME_NOREPLACE)
// for put-if-absent.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "env/env.h"

namespace nobus::env {
namespace {

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(std::string_view data) override {
    NOBUS_ASSIGN_OR_RETURN(uint64_t end, Size());
    return WriteAt(end, data);
  }

  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, "write", path_);
      }
      data.remove_prefix(n);
      offset += n;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, "read", path_);
      }
      if (r == 0) break;
      done += r;
    }
    return done;
  }

  absl::Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoToStatus(errno, "fdatasync", path_);
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return ErrnoToStatus(errno, "ftruncate", path_);
    return absl::OkStatus();
  }

  absl::Status Preallocate(uint64_t size) override {
    if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(size)) != 0) {
      if (errno == EOPNOTSUPP) return absl::OkStatus();  // e.g. tmpfs on old kernels: optional
      return ErrnoToStatus(errno, "fallocate", path_);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoToStatus(errno, "fstat", path_);
    return static_cast<uint64_t>(st.st_size);
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoToStatus(errno, "close", path_);
    return absl::OkStatus();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixFs final : public FileSystem {
 public:
  absl::StatusOr<std::unique_ptr<File>> Open(std::string_view path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kRead:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR;
        break;
      case OpenMode::kCreate:
        flags |= O_RDWR | O_CREAT;
        break;
      case OpenMode::kCreateNew:
        flags |= O_RDWR | O_CREAT | O_EXCL;
        break;
      case OpenMode::kTruncate:
        flags |= O_RDWR | O_CREAT | O_TRUNC;
        break;
    }
    std::string p(path);
    int fd = ::open(p.c_str(), flags, 0644);
    if (fd < 0) return ErrnoToStatus(errno, "open", p);
    return std::unique_ptr<File>(new PosixFile(std::move(p), fd));
  }

  absl::Status Delete(std::string_view path) override {
    std::string p(path);
    if (::unlink(p.c_str()) != 0) return ErrnoToStatus(errno, "unlink", p);
    return absl::OkStatus();
  }

  absl::Status Rename(std::string_view from, std::string_view to) override {
    std::string f(from), t(to);
    if (::rename(f.c_str(), t.c_str()) != 0) return ErrnoToStatus(errno, "rename", f + " -> " + t);
    return absl::OkStatus();
  }

  absl::Status RenameNoReplace(std::string_view from, std::string_view to) override {
    std::string f(from), t(to);
    if (::renameat2(AT_FDCWD, f.c_str(), AT_FDCWD, t.c_str(), RENAME_NOREPLACE) == 0)
      return absl::OkStatus();
    if (errno != EINVAL && errno != ENOSYS) return ErrnoToStatus(errno, "rename", f + " -> " + t);
    // A file system without RENAME_NOREPLACE: link(2) is put-if-absent too. Unlike a rename it
    // leaves a deleted inode behind, which makes the next file creations slower on ext4 without
    // a journal (its allocator skips inodes deleted in the last 30 s, one by one).
    if (::link(f.c_str(), t.c_str()) != 0) return ErrnoToStatus(errno, "link", f + " -> " + t);
    if (::unlink(f.c_str()) != 0) return ErrnoToStatus(errno, "unlink", f);
    return absl::OkStatus();
  }

  absl::Status CreateDirs(std::string_view path) override {
    std::string p(path);
    for (size_t i = 1; i <= p.size(); ++i) {
      if (i != p.size() && p[i] != '/') continue;
      std::string prefix = p.substr(0, i);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
        return ErrnoToStatus(errno, "mkdir", prefix);
    }
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) return ErrnoToStatus(errno, "stat", p);
    if (!S_ISDIR(st.st_mode))
      return absl::FailedPreconditionError(p + " exists and is not a directory");
    return absl::OkStatus();
  }

  absl::Status DeleteDir(std::string_view path) override {
    std::string p(path);
    if (::rmdir(p.c_str()) != 0) return ErrnoToStatus(errno, "rmdir", p);
    return absl::OkStatus();
  }

  absl::Status SyncDir(std::string_view path) override {
    std::string p(path);
    int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoToStatus(errno, "open dir", p);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoToStatus(err, "fsync dir", p);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> ListDir(std::string_view path) override {
    std::string p(path);
    DIR* dir = ::opendir(p.c_str());
    if (dir == nullptr) return ErrnoToStatus(errno, "opendir", p);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(dir)) {
      std::string_view name(e->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
  }

  absl::StatusOr<FileInfo> Stat(std::string_view path) override {
    std::string p(path);
    struct stat st;
    if (::stat(p.c_str(), &st) != 0) return ErrnoToStatus(errno, "stat", p);
    FileInfo info;
    info.size_bytes = static_cast<uint64_t>(st.st_size);
    info.mtime_ms = int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1000000;
    info.is_dir = S_ISDIR(st.st_mode);
    return info;
  }

  absl::StatusOr<DiskSpace> GetDiskSpace(std::string_view path) override {
    std::string p(path);
    struct statvfs st;
    if (::statvfs(p.c_str(), &st) != 0) return ErrnoToStatus(errno, "statvfs", p);
    return DiskSpace{.free_bytes = uint64_t{st.f_bavail} * st.f_frsize,
                     .total_bytes = uint64_t{st.f_blocks} * st.f_frsize};
  }
};

class PosixClock final : public Clock {
 public:
  int64_t NowMicros() override {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t{ts.tv_sec} * 1000000 + ts.tv_nsec / 1000;
  }
  int64_t MonotonicNanos() override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
  }
};

}  // namespace

FileSystem* PosixFileSystem() {
  static auto* fs = new PosixFs();
  return fs;
}

Clock* SystemClock() {
  static auto* clock = new PosixClock();
  return clock;
}

}  // namespace nobus::env
