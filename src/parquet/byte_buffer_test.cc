#include "parquet/byte_buffer.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace nobus::parquet
