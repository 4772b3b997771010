// A one-line progress display on stderr for long-running `nobus` subcommands (ingest): records
// and bytes so far, their rates, and a percentage when the total input size is known. It refreshes
// about five times a second from its own thread, and only when stderr is a terminal; otherwise it
// stays silent and Message() simply prints lines.
//
// Lifecycle: construct with a sampler, Start(), Message() any number of times, Stop() (also done by
// the destructor), which erases the bar. Thread-safety: Message() may be called from any thread;
// the sampler is called on the progress thread and must be thread-safe itself.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace nobus::cli {

struct ProgressSample {
  int64_t records = 0;      // done (e.g. acknowledged) so far
  int64_t bytes = 0;        // their bytes
  int64_t input_done = 0;   // input consumed, for the percentage
  int64_t input_total = 0;  // 0 = unknown (a pipe): no percentage
};

// Formats 1234567 as "1,234,567".
std::string WithThousands(int64_t value);
// Formats a byte count as "12.3 MB" (decimal units, like the rates).
std::string HumanBytes(double bytes);
// The bar's text for `sample` after `seconds` (no leading '\r'); exposed for tests.
std::string FormatProgress(const ProgressSample& sample, double seconds);

class Progress {
 public:
  using Sampler = std::function<ProgressSample()>;
  // With `enabled` false there is no bar (pass StderrIsTerminal()); Message() still prints.
  Progress(Sampler sampler, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // True when stderr is a terminal (the default for `enabled`).
  static bool StderrIsTerminal();

  void Start();
  // Prints `line` (a newline is appended) on stderr above the bar.
  void Message(const std::string& line);
  // Stops the thread and erases the bar. Idempotent.
  void Stop();

 private:
  void Loop();
  void DrawLocked();

  Sampler sampler_;
  const bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool drawn_ = false;  // a bar is on the screen
  std::thread thread_;
};

}  // namespace nobus::cli
