#include "objstore/s3_location.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/ascii.h"

namespace nobus::objstore {
namespace {

std::string Get(const GetEnv& getenv, const char* name) {
  const char* v = getenv(name);
  return v == nullptr ? "" : v;
}

// The keys of one profile of an AWS shared credentials file (INI); false if the file is absent.
bool ReadProfile(const std::string& path, const std::string& profile, Credentials* out) {
  std::ifstream in(path);
  if (!in) return false;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    line = std::string(absl::StripAsciiWhitespace(line));
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      inside = line == "[" + profile + "]";
      continue;
    }
    size_t eq = line.find('=');
    if (!inside || eq == std::string::npos) continue;
    std::string key(absl::StripAsciiWhitespace(line.substr(0, eq)));
    std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    if (key == "aws_access_key_id") out->access_key_id = value;
    if (key == "aws_secret_access_key") out->secret_access_key = value;
    if (key == "aws_session_token") out->session_token = value;
  }
  return true;
}

}  // namespace

bool IsS3Url(std::string_view url) { return url.starts_with("s3://"); }

absl::StatusOr<S3Location> ParseS3Url(std::string_view url) {
  if (!IsS3Url(url))
    return absl::InvalidArgumentError(Cat("'", url, "' is not an s3://bucket/prefix URL"));
  std::string_view rest = url.substr(5);
  size_t slash = rest.find('/');
  S3Location loc;
  loc.bucket = std::string(rest.substr(0, slash));
  std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  while (prefix.ends_with('/')) prefix.remove_suffix(1);
  loc.prefix = std::string(prefix);
  bool valid = loc.bucket.size() >= 3 && loc.bucket.size() <= 63;
  for (char c : loc.bucket)
    valid &= (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  if (!valid)
    return absl::InvalidArgumentError(
        Cat("'", url, "': the bucket name must be 3-63 characters of a-z, 0-9, '-' and '.'"));
  return loc;
}

absl::StatusOr<S3Options> ResolveS3Options(const S3Location& location, const S3Settings& settings,
                                           const GetEnv& getenv) {
  S3Options o;
  o.bucket = location.bucket;
  o.region = settings.region;
  if (o.region.empty()) o.region = Get(getenv, "AWS_REGION");
  if (o.region.empty()) o.region = Get(getenv, "AWS_DEFAULT_REGION");
  if (o.region.empty()) o.region = "us-east-1";
  o.endpoint = settings.endpoint;
  if (o.endpoint.empty()) o.endpoint = Get(getenv, "AWS_ENDPOINT_URL_S3");
  if (o.endpoint.empty()) o.endpoint = Get(getenv, "AWS_ENDPOINT_URL");
  bool aws = o.endpoint.empty();
  if (aws) o.endpoint = Cat("https://s3.", o.region, ".amazonaws.com");
  o.path_style = settings.path_style.value_or(!aws);

  o.credentials.access_key_id = Get(getenv, "AWS_ACCESS_KEY_ID");
  o.credentials.secret_access_key = Get(getenv, "AWS_SECRET_ACCESS_KEY");
  o.credentials.session_token = Get(getenv, "AWS_SESSION_TOKEN");
  std::string file = Get(getenv, "AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty()) file = Cat(Get(getenv, "HOME"), "/.aws/credentials");
  std::string profile = Get(getenv, "AWS_PROFILE");
  if (profile.empty()) profile = "default";
  if (o.credentials.access_key_id.empty()) ReadProfile(file, profile, &o.credentials);
  if (o.credentials.access_key_id.empty() || o.credentials.secret_access_key.empty())
    return absl::InvalidArgumentError(
        Cat("no S3 credentials for s3://", location.bucket,
            ": set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile [", profile, "] in ",
            file));
  return o;
}

absl::StatusOr<std::unique_ptr<ObjectFileSystem>> OpenS3(std::string_view url,
                                                         const S3Settings& settings) {
  NOBUS_ASSIGN_OR_RETURN(S3Location location, ParseS3Url(url));
  NOBUS_ASSIGN_OR_RETURN(S3Options options,
                         ResolveS3Options(location, settings, [](const char* n) { return std::getenv(n); }));
  ObjectFileSystemOptions fs_options;
  fs_options.prefix = location.prefix;
  return std::make_unique<ObjectFileSystem>(std::make_unique<S3Client>(std::move(options)),
                                            fs_options);
}

}  // namespace nobus::objstore
