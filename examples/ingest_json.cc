// Example: send JSON rows to a nobusd (or Zerobus) table with the nobus C++ SDK and wait until
// they are durable. Copy this file to start your own producer.
//
// Prepare a server and a table (from the repository root):
//   build/bin/nobusd --data-dir /tmp/nobus-data &        # gRPC on 127.0.0.1:7070, HTTP on :7071
//   build/bin/nobus table create main.default.events --columns "id BIGINT NOT NULL, msg STRING"
// Then:
//   build/bin/ingest_json [ENDPOINT] [TABLE] [ROWS]
//   (defaults: http://127.0.0.1:7070 main.default.events 1000; NOBUS_TOKEN=... adds a bearer
//   token for servers that require one)
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "nobus/client.h"

int main(int argc, char** argv) {
  const std::string endpoint = argc > 1 ? argv[1] : "http://127.0.0.1:7070";
  const std::string table = argc > 2 ? argv[2] : "main.default.events";
  const long rows = argc > 3 ? std::atol(argv[3]) : 1000;

  // 1. A client per endpoint. "http://" is plaintext HTTP/2, "https://" is TLS.
  absl::StatusOr<std::unique_ptr<nobus::Client>> client = nobus::Client::Create(endpoint);
  if (!client.ok()) {
    std::fprintf(stderr, "bad endpoint: %s\n", std::string(client.status().message()).c_str());
    return 2;
  }

  // 2. Stream options. The defaults suit most producers; here we add authentication (if a token
  //    is given) and an ack callback, which runs on an SDK thread each time the server confirms
  //    durability. Keep callbacks short and never call blocking stream methods from them.
  nobus::StreamOptions options;
  if (const char* token = std::getenv("NOBUS_TOKEN"); token != nullptr)
    options.headers_provider = nobus::BearerTokenHeaders(token, table);
  std::atomic<long> durable_records{0};
  options.ack_callback = [&](const nobus::AckEvent& ack) { durable_records += ack.records; };

  // 3. Open the stream: connects and checks the table exists (NOT_FOUND otherwise). Records are
  //    JSON objects whose keys are column names.
  absl::StatusOr<std::unique_ptr<nobus::Stream>> stream =
      (*client)->CreateStream(nobus::TableProperties::Json(table), options);
  if (!stream.ok()) {
    std::fprintf(stderr, "cannot open a stream to %s: %s\n", table.c_str(),
                 std::string(stream.status().message()).c_str());
    return 1;
  }

  // 4. Ingest. Each call returns at once with the record's offset (0, 1, 2, ...); the SDK sends
  //    in the background, reconnects and re-sends by itself if the connection drops. Ingest blocks
  //    only when too much is unacknowledged (StreamOptions::max_inflight_*).
  int64_t last_offset = -1;
  for (long i = 0; i < rows; ++i) {
    std::string row = "{\"id\": " + std::to_string(i) + ", \"msg\": \"hello from the SDK\"}";
    absl::StatusOr<int64_t> offset = (*stream)->Ingest(row);
    if (!offset.ok()) {
      std::fprintf(stderr, "ingest failed: %s\n", std::string(offset.status().message()).c_str());
      break;
    }
    last_offset = *offset;
  }

  // 5. Wait for durability: OK means the server has fsynced every record up to that offset.
  //    (Flush() waits for everything; Close() flushes and ends the stream.)
  absl::Status durable = last_offset >= 0 ? (*stream)->WaitForOffset(last_offset)
                                          : absl::OkStatus();
  absl::Status closed = durable.ok() ? (*stream)->Close() : durable;
  if (!closed.ok()) {
    // Two kinds of failure: non-retriable (bad record, unknown table, bad credentials: fix the
    // input) or retriable (server unreachable for longer than the SDK's recovery: try later).
    // Either way the records that were never acknowledged can be recovered.
    std::fprintf(stderr, "%s failure: %s\n%zu records were not acknowledged\n",
                 nobus::IsNonRetriable(closed) ? "non-retriable" : "retriable",
                 std::string(closed.message()).c_str(), (*stream)->GetUnackedRecords().size());
    return 1;
  }
  nobus::StreamStats stats = (*stream)->Stats();
  std::printf("%ld rows durable in %s (%lld acknowledged through the callback, %lld reconnects)\n",
              rows, table.c_str(), static_cast<long long>(durable_records.load()),
              static_cast<long long>(stats.reconnects));
  return 0;
}
