// The fixture of the SDK tests against real nobusd processes (nobusd_sdk_test.cc,
// nobusd_persistent_test.cc): one nobusd on loopback with table main.sdk.events (stream INT, seq
// BIGINT, payload STRING), kill-and-restart on the same ports and data directory, and the check
// that every (stream, seq) landed in the Delta table (read by DuckDB), at least or exactly once,
// in order within each data file. Test-only; one test thread.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nobus/client.h"
#include "nobusd_process.h"
#include "open_stream.h"
#include "tcp_proxy.h"
#include "table_reader.h"

namespace nobus::client::testing {

using delta::testing::TempDir;
using server::testing::HttpReply;
using server::testing::Nobusd;
using server::testing::ReadJsonRows;
using server::testing::ReadRowsPerFile;

constexpr char kTable[] = "main.sdk.events";

inline int64_t AsInt(const nlohmann::json& v) {
  return v.is_string() ? std::stoll(v.get<std::string>()) : v.get<int64_t>();
}

inline std::string Row(int stream, int64_t seq, size_t payload = 100) {
  return "{\"stream\": " + std::to_string(stream) + ", \"seq\": " + std::to_string(seq) +
         ", \"payload\": \"" + std::string(payload, 'p') + "\"}";
}

inline StreamOptions RecoveringOptions() {
  StreamOptions options;
  options.recovery_backoff_ms = 200;
  options.recovery_retries = 100;
  options.recovery_timeout_ms = 2000;
  options.server_lack_of_ack_timeout_ms = 2000;
  options.flush_timeout_ms = 120'000;
  return options;
}

// Ingests 4 x `per_phase` rows (stream 0, seq 0, 1, ...) and resets every connection through
// `proxy` between the phases, then closes the stream; the stream must have reconnected.
inline void IngestThroughResets(Stream* stream, TcpProxy* proxy, int64_t per_phase) {
  for (int64_t phase = 0; phase < 4; ++phase) {
    for (int64_t i = phase * per_phase; i < (phase + 1) * per_phase; ++i)
      ASSERT_TRUE(stream->Ingest(Row(0, i)).ok());
    if (phase < 3) proxy->ResetAll();
  }
  absl::Status closed = stream->Close();
  ASSERT_TRUE(closed.ok()) << closed;
  EXPECT_GE(proxy->resets(), 1);
  EXPECT_GE(stream->Stats().reconnects, 1);
}

// Ingests rows 0..999 of stream 0 with POST /admin/v1/streams/close-all after the first 500,
// flushes and waits (up to 30 s) for the stream's reconnect, then ingests 1000..1499 and closes.
inline void IngestAcrossCloseAll(Stream* stream, const Nobusd& server,
                                 const std::function<void()>& after_reconnect) {
  for (int64_t i = 0; i < 500; ++i) ASSERT_TRUE(stream->Ingest(Row(0, i)).ok());
  HttpReply closed_all = server::testing::HttpCall(server, "POST", "/admin/v1/streams/close-all");
  ASSERT_EQ(closed_all.status, 200) << closed_all.body.dump();
  for (int64_t i = 500; i < 1000; ++i) ASSERT_TRUE(stream->Ingest(Row(0, i)).ok());
  ASSERT_TRUE(stream->Flush().ok());
  for (int i = 0; i < 300 && stream->Stats().reconnects == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_GE(stream->Stats().reconnects, 1);
  after_reconnect();
  for (int64_t i = 1000; i < 1500; ++i) ASSERT_TRUE(stream->Ingest(Row(0, i)).ok());
  absl::Status closed = stream->Close();
  ASSERT_TRUE(closed.ok()) << closed;
}

class NobusdSdkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = scratch_.path() + "/data";
    StartServer("127.0.0.1:0", "127.0.0.1:0");
    ASSERT_NE(server_, nullptr);
    HttpReply created = server::testing::CreateTable(
        *server_, kTable, "stream INT NOT NULL, seq BIGINT NOT NULL, payload STRING");
    ASSERT_EQ(created.status, 200) << created.body.dump();
  }

  void StartServer(const std::string& grpc, const std::string& http) {
    absl::StatusOr<std::unique_ptr<Nobusd>> started =
        Nobusd::Start({.data_dir = data_dir_, .grpc_listen = grpc, .http_listen = http});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
  }

  // Kills the server and starts it again on the same ports and data directory.
  void KillAndRestart() {
    std::string grpc = server_->grpc_address(), http = server_->http_address();
    server_->SignalAndWait(SIGKILL);
    server_.reset();
    StartServer(grpc, http);
  }

  std::unique_ptr<Stream> Open(const std::string& endpoint, StreamOptions options,
                               TableProperties table = TableProperties::Json(kTable)) {
    return OpenStreamAt(endpoint, std::move(options), std::move(table));
  }

  // Polls the Delta table until it has at least `n` rows (acks precede the Delta commit).
  std::vector<nlohmann::json> WaitForRows(size_t n) {
    std::vector<nlohmann::json> rows;
    for (int attempt = 0; attempt < 60; ++attempt) {
      absl::StatusOr<std::vector<nlohmann::json>> read = ReadJsonRows(data_dir_, kTable);
      if (read.ok()) rows = *std::move(read);
      if (rows.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return rows;
  }

  // Every (stream, seq < per_stream) landed (exactly once unless duplicates are allowed) and
  // nothing else did; within each data file every stream's records are in order (a record
  // follows its predecessor, or the sequence restarts lower: a resend after a reconnect).
  void ExpectLanded(int streams, int64_t per_stream, bool allow_duplicates) {
    std::vector<nlohmann::json> rows = WaitForRows(static_cast<size_t>(streams * per_stream));
    std::map<std::pair<int64_t, int64_t>, int> count;
    for (const nlohmann::json& row : rows) ++count[{AsInt(row["stream"]), AsInt(row["seq"])}];
    int64_t missing = 0, duplicated = 0;
    for (int s = 0; s < streams; ++s) {
      for (int64_t q = 0; q < per_stream; ++q) {
        auto it = count.find({s, q});
        if (it == count.end()) {
          ++missing;
        } else {
          duplicated += it->second - 1;
          count.erase(it);
        }
      }
    }
    EXPECT_EQ(missing, 0) << "records never landed";
    EXPECT_TRUE(count.empty()) << count.size() << " unexpected (stream, seq) rows";
    if (!allow_duplicates) {
      EXPECT_EQ(duplicated, 0);
    }
    absl::StatusOr<std::vector<std::vector<nlohmann::json>>> files =
        ReadRowsPerFile(data_dir_, kTable);
    ASSERT_TRUE(files.ok()) << files.status();
    for (const auto& file : *files) {
      std::map<int64_t, int64_t> last;
      for (const nlohmann::json& row : file) {
        int64_t s = AsInt(row["stream"]), q = AsInt(row["seq"]);
        auto it = last.find(s);
        if (it != last.end()) {
          EXPECT_TRUE(q == it->second + 1 || q <= it->second)
              << "stream " << s << ": seq " << q << " after " << it->second;
        }
        last[s] = q;
      }
    }
  }

  TempDir scratch_;
  std::string data_dir_;
  std::unique_ptr<Nobusd> server_;
};

}  // namespace nobus::client::testing
