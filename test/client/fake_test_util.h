// Test helpers shared by the SDK tests against FakeZerobus: quick options, record builders.
// Test-only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fake_zerobus.h"
#include "nobus/client.h"
#include "open_stream.h"

namespace nobus::client::testing {

// Short timeouts and backoffs so failure paths take milliseconds, not seconds.
inline StreamOptions FastOptions() {
  StreamOptions options;
  options.recovery_backoff_ms = 20;
  options.recovery_timeout_ms = 5000;
  options.server_lack_of_ack_timeout_ms = 5000;
  options.flush_timeout_ms = 30000;
  return options;
}

inline std::string Json(int i) { return "{\"id\": " + std::to_string(i) + "}"; }

inline std::vector<std::string> JsonRange(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(Json(i));
  return out;
}

inline std::unique_ptr<Stream> OpenStream(const FakeZerobus& server,
                                          StreamOptions options = FastOptions(),
                                          TableProperties table = TableProperties::Json("c.s.t")) {
  return OpenStreamAt(server.endpoint(), std::move(options), std::move(table));
}

// Ingests each record with Ingest; expects offsets first, first+1, ...
inline void IngestAll(Stream* stream, const std::vector<std::string>& records, int64_t first = 0) {
  for (size_t i = 0; i < records.size(); ++i) {
    absl::StatusOr<int64_t> offset = stream->Ingest(records[i]);
    ASSERT_TRUE(offset.ok()) << offset.status();
    EXPECT_EQ(*offset, first + static_cast<int64_t>(i));
  }
}

// Ingests records in order until one Ingest fails (the stream already failed: a scripted failure
// can reach the client before a slow test thread has ingested everything); returns how many were
// accepted, after checking their offsets 0, 1, 2, ...
inline int IngestUntilFailure(Stream* stream, const std::vector<std::string>& records) {
  int ingested = 0;
  for (const std::string& record : records) {
    absl::StatusOr<int64_t> offset = stream->Ingest(record);
    if (!offset.ok()) break;
    EXPECT_EQ(*offset, ingested++);
  }
  return ingested;
}

}  // namespace nobus::client::testing
