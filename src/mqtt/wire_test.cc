// The MQTT data representations: UTF-8 rules, Variable Byte Integers, strings and binary data,
// topic names and filters, and the Reader's promise that a failed read does not move it.
#include "mqtt/wire.h"

#include <gtest/gtest.h>

#include <string>

#include "mqtt/mqtt_test_util.h"

namespace nobus::mqtt {
namespace {

using namespace std::string_literals;
using testing::FromHex;
using testing::IsMalformed;
using testing::ToHex;

TEST(MqttUtf8Test, WellFormedCharactersOfEveryLength) {
  EXPECT_TRUE(IsMqttUtf8(""));
  EXPECT_TRUE(IsMqttUtf8("main.default.t"));
  EXPECT_TRUE(IsMqttUtf8("\xc3\xa9"));              // U+00E9
  EXPECT_TRUE(IsMqttUtf8("\xe2\x82\xac"));          // U+20AC
  EXPECT_TRUE(IsMqttUtf8("\xef\xbb\xbf"));          // U+FEFF (a BOM is not stripped: MQTT-1.5.4-3)
  EXPECT_TRUE(IsMqttUtf8("\xed\x9f\xbf"));          // U+D7FF, just below the surrogates
  EXPECT_TRUE(IsMqttUtf8("\xee\x80\x80"));          // U+E000, just above them
  EXPECT_TRUE(IsMqttUtf8("\xf0\x9f\x98\x80"));      // U+1F600
  EXPECT_TRUE(IsMqttUtf8("\xf4\x8f\xbf\xbf"));      // U+10FFFF
  EXPECT_TRUE(IsMqttUtf8("\x01\x1f\x7f"));          // control characters: SHOULD NOT, allowed
}

TEST(MqttUtf8Test, EveryProblemIsNamedAtItsOffset) {
  struct Case {
    std::string s;
    size_t offset;
    std::string_view what;
  };
  const Case cases[] = {
      {"ab\0c"s, 2, "U+0000"},
      {"\xc0\x80", 0, "overlong"},                  // the "modified UTF-8" NUL
      {"a\xc1\xbf", 1, "overlong"},
      {"\xe0\x9f\xbf", 0, "overlong"},
      {"\xf0\x8f\xbf\xbf", 0, "overlong"},
      {"x\xed\xa0\x80", 1, "surrogate"},            // U+D800
      {"\xed\xbf\xbf", 0, "surrogate"},             // U+DFFF
      {"\xf4\x90\x80\x80", 0, "beyond U+10FFFF"},
      {"\xf5\x80\x80\x80", 0, "beyond U+10FFFF"},
      {"\xff", 0, "beyond U+10FFFF"},
      {"ab\x80", 2, "continuation"},
      {"\xc3", 0, "cut short"},
      {"\xe2\x82", 0, "cut short"},
      {"\xc3(", 0, "missing continuation"},
      {"\xe2\x82(", 0, "missing continuation"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(ToHex(c.s));
    auto problem = FindUtf8Problem(c.s);
    ASSERT_TRUE(problem.has_value());
    EXPECT_EQ(problem->offset, c.offset);
    EXPECT_NE(problem->what.find(c.what), std::string_view::npos) << problem->what;
  }
}

TEST(MqttTopicTest, NamesAndFilters) {
  EXPECT_TRUE(IsValidTopicName("main.default.t"));
  EXPECT_TRUE(IsValidTopicName("/"));
  EXPECT_FALSE(IsValidTopicName(""));
  EXPECT_FALSE(IsValidTopicName("a/+"));
  EXPECT_FALSE(IsValidTopicName("a/#"));
  EXPECT_FALSE(IsValidTopicName("a\0b"s));
  for (std::string_view f : {"#", "+", "a/+/b", "a/#", "+/+", "/", "$share/g/a/#", "a//b"}) {
    EXPECT_TRUE(IsValidTopicFilter(f)) << f;
  }
  for (std::string_view f : {"", "a#", "a/#/b", "a+/b", "#/a", "a/b+", "++"}) {
    EXPECT_FALSE(IsValidTopicFilter(f)) << f;
  }
}

TEST(MqttWireTest, VariableByteIntegerBoundaries) {
  const std::pair<uint32_t, std::string> cases[] = {
      {0, "00"},           {127, "7f"},           {128, "8001"},
      {16383, "ff7f"},     {16384, "808001"},     {2097151, "ffff7f"},
      {2097152, "80808001"}, {268435455, "ffffff7f"},
  };
  for (const auto& [v, hex] : cases) {
    std::string out;
    Writer w(&out);
    w.VariableByteInt(v);
    EXPECT_EQ(ToHex(out), hex);
    EXPECT_EQ(VariableByteIntSize(v), out.size());
    Reader r(out, "TEST");
    auto got = r.VariableByteInt("value");
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, v);
    EXPECT_TRUE(r.empty());
  }
}

TEST(MqttWireTest, VariableByteIntegerRefusals) {
  for (const auto& [hex, what] : {std::pair{"ffffffff01", "longer than 4 bytes"},
                                  std::pair{"8000", "not in its shortest form (2 bytes)"},
                                  std::pair{"ff8000", "not in its shortest form (3 bytes)"},
                                  std::pair{"8080", "truncated"}, std::pair{"", "truncated"}}) {
    const std::string bytes = FromHex(hex);
    Reader r(bytes, "TEST");
    EXPECT_TRUE(IsMalformed(r.VariableByteInt("value").status(),
                            Cat("malformed TEST: value (Variable Byte Integer) at byte 0: ", what)));
    EXPECT_EQ(r.position(), 0u);
  }
}

TEST(MqttWireTest, IntegersAreBigEndian) {
  const std::string bytes = FromHex("0102030405060708");
  Reader r(bytes, "TEST");
  EXPECT_EQ(*r.Byte("a"), 0x01);
  EXPECT_EQ(*r.TwoByteInt("b"), 0x0203);
  EXPECT_EQ(*r.FourByteInt("c"), 0x04050607u);
  EXPECT_TRUE(IsMalformed(r.TwoByteInt("d").status(),
                          "d (Two Byte Integer) at byte 7: truncated, needs 2 bytes, 1 left"));
  EXPECT_EQ(r.position(), 7u);
  std::string out;
  Writer w(&out);
  w.Byte(1);
  w.TwoByteInt(0x0203);
  w.FourByteInt(0x04050607);
  EXPECT_EQ(ToHex(out), "01020304050607");
}

TEST(MqttWireTest, StringsAndBinary) {
  const std::string bytes = FromHex("0003616263") + FromHex("00020001") + FromHex("0000");
  Reader r(bytes, "TEST", 0);
  EXPECT_EQ(*r.Utf8String("s"), "abc");
  EXPECT_EQ(*r.Binary("b"), std::string_view("\x00\x01", 2));
  EXPECT_EQ(*r.Utf8String("empty"), "");
  EXPECT_TRUE(r.empty());

  const std::string long_length = FromHex("0005616263");
  Reader r2(long_length, "TEST");
  EXPECT_TRUE(IsMalformed(r2.Utf8String("s").status(),
                          "s (UTF-8 String) at byte 0: length 5 exceeds the 3 bytes left"));
  EXPECT_EQ(r2.position(), 0u);
  // A failed string read leaves the Reader where it was; the offset names the bad character.
  const std::string nul = FromHex("ffff0004610062ee");
  Reader r3(nul, "TEST", 2);
  EXPECT_TRUE(IsMalformed(r3.Utf8String("client identifier").status(),
                          "client identifier (UTF-8 String) at byte 5: invalid UTF-8: U+0000"));
  EXPECT_EQ(r3.position(), 2u);
  EXPECT_EQ(*r3.Binary("bytes may hold NUL"), std::string_view("a\0b\xee", 4));
}

TEST(MqttWireTest, WriterCutsLongStringsAtACharacterBoundary) {
  std::string s(kMaxStringBytes - 1, 'a');
  s += "\xe2\x82\xac";  // a 3-byte character straddling the limit
  std::string out;
  Writer w(&out);
  w.Utf8String(s);
  Reader r(out, "TEST");
  auto got = r.Utf8String("s");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), kMaxStringBytes - 1);
  out.clear();
  w.Binary(std::string(kMaxStringBytes + 10, 'b'));
  EXPECT_EQ(out.size(), 2 + kMaxStringBytes);
}

