// Runs the `nobus` binary ($NOBUS_BIN_DIR/nobus) for the CLI integration tests and captures its
// exit code, stdout and stderr separately. Test-only.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "common/status.h"

namespace nobus::cli::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `args` is shell text (quote paths); `stdin_path` (optional) is redirected to stdin.
inline CliResult RunNobus(const std::string& args, const std::string& scratch_dir,
                          const std::string& stdin_path = "") {
  const char* bin_dir = std::getenv("NOBUS_BIN_DIR");
  const std::string err_path = scratch_dir + "/nobus.stderr";
  std::string cmd = Cat(bin_dir != nullptr ? bin_dir : "build/bin", "/nobus ", args, " 2>'",
                        err_path, "'");
  if (!stdin_path.empty()) cmd += Cat(" <'", stdin_path, "'");
  CliResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  std::stringstream text;
  text << err.rdbuf();
  r.err = text.str();
  return r;
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace nobus::cli::testing
