#include "kafka/wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "kafka/api.h"

namespace nobus::kafka {
namespace {

using ::testing::HasSubstr;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(KafkaWireTest, FixedWidthIsBigEndian) {
  std::string out;
  Writer w(&out);
  w.Int8(-2);
  w.Int16(0x0102);
  w.Int32(-1);
  w.Int64(0x0102030405060708);
  w.Uint32(0xfffffffeu);
  w.Bool(true);
  w.Int16(kInvalidRecord);
  EXPECT_EQ(out, Bytes({0xfe, 1, 2, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff,
                        0xff, 0xfe, 1, 0, 87}));
  Reader r(out);
  EXPECT_EQ(*r.Int8("a"), -2);
  EXPECT_EQ(*r.Int16("b"), 0x0102);
  EXPECT_EQ(*r.Int32("c"), -1);
  EXPECT_EQ(*r.Int64("d"), 0x0102030405060708);
  EXPECT_EQ(*r.Uint32("e"), 0xfffffffeu);
  EXPECT_TRUE(*r.Bool("f"));
  EXPECT_EQ(*r.Int16("error_code"), 87);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(r.ExpectEnd("test").ok());
}

TEST(KafkaWireTest, BoolIsTrueForAnyNonZeroByte) {
  const std::string r_in = Bytes({0, 2});
  Reader r(r_in);
  EXPECT_FALSE(*r.Bool("a"));
  EXPECT_TRUE(*r.Bool("b"));
}

TEST(KafkaWireTest, Uuid) {
  Uuid id;
  for (int i = 0; i < 16; ++i) id[i] = static_cast<uint8_t>(i * 17);
  std::string out;
  Writer(&out).Uuid(id);
  ASSERT_EQ(out.size(), 16u);
  Reader r(out);
  EXPECT_EQ(*r.Uuid("topic_id"), id);
}

TEST(KafkaWireTest, VarintsMatchKnownBytes) {
  std::string out;
  Writer w(&out);
  w.UnsignedVarint(300);  // ac 02
  w.Varint(-1);           // zigzag 1
  w.Varint(1);            // zigzag 2
  w.Varint(std::numeric_limits<int32_t>::min());  // ff ff ff ff 0f
  w.Varlong(-64);                                 // zigzag 127: 7f
  w.Varlong(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(out.substr(0, 10), Bytes({0xac, 0x02, 0x01, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f}));
  Reader r(out);
  EXPECT_EQ(*r.UnsignedVarint("a"), 300u);
  EXPECT_EQ(*r.Varint("b"), -1);
  EXPECT_EQ(*r.Varint("c"), 1);
  EXPECT_EQ(*r.Varint("d"), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(*r.Varlong("e"), -64);
  EXPECT_EQ(*r.Varlong("f"), std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(r.empty());
}

TEST(KafkaWireTest, OverlongAndOverflowingVarintsAreRefused) {
  // 5th byte carrying bits 32+.
  const std::string a_in = Bytes({0xff, 0xff, 0xff, 0xff, 0x1f});
  Reader a(a_in);
  EXPECT_THAT(a.Varint("offsetDelta").status().message(), HasSubstr("exceeds 32 bits"));
  EXPECT_EQ(a.position(), 0u);  // a failed read does not move
  const std::string b_in = Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x00});
  Reader b(b_in);
  EXPECT_THAT(b.UnsignedVarint("count").status().message(), HasSubstr("longer than 5 bytes"));
  const std::string c_in = Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02});
  Reader c(c_in);
  EXPECT_THAT(c.Varlong("ts").status().message(), HasSubstr("exceeds 64 bits"));
  const std::string d_in = Bytes({0x80});
  Reader d(d_in);
  EXPECT_THAT(d.Varint("length").status().message(), HasSubstr("truncated varint"));
}

TEST(KafkaWireTest, StringsInBothForms) {
  std::string out;
  Writer w(&out);
  w.String("abc", false);
  w.String("abc", true);
  w.NullableString(std::nullopt, false);
  w.NullableString(std::nullopt, true);
  w.NullableString("", true);
  w.Bytes("xy", false);
  w.NullableBytes(std::nullopt, false);
  w.Bytes("xy", true);
  w.NullableBytes(std::nullopt, true);
  EXPECT_EQ(out, Bytes({0, 3, 'a', 'b', 'c', 4, 'a', 'b', 'c', 0xff, 0xff, 0, 1, 0, 0, 0, 2, 'x',
                        'y', 0xff, 0xff, 0xff, 0xff, 3, 'x', 'y', 0}));
  Reader r(out);
  EXPECT_EQ(*r.String(false, "s1"), "abc");
  EXPECT_EQ(*r.String(true, "s2"), "abc");
  EXPECT_EQ(*r.NullableString(false, "s3"), std::nullopt);
  EXPECT_EQ(*r.NullableString(true, "s4"), std::nullopt);
  EXPECT_EQ(*r.NullableString(true, "s5"), std::optional<std::string_view>(""));
  EXPECT_EQ(*r.Bytes(false, "b1"), "xy");
  EXPECT_EQ(*r.NullableBytes(false, "b2"), std::nullopt);
  EXPECT_EQ(*r.Bytes(true, "b3"), "xy");
  EXPECT_EQ(*r.NullableBytes(true, "b4"), std::nullopt);
  EXPECT_TRUE(r.empty());
}

TEST(KafkaWireTest, MalformedLengthsNameTheFieldAndDoNotMove) {
  const std::string null_string_in = Bytes({0xff, 0xff});
  Reader null_string(null_string_in);
  auto s = null_string.String(false, "topic name");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.status().message(), HasSubstr("malformed topic name (STRING) at byte 0: null"));
  EXPECT_EQ(null_string.position(), 0u);

