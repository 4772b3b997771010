// The HTTP request fuzz target (test/fuzz/http_request_fuzz.cc, compiled in here with
// NOBUS_FUZZ_REGRESSION) over hostile requests and seeded random mutations of valid ones, for every
// route group: each must be refused or answered, never crash (the target aborts on a broken
// invariant, failing the test).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mutations.h"

int NobusHttpRequestFuzzOne(const uint8_t* bytes, size_t size);

namespace nobus::server {
namespace {

void Request(const std::string& s) {
  NobusHttpRequestFuzzOne(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Flips, insertions of JSON and HTTP punctuation, truncations of `seed`.
std::vector<std::string> Mutations(const std::string& seed, int n) {
  using namespace std::string_view_literals;
  return fuzz::Mutations(seed, n, "{}[]\"/.,:%?=&+\r\n\0"sv, 7);
}

std::string Post(const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: n\r\nContent-Type: application/json\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(HttpFuzzRegressionTest, HostileRequests) {
  for (const std::string& s :
       {std::string(), std::string("GET / HTTP/1.1\r\n\r\n"),
        std::string("GET /%zz HTTP/1.1\r\nHost: n\r\n\r\n"),
        std::string("GET //// HTTP/1.1\r\nHost: n\r\n\r\n"),
        std::string("GET /api/2.1/unity-catalog/tables?catalog_name=%00 HTTP/1.1\r\n\r\n"),
        std::string("GET /api/2.1/unity-catalog/tables?catalog_name=a&&&schema_name "
                    "HTTP/1.1\r\nHost: n\r\n\r\n"),
        std::string("GET http://h/readyz HTTP/1.1\r\nHost: n\r\n\r\n"),
        std::string("DELETE /api/2.1/unity-catalog/tables/%2F HTTP/1.1\r\nHost: n\r\n\r\n"),
        std::string("POST /zerobus/v1/tables/a.b.c/insert HTTP/1.1\r\nTransfer-Encoding: "
                    "chunked\r\n\r\n5\r\n[{}]]\r\n0\r\n\r\n"),
        Post("/zerobus/v1/tables/..../insert", "[]"),
        Post("/zerobus/v1/tables/a.b.c/insert", std::string(5000, '[')),
        Post("/zerobus/v1/tables/a.b.c/insert", R"([{"id":1},{"id":"x"},3])"),
        Post("/zerobus/v1/tables/a.b.c/insert", R"([{"id":1}] trailing)"),
        Post("/oidc/v1/token", "grant_type=client_credentials"),
        Post("/admin/v1/tables/a.b.c/properties", R"({"properties":{"a":[1]}})")})
    Request(s);
  // Mutated bodies under a right Content-Length reach the body decoding; mutated targets, routing.
  const std::string rows = R"([{"id":1,"device":"d","temp":2.5,"tags":["a","b"]},)"
                           R"({"id":2,"device":null,"temp":-1e300,"tags":[]}])";
  for (const std::string& m : Mutations(rows, 5000))
    Request(Post("/zerobus/v1/tables/main.default.t/insert", m));
  for (const std::string& m : Mutations("/zerobus/v1/tables/main.default.t/insert?x=1", 2000))
    Request(Post(m, rows));
  for (const std::string& m :
       Mutations("GET /api/2.1/unity-catalog/tables?catalog_name=main&schema_name=default "
                 "HTTP/1.1\r\nHost: n\r\nAuthorization: Bearer x\r\n\r\n",
                 3000))
    Request(m);
  for (const std::string& m :
       Mutations("GET /admin/v1/tables/main.default.t/history?limit=5 HTTP/1.1\r\n\r\n", 2000))
    Request(m);
}

}  // namespace
}  // namespace nobus::server
