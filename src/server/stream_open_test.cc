#include "server/stream_open.h"

#include <gtest/gtest.h>

namespace nobus::server {
namespace {

namespace zb = ::databricks::zerobus;

zb::CreateIngestStreamRequest Request() {
  zb::CreateIngestStreamRequest r;
  r.set_table_name("main.default.t");
  r.set_record_type(zb::JSON);
  return r;
}

TEST(StreamOpenTest, RecoveringServerIsUnavailable) {
  MetricsRegistry metrics;
  ServerContext context(ServerConfig{}, &metrics);
  auto opened = OpenStream(Request(), {}, context);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(opened.status().message().find("recovering"), std::string::npos);
}

TEST(StreamOpenTest, DrainingServerIsUnavailable) {
  MetricsRegistry metrics;
  ServerContext context(ServerConfig{}, &metrics);
  context.SetState(ServingState::kDraining);
  auto opened = OpenStream(Request(), {}, context);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(opened.status().message().find("shutting down"), std::string::npos);
}

}  // namespace
}  // namespace nobus::server
