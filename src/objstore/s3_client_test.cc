#include "objstore/s3_client.h"

#include <gtest/gtest.h>

#include <atomic>

#include "objstore/fake_s3.h"

namespace nobus::objstore {
namespace {

const Credentials kKeys{"test-key", "test-secret", ""};

class S3ClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<S3Client> Client(Credentials keys = kKeys, int timeout_ms = 2'000) {
    S3Options o;
    o.endpoint = fake_.endpoint();
    o.bucket = "bucket";
    o.credentials = std::move(keys);
    o.request_timeout_ms = timeout_ms;
    o.backoff_ms = 1;
    return std::make_unique<S3Client>(std::move(o));
  }
  FakeS3 fake_{"bucket", kKeys};
  std::unique_ptr<S3Client> client_ = Client();
};

TEST_F(S3ClientTest, PutGetRangeHeadDeleteRoundTripKeysThatNeedEncoding) {
  std::string key = "dir/a b+c=d%e/part-00000.parquet";
  absl::Status put = client_->Put(key, "0123456789", false);
  ASSERT_TRUE(put.ok()) << put;
  EXPECT_EQ(fake_.Objects()[key], "0123456789");
  EXPECT_EQ(*client_->Get(key), "0123456789");
  EXPECT_EQ(*client_->GetRange(key, 3, 4), "3456");
  EXPECT_EQ(*client_->GetRange(key, 8, 10), "89");
  EXPECT_EQ(*client_->GetRange(key, 10, 5), "");
  auto head = client_->Head(key);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->size, 10u);
  EXPECT_GT(head->mtime_ms, 0);
  ASSERT_TRUE(client_->Delete(key).ok());
  EXPECT_TRUE(absl::IsNotFound(client_->Get(key).status()));
  EXPECT_TRUE(absl::IsNotFound(client_->Head(key).status()));
  EXPECT_TRUE(client_->Delete(key).ok()) << "deleting a missing key is not an error";
}

TEST_F(S3ClientTest, AConditionalPutOfAnExistingKeyIsAlreadyExistsAndChangesNothing) {
  ASSERT_TRUE(client_->Put("log/0.json", "first", true).ok());
  absl::Status again = client_->Put("log/0.json", "second", true);
  EXPECT_TRUE(absl::IsAlreadyExists(again)) << again;
  EXPECT_EQ(fake_.Objects()["log/0.json"], "first");
  EXPECT_EQ(fake_.requests("PUT"), 2) << "a conditional PUT is never retried";
}

TEST_F(S3ClientTest, Aws409And304OnAConditionalPutMeanTheVersionIsTaken) {
  for (int status : {409, 304}) {
    fake_.SetFaults([status](const FakeCall& c) {
      return c.if_none_match ? FakeFault{FakeFault::Kind::kStatus, status, "ConditionalRequestConflict"}
                             : FakeFault{};
    });
    absl::Status s = client_->Put("log/1.json", "x", true);
    EXPECT_TRUE(absl::IsAlreadyExists(s)) << status << ": " << s;
  }
}

TEST_F(S3ClientTest, IdempotentRequestsAreRetriedThroughServerErrors) {
  std::atomic<int> failures{2};
  fake_.SetFaults([&](const FakeCall& c) {
    if (c.method == "GET" && failures.fetch_sub(1) > 0)
      return FakeFault{FakeFault::Kind::kStatus, 503, "SlowDown"};
    return FakeFault{};
  });
  fake_.PutObject("k", "v");
  auto got = client_->Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "v");
  EXPECT_EQ(fake_.requests("GET"), 3);
}

TEST_F(S3ClientTest, PersistentServerErrorsAreUnavailableNamingTheRequestAndTheCode) {
  fake_.SetFaults([](const FakeCall&) { return FakeFault{FakeFault::Kind::kStatus, 500, "InternalError"}; });
  absl::Status s = client_->Get("k").status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("GET s3://bucket/k: HTTP 500 InternalError"), std::string::npos) << s;
  EXPECT_NE(s.message().find("after 4 attempts"), std::string::npos) << s;
}

TEST_F(S3ClientTest, AConditionalPutThatLandedBeforeA5xxHasAnUnknownOutcome) {
  fake_.SetFaults([](const FakeCall& c) {
    return c.if_none_match ? FakeFault{FakeFault::Kind::kApplyThenStatus, 500, "InternalError"}
                           : FakeFault{};
  });
  absl::Status s = client_->Put("log/2.json", "ours", true);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("outcome is unknown"), std::string::npos) << s;
  EXPECT_EQ(fake_.Objects()["log/2.json"], "ours");
  EXPECT_EQ(fake_.requests("PUT"), 1);
}

