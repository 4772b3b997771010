#include "nobus/client.h"

#include <gtest/gtest.h>

#include "client/stream_core.h"

namespace nobus {
namespace {

TEST(ClientTest, EndpointSchemesChooseTransport) {
  absl::StatusOr<std::unique_ptr<Client>> plain = Client::Create("http://127.0.0.1:7070");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->target(), "127.0.0.1:7070");
  EXPECT_FALSE((*plain)->tls());
  absl::StatusOr<std::unique_ptr<Client>> bare = Client::Create("localhost:7070");
  ASSERT_TRUE(bare.ok());
  EXPECT_FALSE((*bare)->tls());
  absl::StatusOr<std::unique_ptr<Client>> tls = Client::Create("https://zerobus.example.com:443/");
  ASSERT_TRUE(tls.ok());
  EXPECT_EQ((*tls)->target(), "zerobus.example.com:443");
  EXPECT_TRUE((*tls)->tls());
}

TEST(ClientTest, MalformedEndpointsAreNonRetriable) {
  for (const char* endpoint : {"", "http://", "127.0.0.1", "http://host:1/path"}) {
    absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(endpoint);
    EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument) << endpoint;
    EXPECT_TRUE(IsNonRetriable(client.status())) << endpoint;
  }
}

TEST(ClientTest, InconsistentOptionsAreRejectedBeforeConnecting) {
  StreamOptions options;
  options.max_inflight_bytes = 1 << 20;  // below max_message_bytes (10 MiB)
  absl::Status status = client::ValidateStreamConfig(TableProperties::Json("a.b.c"), options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsNonRetriable(status));
  EXPECT_TRUE(client::ValidateStreamConfig(TableProperties::Json("a.b.c"), {}).ok());
  TableProperties proto_without_descriptor{"a.b.c", RecordFormat::kProto, ""};
  EXPECT_FALSE(client::ValidateStreamConfig(proto_without_descriptor, {}).ok());
  options = {};
  options.recovery_backoff_multiplier = 0.5;
  EXPECT_FALSE(client::ValidateStreamConfig(TableProperties::Json("a.b.c"), options).ok());
}

}  // namespace
}  // namespace nobus
