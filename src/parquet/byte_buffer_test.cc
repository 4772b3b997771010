#include "parquet/byte_buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nobus::parquet {
namespace {

TEST(ByteBufferTest, AppendsAcrossManyGrowthsKeepEveryByte) {
  ByteBuffer b;
  std::string expected;
  for (int i = 0; i < 100000; ++i) {
    std::string piece = std::to_string(i) + ",";
    b.append(piece);
    expected += piece;
  }
  b.push_back('!');
  expected.push_back('!');
  EXPECT_EQ(b.view(), expected);
  EXPECT_EQ(b.size(), expected.size());
}

TEST(ByteBufferTest, ResizeShrinksAndZeroFillsWhenGrowing) {
  ByteBuffer b;
  b.append("abcdef");
  b.resize(2);
  EXPECT_EQ(b.view(), "ab");
  b.resize(5);
  EXPECT_EQ(b.view(), std::string("ab\0\0\0", 5));
  b.clear();
  EXPECT_TRUE(b.empty());
  b.append("x");
  EXPECT_EQ(b.view(), "x");
}

TEST(ByteBufferTest, CopiesAreIndependentAndMovesEmptyTheSource) {
  ByteBuffer a;
  a.append("hello");
  ByteBuffer copy = a;
  copy.append(" world");
  EXPECT_EQ(a.view(), "hello");
  EXPECT_EQ(copy.view(), "hello world");
  ByteBuffer moved = std::move(copy);
  EXPECT_EQ(moved.view(), "hello world");
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move): documented moved-from state
  a = moved;
  EXPECT_EQ(a.view(), "hello world");
  a = std::move(moved);
  EXPECT_EQ(a.view(), "hello world");
  EXPECT_TRUE(moved.empty());  // NOLINT(bugprone-use-after-move)
  ByteBuffer empty;
  EXPECT_EQ(empty.view(), "");
  empty.append(nullptr, 0);
  EXPECT_TRUE(empty.empty());
}

// Fills a buffer past `bytes` the way a column grows: many appends, so it doubles through every
// block size on the way.
void Fill(ByteBuffer* b, size_t bytes, char c) {
  const std::string piece(1000, c);
  while (b->size() < bytes) b->append(piece);
}

TEST(ByteBufferPoolTest, LargeBlocksAreReusedByTheNextBuffersAndKeepTheirBytes) {
  TrimBlockPool(std::chrono::seconds(0));
  ASSERT_EQ(BlockPoolBytes(), 0u);
  const char* first_data = nullptr;
  {
    ByteBuffer b;
    Fill(&b, 10 << 20, 'a');
    first_data = b.data();
    // Growing past 2 MiB left the smaller large blocks in the pool already.
    EXPECT_GE(BlockPoolBytes(), size_t{2} << 20);
  }
  const size_t pooled = BlockPoolBytes();
  EXPECT_GE(pooled, size_t{16} << 20);  // the block that held 10 MiB, and the smaller ones
  ByteBuffer again;
  Fill(&again, 10 << 20, 'b');
  EXPECT_EQ(again.data(), first_data);  // same size, same block: no fresh memory
  EXPECT_EQ(again.view(), std::string(again.size(), 'b'));
  const size_t left = BlockPoolBytes();
  EXPECT_LT(left, pooled - (size_t{8} << 20));  // `again` holds the largest block
  ByteBuffer small;  // below the pooled size: realloc, the pool is not touched
  Fill(&small, 100000, 'c');
  EXPECT_EQ(BlockPoolBytes(), left);
}

TEST(ByteBufferPoolTest, ThePoolStaysUnderItsCapAndTrimFreesIdleBlocks) {
  TrimBlockPool(std::chrono::seconds(0));
  {
    std::vector<ByteBuffer> buffers(40);
    for (ByteBuffer& b : buffers) Fill(&b, 9 << 20, 'x');  // 16 MiB blocks: 640 MiB in all
  }
  EXPECT_LE(BlockPoolBytes(), kBlockPoolCapBytes);
  EXPECT_GE(BlockPoolBytes(), kBlockPoolCapBytes - (size_t{16} << 20));
  TrimBlockPool(std::chrono::hours(1));  // nothing has been idle that long
  EXPECT_GE(BlockPoolBytes(), kBlockPoolCapBytes - (size_t{16} << 20));
  TrimBlockPool(std::chrono::seconds(0));
  EXPECT_EQ(BlockPoolBytes(), 0u);
}

}  // namespace
}  // namespace nobus::parquet
