#!/usr/bin/env bash
# Sets up the machine, builds nobus and runs the demo: writes a Parquet file of sample events with
# the in-house writer and prints it back through DuckDB (an independent reader).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release
build/bin/nobus demo --out data/demo/events.parquet "$@"
node test/show_parquet.mjs data/demo/events.parquet 10
