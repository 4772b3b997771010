// FakeS3: an in-process S3 server for tests (one bucket, objects in memory) that speaks the part
// of the REST API S3Client uses and can inject the faults an object-store commit must survive:
// an error status instead of the request (412, 409, 500, 503...), the request applied and then a
// 5xx or a hang past the client's timeout (the outcome the client cannot know), and slow requests.
// It checks every request's SigV4 signature against the one credential it knows (403
// SignatureDoesNotMatch otherwise), recomputed from the request as it arrived on the wire.
//
// Ownership: owns its server thread; the destructor stops it. Thread-safety: all methods are
// thread-safe. Durability: none (memory).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "objstore/sigv4.h"

namespace httplib {
class Server;
}

namespace nobus::objstore {

// A request as the fault hook sees it.
struct FakeCall {
  std::string method;  // GET PUT HEAD DELETE POST
  std::string key;     // "" for the bucket (listings)
  std::map<std::string, std::string> query;
  bool if_none_match = false;  // a conditional PUT
};

struct FakeFault {
  enum class Kind {
    kNone,
    kStatus,           // answer `status` + `code`, do not apply the request
    kApplyThenStatus,  // apply it, then answer `status` (e.g. 500 after the object landed)
    kApplyThenHang,    // apply it, then wait `delay_ms` before answering (client times out)
    kDelay,            // wait `delay_ms`, then serve normally
  } kind = Kind::kNone;
  int status = 500;
  std::string code = "InternalError";
  int delay_ms = 0;
};

class FakeS3 {
 public:
  FakeS3(std::string bucket, Credentials credentials);
  ~FakeS3();

  // "http://127.0.0.1:<port>".
  std::string endpoint() const;
  // Called for every request before it is served; the default serves everything.
  void SetFaults(std::function<FakeFault(const FakeCall&)> faults);

  // Direct access to the stored objects.
  std::map<std::string, std::string> Objects();
  void PutObject(const std::string& key, std::string data);
  int requests(const std::string& method);

 private:
  struct Object {
    std::string data;
    int64_t mtime_s = 0;
  };
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nobus::objstore
