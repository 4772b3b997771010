// How `nobus` subcommands reach a nobusd: HTTP and Zerobus gRPC clients that, for https://
// addresses, trust the CA given by --ca-cert (e.g. the ca.pem of `nobus dev-certs`) or, without
// it, the system's roots. One process runs one subcommand, so the CA is process-wide.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "common/status.h"
#include "nobus/client.h"

namespace nobus::cli {

// Adds --ca-cert to `cmd`.
void AddCaCertOption(CLI::App* cmd);
// An HTTP client for "http://host:port" or "https://host:port" (certificate verified).
httplib::Client HttpClient(const std::string& url);
// The PEM of --ca-cert ("" without it: trust the system's roots); InvalidArgument if unreadable.
[[nodiscard]] absl::StatusOr<std::string> CaCertPem();
// A Zerobus client for "http://" or "https://" endpoints; InvalidArgument for an unreadable CA.
[[nodiscard]] absl::StatusOr<std::unique_ptr<nobus::Client>> SdkClient(const std::string& endpoint);
// What to do when `url` could not be reached: trust its CA, switch http/https, or start nobusd.
std::string ReachHint(const std::string& url, std::string_view error);

}  // namespace nobus::cli
