#include "fake_zerobus.h"

#include <chrono>

namespace nobus::client::testing {

namespace {
using Request = zb::EphemeralStreamRequest;
using Response = zb::EphemeralStreamResponse;

std::vector<std::string> RecordsOf(const Request& request) {
  std::vector<std::string> out;
  if (request.has_ingest_record()) {
    const zb::IngestRecordRequest& r = request.ingest_record();
    out.push_back(r.has_json_record() ? r.json_record() : r.proto_encoded_record());
  } else if (request.has_ingest_record_batch()) {
    const zb::IngestRecordBatchRequest& b = request.ingest_record_batch();
    if (b.has_json_batch()) out.assign(b.json_batch().records().begin(), b.json_batch().records().end());
    if (b.has_proto_encoded_batch())
      out.assign(b.proto_encoded_batch().records().begin(), b.proto_encoded_batch().records().end());
  }
  return out;
}

int64_t OffsetOf(const Request& request) {
  if (request.has_ingest_record()) return request.ingest_record().offset_id();
  if (request.has_ingest_record_batch()) return request.ingest_record_batch().offset_id();
  return -1;
}

}  // namespace

// All state of every reactor is guarded by the server's one recursive mutex (reactions may run
// inline inside Start* calls).
class FakeZerobus::Reactor final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  Reactor(FakeZerobus* server, grpc::CallbackServerContext* context) : server_(server) {
    std::lock_guard lock(server_->mu_);
    script_ = server_->NextScript();
    call_ = server_->NewCall(context, this);
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    std::lock_guard lock(server_->mu_);
    if (!ok) {
      server_->logs_[call_].half_closed = true;
      FinishLocked(signalled_ ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream rotated")
                              : grpc::Status::OK);
      return;
    }
    if (!created_) {
      HandleCreate();
    } else {
      HandleRequest();
    }
    if (!finishing_) StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(server_->mu_);
    writing_ = false;
    WriteNextLocked();
  }

  void OnDone() override {
    {
      std::lock_guard lock(server_->mu_);
      server_->live_.erase(this);
      ++server_->ended_;
      server_->cv_.notify_all();
    }
    delete this;
  }

  void ReleaseAcksLocked() {
    if (!finishing_ && last_received_ >= 0) AckLocked(last_received_);
  }

 private:
  void HandleCreate() {
    created_ = true;
    server_->logs_[call_].create = request_.create_stream();
    if (!script_.create_status.ok()) return FinishLocked(script_.create_status);
    if (script_.no_create_response) return;
    Response response;
    response.mutable_create_stream_response()->set_stream_id("fake-" + std::to_string(call_));
    SendLocked(response);
    if (script_.bogus_ack >= 0) {
      Response ack;
      ack.mutable_ingest_record_response()->set_durability_ack_up_to_offset(script_.bogus_ack);
      SendLocked(ack);
    }
  }

