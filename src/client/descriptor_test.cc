#include <gtest/gtest.h>

#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/text_format.h"
#include "nobus/table.h"

namespace nobus {
namespace {

namespace pb = ::google::protobuf;

constexpr char kDepFile[] = R"pb(
  name: "dep.proto" package: "dep" syntax: "proto2"
  message_type {
    name: "Address"
    field { name: "city" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
    field { name: "geo" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".dep.Address.Geo" }
    nested_type { name: "Geo" field { name: "lat" number: 1 label: LABEL_OPTIONAL type: TYPE_DOUBLE } }
  }
  message_type {
    name: "Tag"
    field { name: "label" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
  }
  enum_type { name: "Kind" value { name: "A" number: 0 } value { name: "B" number: 1 } }
)pb";

constexpr char kMainFile[] = R"pb(
  name: "main.proto" package: "app" syntax: "proto2" dependency: "dep.proto"
  message_type {
    name: "Row"
    field { name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_INT64 }
    field { name: "home" number: 2 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".dep.Address" }
    field { name: "tags" number: 3 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".app.Row.Tag" }
    field { name: "other_tag" number: 4 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".dep.Tag" }
    field { name: "kind" number: 5 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".dep.Kind" }
    field { name: "sibling" number: 6 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".app.Sibling" }
    field { name: "counts" number: 7 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".app.Row.CountsEntry" }
    nested_type { name: "Tag" field { name: "name" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING } }
    nested_type {
      name: "CountsEntry" options { map_entry: true }
      field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
      field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_INT64 }
    }
  }
  message_type {
    name: "Sibling"
    field { name: "home" number: 1 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: ".dep.Address" }
  }
)pb";

class DescriptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* text : {kDepFile, kMainFile}) {
      pb::FileDescriptorProto file;
      ASSERT_TRUE(pb::TextFormat::ParseFromString(text, &file));
      ASSERT_NE(pool_.BuildFile(file), nullptr);
    }
    row_ = pool_.FindMessageTypeByName("app.Row");
    ASSERT_NE(row_, nullptr);
  }

  const pb::DescriptorProto* Nested(const pb::DescriptorProto& d, const std::string& name) {
    for (const pb::DescriptorProto& n : d.nested_type())
      if (n.name() == name) return &n;
    return nullptr;
  }

  pb::DescriptorPool pool_;
  const pb::Descriptor* row_ = nullptr;
};

TEST_F(DescriptorTest, ResultBuildsAloneInAFileOfTheSamePackage) {
  pb::DescriptorProto flat = DescriptorProtoFor(row_);
  pb::FileDescriptorProto file;
  file.set_name("alone.proto");
  file.set_package("app");
  *file.add_message_type() = flat;
  pb::DescriptorPool alone;
  const pb::FileDescriptor* built = alone.BuildFile(file);
  ASSERT_NE(built, nullptr) << flat.DebugString();
  const pb::Descriptor* row = built->message_type(0);
  EXPECT_EQ(row->FindFieldByName("home")->message_type()->FindFieldByName("geo")
                ->message_type()->FindFieldByName("lat")->type(),
            pb::FieldDescriptor::TYPE_DOUBLE);
  EXPECT_TRUE(row->FindFieldByName("counts")->is_map());
  EXPECT_EQ(row->FindFieldByName("id")->label(), pb::FieldDescriptor::LABEL_REQUIRED);
}

TEST_F(DescriptorTest, OutsideTypesBecomeNestedOnce) {
  pb::DescriptorProto flat = DescriptorProtoFor(row_);
  ASSERT_NE(Nested(flat, "Address"), nullptr);
  ASSERT_NE(Nested(flat, "Sibling"), nullptr);
  ASSERT_NE(Nested(flat, "Tag"), nullptr);
  int addresses = 0;
  for (const pb::DescriptorProto& n : flat.nested_type()) addresses += n.name() == "Address";
  EXPECT_EQ(addresses, 1);  // Row.home and Sibling.home share one copy
  EXPECT_EQ(flat.field(1).type_name(), ".app.Row.Address");
  EXPECT_EQ(Nested(flat, "Sibling")->field(0).type_name(), ".app.Row.Address");
  EXPECT_EQ(flat.enum_type_size(), 1);
  EXPECT_EQ(flat.field(4).type_name(), ".app.Row.Kind");
}

TEST_F(DescriptorTest, NameClashGetsASuffix) {
  pb::DescriptorProto flat = DescriptorProtoFor(row_);
  // Row.Tag is Row's own; dep.Tag comes in as Tag_2.
  ASSERT_NE(Nested(flat, "Tag_2"), nullptr);
  EXPECT_EQ(Nested(flat, "Tag_2")->field(0).name(), "label");
  EXPECT_EQ(flat.field(2).type_name(), ".app.Row.Tag");
  EXPECT_EQ(flat.field(3).type_name(), ".app.Row.Tag_2");
}

TEST_F(DescriptorTest, TablePropertiesCarryTheSerializedDescriptor) {
  TableProperties table = TableProperties::Proto("a.b.c", row_);
  EXPECT_EQ(table.format, RecordFormat::kProto);
  pb::DescriptorProto parsed;
  ASSERT_TRUE(parsed.ParseFromString(table.descriptor_proto));
  EXPECT_EQ(parsed.name(), "Row");
  EXPECT_TRUE(TableProperties::Json("a.b.c").descriptor_proto.empty());
}

}  // namespace
}  // namespace nobus
