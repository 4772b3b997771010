#!/usr/bin/env bash
# Many tables per node: a release nobusd (fresh data directory on the repository's disk per
# configuration) loaded by `nobus bench` with one stream per table, 1 KB JSON records:
#   1 table at full speed, 200 tables x 250 records/s, 1,000 tables x 20 records/s
# each once with --commit-threads 1 (one table commits at a time: the baseline) and once with the
# default (tables commit concurrently), then the raw write + fdatasync of the same disk. Reports
# records/s, ack p99, time to table (ack -> the Delta commit holding the record) p50/p99/max,
# commits/s, nobusd CPU and peak RSS. Prints a markdown table, kept with the raw JSON lines under
# build/tables-results/. Figures and their reading: doc/performance.md, "Many tables per node".
#
# Usage: bench/tables_bench.sh [BUILD_DIR]   (default build, the release preset)
# Env:   NOBUS_TABLES_SECONDS  seconds per configuration (default 20)
#        NOBUS_TABLES_DATA     data directory (default build/tables-bench-data; not tmpfs)
#        NOBUS_TABLES_THREADS  the --commit-threads values to compare (default "1 8")
#        NOBUS_TABLES_CONFIGS  "TABLES:RATE" list (default "1:0 200:250 1000:20"; 0 = full speed)
#        NOBUS_TABLES_DRIVER   nobus bench --driver for paced loads (default: sdk, one thread per
#                              stream, up to 1,024 tables; async, light streams over 4 connections,
#                              above); full speed always uses the SDK driver
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
secs="${NOBUS_TABLES_SECONDS:-20}"
data="${NOBUS_TABLES_DATA:-$PWD/build/tables-bench-data}"
threads_list="${NOBUS_TABLES_THREADS:-1 8}"
configs="${NOBUS_TABLES_CONFIGS:-1:0 200:250 1000:20}"
paced_driver="${NOBUS_TABLES_DRIVER:-}"
results_dir="$PWD/build/tables-results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

source bench/nobusd_lib.sh
need_tools tables_bench.sh node curl
fresh_bin_copy tables_bench.sh --commit-threads
mkdir -p "$results_dir"

# Sum of a metric's samples (all tables) on nobusd's /metrics.
metric_sum() { fetch /metrics | awk -v m="$1" '$1 ~ "^"m"({|$)" {s += $2} END {print s + 0}'; }

# run_config THREADS TABLES RATE: one JSON line (nobus bench's, plus commits/s and CPU).
run_config() {
  local threads="$1" tables="$2" rate="$3" before after commits0 commits1 line driver=sdk
  if [[ $rate != 0 ]]; then
    driver="${paced_driver:-$([[ $tables -gt 1024 ]] && echo async || echo sdk)}"
  fi
  start_server --commit-threads "$threads" --kafka-listen "" --mqtt-listen "" --no-maintenance
  trap stop_server EXIT
  # The tables first (not timed), so the run measures ingest and commits only.
  "$nobus" bench --server "http://$grpc" --http "http://$http" --create-tables \
    --tables "$tables" --streams "$tables" --duration-s 0.1 --rate 1 --driver async --ttt-wait-s 0 >/dev/null
  settle
  commits0="$(metric_sum nobus_table_commit_seconds_count)"
  before="$(server_ticks)"
  line="$("$nobus" bench --server "http://$grpc" --http "http://$http" --tables "$tables" \
    --streams "$tables" --rate "$rate" --driver "$driver" --server-pid "$pid" --duration-s "$secs" \
    --ttt-wait-s 60)"
  settle
  after="$(server_ticks)"
  commits1="$(metric_sum nobus_table_commit_seconds_count)"
  node -e 'const r = JSON.parse(process.argv[1]);
    const [threads, c0, c1, t0, t1, hz, hwm] = process.argv.slice(2).map(Number);
    r.commit_threads = threads;
    r.commits = c1 - c0;
    r.commits_per_s = Math.round((c1 - c0) / r.duration_s);
    r.server_cpu_s_incl_commit = Math.round((t1 - t0) / hz * 100) / 100;
    r.server_vm_hwm_mb_after_commit = Math.round(hwm / 1024);
    console.log(JSON.stringify(r));' "$line" "$threads" "$commits0" "$commits1" "$before" \
    "$after" "$(getconf CLK_TCK)" "$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")"
  stop_server
  trap - EXIT
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
lines=()
for cfg in $configs; do
  tables="${cfg%%:*}"
  rate="${cfg##*:}"
  for threads in $threads_list; do
    echo "== $tables tables x $([[ $rate == 0 ]] && echo 'full speed' || echo "$rate records/s"), --commit-threads $threads (${secs}s)" >&2
    line="$(run_config "$threads" "$tables" "$rate")"
    echo "$line" >&2
    lines+=("$line")
  done
done
finish_runs

node --input-type=module - "$disk" "$load_before" "$load_after" "$(nproc)" "$stamp" "$build_note" "${lines[@]}" <<'JS' |
const { f, report } = await import(`${process.cwd()}/bench/report_lib.mjs`);
report(process.argv.slice(2), 'one stream per table, 1 KB JSON records, flush interval 1 s', [
  ['tables × rate', '---'], ['--commit-threads', '---:'], ['driver', '---'], ['records/s', '---:'],
  ['ack p99 (ms)', '---:'], ['server ack p99 (ms)', '---:'], ['time to table p50 / p99 / max (ms)', '---'],
  ['commits/s', '---:'], ['nobusd CPU (cores)', '---:'], ['nobusd VmHWM (MB)', '---:'],
], (r) => [
  r.rate_per_stream ? `${f(r.tables)} × ${f(r.rate_per_stream, r.rate_per_stream < 1 ? 1 : 0)}/s`
    : `${f(r.tables)} × full speed`,
  r.commit_threads, r.driver, f(r.records_per_s), f(r.ack_p99_ms, 1), f(r.server_ack_p99_ms, 1),
  `${f(r.ttt_p50_ms)} / ${f(r.ttt_p99_ms)} / ${f(r.ttt_max_ms)}`, f(r.commits_per_s),
  f(r.server_cpu_cores, 2), f(r.server_vm_hwm_mb_after_commit),
]);
JS
  tee "$results_dir/$stamp.md"
