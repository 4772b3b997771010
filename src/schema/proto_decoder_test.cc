#include <gmock/gmock.h>

#include "schema/proto_test_util.h"

namespace nobus::schema {
namespace {

using ::testing::HasSubstr;

class ProtoDecoderTest : public ProtoFixture {};

TEST_F(ProtoDecoderTest, EveryScalarType) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  AddField(&d, "i", 1, FDP::TYPE_INT32);
  AddField(&d, "sh", 2, FDP::TYPE_SINT32);
  AddField(&d, "b", 3, FDP::TYPE_SFIXED32);
  AddField(&d, "l", 4, FDP::TYPE_INT64, FDP::LABEL_REQUIRED);
  AddField(&d, "sl", 5, FDP::TYPE_SINT64);
  AddField(&d, "fl", 6, FDP::TYPE_SFIXED64);
  AddField(&d, "f", 7, FDP::TYPE_FLOAT);
  AddField(&d, "d", 8, FDP::TYPE_DOUBLE);
  AddField(&d, "z", 9, FDP::TYPE_BOOL);
  AddField(&d, "s", 10, FDP::TYPE_STRING);
  AddField(&d, "bin", 11, FDP::TYPE_BYTES);
  AddField(&d, "dt", 12, FDP::TYPE_INT32);
  AddField(&d, "ts", 13, FDP::TYPE_INT64);
  AddField(&d, "dec", 14, FDP::TYPE_STRING);
  ASSERT_TRUE(Use("i INT, sh SMALLINT, b TINYINT, l BIGINT NOT NULL, sl BIGINT, fl BIGINT, "
                  "f FLOAT, d DOUBLE, z BOOLEAN, s STRING, bin BINARY, dt DATE, ts TIMESTAMP, "
                  "dec DECIMAL(6,2)",
                  d)
                  .ok());
  EXPECT_EQ(decoder_->format(), RecordFormat::kProto);
  auto m = New();
  const pb::Reflection* r = m->GetReflection();
  r->SetInt32(m.get(), F("i"), -7);
  r->SetInt32(m.get(), F("sh"), -300);
  r->SetInt32(m.get(), F("b"), -128);
  r->SetInt64(m.get(), F("l"), INT64_MIN);
  r->SetInt64(m.get(), F("sl"), -2);
  r->SetInt64(m.get(), F("fl"), 1LL << 40);
  r->SetFloat(m.get(), F("f"), 1.5f);
  r->SetDouble(m.get(), F("d"), -0.25);
  r->SetBool(m.get(), F("z"), true);
  r->SetString(m.get(), F("s"), "héllo");
  r->SetString(m.get(), F("bin"), std::string("\0\xff", 2));
  r->SetInt32(m.get(), F("dt"), 19782);
  r->SetInt64(m.get(), F("ts"), 1735787045123456);
  r->SetString(m.get(), F("dec"), "-12.50");
  EXPECT_EQ(Row(*m),
            Cat("row{ i32:-7 i32:-300 i32:-128 i64:-9223372036854775808 i64:-2 "
                "i64:1099511627776 f32:1.500000 f64:-0.250000 true str:héllo bin:",
                std::string_view("\0\xff", 2), " i32:19782 i64:1735787045123456 dec:-1250 } "));
}

TEST_F(ProtoDecoderTest, AbsentOptionalFieldsAreNull) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  AddField(&d, "id", 1, FDP::TYPE_INT64, FDP::LABEL_REQUIRED);
  AddField(&d, "msg", 2, FDP::TYPE_STRING);
  ASSERT_TRUE(Use("id BIGINT NOT NULL, msg STRING, extra INT", d).ok());
  auto m = New();
  m->GetReflection()->SetInt64(m.get(), F("id"), 3);
  EXPECT_EQ(Row(*m), "row{ i64:3 null null } ");
}

TEST_F(ProtoDecoderTest, MissingRequiredNamesTheColumn) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  AddField(&d, "id", 1, FDP::TYPE_INT64, FDP::LABEL_REQUIRED);
  AddField(&d, "msg", 2, FDP::TYPE_STRING);
  ASSERT_TRUE(Use("id BIGINT NOT NULL, msg STRING", d).ok());
  auto m = New();
  m->GetReflection()->SetString(m.get(), F("msg"), "x");
  EXPECT_EQ(Row(*m), "ERROR: missing value for NOT NULL column 'id'");
}

