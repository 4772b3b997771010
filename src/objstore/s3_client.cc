#include "objstore/s3_client.h"

#include <httplib.h>
#include <pugixml.hpp>

#include <strings.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <sstream>
#include <thread>

namespace nobus::objstore {
namespace {

int64_t SystemSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2009-10-12T17:50:30.000Z" (listings) or "Mon, 12 Oct 2009 17:50:30 GMT" (headers) -> ms.
int64_t ParseTimeMs(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::string Unquote(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return etag;
}

std::string HttpErrorName(httplib::Error error) { return httplib::to_string(error); }

// S3 answers some failures of CompleteMultipartUpload and CopyObject with 200 and an <Error> body.
bool IsErrorDocument(const std::string& body) {
  pugi::xml_document doc;
  return doc.load_string(body.c_str()) && doc.child("Error");
}

}  // namespace

std::string S3Client::Response::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return v;
  return "";
}

S3Client::S3Client(S3Options options) : options_(std::move(options)) {
  std::string endpoint = options_.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  size_t scheme_end = endpoint.find("://");
  std::string scheme = scheme_end == std::string::npos ? "https" : endpoint.substr(0, scheme_end);
  std::string host = scheme_end == std::string::npos ? endpoint : endpoint.substr(scheme_end + 3);
  if (!options_.path_style) host = options_.bucket + "." + host;
  scheme_host_port_ = scheme + "://" + host;
  host_header_ = host;
  path_prefix_ = options_.path_style ? "/" + options_.bucket : "";
}

S3Client::~S3Client() = default;

std::string S3Client::Url(std::string_view key) const {
  return Cat("s3://", options_.bucket, "/", key);
}

std::unique_ptr<httplib::Client> S3Client::TakeConnection() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<httplib::Client> client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
  }
  auto client = std::make_unique<httplib::Client>(scheme_host_port_);
  auto seconds = [](int ms) { return std::pair<time_t, time_t>(ms / 1000, (ms % 1000) * 1000); };
  auto [cs, cus] = seconds(options_.connect_timeout_ms);
  auto [rs, rus] = seconds(options_.request_timeout_ms);
  client->set_connection_timeout(cs, cus);
  client->set_read_timeout(rs, rus);
  client->set_write_timeout(rs, rus);
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);  // a request's head and body leave at once
  client->set_url_encode(false);  // paths and queries are encoded here, as signed
  if (!options_.ca_cert_file.empty()) client->set_ca_cert_path(options_.ca_cert_file.c_str());
  return client;
}

void S3Client::ReturnConnection(std::unique_ptr<httplib::Client> client) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(client));
}

absl::StatusOr<S3Client::Response> S3Client::SendOnce(const Request& request, bool* sent) {
  RequestToSign to_sign;
  to_sign.method = request.method;
  to_sign.path = request.key.empty() ? (path_prefix_.empty() ? "/" : path_prefix_)
                                      : path_prefix_ + "/" + request.key;
  to_sign.query = request.query;
  to_sign.headers = request.headers;
  to_sign.headers.emplace_back("host", host_header_);
  to_sign.payload_sha256 = Sha256Hex(request.body);
  int64_t now = options_.now_seconds ? options_.now_seconds() : SystemSeconds();
  Headers auth = SignV4(to_sign, options_.credentials, options_.region, "s3", now);

  httplib::Request req;
  req.method = request.method;
  req.path = UriEncode(to_sign.path, false);
  for (size_t i = 0; i < request.query.size(); ++i) {
    req.path += i == 0 ? "?" : "&";
    req.path += UriEncode(request.query[i].first, true) + "=" +
                UriEncode(request.query[i].second, true);
  }
  for (const auto& [k, v] : to_sign.headers) req.headers.emplace(k == "host" ? "Host" : k, v);
  for (const auto& [k, v] : auth) req.headers.emplace(k, v);
  req.body = request.body;
  if (request.method == "PUT" || request.method == "POST")
    req.headers.emplace("Content-Type", "application/octet-stream");

  std::unique_ptr<httplib::Client> client = TakeConnection();
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  bool ok = client->send(req, res, error);
  if (!ok) {
    // Nothing reached the server only when the connection could not be made.
    *sent = error != httplib::Error::Connection;
    return absl::UnavailableError(Cat(request.method, " ", Url(request.key), ": ",
                                      HttpErrorName(error), " (", scheme_host_port_, ")"));
  }
  *sent = true;
  ReturnConnection(std::move(client));
  Response response;
  response.status = res.status;
  response.body = std::move(res.body);
  for (const auto& [k, v] : res.headers) response.headers.emplace_back(k, v);
  return response;
}

