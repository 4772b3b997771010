#include "cli/remote.h"

#include "env/env.h"

namespace nobus::cli {
namespace {

std::string& CaCertFile() {
  static std::string path;
  return path;
}

}  // namespace

void AddCaCertOption(CLI::App* cmd) {
  cmd->add_option("--ca-cert", CaCertFile(),
                  "PEM CA to trust for https:// addresses (e.g. the ca.pem of `nobus dev-certs`); "
                  "default: the system's")
      ->check(CLI::ExistingFile);
}

httplib::Client HttpClient(const std::string& url) {
  httplib::Client client(url);
  if (url.starts_with("https://")) {
    if (!CaCertFile().empty()) client.set_ca_cert_path(CaCertFile().c_str());
    client.enable_server_certificate_verification(true);
  }
  return client;
}

absl::StatusOr<std::string> CaCertPem() {
  if (CaCertFile().empty()) return std::string();
  absl::StatusOr<std::string> pem = env::ReadFile(env::PosixFileSystem(), CaCertFile());
  if (!pem.ok())
    return absl::InvalidArgumentError(Cat("--ca-cert ", CaCertFile(), ": ", pem.status().message()));
  return pem;
}

absl::StatusOr<std::unique_ptr<nobus::Client>> SdkClient(const std::string& endpoint) {
  ClientOptions options;
  NOBUS_ASSIGN_OR_RETURN(options.tls_root_certs_pem, CaCertPem());
  return nobus::Client::Create(endpoint, std::move(options));
}

std::string ReachHint(const std::string& url, std::string_view error) {
  const bool tls = url.starts_with("https://");
  if (tls && (error.find("Verification") != std::string_view::npos ||
              error.find("CERTIFICATE_VERIFY") != std::string_view::npos ||
              error.find("certificate verify") != std::string_view::npos ||
              error.find("Handshake") != std::string_view::npos ||
              error.find("handshake") != std::string_view::npos))
    return "its certificate is not trusted here: pass --ca-cert PEM (e.g. the ca.pem of `nobus "
           "dev-certs`), or check the host name is in the certificate";
  if (tls) return "is it serving TLS? start it with --tls-cert/--tls-key, or use an http:// URL";
  return "start it with build/bin/nobusd, or pass --server URL (https:// if it serves TLS)";
}

}  // namespace nobus::cli
