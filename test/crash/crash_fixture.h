// The gtest fixture shared by the nobusd crash tests: a fresh temporary directory per test with
// nobusd's data directory inside, and the nobusd under test. A failing test (or any test with
// NOBUS_KEEP_DATA=1) keeps the directory and prints where it and the nobusd log are; otherwise
// its tables go to the reference readers and the directory is removed. Test-only.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "nobusd_process.h"
#include "table_reader.h"

namespace nobus::crash {

class CrashTest : public ::testing::Test {
 protected:
  void TearDown() override {
    server_.reset();  // SIGKILLs a nobusd still running
    if (HasFailure() || std::getenv("NOBUS_KEEP_DATA") != nullptr) {
      dir_.Keep();
      std::printf("kept data dir %s and log %s.nobusd.log\n", data_dir_.c_str(), data_dir_.c_str());
    }
  }

  delta::testing::TempDir dir_;
  const std::string data_dir_ = dir_.path() + "/data";
  std::unique_ptr<server::testing::Nobusd> server_;
};

}  // namespace nobus::crash