absl::StatusOr<S3Client::Response> S3Client::Send(const Request& request) {
  int backoff_ms = options_.backoff_ms;
  absl::Status last;
  bool sent = false;
  for (int attempt = 1;; ++attempt) {
    sent = false;
    absl::StatusOr<Response> response = SendOnce(request, &sent);
    if (response.ok()) {
      bool server_error = response->status >= 500 || response->status == 429;
      if (!server_error) return response;
      last = ErrorStatus(request, *response);
    } else {
      last = response.status();
    }
    bool may_retry = request.idempotent || !sent;
    if (!may_retry || attempt >= options_.max_attempts) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms *= 2;
  }
  if (!request.idempotent && sent)
    return absl::UnavailableError(Cat(last.message(), "; the outcome is unknown"));
  return absl::UnavailableError(
      Cat(last.message(), " (after ", options_.max_attempts, " attempts)"));
}

absl::Status S3Client::ErrorStatus(const Request& request, const Response& response) const {
  std::string code, message;
  pugi::xml_document doc;
  if (doc.load_string(response.body.c_str())) {
    pugi::xml_node error = doc.child("Error");
    code = error.child_value("Code");
    message = error.child_value("Message");
  }
  std::string text = Cat(request.method, " ", Url(request.key), ": HTTP ", response.status,
                         code.empty() ? "" : Cat(" ", code), message.empty() ? "" : Cat(": ", message));
  int s = response.status;
  if (s == 404) {
    if (code == "NoSuchBucket")
      return absl::NotFoundError(
          Cat(text, "; create bucket '", options_.bucket, "' or fix the table root"));
    return absl::NotFoundError(text);
  }
  if (s == 403 || s == 401)
    return absl::PermissionDeniedError(
        Cat(text, "; check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the region (",
            options_.region, ") and the clock"));
  if (s >= 500 || s == 429) return absl::UnavailableError(text);
  return absl::InvalidArgumentError(text);
}

absl::Status S3Client::Put(std::string_view key, std::string_view data, bool if_absent,
                           const Headers& metadata) {
  Request request{.method = "PUT", .key = std::string(key), .body = std::string(data)};
  if (if_absent) {
    request.headers.emplace_back("If-None-Match", "*");
    request.idempotent = false;
  }
  for (const auto& [k, v] : metadata) request.headers.emplace_back("x-amz-meta-" + k, v);
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status == 200) return absl::OkStatus();
  // 412 from S3 and RGW; 409 ConditionalRequestConflict from AWS under a concurrent conditional
  // write (the retry then gives 412 or 200); 304 as object_store treats it.
  if (if_absent && (response.status == 412 || response.status == 409 || response.status == 304))
    return absl::AlreadyExistsError(Cat(Url(key), " exists (HTTP ", response.status, ")"));
  return ErrorStatus(request, response);
}

absl::Status S3Client::CreateBucket() {
  Request request{.method = "PUT", .key = ""};
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status == 200) return absl::OkStatus();
  absl::Status error = ErrorStatus(request, response);
  if (response.status == 409)  // BucketAlreadyOwnedByYou / BucketAlreadyExists
    return absl::AlreadyExistsError(error.message());
  return error;
}

absl::StatusOr<std::string> S3Client::Get(std::string_view key) {
  Request request{.method = "GET", .key = std::string(key)};
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status != 200) return ErrorStatus(request, response);
  return std::move(response.body);
}

absl::StatusOr<std::string> S3Client::GetRange(std::string_view key, uint64_t offset,
                                               uint64_t length) {
  if (length == 0) return std::string();
  Request request{.method = "GET", .key = std::string(key)};
  request.headers.emplace_back("Range", Cat("bytes=", offset, "-", offset + length - 1));
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status == 416) return std::string();  // offset at or past the end
  if (response.status == 206) return std::move(response.body);
  if (response.status == 200)  // a store that ignores Range sends the whole object
    return response.body.size() <= offset ? std::string() : response.body.substr(offset, length);
  return ErrorStatus(request, response);
}

absl::StatusOr<ObjectInfo> S3Client::Head(std::string_view key) {
  Request request{.method = "HEAD", .key = std::string(key)};
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status != 200) return ErrorStatus(request, response);
  ObjectInfo info;
  info.key = std::string(key);
  info.size = std::strtoull(response.Header("Content-Length").c_str(), nullptr, 10);
  info.mtime_ms = ParseTimeMs(response.Header("Last-Modified"));
  info.etag = Unquote(response.Header("ETag"));
  return info;
}

