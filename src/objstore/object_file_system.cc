#include "objstore/object_file_system.h"

#include <algorithm>
#include <cstring>

namespace nobus::objstore {
namespace {

// A file being written: buffered, uploaded once by Sync or Close.
class ObjectWriter final : public env::File {
 public:
  ObjectWriter(S3Client* client, std::string key, bool if_absent, uint64_t part_bytes)
      : client_(client), key_(std::move(key)), if_absent_(if_absent), part_bytes_(part_bytes) {}
  ~ObjectWriter() override {
    if (!upload_id_.empty()) (void)client_->AbortMultipart(key_, upload_id_);
  }

  absl::Status Append(std::string_view data) override {
    NOBUS_RETURN_IF_ERROR(Writable());
    buffer_.append(data);
    size_ += data.size();
    if (buffer_.size() >= part_bytes_) return UploadParts(/*last=*/false);
    return absl::OkStatus();
  }
  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    if (offset != size_)
      return absl::UnimplementedError(
          Cat(client_->Url(key_), ": objects are written front to back (write at ", offset,
              ", size ", size_, ")"));
    return Append(data);
  }
  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    if (!upload_id_.empty() || uploaded_)
      return absl::UnimplementedError(Cat(client_->Url(key_), ": read it after reopening"));
    if (offset >= buffer_.size()) return 0;
    size_t got = std::min<uint64_t>(n, buffer_.size() - offset);
    std::memcpy(scratch, buffer_.data() + offset, got);
    return got;
  }
  absl::Status Sync() override { return Upload(); }
  absl::Status Truncate(uint64_t size) override {
    if (size == size_) return absl::OkStatus();
    return absl::UnimplementedError(Cat(client_->Url(key_), ": objects cannot be truncated"));
  }
  absl::Status Preallocate(uint64_t) override { return absl::OkStatus(); }
  absl::StatusOr<uint64_t> Size() const override { return size_; }
  absl::Status Close() override { return uploaded_ ? absl::OkStatus() : Upload(); }

 private:
  absl::Status Writable() const {
    if (!failed_.ok()) return failed_;
    if (uploaded_)
      return absl::FailedPreconditionError(
          Cat(client_->Url(key_), " is sealed: an object cannot change after Sync"));
    return absl::OkStatus();
  }

  // Sends every whole part of the buffer (and, if `last`, the rest as the final part).
  absl::Status UploadParts(bool last) {
    if (upload_id_.empty()) {
      absl::StatusOr<std::string> id = client_->CreateMultipart(key_);
      if (!id.ok()) return Fail(id.status());
      upload_id_ = *id;
    }
    size_t offset = 0;
    while (buffer_.size() - offset >= part_bytes_ || (last && offset < buffer_.size())) {
      size_t n = std::min<size_t>(part_bytes_, buffer_.size() - offset);
      absl::StatusOr<std::string> etag = client_->UploadPart(
          key_, upload_id_, static_cast<int>(etags_.size() + 1), {buffer_.data() + offset, n});
      if (!etag.ok()) return Fail(etag.status());
      etags_.push_back(*etag);
      offset += n;
    }
    buffer_.erase(0, offset);
    return absl::OkStatus();
  }

  absl::Status Upload() {
    NOBUS_RETURN_IF_ERROR(Writable());
    absl::Status s;
    if (upload_id_.empty()) {
      s = client_->Put(key_, buffer_, if_absent_);
    } else {
      s = UploadParts(/*last=*/true);
      if (s.ok()) s = client_->CompleteMultipart(key_, upload_id_, etags_);
      if (s.ok()) upload_id_.clear();
    }
    if (!s.ok()) return Fail(s);
    uploaded_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    return absl::OkStatus();
  }

  absl::Status Fail(absl::Status s) {
    failed_ = s;
    return s;
  }

  S3Client* const client_;
  const std::string key_;
  const bool if_absent_;
  const uint64_t part_bytes_;
  std::string buffer_;  // written, not yet sent
  uint64_t size_ = 0;
  std::string upload_id_;
  std::vector<std::string> etags_;
  bool uploaded_ = false;
  absl::Status failed_;  // sticky, like a failed fdatasync
};

// An existing object opened for reading.
class ObjectReader final : public env::File {
 public:
  ObjectReader(S3Client* client, std::string key, uint64_t size, uint64_t whole_read_bytes)
      : client_(client), key_(std::move(key)), size_(size), whole_read_bytes_(whole_read_bytes) {}

  absl::Status Append(std::string_view) override { return ReadOnly(); }
  absl::Status WriteAt(uint64_t, std::string_view) override { return ReadOnly(); }
  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    if (offset >= size_ || n == 0) return 0;
    n = std::min<uint64_t>(n, size_ - offset);
    if (size_ <= whole_read_bytes_) {
      if (!whole_) {
        NOBUS_ASSIGN_OR_RETURN(std::string data, client_->Get(key_));
        whole_ = std::move(data);
      }
      if (offset >= whole_->size()) return 0;
      n = std::min<uint64_t>(n, whole_->size() - offset);
      std::memcpy(scratch, whole_->data() + offset, n);
      return n;
    }
    NOBUS_ASSIGN_OR_RETURN(std::string data, client_->GetRange(key_, offset, n));
    std::memcpy(scratch, data.data(), data.size());
    return data.size();
  }
  absl::Status Sync() override { return absl::OkStatus(); }
  absl::Status Truncate(uint64_t) override { return ReadOnly(); }
  absl::Status Preallocate(uint64_t) override { return ReadOnly(); }
  absl::StatusOr<uint64_t> Size() const override { return size_; }
  absl::Status Close() override { return absl::OkStatus(); }

 private:
  absl::Status ReadOnly() const {
    return absl::FailedPreconditionError(Cat(client_->Url(key_), " is open for reading only"));
  }

  S3Client* const client_;
  const std::string key_;
  const uint64_t size_;
  const uint64_t whole_read_bytes_;
  mutable std::optional<std::string> whole_;
};

