#!/usr/bin/env bash
# nobusd's HTTP front end under load, same run: one fresh nobusd (temp data dir, --no-maintenance,
# a config raising the HTTP connection limits) loaded by wrk with REST inserts
# (POST /zerobus/v1/tables/{name}/insert, bench/http_insert.lua) of 1 and of 100 rows per request
# (~100 bytes per row; columns id BIGINT, device STRING, temp DOUBLE, ts TIMESTAMP; every row id
# unique), each at 16, 256 and 10,000 connections, a table per configuration. While each load
# runs, two more clients (curl, a new connection every ~100 ms) time GET /healthz on the API
# listener and on the ops listener (ops_listen: health only, its own thread). After each load
# it waits until nobusd has answered what wrk left in flight and committed every row; after the
# last it counts every table with DuckDB (bench/http_count.mjs) and checks that every 200 is
# durable: table rows = the rows nobusd counted as durable for it (/metrics), >= the rows of the
# 200s wrk received and at most one request per connection more (in flight when wrk stopped), no
# id twice, and nobusd's REST 200s over the run = the requests whose rows are in the tables.
# Baselines from the same run: raw write + fdatasync of the same disk (`nobus bench
# --disk-baseline`, 4 KiB and 64 KiB per sync) and GET /healthz at 256 connections without
# ingest. Prints a markdown table (for doc/performance.md) and keeps it, the raw JSON lines,
# wrk's outputs and nobusd's log under build/http-results/. Exits 1 on a durability mismatch.
#
# Usage: bench/http_bench.sh [--quick] [BUILD_DIR]   (default build: the release preset)
#        --quick: 3 s per configuration, 1 s per disk chunk size (a smoke run)
# Env:   NOBUS_HTTP_SECONDS      seconds per configuration (default 15; --quick 3)
#        NOBUS_HTTP_CONNECTIONS  connection counts (default "16 256 10000")
#        NOBUS_HTTP_ROWS         rows per request (default "1 100")
#        NOBUS_HTTP_THREADS      wrk threads (default 2)
#        NOBUS_HTTP_TIMEOUT      wrk --timeout: slower responses count as timeouts and are left out
#                                of the latency figures (default 10s)
#        NOBUS_HTTP_STATUS_CODES=1  count responses per status in wrk's Lua response() callback
#                                (costs wrk CPU; by default 200s = responses - those > 399)
#        TMPDIR                  where the temp data dir goes (default /tmp; not tmpfs)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
build=build
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $arg (try --help)" >&2; exit 2 ;;
    *) build="$arg" ;;
  esac
done
secs="${NOBUS_HTTP_SECONDS:-$([[ $quick == 1 ]] && echo 3 || echo 15)}"
disk_secs="$([[ $quick == 1 ]] && echo 1 || echo 3)"
conns_list="${NOBUS_HTTP_CONNECTIONS:-16 256 10000}"
rows_list="${NOBUS_HTTP_ROWS:-1 100}"
wrk_threads="${NOBUS_HTTP_THREADS:-2}"
wrk_timeout="${NOBUS_HTTP_TIMEOUT:-10s}"
status_codes="${NOBUS_HTTP_STATUS_CODES:-0}"
results_dir="$PWD/build/http-results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
raw="$results_dir/$stamp.jsonl"
source bench/nobusd_lib.sh
need_tools http_bench wrk curl node
[[ -x "$build/bin/nobusd" && -x "$build/bin/nobus" ]] || scripts/build.sh release nobusd nobus >&2
nobus="$build/bin/nobus"

# 10,000 connections need 10,000 descriptors in wrk and in nobusd (both inherit this limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
max_conns=0
for c in $conns_list; do (( c > max_conns )) && max_conns=$c; done
if (( $(ulimit -n) < max_conns + 100 )); then
  echo "warning: ulimit -n is $(ulimit -n) (hard limit $(ulimit -Hn)): too few descriptors for" \
    "$max_conns connections; runs with that many will see connect errors" >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/nobus-http-bench-XXXXXX")"
data="$work"
mkdir -p "$results_dir"
probe="" ops_probe=""
cleanup() {
  touch "$work/healthz.stop" "$work/opsz.stop" 2>/dev/null || true
  [[ -z "$probe$ops_probe" ]] || wait $probe $ops_probe 2>/dev/null || true
  stop_nobusd
  rm -rf "$work"
}
# stop_server, but a front end that does not stop within 60 s gets SIGKILL (and a note).
stop_nobusd() {
  [[ -n "$pid" ]] || return 0
  stop_within_60s "$pid" nobusd
  pid=""
}
trap cleanup EXIT
fstype="$(df --output=fstype "$work" | tail -1 | tr -d ' ')"
data_dev="$(df --output=source "$work" | tail -1 | tr -d ' ')"
[[ "$fstype" != tmpfs ]] || echo "warning: $work is on tmpfs: fdatasync is free there" >&2

