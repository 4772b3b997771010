// `nobus token CLIENT_ID`: exchanges a service principal's client id and secret for an access
// token at POST {server}/oidc/v1/token (client credentials, as the SDKs do) and prints it, for
// `--token` of the other commands and for curl. The secret comes from NOBUS_CLIENT_SECRET or stdin
// (never from argv, which other users can see).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli.h"
#include "cli/remote.h"

namespace nobus::cli {
namespace {

struct TokenFlags {
  std::string client_id;
  std::string server = "http://127.0.0.1:7071";
};

int Run(const TokenFlags& f) {
  std::string secret;
  if (const char* env = std::getenv("NOBUS_CLIENT_SECRET"); env != nullptr && *env != '\0') {
    secret = env;
  } else if (!std::getline(std::cin, secret) || secret.empty()) {
    std::fprintf(stderr, "nobus token: no secret: set NOBUS_CLIENT_SECRET or pipe it on stdin\n");
    return 2;
  }
  httplib::Client http = HttpClient(f.server);
  http.set_connection_timeout(5);
  http.set_basic_auth(f.client_id, secret);
  auto res = http.Post("/oidc/v1/token", "grant_type=client_credentials&scope=all-apis",
                       "application/x-www-form-urlencoded");
  if (!res) {
    std::string error = httplib::to_string(res.error());
    std::fprintf(stderr, "nobus token: cannot reach nobusd at %s (%s): %s\n", f.server.c_str(),
                 error.c_str(), ReachHint(f.server, error).c_str());
    return 1;
  }
  nlohmann::json body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status != 200 || !body.is_object() || !body.contains("access_token")) {
    std::string why = body.is_object() ? body.value("error_description", res->body) : res->body;
    std::fprintf(stderr, "nobus token: HTTP %d: %s\n", res->status, why.c_str());
    return 1;
  }
  std::printf("%s\n", body["access_token"].get<std::string>().c_str());
  return 0;
}

}  // namespace

void RegisterTokenCommand(CLI::App& app) {
  static TokenFlags flags;
  auto* cmd = app.add_subcommand(
      "token", "Print an access token for a service principal (secret from NOBUS_CLIENT_SECRET or "
               "stdin), e.g. nobus table create ... --token \"$(nobus token admin)\"");
  cmd->add_option("CLIENT_ID", flags.client_id, "The principal's client id (its name)")->required();
  cmd->add_option("--server", flags.server, "nobusd HTTP API (https:// when it serves TLS)")
      ->envname("NOBUS_SERVER")
      ->capture_default_str();
  AddCaCertOption(cmd);
  cmd->callback([] { SetExitCode(Run(flags)); });
}

}  // namespace nobus::cli
