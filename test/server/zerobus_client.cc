#include "zerobus_client.h"

#include <algorithm>
#include <chrono>

#include "common/status.h"

namespace nobus::server::testing {

TestStream::TestStream(zb::Zerobus::Stub* stub, TestStreamOptions options)
    : max_in_flight_(options.max_in_flight) {
  for (const auto& [key, value] : options.headers) context_.AddMetadata(key, value);
  context_.set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(options.call_deadline_ms));
  context_.set_wait_for_ready(options.wait_for_ready);
  call_ = stub->EphemeralStream(&context_);
}

TestStream::~TestStream() {
  if (!finished_) Cancel();
}

void TestStream::WaitForHeaders() { call_->WaitForInitialMetadata(); }

std::string TestStream::Create(const std::string& table, zb::RecordType type,
                               const std::string& descriptor) {
  WaitForHeaders();
  zb::EphemeralStreamRequest request;
  zb::CreateIngestStreamRequest* create = request.mutable_create_stream();
  create->set_table_name(table);
  create->set_record_type(type);
  if (!descriptor.empty()) create->set_descriptor_proto(descriptor);
  if (!Send(request)) return "";
  zb::EphemeralStreamResponse response;
  if (!call_->Read(&response)) return "";
  {
    std::lock_guard lock(mu_);
    Handle(response);
  }
  StartReader();
  return response.create_stream_response().stream_id();
}

bool TestStream::Send(const zb::EphemeralStreamRequest& request) {
  const bool batch = request.has_ingest_record_batch();
  if (batch ? request.ingest_record_batch().has_offset_id()
            : request.has_ingest_record() && request.ingest_record().has_offset_id()) {
    int64_t offset = batch ? request.ingest_record_batch().offset_id()
                           : request.ingest_record().offset_id();
    std::lock_guard lock(mu_);
    next_offset_ = std::max(next_offset_, offset + 1);
  }
  return call_->Write(request);
}

int64_t TestStream::SendNext(zb::EphemeralStreamRequest request) {
  StartReader();
  int64_t offset;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return ended_ || next_offset_ - LastAckLocked() <= max_in_flight_; });
    if (ended_) return -1;
    offset = next_offset_++;
  }
  if (request.has_ingest_record_batch())
    request.mutable_ingest_record_batch()->set_offset_id(offset);
  else
    request.mutable_ingest_record()->set_offset_id(offset);
  return call_->Write(request) ? offset : -1;
}

void TestStream::StartReader() {
  if (!finished_ && !reader_.joinable()) reader_ = std::thread([this] { ReadLoop(); });
}

void TestStream::ReadLoop() {
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

void TestStream::Handle(const zb::EphemeralStreamResponse& response) {
  if (response.has_ingest_record_response()) {
    int64_t ack = response.ingest_record_response().durability_ack_up_to_offset();
    if (ack < LastAckLocked())
      violations_.push_back(Cat("ack went backwards: ", ack, " after ", LastAckLocked()));
    if (ack >= next_offset_)
      violations_.push_back(
          Cat("ack ", ack, " beyond the highest offset sent, ", next_offset_ - 1));
    acks_.push_back(ack);
  } else if (response.has_close_stream_signal()) {
    ++close_signals_;
  } else if (response.has_create_stream_response() && !created_) {
    created_ = true;
  } else {
    violations_.push_back(Cat("unexpected response: ", response.ShortDebugString()));
  }
}

bool TestStream::WaitForAck(int64_t offset) {
  StartReader();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return ended_ || LastAckLocked() >= offset; });
  return LastAckLocked() >= offset;
}

grpc::Status TestStream::CloseAndFinish() {
  if (!finished_) call_->WritesDone();
  return Finish();
}

grpc::Status TestStream::Finish() {
  if (finished_) return status_;
  if (reader_.joinable())
    reader_.join();
  else
    ReadLoop();
  status_ = call_->Finish();
  finished_ = true;
  return status_;
}

grpc::Status TestStream::Cancel() {
  if (!ended()) context_.TryCancel();
  return Finish();
}

std::vector<int64_t> TestStream::acks() const {
  std::lock_guard lock(mu_);
  return acks_;
}

int64_t TestStream::last_ack() const {
  std::lock_guard lock(mu_);
  return LastAckLocked();
}

int TestStream::close_signals() const {
  std::lock_guard lock(mu_);
  return close_signals_;
}

bool TestStream::ended() const {
  std::lock_guard lock(mu_);
  return ended_;
}

int64_t TestStream::requests_written() const {
  std::lock_guard lock(mu_);
  return next_offset_;
}

std::vector<std::string> TestStream::violations() const {
  std::lock_guard lock(mu_);
  return violations_;
}

zb::EphemeralStreamRequest JsonRecord(int64_t offset, const std::string& json) {
  zb::EphemeralStreamRequest r;
  r.mutable_ingest_record()->set_offset_id(offset);
  r.mutable_ingest_record()->set_json_record(json);
  return r;
}

zb::EphemeralStreamRequest JsonBatch(int64_t offset, const std::vector<std::string>& records) {
  zb::EphemeralStreamRequest r;
  r.mutable_ingest_record_batch()->set_offset_id(offset);
  auto* batch = r.mutable_ingest_record_batch()->mutable_json_batch();
  for (const std::string& rec : records) batch->add_records(rec);
  return r;
}

zb::EphemeralStreamRequest ProtoRecord(int64_t offset, const std::string& bytes) {
  zb::EphemeralStreamRequest r;
  r.mutable_ingest_record()->set_offset_id(offset);
  r.mutable_ingest_record()->set_proto_encoded_record(bytes);
  return r;
}

zb::EphemeralStreamRequest ProtoBatch(int64_t offset, const std::vector<std::string>& records) {
  zb::EphemeralStreamRequest r;
  r.mutable_ingest_record_batch()->set_offset_id(offset);
  auto* batch = r.mutable_ingest_record_batch()->mutable_proto_encoded_batch();
  for (const std::string& rec : records) batch->add_records(rec);
  return r;
}

}  // namespace nobus::server::testing