  void HandleRequest() {
    server_->logs_[call_].requests.push_back(request_);
    ++server_->total_requests_;
    server_->cv_.notify_all();
    int64_t offset = OffsetOf(request_);
    if (offset != next_offset_) {
      return FinishLocked(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          "offset " + std::to_string(offset) + ", expected " + std::to_string(next_offset_)));
    }
    ++next_offset_;
    records_.push_back(RecordsOf(request_));
    if (script_.fail_after >= 0 && static_cast<int>(records_.size()) >= script_.fail_after)
      return FinishLocked(script_.fail_status);
    last_received_ = offset;
    if (!script_.ack && !server_->release_acks_) return;
    AckLocked(offset);
    if (script_.close_signal_after >= 0 && !signalled_ &&
        static_cast<int>(records_.size()) >= script_.close_signal_after) {
      signalled_ = true;
      Response signal;
      signal.mutable_close_stream_signal()->mutable_duration()->set_seconds(script_.signal_seconds);
      SendLocked(signal);
      if (script_.end_after_signal)
        FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is draining"));
    }
  }

  void AckLocked(int64_t offset) {
    if (offset <= acked_) return;
    for (int64_t i = acked_ + 1; i <= offset; ++i)
      for (const std::string& r : records_[i]) server_->durable_.push_back(r);
    acked_ = offset;
    Response ack;
    ack.mutable_ingest_record_response()->set_durability_ack_up_to_offset(offset);
    SendLocked(ack);
  }

  void SendLocked(const Response& response) {
    outbox_.push_back(response);
    WriteNextLocked();
  }

  void WriteNextLocked() {
    if (writing_) return;
    if (!outbox_.empty()) {
      current_ = outbox_.front();
      outbox_.pop_front();
      writing_ = true;
      StartWrite(&current_);
      return;
    }
    if (finishing_ && !finished_) {
      finished_ = true;
      Finish(finish_status_);
    }
  }

  void FinishLocked(grpc::Status status) {
    if (finishing_) return;
    finishing_ = true;
    finish_status_ = std::move(status);
    WriteNextLocked();
  }

  FakeZerobus* const server_;
  CallScript script_;
  int call_ = -1;
  Request request_;
  Response current_;
  std::deque<Response> outbox_;
  std::vector<std::vector<std::string>> records_;  // by offset
  bool created_ = false;
  bool writing_ = false;
  bool finishing_ = false;
  bool finished_ = false;
  bool signalled_ = false;
  grpc::Status finish_status_;
  int64_t next_offset_ = 0;
  int64_t last_received_ = -1;
  int64_t acked_ = -1;
};

class FakeZerobus::Service final : public zb::Zerobus::CallbackService {
 public:
  explicit Service(FakeZerobus* server) : server_(server) {}
  grpc::ServerBidiReactor<Request, Response>* EphemeralStream(
      grpc::CallbackServerContext* context) override {
    return new Reactor(server_, context);
  }

 private:
  FakeZerobus* const server_;
};

FakeZerobus::FakeZerobus() : service_(std::make_unique<Service>(this)) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  address_ = "127.0.0.1:" + std::to_string(port);
}

FakeZerobus::~FakeZerobus() {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  // OnDone of cancelled calls may still be running on gRPC threads after Wait.
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(30), [&] { return live_.empty(); });
}

void FakeZerobus::PushScript(CallScript script) {
  std::lock_guard lock(mu_);
  scripts_.push_back(std::move(script));
}

void FakeZerobus::SetDefaultScript(CallScript script) {
  std::lock_guard lock(mu_);
  default_script_ = std::move(script);
}

void FakeZerobus::ReleaseAcks() {
  std::lock_guard lock(mu_);
  release_acks_ = true;
  for (Reactor* reactor : live_) reactor->ReleaseAcksLocked();
}

CallScript FakeZerobus::NextScript() {
  if (scripts_.empty()) return default_script_;
  CallScript script = scripts_.front();
  scripts_.pop_front();
  return script;
}

int FakeZerobus::NewCall(const grpc::CallbackServerContext* context, Reactor* reactor) {
  CallLog log;
  for (const auto& [key, value] : context->client_metadata())
    log.headers.emplace(std::string(key.data(), key.size()), std::string(value.data(), value.size()));
  logs_.push_back(std::move(log));
  live_.insert(reactor);
  cv_.notify_all();
  return static_cast<int>(logs_.size()) - 1;
}

int FakeZerobus::calls() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(logs_.size());
}

CallLog FakeZerobus::call(int index) const {
  std::lock_guard lock(mu_);
  return logs_.at(index);
}

std::vector<std::string> FakeZerobus::durable() const {
  std::lock_guard lock(mu_);
  return durable_;
}

bool FakeZerobus::WaitForEndedCalls(int n) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return ended_ >= n; });
}

bool FakeZerobus::WaitForRequests(int n) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return total_requests_ >= n; });
}

}  // namespace nobus::client::testing