pb::DescriptorProto NestedDescriptor(const std::string& inner_ref) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  pb::DescriptorProto* inner = d.add_nested_type();
  inner->set_name("Inner");
  AddField(inner, "x", 1, FDP::TYPE_INT32, FDP::LABEL_REQUIRED);
  AddField(inner, "tags", 2, FDP::TYPE_STRING, FDP::LABEL_REPEATED);
  AddField(&d, "payload", 1, FDP::TYPE_MESSAGE, FDP::LABEL_OPTIONAL, inner_ref);
  AddField(&d, "items", 2, FDP::TYPE_MESSAGE, FDP::LABEL_REPEATED, inner_ref);
  return d;
}

constexpr std::string_view kNestedDdl =
    "payload STRUCT<x: INT NOT NULL, tags: ARRAY<STRING>>, "
    "items ARRAY<STRUCT<x: INT NOT NULL, tags: ARRAY<STRING>>>";

TEST_F(ProtoDecoderTest, NestedMessagesAndRepeatedMessages) {
  ASSERT_TRUE(Use(kNestedDdl, NestedDescriptor("Inner")).ok());
  auto m = New();
  const pb::Reflection* r = m->GetReflection();
  pb::Message* p = r->MutableMessage(m.get(), F("payload"));
  const pb::FieldDescriptor* x = p->GetDescriptor()->FindFieldByName("x");
  const pb::FieldDescriptor* tags = p->GetDescriptor()->FindFieldByName("tags");
  p->GetReflection()->SetInt32(p, x, 1);
  p->GetReflection()->AddString(p, tags, "a");
  p->GetReflection()->AddString(p, tags, "b");
  for (int i = 2; i <= 3; ++i) {
    pb::Message* item = r->AddMessage(m.get(), F("items"));
    item->GetReflection()->SetInt32(item, x, i);
  }
  EXPECT_EQ(Row(*m), "row{ { i32:1 [ str:a str:b ] } [ { i32:2 [ ] } { i32:3 [ ] } ] } ");
}

TEST_F(ProtoDecoderTest, MissingRequiredInNestedMessageNamesThePath) {
  ASSERT_TRUE(Use(kNestedDdl, NestedDescriptor("Inner")).ok());
  auto m = New();
  m->GetReflection()->MutableMessage(m.get(), F("payload"));
  EXPECT_EQ(Row(*m), "ERROR: missing value for NOT NULL column 'payload.x'");
}

std::string Fill(ProtoFixture* t, pb::Message* m, const std::vector<int32_t>& values) {
  for (int32_t v : values) m->GetReflection()->AddInt32(m, m->GetDescriptor()->field(0), v);
  return m->SerializeAsString();
}

TEST_F(ProtoDecoderTest, PackedAndUnpackedRepeatedScalarsDecodeAlike) {
  for (bool packed : {false, true}) {
    pb::DescriptorProto d;
    d.set_name("Rec");
    AddField(&d, "v", 1, FDP::TYPE_SINT32, FDP::LABEL_REPEATED)
        ->mutable_options()
        ->set_packed(packed);
    ASSERT_TRUE(Use("v ARRAY<INT>", d).ok());
    auto m = New();
    std::string bytes = Fill(this, m.get(), {1, -2, 300});
    EXPECT_EQ(static_cast<uint8_t>(bytes[0]) & 7, packed ? 2 : 0);
    EXPECT_EQ(RowOf(bytes), "row{ [ i32:1 i32:-2 i32:300 ] } ") << packed;
    // Both forms may be mixed in one record.
    EXPECT_EQ(RowOf(bytes + bytes), "row{ [ i32:1 i32:-2 i32:300 i32:1 i32:-2 i32:300 ] } ");
  }
}

TEST_F(ProtoDecoderTest, PackedFixedWidthValues) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  AddField(&d, "f", 1, FDP::TYPE_DOUBLE, FDP::LABEL_REPEATED)->mutable_options()->set_packed(true);
  AddField(&d, "g", 2, FDP::TYPE_SFIXED64, FDP::LABEL_REPEATED)
      ->mutable_options()
      ->set_packed(true);
  ASSERT_TRUE(Use("f ARRAY<DOUBLE>, g ARRAY<BIGINT>", d).ok());
  auto m = New();
  const pb::Reflection* r = m->GetReflection();
  r->AddDouble(m.get(), F("f"), 0.5), r->AddDouble(m.get(), F("f"), 2);
  r->AddInt64(m.get(), F("g"), -1);
  EXPECT_EQ(Row(*m), "row{ [ f64:0.500000 f64:2.000000 ] [ i64:-1 ] } ");
}

