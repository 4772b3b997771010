#!/usr/bin/env bash
# Persistent (exactly-once) vs ephemeral streams, same run, same nobusd build and disk: `nobus
# bench` (1 KB JSON records) drives each configuration once with ephemeral streams and once with
# --persistent, each on a fresh nobusd; then the raw write + fdatasync of the same disk as the
# baseline. Prints a markdown table and keeps it, with the JSON lines, under build/eos-results/.
# The figures and their reading: doc/performance.md, "Exactly-once streams".
#
# Usage: bench/eos_bench.sh [BUILD_DIR]     (default build; a Release or RelWithDebInfo build)
# Env:   NOBUS_EOS_SECONDS  seconds per run (default 10)
#        NOBUS_EOS_DATA     nobusd's data directory (default build/eos-data; not tmpfs)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
secs="${NOBUS_EOS_SECONDS:-10}"
data="${NOBUS_EOS_DATA:-$PWD/build/eos-data}"
results_dir="$PWD/build/eos-results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
ninja -C "$build" -j2 nobus nobusd >&2
nobus="$build/bin/nobus"
rm -rf "$data"
mkdir -p "$data" "$results_dir"
if [[ "$(df --output=fstype "$data" | tail -1 | tr -d ' ')" == tmpfs ]]; then
  echo "data dir $data is on tmpfs: fdatasync would cost nothing" >&2
  exit 2
fi
source bench/nobusd_lib.sh

# One run on a fresh nobusd: prints the bench's JSON line.
run() {
  start_server
  trap stop_server EXIT
  "$nobus" bench --server "http://$grpc" --http "http://$http" --create-tables \
    --server-pid "$pid" --duration-s "$secs" --ttt-wait-s 60 "$@"
  settle
  stop_server
}

configs=("1 stream, 1 record per request|"
         "1 stream, 100 records per request|--batch-size 100"
         "1 stream at 20,000 records/s (ack latency)|--rate 20000"
         "16 streams, 1 record per request|--streams 16")
lines=()
for c in "${configs[@]}"; do
  name="${c%%|*}"
  read -r -a args <<<"${c#*|}"
  for kind in ephemeral persistent; do
    echo "== $name, $kind (${secs}s)" >&2
    extra=()
    [[ "$kind" == persistent ]] && extra=(--persistent)
    line="$(run "${args[@]}" "${extra[@]}")"
    echo "$line" >&2
    lines+=("$(node -e 'const r = JSON.parse(process.argv[1]); r.config = process.argv[2];
      console.log(JSON.stringify(r));' "$line" "$name")")
  done
done
echo "== raw write + fdatasync on $data (same disk)" >&2
disk="$("$nobus" bench --disk-baseline "$data/disk" --duration-s 3 --disk-chunk-bytes 4096 1048576)"
printf '%s\n' "${lines[@]}" "$disk" >"$results_dir/$stamp.jsonl"

node - "$stamp" "$(nproc)" "$disk" "${lines[@]}" <<'JS' | tee "$results_dir/$stamp.md"
const [stamp, nproc, diskJson, ...rest] = process.argv.slice(2);
const runs = rest.map((s) => JSON.parse(s));
const disk = JSON.parse(diskJson);
const f = (x, d = 0) => x == null ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const out = [`Run ${stamp}: ${nproc} cores, ${runs[0].duration_s.toFixed(0)} s per run, 1 KB JSON records, a fresh nobusd per run.`, ''];
out.push('| configuration | stream | records/s | MB/s | ack p50 / p99 (ms) | inside nobusd: ack p50 / p99 (ms) | time to table p50 / p99 (ms) | nobusd CPU (cores) | reconnects / errors |');
out.push('|---|---|---:|---:|---|---|---|---:|---|');
for (const r of runs)
  out.push(`| ${r.config} | ${r.stream_kind} | ${f(r.records_per_s)} | ${f(r.mb_per_s, 1)} | ` +
    `${f(r.ack_p50_ms, 1)} / ${f(r.ack_p99_ms, 1)} | ${f(r.server_ack_p50_ms, 1)} / ${f(r.server_ack_p99_ms, 1)} | ` +
    `${f(r.ttt_p50_ms)} / ${f(r.ttt_p99_ms)} | ${f(r.server_cpu_cores, 2)} | ${r.reconnects} / ${r.errors} |`);
out.push('', '| raw write + fdatasync, bytes per sync | MB/s | syncs/s | fdatasync p50 / p99 (ms) |', '|---:|---:|---:|---|');
for (const r of disk.results)
  out.push(`| ${f(r.chunk_bytes)} | ${f(r.mb_per_s, 1)} | ${f(r.syncs_per_s)} | ${f(r.sync_p50_ms, 2)} / ${f(r.sync_p99_ms, 2)} |`);
console.log(out.join('\n'));
JS