  const std::string compact_null_in = Bytes({0});
  Reader compact_null(compact_null_in);
  EXPECT_FALSE(compact_null.String(true, "name").ok());

  const std::string negative_in = Bytes({0xff, 0xfe});
  Reader negative(negative_in);
  EXPECT_THAT(negative.NullableString(false, "client_id").status().message(),
              HasSubstr("negative length -2"));
  EXPECT_EQ(negative.position(), 0u);

  const std::string too_long_in = Bytes({0, 0, 0, 5, 'a', 'b'});
  Reader too_long(too_long_in);
  EXPECT_THAT(too_long.Bytes(false, "records").status().message(),
              HasSubstr("length 5 exceeds the 2 bytes left"));
  EXPECT_EQ(too_long.position(), 0u);

  const std::string truncated_in = Bytes({0, 1});
  Reader truncated(truncated_in);
  EXPECT_THAT(truncated.Int32("timeout_ms").status().message(),
              HasSubstr("malformed timeout_ms (INT32) at byte 0: truncated, needs 4 bytes, "
                        "2 left"));
}

TEST(KafkaWireTest, ArrayLengths) {
  std::string out;
  Writer w(&out);
  w.ArrayLength(2, false);
  w.Int16(1);
  w.Int16(2);
  w.ArrayLength(-1, false);
  w.ArrayLength(1, true);
  w.Int8(7);
  w.ArrayLength(-1, true);
  Reader r(out);
  EXPECT_EQ(*r.ArrayLength(false, "a"), 2);
  ASSERT_TRUE(r.Skip(4, "elements").ok());
  EXPECT_EQ(*r.ArrayLength(false, "b"), -1);
  EXPECT_EQ(*r.ArrayLength(true, "c"), 1);
  EXPECT_EQ(*r.Int8("element"), 7);
  EXPECT_EQ(*r.ArrayLength(true, "d"), -1);
  EXPECT_TRUE(r.empty());

  // More elements than bytes: refused before anyone reserves them.
  const std::string huge_in = Bytes({0x7f, 0xff, 0xff, 0xff, 0});
  Reader huge(huge_in);
  EXPECT_THAT(huge.ArrayLength(false, "topic_data").status().message(),
              HasSubstr("count 2147483647 exceeds the 1 bytes left"));
  const std::string compact_huge_in = Bytes({0xff, 0xff, 0xff, 0xff, 0x0f});
  Reader compact_huge(compact_huge_in);
  EXPECT_FALSE(compact_huge.ArrayLength(true, "topics").ok());
}

TEST(KafkaWireTest, TaggedFields) {
  // Two tagged fields: tag 0 with 3 bytes, tag 5 with 0 bytes; then an INT8.
  const std::string r_in = Bytes({2, 0, 3, 'a', 'b', 'c', 5, 0, 9});
  Reader r(r_in);
  ASSERT_TRUE(r.SkipTaggedFields().ok());
  EXPECT_EQ(*r.Int8("after"), 9);

  const std::string not_flexible_in = Bytes({2});
  Reader not_flexible(not_flexible_in);
  ASSERT_TRUE(not_flexible.SkipTaggedFields(false).ok());
  EXPECT_EQ(not_flexible.position(), 0u);

  const std::string truncated_in = Bytes({1, 0, 4, 'a'});
  Reader truncated(truncated_in);
  absl::Status st = truncated.SkipTaggedFields();
  EXPECT_THAT(st.message(), HasSubstr("tagged field 0"));
  EXPECT_EQ(truncated.position(), 0u);

  std::string out;
  Writer w(&out);
  w.EmptyTags();
  w.EmptyTags(false);
  EXPECT_EQ(out, Bytes({0}));
}

