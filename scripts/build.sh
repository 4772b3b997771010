#!/usr/bin/env bash
# Configures and builds nobus (release preset: RelWithDebInfo, ninja, ccache) into build/bin.
# Usage: scripts/build.sh [preset] [target...]
#   presets: release (default), debug, asan-ubsan, tsan; targets: e.g. nobusd nobus (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
shift || true
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}  # cache hits across clones in other directories
cmake --preset "$preset" >/dev/null
if [ $# -gt 0 ]; then
  cmake --build --preset "$preset" --target "$@"
else
  cmake --build --preset "$preset"
fi
