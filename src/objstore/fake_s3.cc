#include "objstore/fake_s3.h"

#include <httplib.h>
#include <pugixml.hpp>

#include <chrono>
#include <ctime>
#include <sstream>

#include "common/status.h"

namespace nobus::objstore {
namespace {

std::string Xml(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw);
  return out.str();
}

void Error(httplib::Response& res, int status, const std::string& code,
           const std::string& message = "") {
  pugi::xml_document doc;
  pugi::xml_node e = doc.append_child("Error");
  e.append_child("Code").text().set(code.c_str());
  e.append_child("Message").text().set(message.c_str());
  res.status = status;
  res.set_content(Xml(doc), "application/xml");
}

int64_t ParseAmzDate(const std::string& text) {
  std::tm tm{};
  if (strptime(text.c_str(), "%Y%m%dT%H%M%SZ", &tm) == nullptr) return 0;
  return timegm(&tm);
}

// `s` seconds since the epoch, UTC, in strftime `format`.
std::string FormatUtc(int64_t s, const char* format) {
  std::time_t t = s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

std::string ETag(const std::string& data) { return "\"" + Sha256Hex(data).substr(0, 32) + "\""; }

}  // namespace

struct FakeS3::Impl {
  std::string bucket;
  Credentials credentials;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::map<std::string, Object> objects;                           // guarded by mu
  std::map<std::string, std::map<int, std::string>> uploads;       // guarded by mu
  std::map<std::string, int> requests;                             // guarded by mu
  std::function<FakeFault(const FakeCall&)> faults;                // guarded by mu
  int next_upload = 1;                                             // guarded by mu

  // 403 unless the request carries a valid signature of `credentials`.
  bool Authentic(const httplib::Request& req, httplib::Response& res) {
    std::string auth = req.get_header_value("Authorization");
    size_t at = auth.find("SignedHeaders=");
    if (auth.rfind("AWS4-HMAC-SHA256 ", 0) != 0 || at == std::string::npos) {
      Error(res, 403, "AccessDenied", "no SigV4 Authorization header");
      return false;
    }
    std::string payload = req.get_header_value("x-amz-content-sha256");
    if (payload != Sha256Hex(req.body)) {
      Error(res, 400, "XAmzContentSHA256Mismatch");
      return false;
    }
    RequestToSign r{.method = req.method, .path = req.path, .payload_sha256 = payload};
    for (const auto& [k, v] : req.params) r.query.emplace_back(k, v);
    std::string names = auth.substr(at + 14, auth.find(',', at) - at - 14);
    std::stringstream list(names);
    for (std::string name; std::getline(list, name, ';');) {
      if (name == "x-amz-date" || name == "x-amz-content-sha256" || name == "x-amz-security-token")
        continue;
      std::string value = req.get_header_value(name.c_str());
      // cpp-httplib's server percent-decodes header values; S3Client sends this one encoded.
      if (name == "x-amz-copy-source") value = UriEncode(value, false);
      r.headers.emplace_back(name, value);
    }
    std::string scope_region = auth.substr(auth.find('/') + 10);  // after "<key>/<date>/"
    scope_region = scope_region.substr(0, scope_region.find('/'));
    Headers expected = SignV4(r, credentials, scope_region, "s3",
                              ParseAmzDate(req.get_header_value("x-amz-date")));
    if (expected.back().second != auth) {
      Error(res, 403, "SignatureDoesNotMatch", CanonicalRequest(r));
      return false;
    }
    return true;
  }

