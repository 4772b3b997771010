#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace nobus::cli {

std::string WithThousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string HumanBytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1000 && unit < 4) {
    bytes /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), unit == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[unit]);
  return buf;
}

std::string FormatProgress(const ProgressSample& s, double seconds) {
  const double rate_base = seconds > 0 ? seconds : 1;
  std::string text = WithThousands(s.records) + " records, " + HumanBytes(double(s.bytes)) +
                     "  " + WithThousands(int64_t(double(s.records) / rate_base)) +
                     " records/s, " + HumanBytes(double(s.bytes) / rate_base) + "/s";
  if (s.input_total > 0) {
    constexpr int kWidth = 24;
    const double frac = std::min(1.0, double(s.input_done) / double(s.input_total));
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(kWidth, ' ');
    for (int i = 0; i < filled; ++i) bar[i] = '=';
    if (filled < kWidth) bar[filled] = '>';
    char pct[16];
    std::snprintf(pct, sizeof(pct), "%3.0f%%", frac * 100);
    text = "[" + bar + "] " + pct + "  " + text;
  }
  return text;
}

Progress::Progress(Sampler sampler, bool enabled)
    : sampler_(std::move(sampler)), enabled_(enabled) {}

Progress::~Progress() { Stop(); }

bool Progress::StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

void Progress::Start() {
  start_ = std::chrono::steady_clock::now();
  if (enabled_ && !thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void Progress::Message(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (drawn_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "%s\n", line.c_str());
  if (drawn_) DrawLocked();
  std::fflush(stderr);
}

void Progress::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }
}

void Progress::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; })) {
    DrawLocked();
    std::fflush(stderr);
  }
}

void Progress::DrawLocked() {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string text = FormatProgress(sampler_(), seconds);
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  drawn_ = true;
}

}  // namespace nobus::cli
