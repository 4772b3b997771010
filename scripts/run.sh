#!/usr/bin/env bash
# From a fresh clone to ingested rows: sets up the machine, builds nobus, starts nobusd on its
# default ports (data in ./data/demo-node), creates the table main.default.events, streams 1000
# generated JSON events into it with `nobus ingest` (the C++ SDK over the Zerobus gRPC protocol),
# and prints the Delta table's rows back through DuckDB (an independent reader). Stops nobusd at
# the end unless --keep-running is given.
set -euo pipefail
cd "$(dirname "$0")/.."
keep_running=0
[ "${1:-}" = "--keep-running" ] && keep_running=1

NOBUS_SETUP_LENIENT=1 scripts/setup.sh  # the SDK/reader test toolchains are not needed here
scripts/build.sh release nobusd nobus  # only what this script runs; scripts/test.sh builds the rest

data=data/demo-node
mkdir -p "$data"
if curl -sf http://127.0.0.1:7071/healthz >/dev/null 2>&1; then
  echo "run: a nobusd is already serving on 127.0.0.1:7071; using it"
  server_pid=""
else
  build/bin/nobusd --data-dir "$data" >"$data/nobusd.out" 2>"$data/nobusd.log" &
  server_pid=$!
  for _ in $(seq 100); do
    curl -sf http://127.0.0.1:7071/healthz >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$data/nobusd.log"; exit 1; }
    sleep 0.1
  done
  echo "run: nobusd started (pid $server_pid, log $data/nobusd.log)"
fi

build/bin/nobus table get main.default.events >/dev/null 2>&1 ||
  build/bin/nobus table create main.default.events \
    --columns "id BIGINT NOT NULL, device STRING, temperature DOUBLE, ts TIMESTAMP"

events=$data/events.jsonl
for i in $(seq 1 1000); do
  printf '{"id": %d, "device": "sensor-%d", "temperature": %d.%d, "ts": "2026-11-24T10:%02d:%02dZ"}\n' \
    "$i" $((i % 7)) $((15 + i % 20)) $((i % 10)) $((i / 60 % 60)) $((i % 60))
done >"$events"
build/bin/nobus ingest main.default.events "$events"

sleep 1.5  # rows reach the Delta table within the flush interval (1 s) of their ack
location=$(build/bin/nobus table get main.default.events | sed -n 's/^ *location: *//p')
node test/show_table.mjs "${location:-$data/tables/main/default/events}" 5

if [ -n "$server_pid" ] && [ $keep_running -eq 0 ]; then
  kill -TERM "$server_pid" && wait "$server_pid" || true
  echo "run: nobusd stopped (start it again with: build/bin/nobusd --data-dir $data)"
fi