TEST_F(ProtoDecoderTest, Maps) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  pb::DescriptorProto* inner = d.add_nested_type();
  inner->set_name("Point");
  AddField(inner, "x", 1, FDP::TYPE_DOUBLE);
  AddMapField(&d, "attrs", 1, FDP::TYPE_STRING, FDP::TYPE_INT32);
  AddMapField(&d, "points", 2, FDP::TYPE_INT64, FDP::TYPE_MESSAGE, ".t.Rec.Point");
  ASSERT_TRUE(Use("attrs MAP<STRING, INT>, points MAP<BIGINT, STRUCT<x: DOUBLE>>", d).ok());
  auto m = New();
  const pb::Reflection* r = m->GetReflection();
  pb::Message* e = r->AddMessage(m.get(), F("attrs"));
  e->GetReflection()->SetString(e, e->GetDescriptor()->field(0), "k");
  e->GetReflection()->SetInt32(e, e->GetDescriptor()->field(1), 9);
  pb::Message* p = r->AddMessage(m.get(), F("points"));
  p->GetReflection()->SetInt64(p, p->GetDescriptor()->field(0), 7);
  pb::Message* pt = p->GetReflection()->MutableMessage(p, p->GetDescriptor()->field(1));
  pt->GetReflection()->SetDouble(pt, pt->GetDescriptor()->field(0), 1.25);
  EXPECT_EQ(Row(*m), "row{ map[ str:k i32:9 ] map[ i64:7 { f64:1.250000 } ] } ");
}

TEST_F(ProtoDecoderTest, MapEntryWithoutKeyOrValueTakesDefaults) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  AddMapField(&d, "attrs", 1, FDP::TYPE_STRING, FDP::TYPE_INT32);
  ASSERT_TRUE(Use("attrs MAP<STRING, INT>", d).ok());
  // Field 1, length 0: an entry with neither key nor value.
  EXPECT_EQ(RowOf(std::string("\x0a\x00", 2)), "row{ map[ str: i32:0 ] } ");
}

TEST_F(ProtoDecoderTest, LastOccurrenceWinsAndMessagesMerge) {
  pb::DescriptorProto d = NestedDescriptor("Inner");
  AddField(&d, "n", 3, FDP::TYPE_INT32);
  ASSERT_TRUE(Use(Cat(kNestedDdl, ", n INT"), d).ok());
  auto a = New(), b = New();
  const pb::Reflection* r = a->GetReflection();
  r->SetInt32(a.get(), F("n"), 1);
  r->SetInt32(b.get(), F("n"), 2);
  pb::Message* pa = r->MutableMessage(a.get(), F("payload"));
  pa->GetReflection()->SetInt32(pa, pa->GetDescriptor()->field(0), 5);
  pa->GetReflection()->AddString(pa, pa->GetDescriptor()->field(1), "a");
  pb::Message* pb_ = r->MutableMessage(b.get(), F("payload"));
  pb_->GetReflection()->AddString(pb_, pb_->GetDescriptor()->field(1), "b");
  // Protobuf's own merge of the concatenation is the reference.
  auto merged = New();
  ASSERT_TRUE(merged->ParsePartialFromString(a->SerializePartialAsString() +
                                             b->SerializePartialAsString()));
  std::string want = Row(*merged);
  EXPECT_EQ(want, "row{ { i32:5 [ str:a str:b ] } [ ] i32:2 } ");
  EXPECT_EQ(RowOf(a->SerializePartialAsString() + b->SerializePartialAsString()), want);
}

