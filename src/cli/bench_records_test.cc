#include "cli/bench_records.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"

namespace nobus::cli::bench {
namespace {

TEST(RecordMakerTest, JsonRecordHasExactSizeAndFields) {
  RecordMaker maker(Format::kJson, 1024, 3, /*probe=*/true);
  for (int64_t seq : {int64_t{0}, int64_t{9}, int64_t{123456789012}}) {
    std::string record(maker.Make(seq));
    EXPECT_EQ(record.size(), 1024u);
    nlohmann::json doc = nlohmann::json::parse(record);
    EXPECT_EQ(doc["stream"], 3);
    EXPECT_EQ(doc["seq"], seq);
    EXPECT_EQ(doc["probe"], seq);
    EXPECT_GT(doc["payload"].get<std::string>().size(), 900u);
  }
}

TEST(RecordMakerTest, PayloadVariesBetweenRecords) {
  RecordMaker maker(Format::kJson, 300, 0, false);
  nlohmann::json a = nlohmann::json::parse(std::string(maker.Make(1)));
  nlohmann::json b = nlohmann::json::parse(std::string(maker.Make(2)));
  EXPECT_NE(a["payload"], b["payload"]);
}

TEST(RecordMakerTest, JsonWithoutProbeOmitsIt) {
  RecordMaker maker(Format::kJson, 200, 1, /*probe=*/false);
  nlohmann::json doc = nlohmann::json::parse(std::string(maker.Make(5)));
  EXPECT_FALSE(doc.contains("probe"));
  EXPECT_EQ(doc["seq"], 5);
}

TEST(RecordMakerTest, ProtoRecordParsesWithTheStreamDescriptor) {
  TableProperties props = BenchTableProperties("main.bench.t", Format::kProto);
  ASSERT_EQ(props.format, RecordFormat::kProto);
  google::protobuf::FileDescriptorProto file;
  file.set_name("bench.proto");
  ASSERT_TRUE(file.add_message_type()->ParseFromString(props.descriptor_proto));
  google::protobuf::DescriptorPool pool;
  const google::protobuf::FileDescriptor* fd = pool.BuildFile(file);
  ASSERT_NE(fd, nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  const google::protobuf::Descriptor* d = fd->message_type(0);
  RecordMaker maker(Format::kProto, 1024, 2, /*probe=*/true);
  for (int64_t seq : {int64_t{0}, int64_t{200}, int64_t{1'000'000'000'000}}) {
    std::string bytes(maker.Make(seq));
    EXPECT_EQ(bytes.size(), 1024u);
    std::unique_ptr<google::protobuf::Message> msg(factory.GetPrototype(d)->New());
    ASSERT_TRUE(msg->ParseFromString(bytes));
    const auto* r = msg->GetReflection();
    EXPECT_EQ(r->GetInt32(*msg, d->FindFieldByName("stream")), 2);
    EXPECT_EQ(r->GetInt64(*msg, d->FindFieldByName("seq")), seq);
    EXPECT_EQ(r->GetInt64(*msg, d->FindFieldByName("probe")), seq);
  }
}

}  // namespace
}  // namespace nobus::cli::bench
