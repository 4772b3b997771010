// Regression inputs for the Delta fuzz targets (test/fuzz/delta_*_fuzz.cc, compiled in here with
// NOBUS_FUZZ_REGRESSION): corrupt commit bodies and corrupt checkpoints must be refused or parsed,
// never crash. A target aborts on a broken invariant, which fails this test.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include "dat_cases.h"
#include "delta/log_store.h"
#include "env/env.h"
#include "env/mem_env.h"
#include "parquet/row_batch.h"
#include "parquet/writer.h"
#include "schema/types.h"

int NobusDeltaActionsFuzzOne(const uint8_t* bytes, size_t size);
int NobusDeltaCheckpointFuzzOne(const uint8_t* bytes, size_t size);
int NobusDataFileFuzzOne(const uint8_t* bytes, size_t size);
const nobus::schema::Schema& NobusDataFileFuzzSchema();

namespace nobus::delta {
namespace {

int Actions(const std::string& s) {
  return NobusDeltaActionsFuzzOne(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

int Checkpoint(const std::string& s) {
  return NobusDeltaCheckpointFuzzOne(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string DatCheckpoint() {
  std::string path =
      Cat(testing::DatDir(), "/with_checkpoint/delta/_delta_log/", CheckpointFileName(2));
  return env::ReadFile(env::PosixFileSystem(), path).value_or("");
}

// `good` with 1 to 4 bits flipped (by the `i`th input); half of the inputs flip bits in the last
// 600 bytes, the Parquet footer, where the structure is.
std::string FlipBytes(const std::string& good, int i, std::mt19937& rng) {
  std::string bad = good;
  for (int flips = 0; flips < 1 + i % 4; ++flips) {
    size_t at =
        i % 2 ? rng() % bad.size() : bad.size() - 1 - rng() % std::min<size_t>(bad.size(), 600);
    bad[at] = static_cast<char>(bad[at] ^ (1 << (rng() % 8)));
  }
  return bad;
}

TEST(DeltaFuzzRegressionTest, CorruptCommitBodies) {
  const std::string kInputs[] = {
      "",
      "\n\n",
      "{",
      "{\"add\":",
      "[]",
      "{\"add\":{}}",
      "{\"add\":{\"path\":7}}",
      "{\"add\":{\"path\":\"%zz\",\"size\":1,\"modificationTime\":1,\"dataChange\":true}}",
      "{\"add\":{\"path\":\"a\",\"size\":1e400,\"modificationTime\":1,\"dataChange\":true}}",
      "{\"txn\":{\"appId\":\"a\",\"version\":99999999999999999999999}}",
      "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n{\"protocol\":{}}",
      "{\"metaData\":{\"id\":\"x\",\"format\":{\"provider\":\"parquet\"},\"partitionColumns\":[1]}"
      "}",
      "{\"remove\":{\"path\":\"\\ud800\",\"dataChange\":false}}",
      "{\"commitInfo\":{\"operationParameters\":{\"a\":[1,{\"b\":null}]}}}",
      "{\"unknown\":{}}\n{\"add\":{\"path\":\"a b\",\"partitionValues\":{\"p\":null},\"size\":3,"
      "\"modificationTime\":4,\"dataChange\":true,\"stats\":\"{}\"}}",
      std::string("{\"add\":{\"path\":\"\xff\xfe\",\"size\":1,\"modificationTime\":1,"
                  "\"dataChange\":true}}"),
  };
  for (const std::string& input : kInputs) EXPECT_EQ(Actions(input), 0) << input;
}

TEST(DeltaFuzzRegressionTest, TruncatedCheckpoints) {
  std::string good = DatCheckpoint();
  ASSERT_FALSE(good.empty());
  EXPECT_EQ(Checkpoint(good), 0);
  for (size_t cut :
       {size_t{0}, size_t{4}, size_t{8}, good.size() / 2, good.size() - 9, good.size() - 1})
    EXPECT_EQ(Checkpoint(good.substr(0, cut)), 0) << cut;
  EXPECT_EQ(Checkpoint("PAR1PAR1"), 0);
  EXPECT_EQ(Checkpoint("{\"version\":-1,\"size\":\"x\"}"), 0);
}

TEST(DeltaFuzzRegressionTest, CheckpointsWithFlippedBytes) {
  std::string good = DatCheckpoint();
  ASSERT_FALSE(good.empty());
  std::mt19937 rng(42);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(Checkpoint(FlipBytes(good, i, rng)), 0) << i;
}

int DataFile(const std::string& s) {
  return NobusDataFileFuzzOne(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// A data file of the fuzz target's schema: 200 rows with nulls and nested values, two row groups.
std::string GoodDataFile() {
  auto batch = parquet::RowBatch::Create(NobusDataFileFuzzSchema());
  EXPECT_TRUE(batch.ok());
  parquet::RowBuilder b(batch->get());
  for (int i = 0; i < 200; ++i) {
    b.BeginRow();
    b.Int64(i);
    if (i % 3 == 0) b.Null(); else b.String(Cat("n", i));
    b.BeginList();
    for (int k = 0; k < i % 4; ++k) b.String(Cat("t", k));
    b.EndList();
    b.BeginStruct();
    b.Int32(i);
    b.Double(i / 2.0);
    b.EndStruct();
    if (i % 5 == 0) {
      b.Null();
    } else {
      b.BeginMap();
      b.String("k");
      b.Int64(i);
      b.EndMap();
    }
    b.Decimal(static_cast<__int128>(i) * 1'000'000'000'000LL);
    b.Bool(i % 2 == 0);
    EXPECT_TRUE(b.EndRow().ok());
  }
  env::MemFileSystem fs;
  parquet::WriterOptions options;
  options.row_group_size_bytes = 4000;
  EXPECT_TRUE(parquet::WriteFileAt(&fs, "/good.parquet", **batch, options).ok());
  return env::ReadFile(&fs, "/good.parquet").value_or("");
}

TEST(DeltaFuzzRegressionTest, DataFilesReadBackForCompaction) {
  std::string good = GoodDataFile();
  ASSERT_FALSE(good.empty());
  EXPECT_EQ(DataFile(good), 0);
  EXPECT_EQ(DataFile(DatCheckpoint()), 0);  // another layout: refused, not read
  for (size_t cut : {size_t{0}, size_t{4}, good.size() / 2, good.size() - 9, good.size() - 1})
    EXPECT_EQ(DataFile(good.substr(0, cut)), 0) << cut;
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(DataFile(FlipBytes(good, i, rng)), 0) << i;
}

}  // namespace
}  // namespace nobus::delta
