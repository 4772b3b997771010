// libFuzzer target for the HTTP request path nobus owns (untrusted bytes: a whole HTTP/1.1 request
// as a client sends it). The bytes go through Beast's parser configured as src/http/server.cc
// configures it, then through what is ours: the conversion to a Request (http::ToRequest, with
// http::ParseTarget), routing over nobusd's real route table (http::Router with every route group
// of src/server), the handlers themselves (on a node that is still recovering, so nothing is
// written), and the REST insert body decoding (server::DecodeJsonRows) against a fixed table.
// Invariants: no crash or sanitizer report; a refused target is InvalidArgument; route captures
// are whole, non-empty segments; every handler answers exactly once with a 2xx-5xx status; a
// decoded insert body replays (the WAL recovery path) as exactly the rows it reported.
// Built as a fuzzer with -DNOBUS_FUZZ=ON (clang), and run by server_test over hostile inputs
// (NOBUS_FUZZ_REGRESSION).
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_checks.h"
#include "http/router.h"
#include "http/to_request.h"
#include "server/http_routes.h"

namespace {

namespace beast = boost::beast;
using nobus::fuzz::Check;

struct Fixture {
  nobus::MetricsRegistry metrics;
  nobus::server::ServerContext context{nobus::server::ServerConfig{}, &metrics};
  nobus::http::Router router;
  const nobus::fuzz::DecoderFixture* rows = nobus::fuzz::NewDecoderFixture(
      "id BIGINT NOT NULL, device STRING, temp DOUBLE, tags ARRAY<STRING>",
      [](const nobus::schema::Schema& s) { return nobus::schema::RecordDecoder::ForJson(s); });
  Fixture() {
    nobus::server::AddHealthRoutes(&router, &context);
    nobus::server::AddTableRoutes(&router, &context);
    nobus::server::AddIngestRoutes(&router, &context);
    nobus::server::AddTokenRoutes(&router, &context);
    nobus::server::AddTableAdminRoutes(&router, &context);
  }
};

// The request in `input` as the server's parser sees it; false if it is refused or incomplete.
bool Parse(std::string_view input, beast::http::request<beast::http::string_body>* out) {
  beast::http::request_parser<beast::http::string_body> parser;
  parser.eager(true);
  parser.header_limit(16384);
  parser.body_limit(1 << 20);
  beast::error_code ec;
  while (!input.empty() && !parser.is_done()) {
    size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
    if (ec == beast::http::error::need_more && used == 0) break;
    if (ec && ec != beast::http::error::need_more) return false;
    input.remove_prefix(used);
  }
  if (!parser.is_done()) {
    if (!parser.got_some()) return false;  // put_eof requires some input
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return false;
  }
  *out = parser.release();
  return true;
}

}  // namespace

int NobusHttpRequestFuzzOne(const uint8_t* bytes, size_t size) {
  namespace http = nobus::http;
  static Fixture* f = new Fixture;
  beast::http::request<beast::http::string_body> msg;
  if (!Parse(std::string_view(reinterpret_cast<const char*>(bytes), size), &msg)) return 0;
  http::Request req;
  absl::Status target = http::ToRequest(msg, &req);
  if (!target.ok()) {
    Check(target.code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  Check(!req.path.empty() && req.path[0] == '/');
  const http::Router::Route* route = nullptr;
  std::string allowed;
  if (f->router.Find(req.method, req.path, &route, &req.params, &allowed) !=
      http::Router::Found::kRoute)
    return 0;
  for (const std::string& p : req.params) Check(!p.empty() && p.find('/') == std::string::npos);
  if (req.path.ends_with("/insert")) {
    std::string blob;
    absl::StatusOr<int64_t> rows =
        nobus::server::DecodeJsonRows(req.body, *f->rows->decoder, &blob);
    if (rows.ok()) {
      nobus::fuzz::CountingSink sink;
      Check(nobus::schema::ReplayRows(f->rows->schema, {}, blob, &sink).ok());
      Check(sink.rows == *rows);
    } else {
      Check(rows.status().code() == absl::StatusCode::kInvalidArgument);
    }
  }
  int answers = 0;
  route->handler(req, http::Reply([&answers](http::Response res) {
                   ++answers;
                   Check(res.status >= 200 && res.status <= 599);
                 }));
  Check(answers == 1);
  return 0;
}

#ifndef NOBUS_FUZZ_REGRESSION
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return NobusHttpRequestFuzzOne(bytes, size);
}
#endif
