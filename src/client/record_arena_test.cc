#include "client/record_arena.h"

#include <gtest/gtest.h>

namespace nobus::client {
namespace {

TEST(RecordArenaTest, SmallRecordsShareAChunkBackToBack) {
  RecordArena arena(1024);
  RecordSpan a = arena.Allocate(100);
  RecordSpan b = arena.Allocate(200);
  EXPECT_EQ(a.chunk, b.chunk);
  EXPECT_EQ(a.pos + a.size, b.pos);
  EXPECT_EQ(arena.chunks_allocated(), 1);
  a.chunk->Unref();
  b.chunk->Unref();
}

TEST(RecordArenaTest, FullChunkStartsANewOne) {
  RecordArena arena(1024);
  RecordSpan a = arena.Allocate(500);
  RecordSpan b = arena.Allocate(500);
  RecordSpan c = arena.Allocate(100);
  EXPECT_EQ(a.chunk, b.chunk);
  EXPECT_NE(b.chunk, c.chunk);
  EXPECT_EQ(c.pos, 0u);
  for (RecordSpan* s : {&a, &b, &c}) s->chunk->Unref();
}

TEST(RecordArenaTest, LargeRecordGetsItsOwnChunkAndLeavesTheCurrentOne) {
  RecordArena arena(1024);
  RecordSpan small = arena.Allocate(10);
  RecordSpan large = arena.Allocate(5000);
  RecordSpan after = arena.Allocate(10);
  EXPECT_NE(large.chunk, small.chunk);
  EXPECT_EQ(large.chunk->capacity(), 5000u);
  EXPECT_EQ(after.chunk, small.chunk);
  EXPECT_EQ(after.pos, 10u);
  for (RecordSpan* s : {&small, &large, &after}) s->chunk->Unref();
}

TEST(RecordArenaTest, EachSpanHoldsAReference) {
  RecordArena arena(1024);
  RecordSpan a = arena.Allocate(10);
  RecordSpan b = arena.Allocate(10);
  // The arena's own reference plus one per span.
  EXPECT_EQ(a.chunk->refs_for_test(), 3);
  b.chunk->Unref();
  EXPECT_EQ(a.chunk->refs_for_test(), 2);
  a.chunk->Unref();
}

TEST(RecordArenaTest, RecordHeaderIsAFieldOneItem) {
  char buf[8];
  char* end = PutRecordHeader(buf, 300);
  ASSERT_EQ(end - buf, 3);
  EXPECT_EQ(static_cast<uint8_t>(buf[0]), 0x0a);
  EXPECT_EQ(static_cast<uint8_t>(buf[1]), 0xac);  // 300 = 0b10_0101100
  EXPECT_EQ(static_cast<uint8_t>(buf[2]), 0x02);
  EXPECT_EQ(EncodedRecordSize(300), 303u);
  EXPECT_EQ(EncodedRecordSize(0), 2u);
}

}  // namespace
}  // namespace nobus::client
