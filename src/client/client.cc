// nobus::Client: endpoint parsing, channels (one fresh HTTP/2 connection per call attempt) and
// stream creation.
#include "nobus/client.h"

#include <grpcpp/grpcpp.h>

#include "client/request_headers.h"
#include "client/status_util.h"
#include "client/stream_core.h"
#include "common/status.h"
#include "nobus/errors.h"

namespace nobus {
namespace {

constexpr char kSdkName[] = "nobus-cpp/0.1.0";

std::string SdkId(const ClientOptions& options) {
  return options.application_name.empty() ? kSdkName
                                          : Cat(options.application_name, " ", kSdkName);
}

client::ChannelFactory MakeChannelFactory(const std::string& target, bool tls,
                                          const ClientOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_certs_pem;
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  // Each channel gets its own connection: a stream's reconnect never reuses a broken one and
  // streams do not share a TCP connection (one slow stream cannot stall another).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Servers allow a ping every 30 s (specs: "Liveness"); it detects dead idle connections.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10'000);
  args.SetUserAgentPrefix(SdkId(options));
  return [target, credentials, args] {
    return grpc::CreateCustomChannel(target, credentials, args);
  };
}

}  // namespace

Client::Client(std::string target, bool tls, ClientOptions options)
    : target_(std::move(target)), tls_(tls), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Client>> Client::Create(std::string endpoint,
                                                      ClientOptions options) {
  bool tls = false;
  std::string target = endpoint;
  if (target.rfind("https://", 0) == 0) {
    tls = true;
    target = target.substr(8);
  } else if (target.rfind("http://", 0) == 0) {
    target = target.substr(7);
  }
  while (!target.empty() && target.back() == '/') target.pop_back();
  if (target.empty() || target.find('/') != std::string::npos ||
      target.find(':') == std::string::npos) {
    return MakeNonRetriable(absl::InvalidArgumentError(
        Cat("endpoint '", endpoint, "' must look like http://host:port or https://host:port")));
  }
  return std::unique_ptr<Client>(new Client(std::move(target), tls, std::move(options)));
}

absl::StatusOr<std::unique_ptr<Stream>> Client::Open(TableProperties table, StreamOptions options,
                                                    bool persistent,
                                                    std::string resume_id) const {
  client::StreamMode mode{persistent ? client::Rpc::kPersistent : client::Rpc::kEphemeral,
                          std::move(resume_id)};
  NOBUS_RETURN_IF_ERROR(client::ValidateStreamConfig(table, options, mode));
  auto core = std::make_unique<client::StreamCore>(MakeChannelFactory(target_, tls_, options_),
                                                   std::move(table), std::move(options),
                                                   SdkId(options_), std::move(mode));
  NOBUS_RETURN_IF_ERROR(core->Open());
  return std::unique_ptr<Stream>(new Stream(std::move(core)));
}

absl::StatusOr<std::unique_ptr<Stream>> Client::CreateStream(TableProperties table,
                                                            StreamOptions options) const {
  return Open(std::move(table), std::move(options), /*persistent=*/false, "");
}

absl::StatusOr<std::unique_ptr<Stream>> Client::CreatePersistentStream(
    TableProperties table, StreamOptions options) const {
  return Open(std::move(table), std::move(options), /*persistent=*/true, "");
}

absl::StatusOr<std::unique_ptr<Stream>> Client::ResumePersistentStream(
    TableProperties table, std::string stream_id, StreamOptions options) const {
  if (stream_id.empty())
    return MakeNonRetriable(absl::InvalidArgumentError(
        "ResumePersistentStream: stream_id is empty (pass the id a persistent stream reported)"));
  return Open(std::move(table), std::move(options), /*persistent=*/true, std::move(stream_id));
}

absl::StatusOr<std::unique_ptr<Stream>> Client::RecreateStream(const Stream& failed) const {
  std::unique_ptr<Stream> stream;
  if (failed.persistent()) {
    NOBUS_ASSIGN_OR_RETURN(stream,
                           ResumePersistentStream(failed.table(), failed.stream_id(),
                                                  failed.options()));
  } else {
    NOBUS_ASSIGN_OR_RETURN(stream, CreateStream(failed.table(), failed.options()));
  }
  for (const UnackedBatch& request : failed.GetUnackedBatches()) {
    if (failed.persistent() && request.offset <= stream->resume_watermark()) continue;  // stored
    absl::StatusOr<int64_t> offset = request.batch || request.records.size() != 1
                                         ? stream->IngestBatch(request.records)
                                         : stream->Ingest(request.records.front());
    if (!offset.ok()) return client::Prefix(offset.status(), "re-ingesting unacknowledged records");
    if (failed.persistent() && *offset != request.offset) {
      return MakeNonRetriable(absl::DataLossError(
          Cat("persistent stream '", failed.stream_id(), "': the server resumed at offset ",
              stream->resume_watermark(), " but request ", request.offset,
              " was the first one never acknowledged (the server lost acknowledged records)")));
    }
  }
  return stream;
}

absl::Status Client::RetireStream(const std::string& table_name, const std::string& stream_id,
                                  std::shared_ptr<HeadersProvider> headers) const {
  return client::RetireStreamCall(MakeChannelFactory(target_, tls_, options_)(), SdkId(options_),
                                  table_name, stream_id, headers.get());
}

}  // namespace nobus