  void Serve(const httplib::Request& req, httplib::Response& res) {
    std::string path = req.path;  // "/bucket/key"
    std::string prefix = "/" + bucket;
    if (path.rfind(prefix, 0) != 0) return Error(res, 404, "NoSuchBucket", path);
    std::string key = path.size() > prefix.size() + 1 ? path.substr(prefix.size() + 1) : "";
    if (!Authentic(req, res)) return;
    FakeCall call{.method = req.method, .key = key};
    for (const auto& [k, v] : req.params) call.query[k] = v;
    call.if_none_match = req.get_header_value("If-None-Match") == "*";
    FakeFault fault;
    {
      std::lock_guard lock(mu);
      ++requests[req.method];
      if (faults) fault = faults(call);
    }
    using K = FakeFault::Kind;
    if (fault.kind == K::kStatus) return Error(res, fault.status, fault.code);
    if (fault.kind == K::kDelay)
      std::this_thread::sleep_for(std::chrono::milliseconds(fault.delay_ms));
    Apply(req, call, res);
    if (fault.kind == K::kApplyThenStatus) return Error(res, fault.status, fault.code);
    if (fault.kind == K::kApplyThenHang)
      std::this_thread::sleep_for(std::chrono::milliseconds(fault.delay_ms));
  }

  void Apply(const httplib::Request& req, const FakeCall& call, httplib::Response& res) {
    std::lock_guard lock(mu);
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    const std::string& m = call.method;
    auto q = [&](const char* name) -> const std::string* {
      auto it = call.query.find(name);
      return it == call.query.end() ? nullptr : &it->second;
    };
    if (m == "GET" && call.key.empty()) return List(call, res);
    if (m == "PUT" && q("uploadId")) {
      auto up = uploads.find(*q("uploadId"));
      if (up == uploads.end()) return Error(res, 404, "NoSuchUpload");
      up->second[std::stoi(*q("partNumber"))] = req.body;
      res.set_header("ETag", ETag(req.body));
      return;
    }
    if (m == "PUT") {
      std::string data = req.body;
      if (req.has_header("x-amz-copy-source")) {
        std::string source = req.get_header_value("x-amz-copy-source");
        source = source.substr(source.find('/') + 1);
        auto it = objects.find(source);
        if (it == objects.end()) return Error(res, 404, "NoSuchKey", source);
        data = it->second.data;
      }
      if (call.if_none_match && objects.count(call.key))
        return Error(res, 412, "PreconditionFailed");
      objects[call.key] = Object{data, now};
      res.set_header("ETag", ETag(data));
      if (req.has_header("x-amz-copy-source"))
        res.set_content("<CopyObjectResult></CopyObjectResult>", "application/xml");
      return;
    }
    if (m == "POST" && q("uploads")) {
      std::string id = "upload-" + std::to_string(next_upload++);
      uploads[id];
      pugi::xml_document doc;
      doc.append_child("InitiateMultipartUploadResult").append_child("UploadId").text().set(
          id.c_str());
      return res.set_content(Xml(doc), "application/xml");
    }
    if (m == "POST" && q("uploadId")) {
      auto up = uploads.find(*q("uploadId"));
      if (up == uploads.end()) return Error(res, 404, "NoSuchUpload");
      pugi::xml_document doc;
      doc.load_string(req.body.c_str());
      std::string data;
      for (pugi::xml_node part : doc.child("CompleteMultipartUpload").children("Part")) {
        auto it = up->second.find(part.child("PartNumber").text().as_int());
        if (it == up->second.end()) return Error(res, 400, "InvalidPart");
        data += it->second;
      }
      objects[call.key] = Object{data, now};
      uploads.erase(up);
      return res.set_content("<CompleteMultipartUploadResult/>", "application/xml");
    }
    if (m == "DELETE" && q("uploadId")) {
      uploads.erase(*q("uploadId"));
      res.status = 204;
      return;
    }
    if (m == "DELETE") {
      objects.erase(call.key);
      res.status = 204;
      return;
    }
    auto it = objects.find(call.key);
    if (it == objects.end()) {
      if (m == "HEAD") {
        res.status = 404;
        return;
      }
      return Error(res, 404, "NoSuchKey", call.key);
    }
    res.set_header("ETag", ETag(it->second.data));
    res.set_header("Last-Modified", FormatUtc(it->second.mtime_s, "%a, %d %b %Y %H:%M:%S GMT"));
    // cpp-httplib answers a Range header itself (206, or 416 past the end).
    res.set_content(it->second.data, "application/octet-stream");
  }

