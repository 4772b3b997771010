// REST ingestion: POST /zerobus/v1/tables/{catalog.schema.table}/insert with a JSON array of row
// objects. Every row is decoded with the table's JSON decoder first (one bad row -> 400 naming its
// index and column, nothing appended); then all rows go to the WAL as one record and the handler
// waits for durability: 200 means the rows are fsynced.
#include <simdjson.h>

#include <future>

#include "env/env.h"
#include "server/http_routes.h"

namespace nobus::server {
namespace {

// Decodes every row of `body` into `blob`; returns the number of rows.
absl::StatusOr<int64_t> DecodeRows(const std::string& body, const schema::RecordDecoder& decoder,
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

absl::Status Insert(ServerContext* server, const httplib::Request& req, int64_t* rows_out) {
  absl::StatusOr<table::TableName> name = table::ParseTableName(req.matches[1].str());
  if (!name.ok()) {
    // A caller without a valid token learns that first, not that the name is malformed.
    NOBUS_RETURN_IF_ERROR(server->auth().Authenticate(Authorization(req)));
    return name.status();
  }
  NOBUS_RETURN_IF_ERROR(server->auth().AuthorizeTable(Authorization(req), *name).status());
  NOBUS_ASSIGN_OR_RETURN(table::IngestService * ingest, server->Serving());
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<const table::LiveTable> live, ingest->OpenTable(*name));
  const int64_t started = env::SystemClock()->MonotonicNanos();
  std::string blob;
  NOBUS_ASSIGN_OR_RETURN(int64_t rows, DecodeRows(req.body, live->json_decoder(), &blob));
  *rows_out = rows;
  if (rows == 0) return absl::OkStatus();
  auto durable = std::make_shared<std::promise<absl::Status>>();
  std::future<absl::Status> done = durable->get_future();
  NOBUS_RETURN_IF_ERROR(ingest->Append(*live, std::move(blob), rows,
                                       [durable](absl::Status s) { durable->set_value(s); }));
  absl::Status s = done.get();
  if (!s.ok()) return absl::UnavailableError(Cat("rows could not be made durable: ", s.message()));
  const std::string table_name = name->ToString();
  server->metrics().IngestRecords(table_name)->Add(rows);
  server->metrics().IngestBytes(table_name)->Add(static_cast<int64_t>(req.body.size()));
  server->metrics().ack_latency()->Observe((env::SystemClock()->MonotonicNanos() - started) * 1e-9);
  return absl::OkStatus();
}

}  // namespace

void AddIngestRoutes(httplib::Server* http, ServerContext* server) {
  http->Post("/zerobus/v1/tables/([^/]+)/insert",
             [server](const httplib::Request& req, httplib::Response& res) {
               int64_t rows = 0;
               absl::Status s = Insert(server, req, &rows);
               if (!s.ok()) return ReplyError(res, s);
               ReplyJson(res, 200, nlohmann::json::object());
             });
}

}  // namespace nobus::server
