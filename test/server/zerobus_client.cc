#include "zerobus_client.h"

#include <chrono>

namespace nobus::server::testing {

TestStream::TestStream(zb::Zerobus::Stub* stub, const std::map<std::string, std::string>& headers) {
  for (const auto& [k, v] : headers) context_.AddMetadata(k, v);
  context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  stream_ = stub->EphemeralStream(&context_);
}

TestStream::~TestStream() {
  if (!finished_) Cancel();
}

void TestStream::WaitForHeaders() { stream_->WaitForInitialMetadata(); }

bool TestStream::Send(const zb::EphemeralStreamRequest& request) { return stream_->Write(request); }

std::string TestStream::Create(const std::string& table, zb::RecordType type,
                               const std::string& descriptor) {
  WaitForHeaders();
  zb::EphemeralStreamRequest request;
  auto* create = request.mutable_create_stream();
  create->set_table_name(table);
  create->set_record_type(type);
  if (!descriptor.empty()) create->set_descriptor_proto(descriptor);
  if (!Send(request)) return "";
  zb::EphemeralStreamResponse response;
  if (!stream_->Read(&response)) return "";
  return response.create_stream_response().stream_id();
}

void TestStream::Record(const zb::EphemeralStreamResponse& response) {
  if (response.has_ingest_record_response())
    acks_.push_back(response.ingest_record_response().durability_ack_up_to_offset());
  if (response.has_close_stream_signal()) ++close_signals_;
}

bool TestStream::WaitForAck(int64_t offset) {
  while (last_ack() < offset) {
    zb::EphemeralStreamResponse response;
    if (!stream_->Read(&response)) return false;
    Record(response);
  }
  return true;
}

grpc::Status TestStream::Finish() {
  if (finished_) return status_;
  zb::EphemeralStreamResponse response;
  while (stream_->Read(&response)) Record(response);
  status_ = stream_->Finish();
  finished_ = true;
  return status_;
}

void TestStream::Cancel() {
  context_.TryCancel();
  Finish();
}

grpc::Status TestStream::CloseAndFinish() {
  stream_->WritesDone();
  return Finish();
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
