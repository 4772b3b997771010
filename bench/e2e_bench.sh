#!/usr/bin/env bash
# End-to-end ingest benchmark: a release nobusd with a fresh data directory on the repository's
# disk, loaded by `nobus bench` (1 KB JSON records) in four configurations — 1 stream at full
# speed, 1 stream at half the rate it reached and at 50,000 records/s (half the target; ack
# latency), 16 streams into one table — then the
# raw write + fdatasync bandwidth of the same disk, measured in the same run (`nobus bench
# --disk-baseline`, the approach of bench/wal_bench.cc's raw baseline). Prints a markdown table and
# keeps it, with the raw JSON lines, under build/e2e-results/. The figures and their reading are in
# doc/performance.md, "End-to-end ingest (nobusd)".
#
# Usage: bench/e2e_bench.sh [BUILD_DIR]     (default build/e2e-release; configured Release if new)
# Env:   NOBUS_E2E_SECONDS  seconds per configuration (default 15)
#        NOBUS_E2E_DATA     nobusd's data directory (default build/e2e-data; must not be tmpfs)
#        NOBUS_E2E_PERF=1   also record a cpu-clock profile of nobusd during the full-speed run
#                           (top symbols in build/e2e-results/<stamp>-perf.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/e2e-release}"
secs="${NOBUS_E2E_SECONDS:-15}"
data="${NOBUS_E2E_DATA:-$PWD/build/e2e-data}"
results_dir="$PWD/build/e2e-results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

# -- build (release) -------------------------------------------------------------------------
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
fi
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")"
if [[ "$build_type" != Release ]]; then
  echo "$build is a '$build_type' build; pass a Release build directory" >&2
  exit 2
fi
ninja -C "$build" -j2 nobus nobusd >&2
nobus="$build/bin/nobus"

# -- data directory: fresh, on the repository's disk, not tmpfs -------------------------------
rm -rf "$data"
mkdir -p "$data" "$results_dir"
fstype="$(df --output=fstype "$data" | tail -1 | tr -d ' ')"
data_dev="$(df --output=source "$data" | tail -1 | tr -d ' ')"
repo_dev="$(df --output=source . | tail -1 | tr -d ' ')"
if [[ "$fstype" == tmpfs || "$data_dev" != "$repo_dev" ]]; then
  echo "data dir $data is on $data_dev ($fstype), not the repository's disk $repo_dev" >&2
  exit 2
fi

# -- nobusd: a fresh server (and data directory) per configuration, so each peak RSS is its own --
source bench/nobusd_lib.sh

# One configuration on a fresh nobusd; prints its JSON line extended with nobusd's CPU per MB
# over the run plus the time it needed afterwards to commit its backlog (which the run's own
# server_cpu_cores misses) and nobusd's peak RSS after that.
run_config() {
  local before after line profile="${1}"
  shift
  start_server
  trap stop_server EXIT  # this runs in a subshell: $(run_config ...)
  local perf_pid=""
  if [[ "$profile" == perf ]]; then
    perf record -e cpu-clock -g -p "$pid" -o "$data/perf.data" -- sleep "$secs" \
      >/dev/null 2>&1 &
    perf_pid=$!
  fi
  before="$(server_ticks)"
  line="$("$nobus" bench --server "http://$grpc" --http "http://$http" --create-tables \
    --server-pid "$pid" --duration-s "$secs" --ttt-wait-s 120 "$@")"
  settle
  after="$(server_ticks)"
  [[ -z "$perf_pid" ]] || wait "$perf_pid" || true
  node -e 'const r = JSON.parse(process.argv[1]);
    r.server_cpu_ms_per_mb_incl_commit = Math.round((process.argv[2] - process.argv[3]) /
      process.argv[4] * 1000 / (r.bytes / 1e6) * 100) / 100;
    r.server_vm_hwm_mb_after_commit = Math.round(process.argv[5] / 1024);
    console.log(JSON.stringify(r));' "$line" "$after" "$before" "$(getconf CLK_TCK)" \
    "$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")"
  stop_server
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1 stream, full speed (${secs}s)" >&2
max="$(run_config "$([[ "${NOBUS_E2E_PERF:-0}" == 1 ]] && echo perf || echo none)")"
echo "$max" >&2
half_rate="$(node -e 'console.log(Math.max(1, Math.round(JSON.parse(process.argv[1]).records_per_s / 2)))' "$max")"
echo "== 1 stream at $half_rate records/s (half of full speed)" >&2
half="$(run_config none --rate "$half_rate")"
echo "$half" >&2
echo "== 1 stream at 50000 records/s (half the 100,000 records/s target)" >&2
target_half="$(run_config none --rate 50000)"
echo "$target_half" >&2
echo "== 16 streams, one table" >&2
s16="$(run_config none --streams 16)"
echo "$s16" >&2
echo "== raw write + fdatasync on $data (same disk)" >&2
disk="$("$nobus" bench --disk-baseline "$data/disk" --duration-s 3 \
  --disk-chunk-bytes 4096 65536 1048576 4194304)"
