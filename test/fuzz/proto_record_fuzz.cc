// libFuzzer target for the protobuf record decoder (untrusted bytes: every protobuf record a
// client sends). The input is one record, decoded against a fixed nested table schema and a
// matching DescriptorProto (nested message, repeated packed and unpacked scalars, a map with
// message values). Invariants checked: no crash or sanitizer report; a rejected record leaves the
// blob as it was; an accepted record replays through ReplayRows without error as one row.
#include <google/protobuf/descriptor.pb.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_checks.h"
#include "schema/ddl.h"
#include "schema/record_decoder.h"

namespace {

namespace pb = google::protobuf;
using FDP = pb::FieldDescriptorProto;

constexpr std::string_view kSchema =
    "id BIGINT NOT NULL, msg STRING, t TINYINT, f FLOAT, d DOUBLE, ok BOOLEAN, bin BINARY, "
    "day DATE, ts TIMESTAMP, price DECIMAL(10,2), nums ARRAY<INT>, vals ARRAY<DOUBLE>, "
    "tags ARRAY<STRING>, payload STRUCT<x: INT NOT NULL, y: ARRAY<STRUCT<z: BIGINT>>>, "
    "m MAP<STRING, STRUCT<x: INT NOT NULL, y: ARRAY<STRUCT<z: BIGINT>>>>";

FDP* Add(pb::DescriptorProto* d, const char* name, int number, FDP::Type type,
         FDP::Label label = FDP::LABEL_OPTIONAL, const char* type_name = nullptr) {
  FDP* f = d->add_field();
  f->set_name(name);
  f->set_number(number);
  f->set_type(type);
  f->set_label(label);
  if (type_name != nullptr) f->set_type_name(type_name);
  return f;
}

std::string Descriptor() {
  pb::DescriptorProto d;
  d.set_name("Rec");
  pb::DescriptorProto* leaf = d.add_nested_type();
  leaf->set_name("Leaf");
  Add(leaf, "z", 1, FDP::TYPE_SINT64);
  pb::DescriptorProto* inner = d.add_nested_type();
  inner->set_name("Inner");
  Add(inner, "x", 1, FDP::TYPE_INT32, FDP::LABEL_REQUIRED);
  Add(inner, "y", 2, FDP::TYPE_MESSAGE, FDP::LABEL_REPEATED, ".pkg.Rec.Leaf");
  pb::DescriptorProto* entry = d.add_nested_type();
  entry->set_name("MEntry");
  entry->mutable_options()->set_map_entry(true);
  Add(entry, "key", 1, FDP::TYPE_STRING);
  Add(entry, "value", 2, FDP::TYPE_MESSAGE, FDP::LABEL_OPTIONAL, "Inner");
  Add(&d, "id", 1, FDP::TYPE_INT64, FDP::LABEL_REQUIRED);
  Add(&d, "msg", 2, FDP::TYPE_STRING);
  Add(&d, "t", 3, FDP::TYPE_SINT32);
  Add(&d, "f", 4, FDP::TYPE_FLOAT);
  Add(&d, "d", 5, FDP::TYPE_DOUBLE);
  Add(&d, "ok", 6, FDP::TYPE_BOOL);
  Add(&d, "bin", 7, FDP::TYPE_BYTES);
  Add(&d, "day", 8, FDP::TYPE_SFIXED32);
  Add(&d, "ts", 9, FDP::TYPE_INT64);
  Add(&d, "price", 10, FDP::TYPE_STRING);
  Add(&d, "nums", 11, FDP::TYPE_INT32, FDP::LABEL_REPEATED)->mutable_options()->set_packed(true);
  Add(&d, "vals", 12, FDP::TYPE_DOUBLE, FDP::LABEL_REPEATED);
  Add(&d, "tags", 13, FDP::TYPE_STRING, FDP::LABEL_REPEATED);
  Add(&d, "payload", 14, FDP::TYPE_MESSAGE, FDP::LABEL_OPTIONAL, "Inner");
  Add(&d, "m", 15, FDP::TYPE_MESSAGE, FDP::LABEL_REPEATED, "MEntry");
  return d.SerializeAsString();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nobus::fuzz::DecoderFixture* fixture =
      nobus::fuzz::NewDecoderFixture(kSchema, [](const nobus::schema::Schema& s) {
        return nobus::schema::RecordDecoder::ForProto(s, Descriptor());
      });
  nobus::fuzz::CheckDecodeOne(*fixture, {"id", "day", "price"},
                              std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
