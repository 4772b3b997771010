#include "objstore/s3_location.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>

namespace nobus::objstore {
namespace {

GetEnv FakeEnv(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(S3LocationTest, ParsesBucketAndPrefix) {
  auto loc = ParseS3Url("s3://my-bucket/warehouse/nobus/");
  ASSERT_TRUE(loc.ok()) << loc.status();
  EXPECT_EQ(loc->bucket, "my-bucket");
  EXPECT_EQ(loc->prefix, "warehouse/nobus");
  EXPECT_EQ(ParseS3Url("s3://my-bucket")->prefix, "");
  for (std::string bad : {"/data/tables", "s3://", "s3://B/x", "s3://ab/x"}) {
    absl::Status s = ParseS3Url(bad).status();
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad;
    EXPECT_NE(s.message().find(bad), std::string::npos) << s;
  }
}

TEST(S3LocationTest, AnEndpointFromTheEnvironmentMeansPathStyleAndAwsMeansVirtualHosted) {
  S3Location loc{"b-1", ""};
  auto custom = ResolveS3Options(loc, {}, FakeEnv({{"AWS_ENDPOINT_URL", "http://127.0.0.1:7480"},
                                                   {"AWS_ACCESS_KEY_ID", "k"},
                                                   {"AWS_SECRET_ACCESS_KEY", "s"}}));
  ASSERT_TRUE(custom.ok()) << custom.status();
  EXPECT_EQ(custom->endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(custom->region, "us-east-1");
  EXPECT_TRUE(custom->path_style);
  auto aws = ResolveS3Options(loc, {}, FakeEnv({{"AWS_DEFAULT_REGION", "eu-west-1"},
                                                {"AWS_ACCESS_KEY_ID", "k"},
                                                {"AWS_SECRET_ACCESS_KEY", "s"},
                                                {"AWS_SESSION_TOKEN", "t"}}));
  ASSERT_TRUE(aws.ok()) << aws.status();
  EXPECT_EQ(aws->endpoint, "https://s3.eu-west-1.amazonaws.com");
  EXPECT_FALSE(aws->path_style);
  EXPECT_EQ(aws->credentials.session_token, "t");
  S3Settings settings{.endpoint = "http://minio:9000", .region = "r", .path_style = false};
  auto configured = ResolveS3Options(loc, settings, FakeEnv({{"AWS_REGION", "x"},
                                                             {"AWS_ACCESS_KEY_ID", "k"},
                                                             {"AWS_SECRET_ACCESS_KEY", "s"}}));
  EXPECT_EQ(configured->region, "r");
  EXPECT_FALSE(configured->path_style);
}

TEST(S3LocationTest, CredentialsComeFromTheSharedFileProfileOrTheErrorSaysWhereItLooked) {
  std::string file = ::testing::TempDir() + "/aws-credentials";
  std::ofstream(file) << "[default]\naws_access_key_id = d\naws_secret_access_key = ds\n\n"
                         "[ci]\naws_access_key_id=c\naws_secret_access_key=cs\n";
  S3Location loc{"bucket", ""};
  auto ci = ResolveS3Options(loc, {}, FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file},
                                              {"AWS_PROFILE", "ci"}}));
  ASSERT_TRUE(ci.ok()) << ci.status();
  EXPECT_EQ(ci->credentials.access_key_id, "c");
  EXPECT_EQ(ci->credentials.secret_access_key, "cs");
  auto missing = ResolveS3Options(loc, {}, FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file},
                                                   {"AWS_PROFILE", "nope"}}));
  EXPECT_TRUE(absl::IsInvalidArgument(missing.status()));
  EXPECT_NE(missing.status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_NE(missing.status().message().find("[nope] in " + file), std::string::npos);
  std::remove(file.c_str());
}

}  // namespace
}  // namespace nobus::objstore
