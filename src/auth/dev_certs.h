// `nobus dev-certs DIR`: a local certificate authority and certificates signed by it, so TLS can
// be tried in one command. The official SDKs refuse a self-signed leaf (one that is its own CA),
// hence a separate CA. Written files (keys 0600):
//   ca.pem, ca.key          the CA (CA:TRUE, keyCertSign) clients are told to trust
//   server.pem, server.key  for nobusd: CA:FALSE, serverAuth, SAN localhost, 127.0.0.1, ::1 + hosts
//   client.pem, client.key  clientAuth, for mutual TLS
// ECDSA P-256 keys, random serials. For development only: the CA key sits beside the certificates.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace nobus::auth {

struct DevCertsOptions {
  std::vector<std::string> extra_hosts;  // DNS names or IP addresses added to the server SAN
  int days = 825;
  bool force = false;  // overwrite existing files
};

// AlreadyExists (naming the file) when a file exists and !force.
[[nodiscard]] absl::Status WriteDevCerts(const std::string& dir, const DevCertsOptions& options);

}  // namespace nobus::auth