TEST_F(ProtoDecoderTest, UnknownFieldsAreSkipped) {
  pb::DescriptorProto wide;
  wide.set_name("Rec");
  AddField(&wide, "id", 1, FDP::TYPE_INT64);
  AddField(&wide, "u1", 2, FDP::TYPE_STRING);
  AddField(&wide, "u2", 3, FDP::TYPE_SFIXED64);
  AddField(&wide, "u3", 4, FDP::TYPE_SFIXED32);
  AddField(&wide, "u4", 5000, FDP::TYPE_INT64);
  ASSERT_TRUE(Use("id BIGINT, u1 STRING, u2 BIGINT, u3 BIGINT, u4 BIGINT", wide).ok());
  std::unique_ptr<pb::Message> m = New();
  const pb::Reflection* r = m->GetReflection();
  r->SetInt64(m.get(), F("id"), 42);
  r->SetString(m.get(), F("u1"), "skip me");
  r->SetInt64(m.get(), F("u2"), 1);
  r->SetInt32(m.get(), F("u3"), 2);
  r->SetInt64(m.get(), F("u4"), -3);
  // A group (field 6, start/end) too.
  std::string bytes = m->SerializeAsString() + std::string("\x33\x08\x01\x34", 4);
  m.reset();  // before Use() replaces the pool its type lives in
  pb::DescriptorProto narrow;
  narrow.set_name("Rec");
  AddField(&narrow, "id", 1, FDP::TYPE_INT64);
  ASSERT_TRUE(Use("id BIGINT", narrow).ok());
  EXPECT_EQ(RowOf(bytes), "row{ i64:42 } ");
}

TEST_F(ProtoDecoderTest, RangeChecksNameTheColumn) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  AddField(&d, "t", 1, FDP::TYPE_INT32);
  ASSERT_TRUE(Use("t TINYINT", d).ok());
  auto m = New();
  m->GetReflection()->SetInt32(m.get(), F("t"), 300);
  EXPECT_EQ(Row(*m), "ERROR: column 't': value 300 out of range for TINYINT");
}

TEST_F(ProtoDecoderTest, InvalidUtf8IsRejected) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  AddField(&d, "s", 1, FDP::TYPE_STRING);
  ASSERT_TRUE(Use("s STRING", d).ok());
  EXPECT_EQ(RowOf(std::string("\x0a\x02\xff\xfe", 4)),
            "ERROR: column 's': string is not valid UTF-8");
}

TEST_F(ProtoDecoderTest, InexactDecimalIsRejected) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  AddField(&d, "d", 1, FDP::TYPE_STRING);
  ASSERT_TRUE(Use("d DECIMAL(5,1)", d).ok());
  EXPECT_THAT(RowOf(std::string("\x0a\x04"
                                "1.55",
                                6)),
              HasSubstr("ERROR: column 'd':"));
  EXPECT_EQ(RowOf(std::string("\x0a\x04"
                              "1.50",
                              6)),
            "row{ dec:15 } ");
}

TEST_F(ProtoDecoderTest, WireTypeMismatchNamesTheColumn) {
  pb::DescriptorProto d;
  d.set_name("Rec");
  AddField(&d, "id", 1, FDP::TYPE_INT64);
  ASSERT_TRUE(Use("id BIGINT", d).ok());
  EXPECT_THAT(RowOf(std::string("\x0d\x01\x02\x03\x04", 5)),
              HasSubstr("ERROR: column 'id': wire type 5"));
}

TEST_F(ProtoDecoderTest, TruncationsAndGarbageAreRejectedCleanly) {
  ASSERT_TRUE(Use(kNestedDdl, NestedDescriptor(".t.Rec.Inner")).ok());
  auto m = New();
  const pb::Reflection* r = m->GetReflection();
  pb::Message* p = r->MutableMessage(m.get(), F("payload"));
  p->GetReflection()->SetInt32(p, p->GetDescriptor()->field(0), 100000);
  p->GetReflection()->AddString(p, p->GetDescriptor()->field(1), "abcdef");
  std::string bytes = m->SerializeAsString();
  ASSERT_EQ(RowOf(bytes), "row{ { i32:100000 [ str:abcdef ] } [ ] } ");
  for (size_t n = 1; n < bytes.size(); ++n) {
    std::string row = RowOf(bytes.substr(0, n));
    EXPECT_EQ(row.rfind("ERROR: ", 0), 0u) << n << " " << row;
  }
  for (std::string bad : {std::string(1, '\0'), std::string("\x0f"), std::string("\x0e\x01"),
                          std::string("\x0b"), std::string("\x0c"), std::string(6, '\xff')}) {
    EXPECT_EQ(RowOf(bad).rfind("ERROR: malformed protobuf record", 0), 0u) << bad;
  }
}

}  // namespace
}  // namespace nobus::schema
