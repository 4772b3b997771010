// REST ingestion: POST /zerobus/v1/tables/{catalog.schema.table}/insert with a JSON array of row
// objects. Every row is decoded with the table's JSON decoder first (one bad row -> 400 naming its
// index and column, nothing appended); then all rows go to the WAL as one record, and the reply
// goes out from the WAL's completion thread once they are durable: 200 means the rows are fsynced,
// and concurrent requests share fdatasyncs (group commit) without holding a thread each.
//
// Idempotency-Key (doc/exactly-once.md "REST"): a request with a key the table already holds
// durably with the same body is answered 200 again without writing anything
// (`Idempotent-Replayed: true`); with another body 422; while a request with the key is in flight
// 409. The key and a fingerprint of the body travel in the WAL record and the Delta txn, like a
// persistent stream's offset, and expire after nobus.streams.retention.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "auth/crypto.h"
#include "env/env.h"
#include "server/http_routes.h"
#include "table/streams.h"

namespace nobus::server {

absl::StatusOr<int64_t> DecodeJsonRows(std::string_view body, const schema::RecordDecoder& decoder,
                                       std::string* blob) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array rows;
  if (parser.iterate(padded).get(doc) || doc.get_array().get(rows))
    return absl::InvalidArgumentError("the request body must be a JSON array of row objects");
  schema::RowBlobWriter writer(blob);
  int64_t index = 0;
  for (auto element : rows) {
    simdjson::ondemand::object row;
    std::string_view raw;
    simdjson::error_code error = element.get_object().get(row);
    if (error == simdjson::INCORRECT_TYPE)
      return absl::InvalidArgumentError(Cat("row ", index, " is not a JSON object"));
    if (error || row.raw_json().get(raw))
      return absl::InvalidArgumentError(Cat("row ", index, ": malformed JSON"));
    absl::Status s = decoder.Decode(raw, &writer);
    if (!s.ok()) return absl::InvalidArgumentError(Cat("row ", index, ": ", s.message()));
    ++index;
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) != simdjson::OUT_OF_BOUNDS)
    return absl::InvalidArgumentError(
        Cat("malformed JSON after row ", index - 1, ": the body must be one JSON array"));
  return index;
}

namespace {

constexpr size_t kMaxIdempotencyKeyBytes = 255;

// The key's state id and the body's fingerprint (63 bits of its SHA-256).
absl::StatusOr<table::StreamMark> IdempotencyMark(const table::TableName& name,
                                                  std::string_view key, std::string_view body) {
  if (key.empty() || key.size() > kMaxIdempotencyKeyBytes ||
      std::any_of(key.begin(), key.end(), [](char c) { return c < 0x21 || c > 0x7e; }))
    return absl::InvalidArgumentError(
        "the Idempotency-Key header must be 1 to 255 visible ASCII characters (e.g. a UUID)");
  std::string digest = auth::Sha256(key), hex;
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < 16; ++i) {
    hex += kHex[static_cast<unsigned char>(digest[i]) >> 4];
    hex += kHex[static_cast<unsigned char>(digest[i]) & 15];
  }
  uint64_t fingerprint = 0;
  std::memcpy(&fingerprint, auth::Sha256(body).data(), sizeof(fingerprint));
  return table::StreamMark{table::IdempotencyId(name.ToString(), hex),
                           static_cast<int64_t>(fingerprint >> 1)};
}

// {} for OK, else the REST error shape.
http::Response InsertAnswer(const absl::Status& s) {
  http::Response res;
  if (s.ok()) ReplyJson(res, 200, nlohmann::json::object());
  else ReplyError(res, s);
  return res;
}

absl::Status AppendRows(ServerContext* server, table::IngestService* ingest,
                        std::shared_ptr<const table::LiveTable> live,
                        const table::TableName& name,
                        const http::Request& req, const table::StreamMark& mark, int64_t started,
                        std::shared_ptr<http::Reply> reply);

