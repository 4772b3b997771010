// Process-wide settings both executables (nobusd, nobus) apply first thing in main.
#pragma once

namespace nobus {

// Turns off Abseil's mutex deadlock detection. Debian builds Abseil without NDEBUG, so every
// absl::Mutex (all of gRPC's locks) kept a global lock-order graph up to date on each lock and
// unlock: about 2 % of nobusd's CPU at 1,000 streams × 10 requests/s (doc/performance.md, "CPU per
// record").
// Lock-order bugs in nobus are the sanitizer presets' job (tsan reports them).
void SetUpProcess();

}  // namespace nobus
