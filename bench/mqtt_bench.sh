#!/usr/bin/env bash
# nobusd's MQTT endpoint under many devices, and one device's top speed (doc/mqtt.md). The load is
# bench/mqtt/load.mjs: raw TCP sockets in one Node process, MQTT 5.0 packets generated once with
# mqtt-packet (test/node_modules) and patched per message, QoS 1, every CONNECT with the Zerobus
# table header; ~150-byte PUBLISHes of a JSON row of `id BIGINT NOT NULL, tag STRING, payload
# STRING` (table main.mqtt_bench.fleet / .rate, each id once).
#   (a) fleet: 10,000 concurrent connections, each publishing one message per second, the sends
#       spread evenly over each second (10,000 messages/s), for 60 s: PUBACK latency p50 / p99 /
#       max; nobusd's RSS (/proc/PID/status VmRSS) before any connection, with the connections
#       idle, and under load (its peak over the window), the RSS per connection; nobusd's CPU
#       (/proc/PID/stat utime + stime) over the load window.
#   (b) rate: one connection with up to 1,000 messages in flight (at most the CONNACK's Receive
#       Maximum), a new one per PUBACK, 20 s: messages/s and latency after a 2 s warm-up.
# Each on a fresh nobusd (default options: 1 s flush, PUBACK after the WAL's fdatasync); after
# each it waits until every row is committed and counts the table with DuckDB
# (bench/http_count.mjs): rows = messages acknowledged. Baselines from the same run: the raw
# write + fdatasync rate of the same disk (`nobus bench --disk-baseline`), and, when the Debian
# package `mosquitto` is installed, (b) against a mosquitto broker (persistence off, Receive
# Maximum 1,000), which acknowledges QoS 1 without any fsync. Prints a markdown table and keeps
# it, with the JSON lines and the servers' logs, under build/mqtt-bench-results/. About 3 minutes.
#
# Usage: bench/mqtt_bench.sh [BUILD_DIR]   (default build; build nobusd and nobus first)
# Env:   NOBUS_MQTT_CONNECTIONS  connections of (a) (default 10000)
#        NOBUS_MQTT_SECONDS      seconds of load of (a) (default 60)
#        NOBUS_MQTT_RATE_SECONDS seconds of (b) (default 20)
#        NOBUS_MQTT_WINDOW       messages in flight of (b) (default 1000)
#        NOBUS_MQTT_DATA         data directory (default build/mqtt-bench-data; must not be tmpfs)
# Needs test/node_modules (`cd test && npm ci`) and file descriptors for every connection on both
# sides: it raises `ulimit -n` to 65536, or to the hard limit when that is lower.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
connections="${NOBUS_MQTT_CONNECTIONS:-10000}"
seconds="${NOBUS_MQTT_SECONDS:-60}"
rate_seconds="${NOBUS_MQTT_RATE_SECONDS:-20}"
window="${NOBUS_MQTT_WINDOW:-1000}"
data="${NOBUS_MQTT_DATA:-$PWD/build/mqtt-bench-data}"
results_dir="$PWD/build/mqtt-bench-results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
logs="$results_dir/$stamp"
columns="id BIGINT NOT NULL, tag STRING, payload STRING"
source bench/nobusd_lib.sh
need_tools mqtt_bench node curl python3
[[ -x "$build/bin/nobusd" && -x "$build/bin/nobus" ]] ||
  { echo "mqtt_bench: no $build/bin/nobusd or nobus: build them first" >&2; exit 2; }
[[ -f test/node_modules/mqtt-packet/package.json ]] ||
  { echo "mqtt_bench: no test/node_modules/mqtt-packet: run (cd test && npm ci)" >&2; exit 2; }

# -- file descriptors: one per connection in nobusd and in the load process ---------------------
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < connections + 1024 )); then
  echo "mqtt_bench: ulimit -n is $(ulimit -n) (hard limit $(ulimit -Hn)), $connections" \
    "connections need $((connections + 1024)): lower NOBUS_MQTT_CONNECTIONS" >&2
  exit 2
fi

# -- data directory: fresh, on the repository's disk, not tmpfs; a copy of the binaries ---------
fresh_bin_copy mqtt_bench --mqtt-listen  # sets $nobus, $build_note; $build is now the copy
mkdir -p "$logs"
ticks_per_s="$(getconf CLK_TCK)"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# -- nobusd: a fresh server with its MQTT endpoint and the table -------------------------------
start_nobusd() {  # TABLE
  start_server --mqtt-listen 127.0.0.1:0
  mqtt_address="$(sed -n 's/^nobusd listening.* mqtt=\([^ ]*\).*/\1/p' "$data/nobusd.out")"
  [[ -n "$mqtt_address" ]] || { echo "nobusd printed no mqtt= address" >&2; exit 1; }
  "$nobus" table create "$1" --columns "$columns" --server "http://$http" >/dev/null
}

