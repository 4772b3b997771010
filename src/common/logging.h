// Process-wide logging for nobus binaries, on spdlog. Lines are structured: a message followed by
// key=value fields, so logs can be grepped and parsed. Thread-safe. Libraries log only through
// these functions; tests leave the default (warnings and errors to stderr).
#pragma once

#include <string_view>

#include "spdlog/spdlog.h"

namespace nobus::logging {

enum class Level { kDebug, kInfo, kWarn, kError };

// Parses "debug", "info", "warn" or "error"; returns false on anything else.
bool ParseLevel(std::string_view text, Level* level);
// Sets the minimum level and the line format (ISO-8601 UTC time, level, thread, message).
void Init(Level level);

}  // namespace nobus::logging

#define NOBUS_LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define NOBUS_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define NOBUS_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define NOBUS_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
