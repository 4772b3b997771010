// ObjectFileSystem: env::FileSystem on an S3 bucket (s3_client.h), so the Delta code that writes
// and reads tables through a FileSystem (data files, the log through delta::FileLogStore,
// checkpoints, compaction, VACUUM, the catalog's listing) works on object storage unchanged.
//
// Paths map to keys under a prefix: "/tables/a/b.parquet" with prefix "warehouse" is the key
// "warehouse/tables/a/b.parquet". Directories do not exist on an object store: CreateDirs,
// DeleteDir and SyncDir succeed and do nothing; ListDir and Stat see a directory wherever a key
// lies below it (so an empty directory does not exist, NotFound).
//
// Files are written once: a file opened for writing is buffered and uploaded by Sync or Close
// (one PUT, or a multipart upload once it passes `part_bytes`); after that it is sealed, and
// further writes fail with FailedPrecondition. Opening an existing object for writing replaces it
// (kCreate behaves as kTruncate; kReadWrite is Unimplemented). Reads are ranged GETs; objects up
// to `whole_read_bytes` are fetched whole on the first read.
//
// PutIfAbsent is one PUT with If-None-Match: * (AlreadyExists on 412/409/304; a timeout or a
// 5xx leaves the outcome unknown, as the interface says); PutAtomically is one PUT. Rename copies
// and deletes, object by object: it is not atomic (nobus renames only to drop a table, where a
// partly renamed directory is finished by deleting what is left). RenameNoReplace is a read
// followed by a conditional PUT and a delete.
//
// Ownership: owns its S3Client. Thread-safety: thread-safe; each File has one owner at a time.
// Durability: an uploaded object is durable by the store's guarantee; Sync returns after the
// upload (PUT or CompleteMultipartUpload) returned OK.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "env/env.h"
#include "objstore/s3_client.h"

namespace nobus::objstore {

struct ObjectFileSystemOptions {
  std::string prefix;                        // keys start with "<prefix>/" ("" = bucket root)
  uint64_t part_bytes = 16 << 20;            // multipart part size (S3's minimum is 5 MiB)
  uint64_t whole_read_bytes = 4 << 20;       // smaller objects are read with one GET
};

class ObjectFileSystem final : public env::FileSystem {
 public:
  ObjectFileSystem(std::unique_ptr<S3Client> client, ObjectFileSystemOptions options = {});
  ~ObjectFileSystem() override;

  S3Client* client() const { return client_.get(); }
  // The key of `path`.
  std::string Key(std::string_view path) const;

  absl::StatusOr<std::unique_ptr<env::File>> Open(std::string_view path,
                                                  env::OpenMode mode) override;
  absl::Status Delete(std::string_view path) override;
  absl::Status Rename(std::string_view from, std::string_view to) override;
  absl::Status RenameNoReplace(std::string_view from, std::string_view to) override;
  absl::Status CreateDirs(std::string_view path) override;
  absl::Status DeleteDir(std::string_view path) override;
  absl::Status SyncDir(std::string_view path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(std::string_view path) override;
  absl::StatusOr<env::FileInfo> Stat(std::string_view path) override;
  // An object store has no fixed size: reports 2^62 bytes free of 2^62.
  absl::StatusOr<env::DiskSpace> GetDiskSpace(std::string_view path) override;
  absl::Status PutIfAbsent(std::string_view path, std::string_view data) override;
  absl::Status PutAtomically(std::string_view path, std::string_view data) override;
  // s3://bucket/key.
  std::string Location(std::string_view path) override;

 private:
  const std::unique_ptr<S3Client> client_;
  const ObjectFileSystemOptions options_;
};

}  // namespace nobus::objstore