mpid=""
start_mosquitto() {
  local port
  port="$(free_port)"
  mkdir -p "$data/mosquitto"
  cat >"$data/mosquitto/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_inflight_messages $window
max_queued_messages 100000
log_dest file $logs/mosquitto.log
EOF
  mosquitto -c "$data/mosquitto/mosquitto.conf" >"$data/mosquitto/out" 2>&1 &
  mpid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  mosquitto_address="127.0.0.1:$port"
  # `mosquitto -h` exits 3 after printing its version
  mosquitto_version="$( (mosquitto -h 2>/dev/null || true) | sed -n 's/^mosquitto version //p')"
  echo "== mosquitto $mosquitto_version pid $mpid at $mosquitto_address (persistence false)" >&2
}
stop_mosquitto() {
  [[ -n "$mpid" ]] || return 0
  kill -TERM "$mpid" 2>/dev/null || true
  wait "$mpid" 2>/dev/null || true
  mpid=""
}
trap 'stop_server; stop_mosquitto' EXIT

load() {  # SERVER_PID ADDRESS TABLE MODE-JSON-FIELDS: bench/mqtt/load.mjs, its JSON line
  node bench/mqtt/load.mjs "{\"server_pid\":$1,\"address\":\"$2\",\"topic\":\"$3\",\"clk_tck\":$ticks_per_s,$4}" \
    2> >(tee -a "$logs/load.log" >&2)
}

# Waits until nobusd committed everything, counts the table, stops nobusd; appends
# ,"server_rows":N,"table":{...}} to the JSON line in $line.
finish_nobusd() {  # TABLE NAME
  local metric count
  settle
  metric="$(fetch /metrics | awk -v m="nobus_ingest_records_total{table=\"$1\"}" \
    '$1 == m {print $2}')"
  count="$(node bench/http_count.mjs "$data/nobusd/tables/${1//.//}")" || count=null
  cp "$data/nobusd.log" "$logs/nobusd-$2.log"
  stop_server
  line="${line%\}},\"server\":\"nobusd\",\"server_rows\":${metric:-null},\"table\":$count}"
}

# -- the runs --------------------------------------------------------------------------------------
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$EPOCHREALTIME
lines=()
echo "== (a) nobusd: $connections connections, 1 message/s each, $seconds s" >&2
start_nobusd main.mqtt_bench.fleet
line="$(load "$pid" "$mqtt_address" main.mqtt_bench.fleet \
  "\"mode\":\"fleet\",\"connections\":$connections,\"seconds\":$seconds,\"idle_s\":5,\"connect_concurrency\":200,\"first_id\":1000000000")"
finish_nobusd main.mqtt_bench.fleet fleet
echo "$line" >&2
lines+=("$line")
echo "== (b) nobusd: 1 connection, $window in flight, $rate_seconds s" >&2
start_nobusd main.mqtt_bench.rate
line="$(load "$pid" "$mqtt_address" main.mqtt_bench.rate \
  "\"mode\":\"rate\",\"seconds\":$rate_seconds,\"window\":$window,\"warmup_s\":2,\"first_id\":1500000000")"
finish_nobusd main.mqtt_bench.rate rate
echo "$line" >&2
lines+=("$line")
if command -v mosquitto >/dev/null; then
  echo "== (b) mosquitto: 1 connection, $window in flight, $rate_seconds s" >&2
  start_mosquitto
  line="$(load "$mpid" "$mosquitto_address" main.mqtt_bench.rate \
    "\"mode\":\"rate\",\"seconds\":$rate_seconds,\"window\":$window,\"warmup_s\":2,\"first_id\":1500000000")"
  stop_mosquitto
  echo "$line" >&2
  lines+=("${line%\}},\"server\":\"mosquitto\",\"version\":\"$mosquitto_version\"}")
else
  echo "== no mosquitto (Debian package mosquitto): no broker baseline" >&2
fi
echo "== raw write + fdatasync on $data (same disk)" >&2
disk="$("$nobus" bench --disk-baseline "$data/disk" --duration-s 3 --disk-chunk-bytes 4096 65536)"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
total_s="$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}')"
printf '%s\n' "${lines[@]}" "$disk" >"$results_dir/$stamp.jsonl"

node - "$stamp" "$(nproc)" "$load_before" "$load_after" "$total_s" "$build_note" \
  "$(df --output=source,fstype "$data" | tail -1 | tr -s ' ')" "$disk" "${lines[@]}" <<'JS' | tee "$results_dir/$stamp.md"
const [stamp, nproc, loadBefore, loadAfter, totalS, buildNote, disk0, diskJson, ...rest] =
  process.argv.slice(2);
