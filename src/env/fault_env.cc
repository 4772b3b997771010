#include "env/fault_env.h"

#include <algorithm>

#include "env/mem_env.h"

namespace nobus::env {
namespace {

class FaultFile final : public File {
 public:
  FaultFile(FaultFileSystem* fs, std::string path, std::unique_ptr<File> base)
      : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}

  absl::Status Append(std::string_view data) override {
    NOBUS_ASSIGN_OR_RETURN(uint64_t end, base_->Size());
    return WriteAt(end, data);
  }
  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    FaultFileSystem::Decision d = fs_->OnWrite(path_, data.size());
    size_t keep = std::min(d.keep_bytes, data.size());
    if (keep > 0) NOBUS_RETURN_IF_ERROR(base_->WriteAt(offset, data.substr(0, keep)));
    return d.status;
  }
  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    return base_->ReadAt(offset, n, scratch);
  }
  absl::Status Sync() override {
    NOBUS_RETURN_IF_ERROR(fs_->OnSync(path_));
    return base_->Sync();
  }
  absl::Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  absl::Status Preallocate(uint64_t size) override {
    NOBUS_RETURN_IF_ERROR(fs_->OnPreallocate(path_));
    return base_->Preallocate(size);
  }
  absl::StatusOr<uint64_t> Size() const override { return base_->Size(); }
  absl::Status Close() override { return base_->Close(); }

 private:
  FaultFileSystem* fs_;
  std::string path_;
  std::unique_ptr<File> base_;
};

absl::Status NoSpace(std::string_view op, std::string_view path) {
  return absl::ResourceExhaustedError(Cat(op, " ", path, ": No space left on device"));
}

}  // namespace

FaultFileSystem::FaultFileSystem(FileSystem* base) : ForwardingFileSystem(base) {}
FaultFileSystem::~FaultFileSystem() = default;

void FaultFileSystem::FailNthWrite(int n, absl::Status status) {
  std::lock_guard<std::mutex> l(mu_);
  fail_write_in_ = n;
  fail_write_status_ = std::move(status);
}

void FaultFileSystem::FailNthSync(int n, absl::Status status) {
  std::lock_guard<std::mutex> l(mu_);
  fail_sync_in_ = n;
  fail_sync_status_ = std::move(status);
}

void FaultFileSystem::TearNthWrite(int n, size_t keep_bytes) {
  std::lock_guard<std::mutex> l(mu_);
  tear_write_in_ = n;
  tear_keep_ = keep_bytes;
}

void FaultFileSystem::SetNoSpace(bool on) {
  std::lock_guard<std::mutex> l(mu_);
  no_space_ = on;
}

void FaultFileSystem::SetFailSyncs(absl::Status status) {
  std::lock_guard<std::mutex> l(mu_);
  fail_syncs_ = std::move(status);
}

void FaultFileSystem::SetDiskSpace(std::optional<DiskSpace> space) {
  std::lock_guard<std::mutex> l(mu_);
  disk_space_ = space;
}

absl::StatusOr<DiskSpace> FaultFileSystem::GetDiskSpace(std::string_view path) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (disk_space_) return *disk_space_;
  }
  return base()->GetDiskSpace(path);
}

void FaultFileSystem::PauseSyncs() {
  std::lock_guard<std::mutex> l(mu_);
  syncs_paused_ = true;
}

void FaultFileSystem::ResumeSyncs() {
  {
    std::lock_guard<std::mutex> l(mu_);
    syncs_paused_ = false;
  }
  cv_.notify_all();
}

void FaultFileSystem::WaitForBlockedSyncs(int k) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return blocked_syncs_ >= k; });
}

bool FaultFileSystem::SimulatePowerLoss() {
  auto* mem = dynamic_cast<MemFileSystem*>(base());
  if (mem == nullptr) return false;
  mem->SimulatePowerLoss();
  return true;
}

void FaultFileSystem::Reset() {
  {
    std::lock_guard<std::mutex> l(mu_);
    fail_write_in_ = fail_sync_in_ = tear_write_in_ = 0;
    no_space_ = false;
    fail_syncs_ = absl::OkStatus();
    disk_space_.reset();
    syncs_paused_ = false;
  }
  cv_.notify_all();
}

int FaultFileSystem::writes() const {
  std::lock_guard<std::mutex> l(mu_);
  return writes_;
}

int FaultFileSystem::syncs() const {
  std::lock_guard<std::mutex> l(mu_);
  return syncs_;
}

absl::StatusOr<std::unique_ptr<File>> FaultFileSystem::Open(std::string_view path, OpenMode mode) {
  NOBUS_ASSIGN_OR_RETURN(auto file, base()->Open(path, mode));
  return std::unique_ptr<File>(new FaultFile(this, std::string(path), std::move(file)));
}

FaultFileSystem::Decision FaultFileSystem::OnWrite(std::string_view path, size_t size) {
  std::lock_guard<std::mutex> l(mu_);
  Decision d;
  if (no_space_) return {NoSpace("write", path), 0};
  if (fail_write_in_ > 0 && --fail_write_in_ == 0) return {fail_write_status_, 0};
  ++writes_;
  if (tear_write_in_ > 0 && --tear_write_in_ == 0) {
    d.keep_bytes = tear_keep_;
    d.status = absl::UnavailableError(Cat("write ", path, ": injected crash after ",
                                          std::min(tear_keep_, size), " of ", size, " bytes"));
  }
  return d;
}

absl::Status FaultFileSystem::OnSync(std::string_view path) {
  std::unique_lock<std::mutex> l(mu_);
  if (syncs_paused_) {
    ++blocked_syncs_;
    cv_.notify_all();
    cv_.wait(l, [&] { return !syncs_paused_; });
    --blocked_syncs_;
  }
  ++syncs_;
  if (!fail_syncs_.ok()) return fail_syncs_;
  if (fail_sync_in_ > 0 && --fail_sync_in_ == 0) return fail_sync_status_;
  return absl::OkStatus();
}

absl::Status FaultFileSystem::OnPreallocate(std::string_view path) {
  std::lock_guard<std::mutex> l(mu_);
  if (no_space_) return NoSpace("fallocate", path);
  return absl::OkStatus();
}

}  // namespace nobus::env