TEST(MqttWireTest, SectionsKeepPacketOffsets) {
  const std::string bytes = FromHex("aaaa0102ff");
  Reader r(bytes, "TEST", 2);
  auto section = r.Section(2, "properties");
  ASSERT_TRUE(section.ok());
  EXPECT_EQ(r.position(), 4u);
  EXPECT_EQ(*section->Byte("x"), 1);
  EXPECT_EQ(*section->Byte("y"), 2);
  EXPECT_TRUE(IsMalformed(section->Byte("z").status(), "z (Byte) at byte 4: truncated"));
  EXPECT_TRUE(IsMalformed(r.Section(2, "more").status(),
                          "more at byte 4: length 2 exceeds the 1 bytes left"));
  EXPECT_TRUE(IsMalformed(r.ExpectEnd("payload"), "1 bytes after the payload at byte 4"));
  EXPECT_EQ(r.Rest(), "\xff");
  EXPECT_TRUE(r.ExpectEnd("payload").ok());
}

TEST(MqttWireTest, HexFormatting) {
  EXPECT_EQ(Hex(0), "0x00");
  EXPECT_EQ(Hex(0x1f), "0x1f");
  EXPECT_EQ(Hex(0x123), "0x0123");
}

}  // namespace
}  // namespace nobus::mqtt
