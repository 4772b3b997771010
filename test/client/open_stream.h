// OpenStream: a Client for `endpoint` and one stream on it, for the SDK tests (against the fake
// server and against real nobusd). Reports failures as gtest failures and returns nullptr then.
// Test-only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "nobus/client.h"

namespace nobus::client::testing {

inline std::unique_ptr<Stream> OpenStreamAt(const std::string& endpoint, StreamOptions options,
                                            TableProperties table) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(endpoint);
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) return nullptr;
  absl::StatusOr<std::unique_ptr<Stream>> stream =
      (*client)->CreateStream(std::move(table), std::move(options));
  EXPECT_TRUE(stream.ok()) << stream.status();
  return stream.ok() ? *std::move(stream) : nullptr;
}

}  // namespace nobus::client::testing
