#include "kafka/request_header.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "kafka/api.h"

namespace nobus::kafka {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;

// librdkafka 2.0.2's first request (spec 2.3): ApiVersions v3, correlation id 1, client_id
// "rdkafka" with an INT16 length, an empty header tag buffer, then the v3 body.
const std::string kLibrdkafkaApiVersions =
    "\x00\x12\x00\x03\x00\x00\x00\x01\x00\x07rdkafka\x00\x0blibrdkafka\x06" "2.0.2\x00"s;
// kafka-python 2.0.2's first request: ApiVersions v0, empty body.
const std::string kKafkaPythonApiVersions =
    "\x00\x12\x00\x00\x00\x00\x00\x01\x00\x17kafka-python-producer-1"s;

TEST(KafkaRequestHeaderTest, LibrdkafkaApiVersionsV3) {
  auto h = ParseRequestHeader(kLibrdkafkaApiVersions);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->api_key, static_cast<int16_t>(ApiKey::kApiVersions));
  EXPECT_EQ(h->api_version, 3);
  EXPECT_EQ(h->correlation_id, 1);
  EXPECT_EQ(h->client_id, std::optional<std::string_view>("rdkafka"));
  EXPECT_TRUE(h->flexible);
  Reader body = h->body;
  EXPECT_EQ(*body.String(h->flexible, "client_software_name"), "librdkafka");
  EXPECT_EQ(*body.String(h->flexible, "client_software_version"), "2.0.2");
  ASSERT_TRUE(body.SkipTaggedFields(h->flexible).ok());
  EXPECT_TRUE(body.ExpectEnd("ApiVersions request").ok());
}

TEST(KafkaRequestHeaderTest, KafkaPythonApiVersionsV0) {
  auto h = ParseRequestHeader(kKafkaPythonApiVersions);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->api_version, 0);
  EXPECT_EQ(h->client_id, std::optional<std::string_view>("kafka-python-producer-1"));
  EXPECT_FALSE(h->flexible);
  EXPECT_TRUE(h->body.empty());
}

TEST(KafkaRequestHeaderTest, FlexibleProduceSkipsHeaderTags) {
  // Produce v9, correlation 0x01020304, null client_id, a header tag buffer with one field, then
  // the body's first byte.
  const std::string frame = "\x00\x00\x00\x09\x01\x02\x03\x04\xff\xff\x01\x07\x02zz\x42"s;
  auto h = ParseRequestHeader(frame);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->api_key, 0);
  EXPECT_EQ(h->correlation_id, 0x01020304);
  EXPECT_EQ(h->client_id, std::nullopt);
  EXPECT_TRUE(h->flexible);
  EXPECT_EQ(h->body.rest(), "\x42");
}

TEST(KafkaRequestHeaderTest, NonFlexibleProduceHasNoTagBuffer) {
  const std::string frame = "\x00\x00\x00\x07\x00\x00\x00\x05\x00\x01x\x00"s;
  auto h = ParseRequestHeader(frame);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_FALSE(h->flexible);
  EXPECT_EQ(h->body.rest(), "\x00"s);  // the body's first byte, not a tag buffer
}

TEST(KafkaRequestHeaderTest, UnknownApiKeysParseAsV1) {
  const std::string frame = "\x00\x63\x00\x20\x00\x00\x00\x09\x00\x00\x01\x02"s;
  auto h = ParseRequestHeader(frame);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->api_key, 99);
  EXPECT_EQ(h->correlation_id, 9);
  EXPECT_FALSE(h->flexible);
  EXPECT_EQ(h->body.remaining(), 2u);
}

TEST(KafkaRequestHeaderTest, EveryTruncationIsInvalidArgument) {
  // The header of the librdkafka request is 18 bytes: 8 fixed, client_id (2 + 7), the tag buffer.
  for (size_t n = 0; n < 18; ++n) {
    auto h = ParseRequestHeader(std::string_view(kLibrdkafkaApiVersions).substr(0, n));
    ASSERT_FALSE(h.ok()) << n;
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(h.status().message(), HasSubstr("request header")) << n;
  }
  EXPECT_TRUE(ParseRequestHeader(std::string_view(kLibrdkafkaApiVersions).substr(0, 18)).ok());
}

TEST(KafkaRequestHeaderTest, ResponseHeaders) {
  std::string out;
  Writer w(&out);
  WriteResponseHeader(w, 0x0a0b0c0d, false);
  EXPECT_EQ(out, "\x0a\x0b\x0c\x0d"s);
  out.clear();
  WriteResponseHeader(w, 1, ResponseHeaderFlexible(22, 4));
  EXPECT_EQ(out, "\x00\x00\x00\x01\x00"s);
  out.clear();
  WriteResponseHeader(w, 1, ResponseHeaderFlexible(18, 3));  // ApiVersions: always v0
  EXPECT_EQ(out, "\x00\x00\x00\x01"s);
}

TEST(KafkaRequestHeaderTest, FrameSizes) {
  EXPECT_EQ(*ParseFrameSize("\x00\x00\x01\x00"s, 1 << 20), 256u);
  EXPECT_EQ(*ParseFrameSize("\x00\x00\x00\x00"s, 1 << 20), 0u);  // a raw SASL frame may be empty
  EXPECT_EQ(ParseFrameSize("\xff\xff\xff\xff"s, 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFrameSize("\x00\x10\x00\x01"s, 1 << 20).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ParseFrameSize("\x00\x00"s, 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nobus::kafka
