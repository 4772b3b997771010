// TLS for nobusd's listeners: the same certificate and key on the gRPC listener (HTTP/2, ALPN h2,
// via gRPC's TLS credentials) and on the HTTP listener (src/http's SSL_CTX, via HttpTls),
// optionally requiring client certificates from a CA (mutual TLS). New files are taken without a
// restart and without touching established connections: gRPC re-reads them every second by
// itself; HttpTls::Reload (SIGHUP) swaps the identity used by new handshakes.
// Thread-safety: free functions are pure; HttpTls is thread-safe.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"

namespace grpc {
class ServerCredentials;
}

namespace nobus::auth {

struct TlsFiles {
  std::string cert_file;       // PEM certificate chain, leaf first
  std::string key_file;        // PEM private key of the leaf
  std::string client_ca_file;  // PEM CA bundle; empty = no client certificates asked
  bool enabled() const { return !cert_file.empty(); }
};

// OK when every file is readable and parses and the key matches the certificate;
// InvalidArgument naming the file and what to do otherwise.
[[nodiscard]] absl::Status CheckTlsFiles(const TlsFiles& files);

// Credentials for grpc::ServerBuilder::AddListeningPort (call CheckTlsFiles first: gRPC only
// logs bad files).
std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials(const TlsFiles& files);

class HttpTls {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpTls>> Load(TlsFiles files);
  ~HttpTls();

  // For the HTTP listener's SSL_CTX (http::ServerOptions::tls_setup): TLS 1.2+, and a
  // certificate callback that gives every
  // new handshake the current identity (and, for mutual TLS, the current client CA).
  bool SetUp(SSL_CTX& ctx);
  // Re-reads the files; on any error the previous identity stays and the error is returned.
  [[nodiscard]] absl::Status Reload();

  struct Identity;  // certificate chain, key and client CAs as OpenSSL objects (tls.cc)

 private:
  explicit HttpTls(TlsFiles files);
  static int OnCertificate(SSL* ssl, void* self);
  std::shared_ptr<const Identity> current();

  const TlsFiles files_;
  std::mutex mu_;
  std::shared_ptr<const Identity> current_;  // guarded by mu_
};

}  // namespace nobus::auth