TEST_F(S3ClientTest, AConditionalPutThatLandedAndThenTimedOutHasAnUnknownOutcome) {
  client_ = Client(kKeys, /*timeout_ms=*/300);
  fake_.SetFaults([](const FakeCall& c) {
    return c.if_none_match ? FakeFault{FakeFault::Kind::kApplyThenHang, 200, "", 1'500}
                           : FakeFault{};
  });
  absl::Status s = client_->Put("log/3.json", "ours", true);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(fake_.Objects()["log/3.json"], "ours");
}

TEST_F(S3ClientTest, ASlowPutWithinTheTimeoutSucceeds) {
  fake_.SetFaults([](const FakeCall&) { return FakeFault{FakeFault::Kind::kDelay, 200, "", 300}; });
  EXPECT_TRUE(client_->Put("slow", "x", true).ok());
}

TEST_F(S3ClientTest, AWrongSecretIsPermissionDeniedWithAHint) {
  auto bad = Client(Credentials{"test-key", "wrong", ""});
  absl::Status s = bad->Put("k", "v", false);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_NE(s.message().find("SignatureDoesNotMatch"), std::string::npos) << s;
  EXPECT_NE(s.message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << s;
  EXPECT_TRUE(fake_.Objects().empty());
}

TEST_F(S3ClientTest, AMissingBucketSaysWhatToDo) {
  S3Options o = client_->options();
  o.bucket = "nope";
  S3Client other(o);
  absl::Status s = other.Get("k").status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_NE(s.message().find("create bucket 'nope'"), std::string::npos) << s;
}

TEST_F(S3ClientTest, ListFollowsContinuationAndFoldsCommonPrefixes) {
  for (std::string k : {"t/_delta_log/0.json", "t/_delta_log/1.json", "t/a.parquet",
                        "t/b.parquet", "t/day=1/c.parquet", "t/day=2/d.parquet", "u/x"})
    fake_.PutObject(k, "x");
  auto all = client_->List("t/");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->objects.size(), 6u);
  EXPECT_GT(fake_.requests("GET"), 2) << "the fake pages two entries at a time";
  auto dir = client_->List("t/", "/");
  ASSERT_TRUE(dir.ok()) << dir.status();
  std::vector<std::string> keys, prefixes = dir->prefixes;
  for (const auto& o : dir->objects) keys.push_back(o.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"t/a.parquet", "t/b.parquet"}));
  EXPECT_EQ(prefixes, (std::vector<std::string>{"t/_delta_log/", "t/day=1/", "t/day=2/"}));
}

TEST_F(S3ClientTest, MultipartUploadAssemblesPartsInOrder) {
  auto id = client_->CreateMultipart("big");
  ASSERT_TRUE(id.ok()) << id.status();
  std::vector<std::string> etags;
  for (std::string part : {"aaa", "bbb", "c"}) {
    auto etag = client_->UploadPart("big", *id, static_cast<int>(etags.size() + 1), part);
    ASSERT_TRUE(etag.ok()) << etag.status();
    etags.push_back(*etag);
  }
  ASSERT_TRUE(client_->CompleteMultipart("big", *id, etags).ok());
  EXPECT_EQ(fake_.Objects()["big"], "aaabbbc");
}

TEST_F(S3ClientTest, CopyDuplicatesAnObjectServerSide) {
  fake_.PutObject("dir/a b", "data");
  absl::Status copy = client_->Copy("dir/a b", "other/c");
  ASSERT_TRUE(copy.ok()) << copy;
  EXPECT_EQ(fake_.Objects()["other/c"], "data");
  EXPECT_TRUE(absl::IsNotFound(client_->Copy("missing", "x")));
}

TEST_F(S3ClientTest, AnUnreachableEndpointIsUnavailableNamingIt) {
  S3Options o = client_->options();
  o.endpoint = "http://127.0.0.1:1";
  o.max_attempts = 2;
  S3Client other(o);
  absl::Status s = other.Put("k", "v", true);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(s.message().find("127.0.0.1:1"), std::string::npos) << s;
}

}  // namespace
}  // namespace nobus::objstore