std::string_view Trim(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

}  // namespace

ObjectFileSystem::ObjectFileSystem(std::unique_ptr<S3Client> client,
                                   ObjectFileSystemOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

ObjectFileSystem::~ObjectFileSystem() = default;

std::string ObjectFileSystem::Key(std::string_view path) const {
  std::string_view prefix = Trim(options_.prefix);
  std::string_view rest = Trim(path);
  if (prefix.empty()) return std::string(rest);
  if (rest.empty()) return std::string(prefix);
  return Cat(prefix, "/", rest);
}

absl::StatusOr<std::unique_ptr<env::File>> ObjectFileSystem::Open(std::string_view path,
                                                                  env::OpenMode mode) {
  std::string key = Key(path);
  switch (mode) {
    case env::OpenMode::kRead: {
      NOBUS_ASSIGN_OR_RETURN(ObjectInfo info, client_->Head(key));
      return std::make_unique<ObjectReader>(client_.get(), key, info.size,
                                            options_.whole_read_bytes);
    }
    case env::OpenMode::kReadWrite:
      return absl::UnimplementedError(
          Cat(client_->Url(key), ": objects cannot be modified in place"));
    case env::OpenMode::kCreate:
    case env::OpenMode::kTruncate:
    case env::OpenMode::kCreateNew:
      return std::make_unique<ObjectWriter>(client_.get(), key,
                                            mode == env::OpenMode::kCreateNew,
                                            options_.part_bytes);
  }
  return absl::InvalidArgumentError("unknown open mode");
}

absl::Status ObjectFileSystem::Delete(std::string_view path) { return client_->Delete(Key(path)); }

absl::Status ObjectFileSystem::Rename(std::string_view from, std::string_view to) {
  std::string from_key = Key(from), to_key = Key(to);
  if (client_->Head(from_key).ok()) {
    NOBUS_RETURN_IF_ERROR(client_->Copy(from_key, to_key));
    return client_->Delete(from_key);
  }
  NOBUS_ASSIGN_OR_RETURN(Listing listing, client_->List(from_key + "/"));
  if (listing.objects.empty())
    return absl::NotFoundError(Cat("cannot rename ", client_->Url(from_key), ": it does not exist"));
  for (const ObjectInfo& object : listing.objects) {
    std::string target = to_key + object.key.substr(from_key.size());
    NOBUS_RETURN_IF_ERROR(client_->Copy(object.key, target));
    NOBUS_RETURN_IF_ERROR(client_->Delete(object.key));
  }
  return absl::OkStatus();
}

absl::Status ObjectFileSystem::RenameNoReplace(std::string_view from, std::string_view to) {
  NOBUS_ASSIGN_OR_RETURN(std::string data, client_->Get(Key(from)));
  NOBUS_RETURN_IF_ERROR(client_->Put(Key(to), data, /*if_absent=*/true));
  return client_->Delete(Key(from));
}

absl::Status ObjectFileSystem::CreateDirs(std::string_view) { return absl::OkStatus(); }
absl::Status ObjectFileSystem::DeleteDir(std::string_view) { return absl::OkStatus(); }
absl::Status ObjectFileSystem::SyncDir(std::string_view) { return absl::OkStatus(); }

absl::StatusOr<std::vector<std::string>> ObjectFileSystem::ListDir(std::string_view path) {
  std::string dir = Key(path);
  std::string prefix = dir.empty() ? "" : dir + "/";
  NOBUS_ASSIGN_OR_RETURN(Listing listing, client_->List(prefix, "/"));
  std::vector<std::string> names;
  for (const ObjectInfo& object : listing.objects)
    if (object.key.size() > prefix.size()) names.push_back(object.key.substr(prefix.size()));
  for (const std::string& p : listing.prefixes)
    names.push_back(std::string(Trim(std::string_view(p).substr(prefix.size()))));
  if (names.empty())
    return absl::NotFoundError(Cat(client_->Url(prefix), " holds no objects"));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

absl::StatusOr<env::FileInfo> ObjectFileSystem::Stat(std::string_view path) {
  std::string key = Key(path);
  absl::StatusOr<ObjectInfo> object = client_->Head(key);
  if (object.ok()) return env::FileInfo{.size_bytes = object->size, .mtime_ms = object->mtime_ms};
  if (!absl::IsNotFound(object.status())) return object.status();
  NOBUS_ASSIGN_OR_RETURN(Listing listing, client_->List(key.empty() ? "" : key + "/", "/"));
  if (listing.objects.empty() && listing.prefixes.empty())
    return absl::NotFoundError(Cat(client_->Url(key), " does not exist"));
  return env::FileInfo{.is_dir = true};
}

absl::StatusOr<env::DiskSpace> ObjectFileSystem::GetDiskSpace(std::string_view) {
  return env::DiskSpace{.free_bytes = uint64_t{1} << 62, .total_bytes = uint64_t{1} << 62};
}

absl::Status ObjectFileSystem::PutIfAbsent(std::string_view path, std::string_view data) {
  return client_->Put(Key(path), data, /*if_absent=*/true);
}

absl::Status ObjectFileSystem::PutAtomically(std::string_view path, std::string_view data) {
  return client_->Put(Key(path), data, /*if_absent=*/false);
}

std::string ObjectFileSystem::Location(std::string_view path) { return client_->Url(Key(path)); }

}  // namespace nobus::objstore