// Decodes and appends the rows of `req`. An error before the append is returned; once the rows
// are appended, `reply` answers from the WAL's completion thread when they are durable, so
// concurrent requests share its fdatasyncs.
absl::Status Insert(ServerContext* server, const http::Request& req,
                    std::shared_ptr<http::Reply> reply) {
  absl::StatusOr<table::TableName> name = table::ParseTableName(req.params[0]);
  if (!name.ok()) {
    // A caller without a valid token learns that first, not that the name is malformed.
    NOBUS_RETURN_IF_ERROR(server->auth().Authenticate(Authorization(req)));
    return name.status();
  }
  NOBUS_RETURN_IF_ERROR(server->auth().AuthorizeTable(Authorization(req), *name).status());
  NOBUS_ASSIGN_OR_RETURN(table::IngestService * ingest, server->Serving());
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<const table::LiveTable> live, ingest->OpenTable(*name));
  const int64_t started = env::SystemClock()->MonotonicNanos();
  table::StreamMark mark;
  if (std::string_view key = req.Header("Idempotency-Key"); !key.empty()) {
    NOBUS_ASSIGN_OR_RETURN(mark, IdempotencyMark(*name, key, req.body));
    NOBUS_ASSIGN_OR_RETURN(auto claim, ingest->ClaimKey(*live, mark.stream_id, mark.offset));
    switch (claim) {
      case table::IngestService::KeyClaim::kNew:
        break;
      case table::IngestService::KeyClaim::kDone: {
        server->metrics().DuplicateRequests(name->ToString())->Add();
        http::Response res = InsertAnswer(absl::OkStatus());
        res.SetHeader("Idempotent-Replayed", "true");
        (*reply)(std::move(res));
        return absl::OkStatus();
      }
      case table::IngestService::KeyClaim::kConflict: {
        http::Response res = http::ErrorResponse(
            422, "IDEMPOTENCY_KEY_REUSED",
            Cat("Idempotency-Key '", key, "' was already used with a different request body on "
                "table '", name->ToString(), "': use a new key for a new request"));
        (*reply)(std::move(res));
        return absl::OkStatus();
      }
      case table::IngestService::KeyClaim::kInFlight:
        return absl::AbortedError(Cat("a request with Idempotency-Key '", key,
                                      "' is in progress: retry once it has been answered"));
    }
  }
  absl::Status st = AppendRows(server, ingest, live, *name, req, mark, started, reply);
  if (!st.ok() && !mark.empty()) ingest->ReleaseKey(*live, mark.stream_id);
  return st;
}

absl::Status AppendRows(ServerContext* server, table::IngestService* ingest,
                        std::shared_ptr<const table::LiveTable> live,
                        const table::TableName& name,
                        const http::Request& req, const table::StreamMark& mark, int64_t started,
                        std::shared_ptr<http::Reply> reply) {
  std::string blob;
  NOBUS_ASSIGN_OR_RETURN(int64_t rows, DecodeJsonRows(req.body, live->json_decoder(), &blob));
  if (rows == 0) {
    if (!mark.empty()) ingest->ReleaseKey(*live, mark.stream_id);
    (*reply)(InsertAnswer(absl::OkStatus()));
    return absl::OkStatus();
  }
  auto on_durable = [server, ingest, live, key = mark.stream_id,
                     table_name = name.ToString(), rows,
                     bytes = static_cast<int64_t>(req.body.size()), started,
                     reply](absl::Status s) {
    if (!key.empty()) ingest->ReleaseKey(*live, key);
    if (!s.ok())
      return (*reply)(InsertAnswer(
          absl::UnavailableError(Cat("rows could not be made durable: ", s.message()))));
    server->metrics().IngestRecords(table_name)->Add(rows);
    server->metrics().IngestBytes(table_name)->Add(bytes);
    server->metrics().ack_latency()->Observe((env::SystemClock()->MonotonicNanos() - started) *
                                             1e-9);
    (*reply)(InsertAnswer(absl::OkStatus()));
  };
  return ingest->Append(*live, std::move(blob), rows, std::move(on_durable), mark);
}

}  // namespace

void AddIngestRoutes(http::Router* router, ServerContext* server) {
  // On the worker pool: Append may wait for room in the node's buffers (backpressure).
  router->Add("POST", "/zerobus/v1/tables/{}/insert", http::Runs::kWorker,
              http::AsyncHandler([server](http::Request req, http::Reply reply) {
                // Shared: the WAL's callback (a std::function) must be copyable.
                auto shared = std::make_shared<http::Reply>(std::move(reply));
                absl::Status s = Insert(server, req, shared);
                if (!s.ok()) (*shared)(InsertAnswer(s));
              }));
}

}  // namespace nobus::server