emit() { echo "$1" | tee -a "$raw" >&2; }  # one raw JSON line
# The value of one series of nobusd's /metrics (exact name and labels), empty when absent.
metric() { { fetch /metrics || true; } | awk -v m="$1" '$1 == m {v = $2} END {print v}'; }
num() { [[ -n "$1" ]] && echo "$1" || echo null; }  # a JSON number or null
# wrk's summary line from http_insert.lua's done(), or null.
wrk_json() { sed -n 's/^HTTP_BENCH_JSON //p' "$1" | tail -1 | grep . || echo null; }
# /usr/bin/time's "user system" seconds of a command, or null (the file's last line).
cpu_s() {
  [[ -s "$1" ]] || { echo null; return; }
  tail -1 "$1" | awk 'NF == 2 {print $1 + $2; ok = 1} END {if (!ok) print "null"}'
}
timed() {  # OUT_FILE COMMAND...: run it under /usr/bin/time when there is one
  local out="$1"
  shift
  if [[ -x /usr/bin/time ]]; then /usr/bin/time -f '%U %S' -o "$out" "$@"; else "$@"; fi
}

# -- baseline: raw write + fdatasync of the data dir's disk, before nobusd runs -----------------
echo "== raw write + fdatasync on $work ($data_dev, $fstype)" >&2
disk="$("$nobus" bench --disk-baseline "$work/disk" --duration-s "$disk_secs" \
  --disk-chunk-bytes 4096 65536)" || disk=null
rm -rf "$work/disk"
emit "{\"what\":\"disk\",\"result\":$disk}"

# -- nobusd: connection limits raised for 10,000 connections, and the ops listener -----------------
cat >"$work/config.json" <<'EOF'
{"http_max_connections": 20000, "http_max_connections_per_client": 0, "ops_listen": "127.0.0.1:0"}
EOF
config_flags=(--config "$work/config.json")
config_note="config http_max_connections 20000, http_max_connections_per_client 0, ops_listen"
start_server "${config_flags[@]}" --no-maintenance
ticks_per_s="$(getconf CLK_TCK)"
emit "{\"what\":\"server\",\"result\":{\"config\":\"$config_note\",\"binary\":\"$build/bin/nobusd\"}}"

