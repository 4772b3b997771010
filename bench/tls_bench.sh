#!/usr/bin/env bash
# TLS vs plaintext, same run: `nobus bench` (1 KB JSON records, one record per Ingest call) against
# a fresh nobusd per configuration, plaintext (the baseline) and TLS (`nobus dev-certs`, ECDSA
# P-256), each at 1 stream full speed, 1 stream at 50,000 records/s (ack latency at a
# fixed load) and 16 streams into one table. Prints a markdown table and keeps it, with the raw
# JSON lines, under build/tls-results/. Reading of the figures: doc/performance.md, "TLS".
#
# Usage: bench/tls_bench.sh [BUILD_DIR]   (default build: the release preset, scripts/build.sh)
# Env:   NOBUS_TLS_SECONDS  seconds per configuration (default 10)
#        NOBUS_TLS_DATA     data directory (default build/tls-data; on the repository's disk)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
secs="${NOBUS_TLS_SECONDS:-10}"
data="${NOBUS_TLS_DATA:-$PWD/build/tls-data}"
results_dir="$PWD/build/tls-results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
[[ -x "$build/bin/nobusd" && -x "$build/bin/nobus" ]] || scripts/build.sh release nobusd nobus >&2
nobus="$build/bin/nobus"
rm -rf "$data"
mkdir -p "$data" "$results_dir"
"$nobus" dev-certs "$data/certs" >/dev/null
source bench/nobusd_lib.sh

# run MODE [bench flags...]: one configuration on a fresh nobusd; MODE is plain or tls.
run() {
  local mode="$1" line
  shift
  if [[ "$mode" == tls ]]; then
    scheme=https curl_ca="$data/certs/ca.pem"
    start_server --tls-cert "$data/certs/server.pem" --tls-key "$data/certs/server.key"
  else
    scheme=http curl_ca=""
    start_server
  fi
  trap stop_server EXIT
  local host="localhost"  # the certificate's name; plaintext uses it too, for the same resolver
  line="$("$nobus" bench --server "$scheme://$host:${grpc##*:}" --http "$scheme://$host:${http##*:}" \
    ${curl_ca:+--ca-cert "$curl_ca"} --create-tables --server-pid "$pid" --duration-s "$secs" \
    --ttt-wait-s 60 "$@")"
  settle
  stop_server
  echo "$line"
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
declare -A r
for config in full rate50k s16; do
  case "$config" in
    full) flags=() ;;
    rate50k) flags=(--rate 50000) ;;
    s16) flags=(--streams 16) ;;
  esac
  for mode in plain tls; do
    echo "== $mode, $config (${secs}s)" >&2
    r[$mode-$config]="$(run "$mode" "${flags[@]}")"
    echo "${r[$mode-$config]}" >&2
  done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
for k in "${!r[@]}"; do echo "{\"config\":\"$k\",\"result\":${r[$k]}}"; done \
  >"$results_dir/$stamp.jsonl"

node - "$results_dir/$stamp.jsonl" "$load_before" "$load_after" "$(nproc)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" "$stamp" "$secs" \
  <<'JS' | tee "$results_dir/$stamp.md"
const fs = require('fs');
const [file, loadBefore, loadAfter, nproc, cpu, stamp, secs] = process.argv.slice(2);
const r = {};
for (const l of fs.readFileSync(file, 'utf8').trim().split('\n')) {
  const x = JSON.parse(l);
  r[x.config] = x.result;
}
const f = (x, d = 0) => x == null ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const row = (name, x) => `| ${name} | ${f(x.records_per_s)} | ${f(x.mb_per_s, 1)} | ` +
  `${f(x.ack_p50_ms, 1)} / ${f(x.ack_p99_ms, 1)} / ${f(x.ack_p999_ms, 1)} | ` +
  `${f(x.server_ack_p50_ms, 1)} / ${f(x.server_ack_p99_ms, 1)} | ${f(x.client_cpu_cores, 2)} | ` +
  `${f(x.server_cpu_cores, 2)} | ${f(x.errors)} |`;
const out = [`Run ${stamp}: ${nproc} cores (${cpu}), load average ${loadBefore} before, ` +
  `${loadAfter} after; ${secs} s per configuration, a fresh nobusd each, client and server on ` +
  'the same machine (TLS costs CPU on both sides).', '',
  '| configuration | records/s | MB/s | ack p50 / p99 / p99.9 (ms) | inside nobusd: ack p50 / p99 (ms) | client CPU (cores) | nobusd CPU (cores) | errors |',
  '|---|---:|---:|---|---|---:|---:|---:|'];
const names = { full: '1 stream, full speed', rate50k: '1 stream at 50,000 records/s', s16: '16 streams, 1 table' };
for (const c of ['full', 'rate50k', 's16']) {
  out.push(row(`${names[c]}, plaintext`, r[`plain-${c}`]));
  out.push(row(`${names[c]}, TLS`, r[`tls-${c}`]));
}
const pct = (a, b) => `${f((a / b - 1) * 100, 1)} %`;
out.push('', `TLS vs plaintext: 1 stream ${pct(r['tls-full'].mb_per_s, r['plain-full'].mb_per_s)} MB/s, ` +
  `16 streams ${pct(r['tls-s16'].mb_per_s, r['plain-s16'].mb_per_s)} MB/s; ack p50 at 50,000 ` +
  `records/s ${f(r['plain-rate50k'].ack_p50_ms, 1)} ms plaintext, ${f(r['tls-rate50k'].ack_p50_ms, 1)} ms TLS.`);
process.stdout.write(out.join('\n') + '\n');
JS
