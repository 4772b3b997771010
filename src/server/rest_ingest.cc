// REST ingestion: POST /zerobus/v1/tables/{catalog.schema.table}/insert with a JSON array of row
// objects. Every row is decoded with the table's JSON decoder first (one bad row -> 400 naming its
// index and column, nothing appended); then all rows go to the WAL as one record, and the reply
// goes out from the WAL's completion thread once they are durable: 200 means the rows are fsynced,
// and concurrent requests share fdatasyncs (group commit) without holding a thread each.
#include <simdjson.h>

#include <memory>

#include "env/env.h"
#include "server/http_routes.h"

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

// {} for OK, else the REST error shape.
http::Response InsertAnswer(const absl::Status& s) {
  http::Response res;
  if (s.ok()) ReplyJson(res, 200, nlohmann::json::object());
  else ReplyError(res, s);
  return res;
}

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
  std::string blob;
  NOBUS_ASSIGN_OR_RETURN(int64_t rows, DecodeJsonRows(req.body, live->json_decoder(), &blob));
  if (rows == 0) {
    (*reply)(InsertAnswer(absl::OkStatus()));
    return absl::OkStatus();
  }
  auto on_durable = [server, table_name = name->ToString(), rows,
                     bytes = static_cast<int64_t>(req.body.size()), started,
                     reply](absl::Status s) {
    if (!s.ok())
      return (*reply)(InsertAnswer(
          absl::UnavailableError(Cat("rows could not be made durable: ", s.message()))));
    server->metrics().IngestRecords(table_name)->Add(rows);
    server->metrics().IngestBytes(table_name)->Add(bytes);
    server->metrics().ack_latency()->Observe((env::SystemClock()->MonotonicNanos() - started) *
                                             1e-9);
    (*reply)(InsertAnswer(absl::OkStatus()));
  };
  return ingest->Append(*live, std::move(blob), rows, std::move(on_durable));
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
