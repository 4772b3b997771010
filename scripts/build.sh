#!/usr/bin/env bash
# Configures and builds nobus (release preset: RelWithDebInfo, ninja, ccache) into build/bin.
# Usage: scripts/build.sh [preset]   (presets: release, debug, asan-ubsan, tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}  # cache hits across clones in other directories
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
