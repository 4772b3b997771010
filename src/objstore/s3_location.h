// Opening a table root given as "s3://bucket/prefix": the URL, the S3 settings of nobusd's
// config, and the usual AWS environment (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_REGION /
// AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the
// profile AWS_PROFILE (default "default") of the shared credentials file
// AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials)). Thread-safe; reads the environment
// through the function it is given.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "objstore/object_file_system.h"

namespace nobus::objstore {

bool IsS3Url(std::string_view url);

struct S3Location {
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; "" = the bucket's root
};
// InvalidArgument naming what is wrong ("s3://" missing, no bucket, bad bucket name).
[[nodiscard]] absl::StatusOr<S3Location> ParseS3Url(std::string_view url);

// The config's S3 settings; empty/unset ones come from the environment or defaults.
struct S3Settings {
  std::string endpoint;             // default: the environment, else https://s3.<region>.amazonaws.com
  std::string region;               // default: the environment, else us-east-1
  std::optional<bool> path_style;   // default: true with an explicit endpoint, false for AWS
};

using GetEnv = std::function<const char*(const char*)>;

// InvalidArgument when no credentials are found (naming where it looked).
[[nodiscard]] absl::StatusOr<S3Options> ResolveS3Options(const S3Location& location,
                                                         const S3Settings& settings,
                                                         const GetEnv& getenv);
// ParseS3Url + ResolveS3Options (process environment) + an ObjectFileSystem under the prefix.
[[nodiscard]] absl::StatusOr<std::unique_ptr<ObjectFileSystem>> OpenS3(
    std::string_view url, const S3Settings& settings);

}  // namespace nobus::objstore
