// The object-store code against a real S3 server, Ceph RGW (test/objstore/run_rgw_test.sh starts
// it and passes AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and
// NOBUS_S3_BUCKET): SigV4 accepted, conditional PUT, listings, multipart upload, and Delta
// tables written by two writers at once. The table is left in the bucket for the script's
// reference reader (delta-rs straight from the object store).
#include <gtest/gtest.h>

#include <cstdlib>

#include "delta/committer.h"
#include "delta/test_tables.h"
#include "env/mem_env.h"
#include "objstore/object_file_system.h"

namespace nobus::objstore {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

S3Options RgwOptions() {
  S3Options o;
  o.endpoint = Env("AWS_ENDPOINT_URL");
  o.region = Env("AWS_REGION");
  o.bucket = Env("NOBUS_S3_BUCKET");
  o.credentials = {Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"), ""};
  return o;
}

class RgwTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(RgwOptions().endpoint.empty())
        << "no S3 server: run this through test/objstore/run_rgw_test.sh";
    absl::Status made = client_.CreateBucket();
    ASSERT_TRUE(made.ok() || absl::IsAlreadyExists(made)) << made;
  }
  std::unique_ptr<ObjectFileSystem> NewFs(std::string prefix) {
    ObjectFileSystemOptions o;
    o.prefix = std::move(prefix);
    o.part_bytes = 5 << 20;  // S3's minimum part size
    return std::make_unique<ObjectFileSystem>(std::make_unique<S3Client>(RgwOptions()), o);
  }
  S3Client client_{RgwOptions()};
  env::ManualClock clock_;
};

TEST_F(RgwTest, AConditionalPutWinsOnceAndKeepsTheFirstContent) {
  absl::Status first = client_.Put("cond/0.json", "first", true);
  ASSERT_TRUE(first.ok()) << first;
  absl::Status second = client_.Put("cond/0.json", "second", true);
  EXPECT_TRUE(absl::IsAlreadyExists(second)) << second;
  EXPECT_EQ(*client_.Get("cond/0.json"), "first");
}

TEST_F(RgwTest, AWrongSecretIsRefusedWithPermissionDenied) {
  S3Options o = RgwOptions();
  o.credentials.secret_access_key = "wrong";
  absl::Status s = S3Client(o).Put("denied", "x", false);
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(absl::IsNotFound(client_.Head("denied").status()));
}

TEST_F(RgwTest, AMultipartFileReadsBackByteForByteAcrossParts) {
  auto fs = NewFs("multipart");
  std::string data(12 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 4096);
  {
    auto f = fs->Open("/big", env::OpenMode::kCreateNew);
    ASSERT_TRUE(f.ok()) << f.status();
    for (size_t at = 0; at < data.size(); at += 1 << 20)
      ASSERT_TRUE((*f)->Append(std::string_view(data).substr(at, 1 << 20)).ok());
    absl::Status synced = (*f)->Sync();
    ASSERT_TRUE(synced.ok()) << synced;
  }
  auto f = fs->Open("/big", env::OpenMode::kRead);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*(*f)->Size(), data.size());
  std::string buf(100, '\0');
  uint64_t boundary = (5 << 20) - 50;
  auto n = (*f)->ReadAt(boundary, buf.size(), buf.data());
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(buf, data.substr(boundary, 100));
  EXPECT_EQ(*env::ReadFile(fs.get(), "/big"), data);
}

TEST_F(RgwTest, TwoWritersAppendToOneDeltaTableAndEveryBatchLandsOnce) {
  auto fs_a = NewFs("warehouse");
  auto fs_b = NewFs("warehouse");
  auto a = delta::Committer::Create(fs_a.get(), &clock_, "/tables/t",
                                    delta::testing::SmallTable(true));
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = delta::Committer::Open(fs_b.get(), &clock_, "/tables/t");
  ASSERT_TRUE(b.ok()) << b.status();
  int retries = 0;
  for (int v = 1; v <= 12; ++v) {  // ids 1000*v + 0..2 from a, 1000*v + 500..502 from b
    auto ra = (*a)->AppendOnce("node-a", v, *delta::testing::Rows(**a, 1000 * v, 3));
    ASSERT_TRUE(ra.ok()) << ra.status();
    auto rb = (*b)->AppendOnce("node-b", v, *delta::testing::Rows(**b, 1000 * v + 500, 3));
    ASSERT_TRUE(rb.ok()) << rb.status();
    retries += ra->attempts - 1 + rb->attempts - 1;
  }
  EXPECT_GE(retries, 11) << "each writer found the other's version taken and rebased";
  auto reader = delta::Committer::Open(NewFs("warehouse").get(), &clock_, "/tables/t");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->snapshot().version(), 24);
  EXPECT_EQ((*reader)->snapshot().files().size(), 24u);
  EXPECT_TRUE(client_.Head("warehouse/tables/t/_delta_log/00000000000000000020.checkpoint.parquet").ok());
}

}  // namespace
}  // namespace nobus::objstore
