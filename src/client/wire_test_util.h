// Test helpers for the request framing tests (wire_format_test.cc,
// wire_format_persistent_test.cc): queue records the way Stream does, parse what was framed.
// Test-only.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "client/unacked_queue.h"
#include "client/wire_format.h"

namespace nobus::client::testing {

// Appends `records` to `queue` as one request (an IngestBatch when `batch`), encoded like Stream.
inline void Add(UnackedQueue* queue, const std::vector<std::string>& records, bool batch) {
  size_t size = 0;
  for (const std::string& r : records) size += EncodedRecordSize(r.size());
  char* out = nullptr;
  queue->Append(size, static_cast<uint32_t>(records.size()), batch, &out);
  for (const std::string& r : records) {
    out = PutRecordHeader(out, r.size());
    std::memcpy(out, r.data(), r.size());
    out += r.size();
  }
}

// The framed bytes parsed as the RPC's request message (EphemeralStreamRequest or
// PersistentStreamRequest).
template <typename Request>
Request Parse(const std::string& bytes) {
  Request request;
  EXPECT_TRUE(request.ParseFromString(bytes));
  return request;
}

}  // namespace nobus::client::testing