const disk = JSON.parse(diskJson);
const runs = rest.map((s) => JSON.parse(s));
const f = (x, d = 0) => x == null || Number.isNaN(x) ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const mb = (kb) => kb == null ? null : kb / 1024;
const stored = (r) => {
  if (r.server !== 'nobusd') return 'nothing stored (no persistence, no fsync)';
  const t = r.table;
  if (!t) return '**no count**';
  const ok = t.rows === r.acked && t.distinct_ids === t.rows && t.stats_rows === t.rows;
  return `${f(t.rows)} rows in the Delta table ${ok ? '(= acked, each id once)' : `**≠ ${f(r.acked)} acked or duplicates (${f(t.distinct_ids)} distinct)**`}`;
};
const problems = (r) => {
  const p = [];
  if (r.failed) p.push(`${f(r.failed)} PUBACKs ≥ 0x80 ${JSON.stringify(r.failures)}`);
  if (r.unacked) p.push(`**${f(r.unacked)} not acked**`);
  if (r.skipped_closed) p.push(`**${f(r.skipped_closed)} not sent: connection closed**`);
  if (r.connect_failures && Object.keys(r.connect_failures).length) p.push(`connect failures ${JSON.stringify(r.connect_failures)}`);
  if (r.server_disconnects && Object.keys(r.server_disconnects).length) p.push(`server DISCONNECTs ${JSON.stringify(r.server_disconnects)}`);
  if (r.server_disconnect != null) p.push(`server DISCONNECT 0x${r.server_disconnect.toString(16)}`);
  return p.length ? p.join('; ') : 'none';
};
const out = [`Run ${stamp}: ${nproc} cores, load average ${loadBefore} before, ${loadAfter} after; ` +
  `data on ${disk0}; nobusd ${buildNote}; ${totalS} s in all. MQTT 5.0, QoS 1, ` +
  `${runs[0].message_bytes}-byte PUBLISHes (JSON rows), one Node process of raw sockets ` +
  '(bench/mqtt/load.mjs); a fresh server per run.', ''];
const fl = runs.find((r) => r.mode === 'fleet');
if (fl) {
  const perConn = (fl.rss_idle_kb - fl.rss_before_kb) / fl.connections;
  out.push(`**(a) ${f(fl.connections)} connections, one message per second each, ${f(fl.seconds)} s** ` +
    `(${f(fl.connected)} connected in ${f(fl.connect_s, 1)} s)`, '');
  out.push('| messages/s | PUBACK latency p50 / p99 / p99.9 / max (ms) | nobusd RSS before / idle / under load (MB) | RSS per connection (KB) | nobusd CPU under load (% of a core) | nobusd CPU idle (%) | load process CPU (%) | problems | stored |');
  out.push('|---:|---|---|---:|---:|---:|---:|---|---|');
  out.push(`| ${f(fl.messages_per_s)} | ${f(fl.latency.p50_ms, 2)} / ${f(fl.latency.p99_ms, 2)} / ` +
    `${f(fl.latency.p999_ms, 2)} / ${f(fl.latency.max_ms, 1)} | ${f(mb(fl.rss_before_kb))} / ` +
    `${f(mb(fl.rss_idle_kb))} / ${f(mb(fl.rss_load_max_kb))} | ${f(perConn, 1)} | ` +
    `${f(fl.load.server_cpu_pct, 1)} | ${f(fl.idle.server_cpu_pct, 1)} | ` +
    `${f(fl.load.client_cpu_pct, 1)} | ${problems(fl)} | ${stored(fl)} |`, '');
  out.push('RSS per connection: (idle − before) / connections. Under load: the peak of 1 s samples. ' +
    'CPU: utime + stime over the load window. Latency: the load process\'s clock from write() to ' +
    'the PUBACK read, its event loop included (it shares the 2 cores with nobusd).', '');
}
out.push(`**(b) one connection, maximum QoS 1 rate**`, '');
out.push('| server | in flight | messages/s | PUBACK latency p50 / p99 / max (ms) | server CPU (% of a core) | load process CPU (%) | problems | stored |');
out.push('|---|---:|---:|---|---:|---:|---|---|');
for (const r of runs.filter((x) => x.mode === 'rate')) {
  const what = r.server === 'nobusd' ? 'nobusd (PUBACK after the WAL fdatasync)'
    : `mosquitto ${r.version ?? ''} (persistence off: PUBACK without fsync)`;
  out.push(`| ${what} | ${f(r.window)} | ${f(r.messages_per_s)} | ${f(r.latency?.p50_ms, 2)} / ` +
    `${f(r.latency?.p99_ms, 2)} / ${f(r.latency?.max_ms, 1)} | ${f(r.steady?.server_cpu_pct, 1)} | ` +
    `${f(r.steady?.client_cpu_pct, 1)} | ${r.error ?? problems(r)} | ${stored(r)} |`);
}
out.push('', `After a ${runs.find((r) => r.mode === 'rate')?.warmup_s ?? 2} s warm-up; in flight: min(window, ` +
  'the CONNACK\'s Receive Maximum).', '');
out.push('| raw write + fdatasync, bytes per sync | MB/s | syncs/s | fdatasync p50 / p99 (ms) |', '|---:|---:|---:|---|');
for (const r of disk.results)
  out.push(`| ${f(r.chunk_bytes)} | ${f(r.mb_per_s, 1)} | ${f(r.syncs_per_s)} | ${f(r.sync_p50_ms, 2)} / ${f(r.sync_p99_ms, 2)} |`);
console.log(out.join('\n'));
JS
