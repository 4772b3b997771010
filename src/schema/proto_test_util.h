// Test helpers for the protobuf decoder: build DescriptorProtos with libprotobuf's API and encode
// records with DynamicMessage, so our wire parser is checked against libprotobuf's encoder.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "schema/ddl.h"
#include "schema/record_decoder.h"
#include "schema/test_sink.h"

namespace nobus::schema {

namespace pb = google::protobuf;
using FDP = pb::FieldDescriptorProto;

inline FDP* AddField(pb::DescriptorProto* d, const std::string& name, int number, FDP::Type type,
                     FDP::Label label = FDP::LABEL_OPTIONAL, const std::string& type_name = "") {
  FDP* f = d->add_field();
  f->set_name(name);
  f->set_number(number);
  f->set_type(type);
  f->set_label(label);
  if (!type_name.empty()) f->set_type_name(type_name);
  return f;
}

// Adds `map<key, value> name = number;` with its nested entry type.
inline FDP* AddMapField(pb::DescriptorProto* d, const std::string& name, int number, FDP::Type key,
                        FDP::Type value, const std::string& value_type_name = "") {
  std::string entry_name = name + "Entry";
  entry_name[0] = static_cast<char>(std::toupper(entry_name[0]));
  pb::DescriptorProto* entry = d->add_nested_type();
  entry->set_name(entry_name);
  entry->mutable_options()->set_map_entry(true);
  AddField(entry, "key", 1, key);
  AddField(entry, "value", 2, value, FDP::LABEL_OPTIONAL, value_type_name);
  return AddField(d, name, number, FDP::TYPE_MESSAGE, FDP::LABEL_REPEATED, entry_name);
}

class ProtoFixture : public ::testing::Test {
 protected:
  // Builds `d` in package "t" with libprotobuf (so it is a valid message type), then a decoder
  // for table `ddl` from the descriptor as the SDK sends it (fully qualified type names).
  absl::Status Use(std::string_view ddl, const pb::DescriptorProto& d) {
    auto schema = ParseDdl(ddl);
    if (!schema.ok()) return schema.status();
    schema_ = *schema;
    pb::FileDescriptorProto file;
    file.set_name("t.proto");
    file.set_package("t");
    *file.add_message_type() = d;
    pool_ = std::make_unique<pb::DescriptorPool>();
    const pb::FileDescriptor* fd = pool_->BuildFile(file);
    if (fd == nullptr) return absl::InternalError("libprotobuf rejected the test descriptor");
    desc_ = fd->message_type(0);
    factory_ = std::make_unique<pb::DynamicMessageFactory>(pool_.get());
    pb::DescriptorProto copy;
    desc_->CopyTo(&copy);
    auto dec = RecordDecoder::ForProto(schema_, copy.SerializeAsString());
    if (!dec.ok()) return dec.status();
    decoder_ = *std::move(dec);
    return absl::OkStatus();
  }

  std::unique_ptr<pb::Message> New() {
    return std::unique_ptr<pb::Message>(factory_->GetPrototype(desc_)->New());
  }
  const pb::FieldDescriptor* F(const std::string& name) { return desc_->FindFieldByName(name); }

  // Decodes `bytes` as one record and replays the row: its trace, or "ERROR: <message>".
  std::string RowOf(std::string_view bytes) { return DecodeTrace(*decoder_, schema_, bytes); }
  std::string Row(const pb::Message& m) { return RowOf(m.SerializePartialAsString()); }

  Schema schema_;
  std::unique_ptr<pb::DescriptorPool> pool_;
  const pb::Descriptor* desc_ = nullptr;
  std::unique_ptr<pb::DynamicMessageFactory> factory_;
  std::unique_ptr<RecordDecoder> decoder_;
};

}  // namespace nobus::schema
