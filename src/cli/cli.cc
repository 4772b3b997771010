#include "cli/cli.h"

#include <signal.h>

#include <atomic>

#include "common/logging.h"

namespace nobus::cli {
namespace {
std::atomic<int> exit_code{0};
}  // namespace

void SetExitCode(int code) { exit_code = code; }

int Run(int argc, char** argv) {
  // A server that hangs up while we write over TLS must give an error, not kill us (OpenSSL
  // writes with write(2), which raises SIGPIPE).
  signal(SIGPIPE, SIG_IGN);
  // Log lines (the SDK's reconnect warnings, say) go to stderr: stdout carries the output.
  logging::Init(logging::Level::kInfo);
  CLI::App app{
      "nobus: the command-line tool of the nobus ingestion service (Zerobus-compatible ingest into "
      "Delta Lake tables).\nRun 'nobus SUBCOMMAND --help' for the options of each subcommand."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "nobus " NOBUS_VERSION " (build " NOBUS_GIT_SHA ")");
  RegisterDemoCommand(app);
  RegisterWalCommand(app);
  RegisterDeltaCommand(app);
  RegisterTableCommand(app);
  RegisterIngestCommand(app);
  RegisterBenchCommand(app);
  RegisterAuthCommands(app);
  RegisterDevCertsCommand(app);
  RegisterTokenCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error and a hint
    return code == 0 ? 0 : 2;      // usage errors exit 2, like nobusd's bad flags
  }
  return exit_code;
}

}  // namespace nobus::cli
