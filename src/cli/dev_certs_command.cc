// `nobus dev-certs DIR`: a local CA and server/client certificates for trying TLS
// (src/auth/dev_certs.h), and how to start nobusd and point each client at them.
#include <cstdio>
#include <string>
#include <vector>

#include "auth/dev_certs.h"
#include "cli/cli.h"

namespace nobus::cli {
namespace {

struct DevCertsFlags {
  std::string dir;
  auth::DevCertsOptions options;
};

int Run(const DevCertsFlags& f) {
  absl::Status s = auth::WriteDevCerts(f.dir, f.options);
  if (!s.ok()) {
    std::fprintf(stderr, "nobus: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const char* d = f.dir.c_str();
  std::printf(
      "wrote %s/ca.pem (the CA to trust), server.pem + server.key (for nobusd: localhost, "
      "127.0.0.1, ::1%s), client.pem + client.key (mutual TLS); valid %d days\n"
      "start:  nobusd --tls-cert %s/server.pem --tls-key %s/server.key   (add --tls-client-ca "
      "%s/ca.pem for mutual TLS)\n"
      "trust:  SSL_CERT_FILE=%s/ca.pem for the Rust, TypeScript, Java and Go SDKs;\n"
      "        GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=%s/ca.pem and SSL_CERT_FILE=%s/ca.pem for Python;\n"
      "        nobus ingest|bench|table --ca-cert %s/ca.pem; curl --cacert %s/ca.pem\n"
      "Use https://localhost:PORT endpoints. For development only: ca.key can sign anything.\n",
      d, f.options.extra_hosts.empty() ? "" : " and --host names", f.options.days, d, d, d, d,
      d, d, d, d);
  return 0;
}

}  // namespace

void RegisterDevCertsCommand(CLI::App& app) {
  static DevCertsFlags flags;
  auto* cmd = app.add_subcommand(
      "dev-certs", "Make a local CA and a server certificate for trying TLS (development only)");
  cmd->add_option("DIR", flags.dir, "Directory to write ca.pem, server.pem, server.key, ...")
      ->required();
  cmd->add_option("--host", flags.options.extra_hosts,
                  "Extra DNS name or IP address for the server certificate (repeatable)");
  cmd->add_option("--days", flags.options.days, "Validity in days")->capture_default_str();
  cmd->add_flag("--force", flags.options.force, "Replace existing files");
  cmd->callback([] { SetExitCode(Run(flags)); });
}

}  // namespace nobus::cli
