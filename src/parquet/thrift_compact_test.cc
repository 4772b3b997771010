#include "parquet/thrift_compact.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parquet/test_util.h"

namespace nobus::parquet {
namespace {

using testing::Bytes;

TEST(ThriftCompactTest, TypeDefinedOrderIsOneEmptyMember) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldStruct(1);
  w.EndStruct();
  w.EndStruct();
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x1C, 0x00, 0x00}));
}

TEST(ThriftCompactTest, TimestampLogicalTypeMatchesSpecBytes) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldStruct(8);
  w.FieldBool(1, true);
  w.FieldStruct(2);
  w.FieldStruct(2);
  w.EndStruct();
  w.EndStruct();
  w.EndStruct();
  w.EndStruct();
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x8C, 0x11, 0x1C, 0x2C, 0x00, 0x00, 0x00, 0x00}));
}

TEST(ThriftCompactTest, DataPageHeaderMatchesSpecBytes) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, 0);
  w.FieldI32(2, 7);
  w.FieldI32(3, 9);
  w.FieldStruct(5);
  w.FieldI32(1, 4);
  w.FieldI32(2, 0);
  w.FieldI32(3, 3);
  w.FieldI32(4, 3);
  w.EndStruct();
  w.EndStruct();
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x15, 0x00, 0x15, 0x0E, 0x15, 0x12, 0x2C, 0x15, 0x08,
                                          0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00}));
}

TEST(ThriftCompactTest, LongListHeaderUsesVarintSize) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldList(7, CType::kStruct, 34);
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x79, 0xFC, 0x22}));
}

TEST(ThriftCompactTest, ZigZagVarints) {
  std::string out;
  CompactWriter w(&out);
  w.I32(0);
  w.I32(-1);
  w.I32(1);
  w.I32(4096);
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x00, 0x01, 0x02, 0x80, 0x40}));
}

TEST(ThriftCompactTest, LargeFieldDeltaUsesLongForm) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, 1);
  w.FieldI32(20, 1);
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x15, 0x02, 0x05, 0x28, 0x02}));
}

TEST(ThriftCompactTest, NestedStructRestartsFieldIds) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldStruct(3);
  w.FieldI32(1, 0);
  w.EndStruct();
  w.FieldI32(4, 0);
  w.EndStruct();
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x3C, 0x15, 0x00, 0x00, 0x15, 0x00, 0x00}));
}

}  // namespace
}  // namespace nobus::parquet
