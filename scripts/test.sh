#!/usr/bin/env bash
# Sets up the machine, builds nobus and runs every test (unit, integration, independent readers).
# Usage: scripts/test.sh [preset]   (default release; asan-ubsan and tsan run the sanitizer builds)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
scripts/setup.sh
scripts/build.sh "$preset"
ctest --preset "$preset"
