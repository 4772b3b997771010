#include "client/call.h"

#include "client/stream_core.h"
#include "client/wire_format.h"

namespace nobus::client {

Call::Call(StreamCore* core, uint64_t id, Rpc rpc, std::shared_ptr<grpc::Channel> channel,
           const Headers& headers)
    : id(id), core_(core), rpc_(rpc), channel_(std::move(channel)), stub_(channel_) {
  for (const auto& [key, value] : headers) context_.AddMetadata(key, value);
  context_.set_wait_for_ready(false);
}

void Call::Start(grpc::ByteBuffer first_request) {
  std::lock_guard<std::mutex> lock(start_mu_);
  first_request_ = std::move(first_request);
  stub_.PrepareBidiStreamingCall(&context_, MethodOf(rpc_), grpc::StubOptions(), this);
  AddHold();  // binds to the call: after Prepare, before StartCall
  StartWrite(&first_request_);
  StartRead(&read_buffer_);
  StartCall();
}

void Call::OnReadDone(bool ok) {
  AfterStart();
  if (!ok) {
    core_->OnReadFailed(this);
    return;
  }
  ServerMessage response;
  absl::Status parsed = ParseResponse(&read_buffer_, rpc_, &response);
  read_buffer_.Clear();
  core_->OnResponse(this, parsed, response);
  StartRead(&read_buffer_);
}

void Call::OnWriteDone(bool ok) {
  AfterStart();
  if (!ok) {
    core_->OnWriteFailed(this);
    return;
  }
  if (core_->NextWrite(this)) StartWrite(&write_buffer);
}

// Nothing may touch `this` after OnCallDone: the supervisor may delete the call at once.
void Call::OnDone(const grpc::Status& status) {
  AfterStart();
  core_->OnCallDone(this, status);
}

}  // namespace nobus::client