# Creates TABLE (catalog.schema.name) through the table API.
create_table() {
  local IFS=. catalog schema table
  read -r catalog schema table <<<"$1"
  curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
    "http://$http/api/2.1/unity-catalog/tables" -d "{\"catalog_name\":\"$catalog\",
    \"schema_name\":\"$schema\",\"name\":\"$table\",\"columns\":[
    {\"name\":\"id\",\"type_text\":\"bigint\",\"nullable\":false},
    {\"name\":\"device\",\"type_text\":\"string\"},{\"name\":\"temp\",\"type_text\":\"double\"},
    {\"name\":\"ts\",\"type_text\":\"timestamp\"}]}" ||
    { echo "http_bench: creating $1 failed" >&2; exit 1; }
}

# GET /healthz at ADDRESS on a new connection every ~100 ms until OUT.stop exists: "code seconds"
# lines.
healthz_probe() {
  local out="$1" address="$2"
  while [[ ! -e "$out.stop" ]]; do
    curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}\n' "http://$address/healthz" ||
      true
    sleep 0.1
  done >"$out"
}
healthz_summary() {
  sort -k2 -g "$1" | awk '{t[NR] = $2; if ($1 != 200) bad++}
    END {if (NR == 0) {print "null"; exit}
         printf "{\"probes\":%d,\"failed\":%d,\"p50_ms\":%.2f,\"max_ms\":%.2f}", NR, bad,
           t[int((NR + 1) / 2)] * 1000, t[NR] * 1000}'
}

# Waits until nobusd's durable row count for TABLE has not moved for 3 s (it answers what wrk left
# in flight, and an older front end what its queue still holds; at most 300 s), then until every
# buffered row is committed. Prints the seconds until the count stopped moving.
drain() {
  local series="nobus_ingest_records_total{table=\"$1\"}" start=$EPOCHREALTIME last=-1 v still=0
  local moved=$EPOCHREALTIME
  for _ in $(seq 600); do
    v="$(metric "$series" || true)"
    if [[ "$v" == "$last" ]]; then
      (( ++still >= 6 )) && break
    else
      still=0 last="$v" moved=$EPOCHREALTIME
    fi
    sleep 0.5
  done
  settle
  awk -v a="$start" -v b="$moved" 'BEGIN {printf "%.1f", b - a}'
}

count_table() {  # TABLE: DuckDB's count, else null
  local dir="$work/nobusd/tables/${1//.//}"
  node bench/http_count.mjs "$dir" 2>"$work/count.err" || { cat "$work/count.err" >&2; echo null; }
}

tables=()
run_insert() {  # ROWS CONNECTIONS
  local rows="$1" conns="$2"
  local name="insert_r${rows}_c${conns}" table="main.http_bench.r${rows}_c${conns}"
  echo "== REST insert, $rows rows/request, $conns connections, ${secs}s" >&2
  create_table "$table"
  tables+=("$table")
  local t0 t1
  t0="$(server_ticks)"
  rm -f "$work/healthz.stop" "$work/opsz.stop"
  healthz_probe "$work/healthz" "$http" &
  probe=$!
  healthz_probe "$work/opsz" "$ops" &
  ops_probe=$!
  HTTP_BENCH_ROWS="$rows" HTTP_BENCH_STATUS="$status_codes" timed "$work/wrk.time" \
    wrk -t"$wrk_threads" -c"$conns" -d"${secs}s" --timeout "$wrk_timeout" --latency \
    -s bench/http_insert.lua "http://$http/zerobus/v1/tables/$table/insert" \
    >"$results_dir/$stamp-$name.wrk" 2>&1 || echo "warning: wrk exited with $?" >&2
  t1="$(server_ticks)"
  touch "$work/healthz.stop" "$work/opsz.stop"
  wait "$probe" "$ops_probe" || true
  probe="" ops_probe=""
  sed -n '/^  [0-9]* threads/,$p' "$results_dir/$stamp-$name.wrk" | grep -v '^HTTP_BENCH_JSON' >&2
  local drain_s
  drain_s="$(drain "$table")"
  emit "{\"what\":\"insert\",\"rows\":$rows,\"conns\":$conns,\"secs\":$secs,\"table\":\"$table\",\
\"wrk\":$(wrk_json "$results_dir/$stamp-$name.wrk"),\"wrk_cpu_s\":$(cpu_s "$work/wrk.time"),\
\"nobusd_cpu_s\":$(awk -v a="$t0" -v b="$t1" -v h="$ticks_per_s" 'BEGIN {print (b - a) / h}'),\
\"healthz\":$(healthz_summary "$work/healthz"),\"ops_healthz\":$(healthz_summary "$work/opsz"),\
\"drain_s\":$drain_s}"
}

# After every run: each table's rows (DuckDB), the rows nobusd counted as durable for it
# (nobus_ingest_records_total: REST rows are counted when their 200 is decided), and nobusd's REST
# answers by status code (nobus_requests_total{api="rest"}). A front end may still answer requests
# of a load long gone (cpp-httplib's queue did, seconds after the drain looked quiet), so the
# counts are taken between two equal snapshots of those metrics, with everything committed.
rest_snapshot() {  # those metric lines, sorted
  { fetch /metrics || true; } | grep -E '^nobus_(ingest_records_total|requests_total\{api="rest")' |
    sort
}
final_counts() {
  local t js codes before after
  for attempt in $(seq 30); do
    before="$(rest_snapshot)"
    sleep 1.5  # a flush interval: what was counted durable is in a table buffer or committed
    settle
    js=""
    for t in "${tables[@]}"; do
      js+="${js:+,}\"$t\":{\"server_rows\":$(num "$(awk -v m="nobus_ingest_records_total{table=\"$t\"}" \
        '$1 == m {print $2}' <<<"$before")"),\"count\":$(count_table "$t")}"
    done
    after="$(rest_snapshot)"
    [[ "$before" != "$after" ]] || break
    echo "nobusd is still answering inserts (count $attempt): counting again in 2 s" >&2
    sleep 2
  done
  codes="$(sed -n 's/^nobus_requests_total{api="rest",code="\([0-9]*\)"} \([0-9.e+]*\)$/"\1":\2/p' \
    <<<"$before" | paste -sd,)"
  emit "{\"what\":\"final\",\"stable\":$([[ "$before" == "$after" ]] && echo true || echo false),\
\"tables\":{$js},\"rest_codes\":{$codes}}"
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
# -- baseline: /healthz at 256 connections, no ingest ----------------------------------------------
echo "== GET /healthz, 256 connections, no ingest, ${secs}s" >&2
HTTP_BENCH_ROWS=0 HTTP_BENCH_STATUS="$status_codes" timed "$work/wrk.time" \
  wrk -t"$wrk_threads" -c256 -d"${secs}s" --timeout "$wrk_timeout" --latency \
  -s bench/http_insert.lua "http://$http/healthz" >"$results_dir/$stamp-healthz.wrk" 2>&1 ||
  echo "warning: wrk exited with $?" >&2
emit "{\"what\":\"healthz\",\"conns\":256,\"secs\":$secs,\"wrk\":$(wrk_json "$results_dir/$stamp-healthz.wrk"),\
\"wrk_cpu_s\":$(cpu_s "$work/wrk.time")}"
sleep 1  # let the closed connections go

# -- REST inserts --------------------------------------------------------------------------------
for rows in $rows_list; do
  for conns in $conns_list; do
    run_insert "$rows" "$conns"
  done
done
final_counts
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
stop_nobusd
cp "$data/nobusd.log" "$results_dir/$stamp-nobusd.log"

node - "$raw" "$load_before" "$load_after" "$(nproc)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" "$stamp" "$secs" \
  "$data_dev" "$fstype" "$wrk_threads" "$wrk_timeout" "$(wrk -v 2>&1 | head -1 | awk '{print $2}')" \
  <<'JS' | tee "$results_dir/$stamp.md"
const fs = require('fs');
const [file, loadBefore, loadAfter, nproc, cpu, stamp, secs, dev, fstype, threads, timeout, wrkVersion] =
  process.argv.slice(2);
const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const f = (x, d = 0) => x == null || Number.isNaN(x) ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const server = lines.find((l) => l.what === 'server').result;
const disk = lines.find((l) => l.what === 'disk').result;
const hz = lines.find((l) => l.what === 'healthz');
const fin = lines.find((l) => l.what === 'final') ?? { tables: {}, rest_codes: {} };
let bad = 0;
const sockErr = (e) => `${f(e.connect)} / ${f(e.read)} / ${f(e.write)} / ${f(e.timeout)}`;
const out = [`Run ${stamp}: ${nproc} cores (${cpu}), load average ${loadBefore} before, ${loadAfter} ` +
  `after; one nobusd (${server.config}; --no-maintenance; data on ${dev}, ${fstype}) for every ` +
  `configuration, a table each; wrk ${wrkVersion} -t${threads}, ${secs} s per configuration, ` +
  `--timeout ${timeout}; client and server on the same machine.`, '',
  '| rows/request | connections | requests/s | rows/s | latency p50 / p99 (ms) | non-2xx | socket errors: connect / read / write / timeout | /healthz meanwhile: p50 / max (ms), failed / probes | same on ops_listen | nobusd CPU (cores) | wrk CPU (cores) | rows acked: in 200s wrk got / nobusd counted | requests answered after wrk stopped | rows in table | every 200 durable |',
  '|---:|---:|---:|---:|---|---:|---|---|---|---:|---:|---|---:|---:|---|'];
let sumServer = 0, sumTable = 0;
for (const r of lines.filter((l) => l.what === 'insert')) {
  const w = r.wrk, h = r.healthz, o = r.ops_healthz, t = fin.tables[r.table] ?? {}, c = t.count;
  const probes = (p) => p ? `${f(p.p50_ms, 1)} / ${f(p.max_ms)}, ${f(p.failed)} / ${f(p.probes)}` : '–';
  const s = w ? w.duration_us / 1e6 : r.secs;
  const ok200 = w ? (w.statuses ? (w.statuses['200'] ?? 0) : w.requests - w.errors.status) : null;
  const clientRows = ok200 == null ? null : ok200 * r.rows;
  const serverRows = t.server_rows ?? null;
  const tableRows = c ? c.rows : null;
  sumServer += (serverRows ?? NaN) / r.rows;
  sumTable += (tableRows ?? NaN) / r.rows;
  const checks = [];
  if (tableRows == null) checks.push('no count');
  else {
    if (serverRows != null && tableRows !== serverRows) checks.push(`nobusd counted ${f(serverRows)}`);
    if (clientRows != null && tableRows < clientRows) checks.push(`${f(clientRows - tableRows)} acked rows missing`);
    if (clientRows != null && tableRows > clientRows + r.conns * r.rows) checks.push('more than wrk had in flight');
    if (c.distinct_ids !== c.rows) checks.push(`${f(c.rows - c.distinct_ids)} duplicate ids`);
    if (c.stats_rows !== c.rows) checks.push(`Delta statistics say ${f(c.stats_rows)}`);
  }
  if (checks.length) bad++;
  const verdict = checks.length ? `**MISMATCH** (${checks.join('; ')})` : 'OK';
  out.push(`| ${f(r.rows)} | ${f(r.conns)} | ${w ? f(w.requests / s) : '–'} | ${clientRows == null ? '–' : f(clientRows / s)} | ` +
    `${w ? `${f(w.latency_ms.p50, 1)} / ${f(w.latency_ms.p99, 1)}` : '–'} | ${w ? f(w.errors.status) : '–'} | ` +
    `${w ? sockErr(w.errors) : 'wrk failed'} | ${probes(h)} | ${probes(o)} | ` +
    `${f(r.nobusd_cpu_s / s, 2)} | ${r.wrk_cpu_s == null ? '–' : f(r.wrk_cpu_s / s, 2)} | ` +
    `${f(clientRows)} / ${f(serverRows)} | ${clientRows == null || serverRows == null ? '–' : f((serverRows - clientRows) / r.rows)} | ` +
    `${f(tableRows)} | ${verdict} |`);
}
const codes = fin.rest_codes ?? {};
const n200 = codes['200'];
const others = Object.entries(codes).filter(([k]) => k !== '200').map(([k, v]) => `${f(v)} × ${k}`);
if (fin.stable === false) {
  bad++;
  out.push('', '**nobusd was still answering inserts after 30 attempts to count: the counts below may be short.**');
}
const globalOk = n200 != null && n200 === sumServer && n200 === sumTable;
if (n200 != null && !globalOk) bad++;
out.push('', `nobusd's REST answers over the whole run (/metrics nobus_requests_total{api="rest"}): ` +
  `${n200 == null ? 'no 200 counter' : `${f(n200)} × 200`}${others.length ? `, ${others.join(', ')}` : ''}; ` +
  `requests whose rows are in the tables: ${f(sumTable)}; ` +
  `${n200 == null ? '' : globalOk ? 'equal: OK' : `**MISMATCH** (nobusd's own durable count: ${f(sumServer)} requests)`}.`);
out.push('', 'Baselines, same run:', '',
  '| baseline | per second | p50 / p99 (ms) | errors |', '|---|---:|---|---|');
for (const d of disk?.results ?? [])
  out.push(`| raw write + fdatasync of ${f(d.chunk_bytes)} bytes, same disk | ${f(d.syncs_per_s)} syncs | ` +
    `${f(d.sync_p50_ms, 2)} / ${f(d.sync_p99_ms, 2)} | – |`);
if (hz?.wrk) {
  const w = hz.wrk;
  out.push(`| GET /healthz, 256 connections, no ingest | ${f(w.requests / (w.duration_us / 1e6))} requests | ` +
    `${f(w.latency_ms.p50, 1)} / ${f(w.latency_ms.p99, 1)} | non-2xx ${f(w.errors.status)}, socket ${sockErr(w.errors)} |`);
}
out.push('', 'requests/s counts every response wrk received; rows/s only the rows of 200s (wrk: ' +
  'responses minus those > 399). Latency covers responses within --timeout; slower ones are the ' +
  '"timeout" socket errors; requests still unanswered when wrk stopped appear in no wrk figure. ' +
  'Every 200 durable: after each load nobusd answered what wrk left in flight and committed ' +
  'everything; after the last, DuckDB counted every table (bench/http_count.mjs). OK = table rows ' +
  '= the rows nobusd counted as durable (nobus_ingest_records_total), >= the rows of the 200s wrk ' +
  'received and at most one request per connection more (in flight when wrk stopped), every id ' +
  'once, and nobusd\'s REST 200s over the run = the requests whose rows are in the tables. ' +
  '/healthz meanwhile: curl, a new connection every ~100 ms, 5 s limit.');
process.stdout.write(out.join('\n') + '\n');
if (bad) { console.error(`http_bench: ${bad} durability MISMATCH(es)`); process.exit(1); }
JS
echo "results: $results_dir/$stamp*" >&2
