// Entry point of the `nobus` command-line tool; everything else lives in src/cli.
#include "cli/cli.h"
#include "main/process_setup.h"

int main(int argc, char** argv) {
  nobus::SetUpProcess();
  return nobus::cli::Run(argc, argv);
}
