#!/usr/bin/env bash
# Configures and builds nobus (release preset: RelWithDebInfo, ninja, ccache) into build/bin.
# Usage: scripts/build.sh [preset] [target...]
#   presets: release (default), debug, asan-ubsan, tsan; targets: e.g. nobusd nobus (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
shift || true
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Cache hits across clones in other directories (CI builds a fresh clone elsewhere): paths relative
# to the clone, and the build directory left out of the hash (it only names where debug info
# points, and -g would otherwise make every file of another clone a miss).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
cmake --preset "$preset" >/dev/null
if [ $# -gt 0 ]; then
  cmake --build --preset "$preset" --target "$@"
else
  cmake --build --preset "$preset"
fi
