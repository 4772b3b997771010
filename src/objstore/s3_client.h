// A client for the S3 REST API (AWS S3 and compatible stores: Ceph RGW, MinIO, R2), enough for
// Delta tables: whole-object and conditional PUT, ranged GET, HEAD, DELETE, server-side copy,
// ListObjectsV2 and multipart upload. Requests are signed with SigV4 (sigv4.h) and sent with
// cpp-httplib over pooled keep-alive connections (http:// or https://).
//
// Errors map to the status codes of common/status.h, each message naming the request, the HTTP
// status and S3's error code: NotFound (NoSuchKey, NoSuchBucket, NoSuchUpload), PermissionDenied
// (403: bad keys, signature, clock skew), AlreadyExists (a conditional PUT whose key exists: 412,
// 409, 304), InvalidArgument (other 4xx), Unavailable (5xx, 429, connection errors, timeouts).
// Idempotent requests are retried on Unavailable (`max_attempts`, backoff); a conditional PUT is
// not: its outcome is then unknown, and the caller must read the object back to decide.
//
// Thread-safety: all methods are thread-safe. Durability: an object is durable once its PUT (or
// CompleteMultipartUpload) returned OK, by the store's own guarantee.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "objstore/sigv4.h"

namespace httplib {
class Client;
}

namespace nobus::objstore {

struct S3Options {
  std::string endpoint;  // "http://127.0.0.1:7480", "https://s3.eu-west-1.amazonaws.com"
  std::string region = "us-east-1";
  std::string bucket;
  // Path-style URLs (endpoint/bucket/key), as Ceph RGW and MinIO serve by default; false:
  // virtual-hosted style (bucket.endpoint/key), AWS's default.
  bool path_style = true;
  Credentials credentials;
  int connect_timeout_ms = 5'000;
  int request_timeout_ms = 30'000;  // read and write timeout of one request
  int max_attempts = 4;             // for idempotent requests
  int backoff_ms = 100;             // doubled after each failed attempt
  std::string ca_cert_file;         // https: trust this CA (default: the system's roots)
  // Seconds since the epoch, for signing; tests pin it. Default: the system clock.
  std::function<int64_t()> now_seconds;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t mtime_ms = 0;
  std::string etag;
};

struct Listing {
  std::vector<ObjectInfo> objects;       // keys under the prefix, sorted
  std::vector<std::string> prefixes;     // with a delimiter: the "directories", sorted
};

class S3Client {
 public:
  explicit S3Client(S3Options options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3Options& options() const { return options_; }
  // "s3://bucket/key", for messages.
  std::string Url(std::string_view key) const;

  // Creates the bucket (options().bucket); AlreadyExists if it exists.
  [[nodiscard]] absl::Status CreateBucket();
  // Stores `data` at `key`. With `if_absent` (If-None-Match: *), AlreadyExists when the key exists
  // and the request is not retried. `metadata` become x-amz-meta-<name> headers.
  [[nodiscard]] absl::Status Put(std::string_view key, std::string_view data, bool if_absent,
                                 const Headers& metadata = {});
  // The whole object, or `length` bytes from `offset` (fewer at the end of the object).
  [[nodiscard]] absl::StatusOr<std::string> Get(std::string_view key);
  [[nodiscard]] absl::StatusOr<std::string> GetRange(std::string_view key, uint64_t offset,
                                                     uint64_t length);
  [[nodiscard]] absl::StatusOr<ObjectInfo> Head(std::string_view key);
  // OK also when the key does not exist (S3's DELETE is idempotent).
  [[nodiscard]] absl::Status Delete(std::string_view key);
  // Server-side copy of `from` to `to` (objects up to 5 GB).
  [[nodiscard]] absl::Status Copy(std::string_view from, std::string_view to);
  // Every key under `prefix` (all pages). With a delimiter, keys below the next delimiter are
  // folded into `prefixes`.
  [[nodiscard]] absl::StatusOr<Listing> List(std::string_view prefix,
                                             std::string_view delimiter = "");

  // Multipart upload: Create, parts 1..10,000 of at least 5 MiB but the last, Complete (or Abort).
  [[nodiscard]] absl::StatusOr<std::string> CreateMultipart(std::string_view key);
  // Returns the part's ETag.
  [[nodiscard]] absl::StatusOr<std::string> UploadPart(std::string_view key,
                                                       std::string_view upload_id, int part,
                                                       std::string_view data);
  [[nodiscard]] absl::Status CompleteMultipart(std::string_view key, std::string_view upload_id,
                                               const std::vector<std::string>& etags);
  [[nodiscard]] absl::Status AbortMultipart(std::string_view key, std::string_view upload_id);

 private:
  struct Response {
    int status = 0;
    std::string body;
    Headers headers;
    std::string Header(std::string_view name) const;
  };
  struct Request {
    std::string method;
    std::string key;  // "" addresses the bucket
    std::vector<std::pair<std::string, std::string>> query;
    Headers headers;
    std::string body;
    bool idempotent = true;
  };

  // Signs and sends `request`, retrying idempotent ones; Unavailable after the last attempt.
  absl::StatusOr<Response> Send(const Request& request);
  absl::StatusOr<Response> SendOnce(const Request& request, bool* sent);
  // The request's error as a Status: S3's <Error> body decoded, the code chosen by status.
  absl::Status ErrorStatus(const Request& request, const Response& response) const;
  std::unique_ptr<httplib::Client> TakeConnection();
  void ReturnConnection(std::unique_ptr<httplib::Client> client);

  const S3Options options_;
  std::string scheme_host_port_;  // of the endpoint (virtual-hosted: with the bucket)
  std::string host_header_;
  std::string path_prefix_;       // "/bucket" path-style, "" virtual-hosted
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;  // guarded by mu_
};

}  // namespace nobus::objstore