echo "$disk" >&2
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

if [[ -f "$data/perf.data" ]]; then
  perf report -i "$data/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
    grep -E '^ +[0-9]' | head -30 >"$results_dir/$stamp-perf.txt" || true
fi
printf '%s\n' "$max" "$half" "$target_half" "$s16" "$disk" >"$results_dir/$stamp.jsonl"

node - "$max" "$half" "$target_half" "$s16" "$disk" "$load_before" "$load_after" "$data_dev" \
  "$fstype" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
  "$stamp" <<'JS' | tee "$results_dir/$stamp.md"
const [max, half, targetHalf, s16, disk] = process.argv.slice(2, 7).map((s) => JSON.parse(s));
const [loadBefore, loadAfter, dev, fstype, nproc, cpu, stamp] = process.argv.slice(7);
const f = (x, d = 0) => x == null ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const row = (name, r) => `| ${name} | ${f(r.records_per_s)} | ${f(r.mb_per_s, 1)} | ` +
  `${f(r.ack_p50_ms, 1)} / ${f(r.ack_p99_ms, 1)} / ${f(r.ack_p999_ms, 1)} | ` +
  `${f(r.server_ack_p50_ms, 1)} / ${f(r.server_ack_p99_ms, 1)} | ` +
  `${f(r.ttt_p50_ms)} / ${f(r.ttt_p99_ms)} | ${f(r.client_cpu_cores, 2)} | ` +
  `${f(r.server_cpu_cores, 2)} | ${f(r.server_runq_wait_per_s, 2)} | ` +
  `${f(r.server_cpu_ms_per_mb_incl_commit, 1)} | ${f(r.server_vm_hwm_mb_after_commit)} |`;
const out = [];
out.push(`Run ${stamp}: ${nproc} cores (${cpu}), data on ${dev} (${fstype}), load average ` +
  `${loadBefore} before, ${loadAfter} after; ${max.duration_s.toFixed(0)} s per configuration ` +
  '(1 KB JSON records, one record per Ingest call, default SDK options).', '');
out.push('| configuration | records/s | MB/s | ack p50 / p99 / p99.9 (ms) | inside nobusd: ack p50 / p99 (ms) | time to table p50 / p99 (ms) | client CPU (cores) | nobusd CPU (cores) | nobusd waiting for a CPU (s/s) | nobusd CPU ms/MB incl. commits | nobusd VmHWM (MB) |');
out.push('|---|---:|---:|---|---|---|---:|---:|---:|---:|---:|');
out.push(row('1 stream, full speed', max));
out.push(row(`1 stream at ${f(half.rate_per_stream)} records/s (half of full speed)`, half));
out.push(row(`1 stream at ${f(targetHalf.rate_per_stream)} records/s (half the target)`, targetHalf));
out.push(row('16 streams, 1 table', s16));
out.push('', 'Each configuration ran on a fresh nobusd; VmHWM = its peak RSS, read after it had ' +
  'committed everything.', '');
out.push('| raw write + fdatasync, bytes per sync | MB/s | syncs/s | fdatasync p50 / p99 (ms) |');
out.push('|---:|---:|---:|---|');
for (const r of disk.results)
  out.push(`| ${f(r.chunk_bytes)} | ${f(r.mb_per_s, 1)} | ${f(r.syncs_per_s)} | ${f(r.sync_p50_ms, 2)} / ${f(r.sync_p99_ms, 2)} |`);
const yes = (ok) => (ok ? 'met' : 'NOT met');
out.push('', 'Targets:');
out.push(`- 1 stream >= 100 MB/s and >= 100,000 records/s: ${yes(max.mb_per_s >= 100 && max.records_per_s >= 100000)} ` +
  `(${f(max.mb_per_s, 1)} MB/s, ${f(max.records_per_s)} records/s)`);
const latencyOk = (r) => r.ack_p50_ms < 5 && r.ack_p99_ms < 50;
out.push(`- ack p50 < 5 ms and p99 < 50 ms at half load: at half the target (50,000 records/s) ` +
  `${yes(latencyOk(targetHalf))} (${f(targetHalf.ack_p50_ms, 1)} / ${f(targetHalf.ack_p99_ms, 1)} ms); ` +
  `at half of full speed ${yes(latencyOk(half))} (${f(half.ack_p50_ms, 1)} / ${f(half.ack_p99_ms, 1)} ms)`);
out.push(`- time to table p50 < 1.5 s (1 s flush), at half load: ${yes(half.ttt_p50_ms != null && half.ttt_p50_ms < 1500)} ` +
  `(${f(half.ttt_p50_ms)} ms; full speed ${f(max.ttt_p50_ms)} ms, 16 streams ${f(s16.ttt_p50_ms)} ms)`);
out.push(`- nobusd RSS bounded: peak ${f(max.server_vm_hwm_mb_after_commit)} MB at full speed, ` +
  `${f(s16.server_vm_hwm_mb_after_commit)} MB with 16 streams (overload: backpressure holds it)`);
process.stdout.write(out.join('\n') + '\n');
JS
