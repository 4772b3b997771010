#include "crash/zerobus_test_client.h"

#include <chrono>

namespace nobus::crash {
namespace {

absl::Status ToAbsl(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace

PipelinedStream::PipelinedStream(zb::Zerobus::Stub* stub, PipelinedStreamOptions options)
    : stub_(stub), options_(std::move(options)) {}

PipelinedStream::~PipelinedStream() {
  if (call_ != nullptr) Finish();
}

absl::StatusOr<std::string> PipelinedStream::Create(const std::string& table, zb::RecordType type,
                                                    const std::string& descriptor) {
  for (const auto& [key, value] : options_.headers) context_.AddMetadata(key, value);
  context_.set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(options_.call_deadline_ms));
  call_ = stub_->EphemeralStream(&context_);
  call_->WaitForInitialMetadata();
  zb::EphemeralStreamRequest request;
  zb::CreateIngestStreamRequest* create = request.mutable_create_stream();
  create->set_table_name(table);
  create->set_record_type(type);
  if (!descriptor.empty()) create->set_descriptor_proto(descriptor);
  zb::EphemeralStreamResponse response;
  if (!call_->Write(request) || !call_->Read(&response)) {
    while (call_->Read(&response)) {
    }
    {
      std::lock_guard lock(mu_);
      ended_ = true;
    }
    return ToAbsl(JoinAndFinish());
  }
  if (!response.has_create_stream_response()) {
    Finish();
    return absl::InternalError(
        Cat("the first response is not a create_stream_response: ", response.ShortDebugString()));
  }
  reader_ = std::thread([this] { ReadLoop(); });
  return response.create_stream_response().stream_id();
}

int64_t PipelinedStream::Send(zb::EphemeralStreamRequest request) {
  int64_t offset;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return ended_ || next_offset_ - acked_ <= options_.max_in_flight; });
    if (ended_) return -1;
    offset = next_offset_++;
  }
  if (request.has_ingest_record_batch())
    request.mutable_ingest_record_batch()->set_offset_id(offset);
  else
    request.mutable_ingest_record()->set_offset_id(offset);
  return call_->Write(request) ? offset : -1;
}

void PipelinedStream::ReadLoop() {
  zb::EphemeralStreamResponse response;
  while (call_->Read(&response)) {
    std::lock_guard lock(mu_);
    Handle(response);
    cv_.notify_all();
  }
  std::lock_guard lock(mu_);
  ended_ = true;
  cv_.notify_all();
}

void PipelinedStream::Handle(const zb::EphemeralStreamResponse& response) {
  if (response.has_ingest_record_response()) {
    int64_t ack = response.ingest_record_response().durability_ack_up_to_offset();
    if (ack < acked_) violations_.push_back(Cat("ack went backwards: ", ack, " after ", acked_));
    if (ack >= next_offset_)
      violations_.push_back(Cat("ack ", ack, " beyond the last offset sent, ", next_offset_ - 1));
    acked_ = std::max(acked_, ack);
  } else if (response.has_close_stream_signal()) {
    ++close_signals_;
  } else {
    violations_.push_back(Cat("unexpected response: ", response.ShortDebugString()));
  }
}

int64_t PipelinedStream::requests_written() const {
  std::lock_guard lock(mu_);
  return next_offset_;
}

int64_t PipelinedStream::acked_up_to() const {
  std::lock_guard lock(mu_);
  return acked_;
}

bool PipelinedStream::ended() const {
  std::lock_guard lock(mu_);
  return ended_;
}

bool PipelinedStream::WaitForAck(int64_t offset) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return ended_ || acked_ >= offset; });
  return acked_ >= offset;
}

int PipelinedStream::close_signals() const {
  std::lock_guard lock(mu_);
  return close_signals_;
}

std::vector<std::string> PipelinedStream::violations() const {
  std::lock_guard lock(mu_);
  return violations_;
}

grpc::Status PipelinedStream::CloseAndFinish() {
  if (!finished_) call_->WritesDone();
  return JoinAndFinish();
}

grpc::Status PipelinedStream::Finish() {
  if (!ended()) context_.TryCancel();
  return JoinAndFinish();
}

grpc::Status PipelinedStream::JoinAndFinish() {
  if (finished_) return status_;
  if (reader_.joinable()) reader_.join();
  status_ = call_->Finish();
  finished_ = true;
  return status_;
}

}  // namespace nobus::crash
