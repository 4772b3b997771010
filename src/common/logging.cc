#include "common/logging.h"

#include "spdlog/sinks/stdout_color_sinks.h"

namespace nobus::logging {

bool ParseLevel(std::string_view text, Level* level) {
  if (text == "debug")
    *level = Level::kDebug;
  else if (text == "info")
    *level = Level::kInfo;
  else if (text == "warn")
    *level = Level::kWarn;
  else if (text == "error")
    *level = Level::kError;
  else
    return false;
  return true;
}

void Init(Level level) {
  auto logger = spdlog::stderr_color_mt("nobus");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l [%t] %v", spdlog::pattern_time_type::utc);
  switch (level) {
    case Level::kDebug:
      spdlog::set_level(spdlog::level::debug);
      break;
    case Level::kInfo:
      spdlog::set_level(spdlog::level::info);
      break;
    case Level::kWarn:
      spdlog::set_level(spdlog::level::warn);
      break;
    case Level::kError:
      spdlog::set_level(spdlog::level::err);
      break;
  }
}

bool LogLimiter::Allow(int64_t* suppressed, int64_t* seconds) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> l(mu_);
  if (logged_ && now - last_ < period_) {
    ++held_back_;
    return false;
  }
  *suppressed = held_back_;
  *seconds = logged_ ? std::chrono::duration_cast<std::chrono::seconds>(now - last_).count() : 0;
  logged_ = true;
  last_ = now;
  held_back_ = 0;
  return true;
}

}  // namespace nobus::logging
