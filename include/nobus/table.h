// nobus C++ SDK: which table a stream writes and how its records are encoded. A stream carries
// either JSON records (one JSON object per record, values mapped to columns by name) or protobuf
// records (the standard binary encoding of one message type whose descriptor travels in
// create_stream). See doc/sdk.md and specs/zerobus-wire.md "Protobuf records" for the column
// mapping.
//
// Plain values; thread-safe to share once built.
#pragma once

#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace nobus {

enum class RecordFormat {
  kJson,   // each record is a JSON object as UTF-8 text
  kProto,  // each record is a serialized protobuf message of TableProperties' descriptor
};

struct TableProperties {
  // "catalog.schema.table". Not validated locally: the server answers INVALID_ARGUMENT or
  // NOT_FOUND, which CreateStream returns as non-retriable.
  std::string table_name;
  RecordFormat format = RecordFormat::kJson;
  // kProto only: a serialized google.protobuf.DescriptorProto, self-contained (see
  // DescriptorProtoFor). Empty for kJson.
  std::string descriptor_proto;

  // A JSON stream to `table_name`.
  static TableProperties Json(std::string table_name);
  // A protobuf stream to `table_name` whose records are messages of type `descriptor`.
  static TableProperties Proto(std::string table_name,
                               const google::protobuf::Descriptor* descriptor);
  // Same, for a generated message class: TableProperties::Proto<MyRow>("main.default.events").
  template <typename Message>
  static TableProperties Proto(std::string table_name) {
    return Proto(std::move(table_name), Message::descriptor());
  }
};

// The DescriptorProto of `descriptor` the way the wire protocol wants it: one message, every type
// it uses carried inside it. Nested types come along as they are; message and enum types defined
// elsewhere (other messages of the same file, imported files) are copied in as nested_type /
// enum_type of the root (renamed with a numeric suffix on a name clash), and every field's
// type_name is rewritten to the fully qualified name of the copy. Field names, numbers, labels
// (proto2 optional/required, repeated) and map entries are preserved.
google::protobuf::DescriptorProto DescriptorProtoFor(const google::protobuf::Descriptor* descriptor);

}  // namespace nobus
