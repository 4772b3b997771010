// Entry point of the `nobus` command-line tool; everything else lives in src/cli.
#include "cli/cli.h"

int main(int argc, char** argv) { return nobus::cli::Run(argc, argv); }