TEST(KafkaWireTest, ExpectEndNamesTheLeftovers) {
  const std::string r_in = Bytes({1, 2, 3});
  Reader r(r_in);
  ASSERT_TRUE(r.Skip(1, "x").ok());
  EXPECT_THAT(r.ExpectEnd("ApiVersions request").message(),
              HasSubstr("ApiVersions request: 2 unexpected bytes after byte 1"));
  EXPECT_EQ(r.rest(), Bytes({2, 3}));
}

TEST(KafkaWireTest, LongStringsAreCutAtACharacterBoundary) {
  // 32766 ASCII bytes then a 3-byte character straddling the limit.
  std::string s(kMaxStringBytes - 1, 'a');
  s += "\xe2\x82\xac";  // U+20AC
  std::string out;
  Writer w(&out);
  w.String(s, false);
  Reader r(out);
  EXPECT_EQ(*r.String(false, "message"), std::string(kMaxStringBytes - 1, 'a'));
  out.clear();
  w.NullableString(std::string(100000, 'b'), true);
  Reader c(out);
  EXPECT_EQ(c.NullableString(true, "message")->value().size(), kMaxStringBytes);
}

TEST(KafkaWireTest, Frames) {
  std::string out = "xx";  // frames append after what is there
  Writer w(&out);
  size_t frame = w.BeginFrame();
  w.Int32(7);
  w.String("ok", false);
  ASSERT_TRUE(w.EndFrame(frame).ok());
  EXPECT_EQ(out, Bytes({'x', 'x', 0, 0, 0, 8, 0, 0, 0, 7, 0, 2, 'o', 'k'}));
  EXPECT_EQ(w.EndFrame(out.size()).code(), absl::StatusCode::kInternal);
}

TEST(KafkaApiTest, FlexibleVersions) {
  EXPECT_FALSE(IsFlexible(ApiKey::kProduce, 8));
  EXPECT_TRUE(IsFlexible(ApiKey::kProduce, 9));
  EXPECT_FALSE(IsFlexible(ApiKey::kMetadata, 8));
  EXPECT_TRUE(IsFlexible(ApiKey::kMetadata, 9));
  EXPECT_FALSE(IsFlexible(ApiKey::kFetch, 11));
  EXPECT_TRUE(IsFlexible(ApiKey::kFetch, 12));
  EXPECT_TRUE(IsFlexible(ApiKey::kFindCoordinator, 3));
  EXPECT_FALSE(IsFlexible(ApiKey::kSaslHandshake, 1));
  EXPECT_FALSE(IsFlexible(ApiKey::kApiVersions, 2));
  EXPECT_TRUE(IsFlexible(ApiKey::kApiVersions, 3));
  EXPECT_TRUE(IsFlexible(ApiKey::kInitProducerId, 2));
  EXPECT_FALSE(IsFlexible(ApiKey::kSaslAuthenticate, 1));
  EXPECT_TRUE(IsFlexible(ApiKey::kSaslAuthenticate, 2));
  EXPECT_FALSE(IsFlexible(int16_t{99}, 50));
  // ApiVersions answers with response header v0 even when flexible.
  EXPECT_FALSE(ResponseHeaderFlexible(18, 3));
  EXPECT_TRUE(ResponseHeaderFlexible(22, 4));
  EXPECT_FALSE(ResponseHeaderFlexible(0, 7));
  static_assert(IsFlexible(ApiKey::kProduce, 9));
}

TEST(KafkaApiTest, Names) {
  EXPECT_EQ(ApiKeyName(18), "ApiVersions");
  EXPECT_EQ(ApiKeyName(42), "Unknown");
  EXPECT_EQ(ErrorName(ErrorCode::kInvalidRecord), "INVALID_RECORD");
  EXPECT_EQ(ErrorName(ErrorCode::kUnknownServerError), "UNKNOWN_SERVER_ERROR");
  EXPECT_EQ(ErrorName(static_cast<ErrorCode>(1234)), "UNKNOWN");
  EXPECT_EQ(static_cast<int16_t>(ErrorCode::kUnsupportedCompressionType), 76);
}

}  // namespace
}  // namespace nobus::kafka
