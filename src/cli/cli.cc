#include "cli/cli.h"

#include <atomic>

namespace nobus::cli {
namespace {
std::atomic<int> exit_code{0};
}  // namespace

void SetExitCode(int code) { exit_code = code; }

int Run(int argc, char** argv) {
  CLI::App app{
      "nobus: the command-line tool of the nobus ingestion service (Zerobus-compatible ingest into "
      "Delta Lake tables).\nRun 'nobus SUBCOMMAND --help' for the options of each subcommand."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "nobus " NOBUS_VERSION " (build " NOBUS_GIT_SHA ")");
  RegisterDemoCommand(app);
  RegisterWalCommand(app);
  RegisterDeltaCommand(app);
  RegisterTableCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

}  // namespace nobus::cli
