#include "server/stream_open.h"

#include "google/protobuf/unknown_field_set.h"

namespace nobus::server {
namespace {

namespace zb = ::databricks::zerobus;

// proto2 keeps an enum value it does not know (e.g. AVRO = 4) in the unknown-field set, so
// has_record_type() is false for it: look there before treating the field as absent.
absl::StatusOr<zb::RecordType> RecordTypeOf(const zb::CreateIngestStreamRequest& request) {
  if (request.has_record_type()) {
    if (request.record_type() == zb::RECORD_TYPE_UNSPECIFIED)
      return absl::InvalidArgumentError(
          "create_stream.record_type RECORD_TYPE_UNSPECIFIED is not allowed: use PROTO or JSON");
    return request.record_type();
  }
  const google::protobuf::UnknownFieldSet& unknown =
      request.GetReflection()->GetUnknownFields(request);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const google::protobuf::UnknownField& f = unknown.field(i);
    if (f.number() == zb::CreateIngestStreamRequest::kRecordTypeFieldNumber) {
      int64_t value = f.type() == google::protobuf::UnknownField::TYPE_VARINT
                          ? static_cast<int64_t>(f.varint())
                          : -1;
      return absl::InvalidArgumentError(
          Cat("create_stream.record_type ", value,
              " is not supported by this server (supported: PROTO = 1, JSON = 2)"));
    }
  }
  return zb::PROTO;  // absent means PROTO (older SDKs)
}

absl::StatusOr<table::TableName> CheckName(const zb::CreateIngestStreamRequest& request,
                                           const StreamHeaders& headers) {
  if (!request.has_table_name() || request.table_name().empty())
    return absl::InvalidArgumentError(
        "create_stream.table_name is required (catalog.schema.table)");
  NOBUS_ASSIGN_OR_RETURN(table::TableName name, table::ParseTableName(request.table_name()));
  if (headers.table_name) {
    absl::StatusOr<table::TableName> header_name = table::ParseTableName(*headers.table_name);
    if (!header_name.ok() || !(*header_name == name))
      return absl::InvalidArgumentError(
          Cat("header x-databricks-zerobus-table-name '", *headers.table_name,
              "' does not match create_stream.table_name '", request.table_name(), "'"));
  }
  return name;
}

}  // namespace

absl::StatusOr<OpenedStream> OpenStream(const zb::CreateIngestStreamRequest& request,
                                        const StreamHeaders& headers, const ServerContext& server) {
  NOBUS_ASSIGN_OR_RETURN(table::IngestService * ingest, server.Serving());
  NOBUS_RETURN_IF_ERROR(server.auth().Authenticate(headers.authorization));
  if (request.has_stream_id())
    return absl::UnimplementedError(
        "create_stream.stream_id is not supported on EphemeralStream: resume a stream with the "
        "PersistentStream RPC (resume_stream), or open a new stream without it");
  OpenedStream out;
  NOBUS_ASSIGN_OR_RETURN(out.record_type, RecordTypeOf(request));
  NOBUS_ASSIGN_OR_RETURN(table::TableName name, CheckName(request, headers));
  NOBUS_ASSIGN_OR_RETURN(out.caller, server.auth().AuthorizeTable(headers.authorization, name));
  NOBUS_ASSIGN_OR_RETURN(out.table, ingest->OpenTable(name));
  if (out.record_type == zb::JSON) {
    out.decoder = &out.table->json_decoder();
    return out;
  }
  if (!request.has_descriptor_proto())
    return absl::InvalidArgumentError(
        "create_stream.descriptor_proto is required for record_type PROTO (a serialized "
        "google.protobuf.DescriptorProto of the record message)");
  absl::StatusOr<std::unique_ptr<schema::RecordDecoder>> decoder =
      schema::RecordDecoder::ForProto(out.table->info().schema, request.descriptor_proto());
  if (!decoder.ok())
    return absl::InvalidArgumentError(Cat("descriptor_proto does not match table '",
                                          name.ToString(), "': ", decoder.status().message()));
  out.proto_decoder = std::move(*decoder);
  out.decoder = out.proto_decoder.get();
  return out;
}

}  // namespace nobus::server
