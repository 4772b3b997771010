// The `nobus` command-line tool: one CLI11 app, one file per subcommand (demo, wal, delta, table,
// ingest, bench). Each subcommand file defines a Register* function called from cli.cc.
#pragma once

#include "CLI/CLI.hpp"

namespace nobus::cli {

// Parses argv, runs the chosen subcommand, returns the process exit code.
int Run(int argc, char** argv);

// Subcommands (each in <name>_command.cc). A subcommand sets its callback; the callback throws
// nothing and reports failures by setting the exit code through SetExitCode.
void RegisterDemoCommand(CLI::App& app);
void RegisterWalCommand(CLI::App& app);
void RegisterDeltaCommand(CLI::App& app);
void RegisterTableCommand(CLI::App& app);
void RegisterIngestCommand(CLI::App& app);
void RegisterBenchCommand(CLI::App& app);
void RegisterAuthCommands(CLI::App& app);  // principal, grant, revoke, grants, key
void RegisterDevCertsCommand(CLI::App& app);
void RegisterTokenCommand(CLI::App& app);

void SetExitCode(int code);

}  // namespace nobus::cli