  // ListObjectsV2, two keys a page so that tests cover continuation.
  void List(const FakeCall& call, httplib::Response& res) {
    auto get = [&](const char* name) {
      auto it = call.query.find(name);
      return it == call.query.end() ? std::string() : it->second;
    };
    std::string prefix = get("prefix"), delimiter = get("delimiter");
    std::string after = get("continuation-token");
    pugi::xml_document doc;
    pugi::xml_node result = doc.append_child("ListBucketResult");
    int entries = 0;
    std::string last;
    std::string last_prefix;
    for (auto it = objects.lower_bound(prefix); it != objects.end(); ++it) {
      const std::string& key = it->first;
      if (key.rfind(prefix, 0) != 0) break;
      if (!after.empty() && key <= after) continue;
      if (entries == 2) {
        result.append_child("IsTruncated").text().set("true");
        result.append_child("NextContinuationToken").text().set(last.c_str());
        return res.set_content(Xml(doc), "application/xml");
      }
      size_t cut = delimiter.empty() ? std::string::npos : key.find(delimiter, prefix.size());
      if (cut != std::string::npos) {
        std::string common = key.substr(0, cut + delimiter.size());
        if (common != last_prefix) {
          result.append_child("CommonPrefixes").append_child("Prefix").text().set(common.c_str());
          last_prefix = common;
          ++entries;
        }
        last = key;
        continue;
      }
      pugi::xml_node c = result.append_child("Contents");
      c.append_child("Key").text().set(key.c_str());
      c.append_child("LastModified").text().set(FormatUtc(it->second.mtime_s, "%Y-%m-%dT%H:%M:%S.000Z").c_str());
      c.append_child("ETag").text().set(ETag(it->second.data).c_str());
      c.append_child("Size").text().set(static_cast<unsigned long long>(it->second.data.size()));
      last = key;
      ++entries;
    }
    result.append_child("IsTruncated").text().set("false");
    res.set_content(Xml(doc), "application/xml");
  }
};

FakeS3::FakeS3(std::string bucket, Credentials credentials) : impl_(std::make_unique<Impl>()) {
  impl_->bucket = std::move(bucket);
  impl_->credentials = std::move(credentials);
  Impl* impl = impl_.get();
  auto serve = [impl](const httplib::Request& req, httplib::Response& res) { impl->Serve(req, res); };
  impl->server.set_tcp_nodelay(true);
  impl->server.Get(".*", serve);  // and HEAD
  impl->server.Put(".*", serve);
  impl->server.Post(".*", serve);
  impl->server.Delete(".*", serve);
  impl->port = impl->server.bind_to_any_port("127.0.0.1");
  impl->thread = std::thread([impl] { impl->server.listen_after_bind(); });
  while (!impl->server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeS3::~FakeS3() {
  impl_->server.stop();
  impl_->thread.join();
}

std::string FakeS3::endpoint() const { return Cat("http://127.0.0.1:", impl_->port); }

void FakeS3::SetFaults(std::function<FakeFault(const FakeCall&)> faults) {
  std::lock_guard lock(impl_->mu);
  impl_->faults = std::move(faults);
}

std::map<std::string, std::string> FakeS3::Objects() {
  std::lock_guard lock(impl_->mu);
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : impl_->objects) out[k] = v.data;
  return out;
}

void FakeS3::PutObject(const std::string& key, std::string data) {
  std::lock_guard lock(impl_->mu);
  impl_->objects[key] = Object{std::move(data), 0};
}

int FakeS3::requests(const std::string& method) {
  std::lock_guard lock(impl_->mu);
  return impl_->requests[method];
}

}  // namespace nobus::objstore