absl::Status S3Client::Delete(std::string_view key) {
  Request request{.method = "DELETE", .key = std::string(key)};
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status == 204 || response.status == 200 || response.status == 404)
    return absl::OkStatus();
  return ErrorStatus(request, response);
}

absl::Status S3Client::Copy(std::string_view from, std::string_view to) {
  Request request{.method = "PUT", .key = std::string(to)};
  request.headers.emplace_back("x-amz-copy-source",
                               UriEncode(Cat(options_.bucket, "/", from), false));
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status == 200 && !IsErrorDocument(response.body)) return absl::OkStatus();
  return ErrorStatus(request, response);
}

absl::StatusOr<Listing> S3Client::List(std::string_view prefix, std::string_view delimiter) {
  Listing listing;
  std::string token;
  do {
    Request request{.method = "GET", .key = ""};
    request.query = {{"list-type", "2"}, {"prefix", std::string(prefix)}};
    if (!delimiter.empty()) request.query.emplace_back("delimiter", std::string(delimiter));
    if (!token.empty()) request.query.emplace_back("continuation-token", token);
    NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
    if (response.status != 200) return ErrorStatus(request, response);
    pugi::xml_document doc;
    if (!doc.load_string(response.body.c_str()))
      return absl::UnavailableError(Cat("LIST ", Url(prefix), ": unreadable XML answer"));
    pugi::xml_node result = doc.child("ListBucketResult");
    for (pugi::xml_node c : result.children("Contents")) {
      ObjectInfo info;
      info.key = c.child_value("Key");
      info.size = std::strtoull(c.child_value("Size"), nullptr, 10);
      info.mtime_ms = ParseTimeMs(c.child_value("LastModified"));
      info.etag = Unquote(c.child_value("ETag"));
      listing.objects.push_back(std::move(info));
    }
    for (pugi::xml_node p : result.children("CommonPrefixes"))
      listing.prefixes.emplace_back(p.child_value("Prefix"));
    token = std::string_view(result.child_value("IsTruncated")) == "true"
                ? result.child_value("NextContinuationToken")
                : "";
  } while (!token.empty());
  return listing;
}

absl::StatusOr<std::string> S3Client::CreateMultipart(std::string_view key) {
  Request request{.method = "POST", .key = std::string(key), .query = {{"uploads", ""}}};
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status != 200) return ErrorStatus(request, response);
  pugi::xml_document doc;
  doc.load_string(response.body.c_str());
  std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
  if (id.empty())
    return absl::UnavailableError(Cat("POST ", Url(key), "?uploads: no UploadId in the answer"));
  return id;
}

absl::StatusOr<std::string> S3Client::UploadPart(std::string_view key, std::string_view upload_id,
                                                 int part, std::string_view data) {
  Request request{.method = "PUT", .key = std::string(key), .body = std::string(data)};
  request.query = {{"partNumber", std::to_string(part)}, {"uploadId", std::string(upload_id)}};
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status != 200) return ErrorStatus(request, response);
  return response.Header("ETag");
}

absl::Status S3Client::CompleteMultipart(std::string_view key, std::string_view upload_id,
                                         const std::vector<std::string>& etags) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("CompleteMultipartUpload");
  for (size_t i = 0; i < etags.size(); ++i) {
    pugi::xml_node part = root.append_child("Part");
    part.append_child("PartNumber").text().set(static_cast<unsigned>(i + 1));
    part.append_child("ETag").text().set(etags[i].c_str());
  }
  std::ostringstream xml;
  doc.save(xml, "", pugi::format_raw | pugi::format_no_declaration);
  Request request{.method = "POST", .key = std::string(key), .body = xml.str()};
  request.query = {{"uploadId", std::string(upload_id)}};
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status == 200 && !IsErrorDocument(response.body)) return absl::OkStatus();
  absl::Status error = ErrorStatus(request, response);
  // A retried Complete whose first attempt did complete finds the upload gone.
  if (absl::IsNotFound(error) && Head(key).ok()) return absl::OkStatus();
  return error;
}

absl::Status S3Client::AbortMultipart(std::string_view key, std::string_view upload_id) {
  Request request{.method = "DELETE", .key = std::string(key)};
  request.query = {{"uploadId", std::string(upload_id)}};
  NOBUS_ASSIGN_OR_RETURN(Response response, Send(request));
  if (response.status == 204 || response.status == 200 || response.status == 404)
    return absl::OkStatus();
  return ErrorStatus(request, response);
}

}  // namespace nobus::objstore
