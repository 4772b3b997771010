#!/usr/bin/env bash
# Many producers per node: a release nobusd (fresh data directory on the repository's disk per
# configuration) loaded by `nobus bench` with 1 KB JSON records, one record per request:
#   1 stream and 16 streams into one table at full speed (the SDK driver: one thread per stream),
#   1,000 streams x 10 records/s into one table, 10,000 streams x 1 record/s and x 10 records/s
#   over 100 tables (the async driver: light streams over 4 connections, paced by one thread),
# then the raw write + fdatasync of the same disk. Reports the offered and reached records/s, ack
# latency (client and nobusd's own), time to table, nobusd's CPU (cores, µs per record, CPU-s per
# GB) and peak RSS. Prints a markdown table, kept with the raw JSON lines under
# build/streams-results/. Figures and their reading: doc/performance.md, "Many producers".
#
# Usage: bench/streams_bench.sh [BUILD_DIR]   (default build, the release preset)
# Env:   NOBUS_STREAMS_SECONDS  seconds per configuration (default 20)
#        NOBUS_STREAMS_DATA     data directory (default build/streams-bench-data; not tmpfs)
#        NOBUS_STREAMS_CONFIGS  "STREAMS:TABLES:RATE:DRIVER" list (RATE 0 = full speed, sdk only)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
secs="${NOBUS_STREAMS_SECONDS:-20}"
data="${NOBUS_STREAMS_DATA:-$PWD/build/streams-bench-data}"
configs="${NOBUS_STREAMS_CONFIGS:-1:1:0:sdk 16:1:0:sdk 1000:1:10:async 10000:100:1:async 10000:100:10:async}"
results_dir="$PWD/build/streams-results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

source bench/nobusd_lib.sh
need_tools streams_bench.sh node curl
fresh_bin_copy streams_bench.sh --commit-threads
[[ "$("$nobus" bench --help 2>&1)" == *--driver* ]] ||
  { echo "streams_bench.sh: this nobus bench has no --driver (rebuild)" >&2; exit 2; }
mkdir -p "$results_dir"

# run_config STREAMS TABLES RATE DRIVER: one JSON line (nobus bench's).
run_config() {
  local streams="$1" tables="$2" rate="$3" driver="$4"
  start_server --kafka-listen "" --mqtt-listen "" --no-maintenance
  trap stop_server EXIT
  # The tables first (not timed), so the run measures ingest and commits only.
  "$nobus" bench --server "http://$grpc" --http "http://$http" --create-tables \
    --tables "$tables" --streams "$tables" --duration-s 0.1 --rate 1 --driver async \
    --ttt-wait-s 0 >/dev/null
  settle
  "$nobus" bench --server "http://$grpc" --http "http://$http" --tables "$tables" \
    --streams "$streams" --rate "$rate" --driver "$driver" --server-pid "$pid" \
    --duration-s "$secs" --ttt-wait-s 60
  stop_server
  trap - EXIT
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
lines=()
for cfg in $configs; do
  IFS=: read -r streams tables rate driver <<<"$cfg"
  echo "== $streams streams, $tables tables, $([[ $rate == 0 ]] && echo 'full speed' || echo "$rate records/s each"), driver $driver (${secs}s)" >&2
  line="$(run_config "$streams" "$tables" "$rate" "$driver")"
  echo "$line" >&2
  lines+=("$line")
done
finish_runs

node --input-type=module - "$disk" "$load_before" "$load_after" "$(nproc)" "$stamp" "$build_note" "${lines[@]}" <<'JS' |
const { f, report } = await import(`${process.cwd()}/bench/report_lib.mjs`);
report(process.argv.slice(2), '1 KB JSON records, one record per request, flush interval 1 s', [
  ['streams × rate (tables)', '---'], ['driver', '---'], ['offered / reached records/s', '---'],
  ['ack p50 / p99 (ms)', '---'], ['server ack p50 / p99 (ms)', '---'],
  ['time to table p50 / p99 (ms)', '---'], ['nobusd CPU (cores)', '---:'], ['µs per record', '---:'],
  ['CPU-s per GB', '---:'], ['nobusd VmHWM (MB)', '---:'], ['load generator CPU (cores)', '---:'],
], (r) => [
  `${f(r.streams)} × ${r.rate_per_stream ? `${f(r.rate_per_stream)}/s` : 'full speed'} (${f(r.tables)})`,
  r.driver, `${r.rate_per_stream ? f(r.rate_per_stream * r.streams) : '–'} / ${f(r.records_per_s)}`,
  `${f(r.ack_p50_ms, 1)} / ${f(r.ack_p99_ms, 1)}`, `${f(r.server_ack_p50_ms, 1)} / ${f(r.server_ack_p99_ms, 1)}`,
  `${f(r.ttt_p50_ms)} / ${f(r.ttt_p99_ms)}`, f(r.server_cpu_cores, 2), f(r.server_cpu_us_per_record, 1),
  f(r.server_cpu_s_per_gb, 1), f(r.server_vm_hwm_mb), f(r.client_cpu_cores, 2),
]);
JS
  tee "$results_dir/$stamp.md"
