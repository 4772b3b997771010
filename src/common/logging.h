// Process-wide logging for nobus binaries, on spdlog. Lines are structured: a message followed by
// key=value fields, so logs can be grepped and parsed. Thread-safe. Libraries log only through
// these functions; tests leave the default (warnings and errors to stderr).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "spdlog/spdlog.h"

namespace nobus::logging {

enum class Level { kDebug, kInfo, kWarn, kError };

// Parses "debug", "info", "warn" or "error"; returns false on anything else.
bool ParseLevel(std::string_view text, Level* level);
// Sets the minimum level and the line format (ISO-8601 UTC time, level, thread, message).
void Init(Level level);

// Keeps a warning that can repeat many times a second (one per failed stream attempt, say) to
// one line per period per call site; the line that passes says how many were held back.
// Thread-safe. Use through NOBUS_LOG_WARN_LIMITED.
class LogLimiter {
 public:
  explicit LogLimiter(std::chrono::steady_clock::duration period = std::chrono::seconds(10))
      : period_(period) {}
  // True when this occurrence is to be logged; then *suppressed is the number held back since
  // the last logged one and *seconds the time since it (0 for the first).
  bool Allow(int64_t* suppressed, int64_t* seconds);

 private:
  const std::chrono::steady_clock::duration period_;
  std::mutex mu_;
  bool logged_ = false;
  std::chrono::steady_clock::time_point last_;
  int64_t held_back_ = 0;
};

}  // namespace nobus::logging

#define NOBUS_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define NOBUS_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define NOBUS_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define NOBUS_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
// A warning logged at most once per 10 s from this call site, with the count of the others:
// "... (4812 more like this in the last 10 s)". `fmt` must be a string literal.
#define NOBUS_LOG_WARN_LIMITED(fmt, ...)                                                   \
  do {                                                                                     \
    static ::nobus::logging::LogLimiter nobus_limiter_;                                    \
    int64_t nobus_held_back_ = 0, nobus_seconds_ = 0;                                      \
    if (nobus_limiter_.Allow(&nobus_held_back_, &nobus_seconds_)) {                        \
      if (nobus_held_back_ == 0)                                                           \
        ::spdlog::warn(fmt, __VA_ARGS__);                                                  \
      else                                                                                 \
        ::spdlog::warn(fmt " ({} more like this in the last {} s)", __VA_ARGS__,           \
                       nobus_held_back_, nobus_seconds_);                                  \
    }                                                                                      \
  } while (0)
