#!/usr/bin/env bash
# Compaction, same run: `nobus bench` (1 stream, 1 KB JSON records) against a fresh nobusd without
# maintenance (the baseline: --no-maintenance) and one compacting as hard as it can
# (--maintenance-interval-ms 200, plus POST .../optimize every 2 s during the ingest), at full
# speed and at 50,000 records/s (nobusd defers compaction while its ingest buffers are over half
# full, which at full speed they always are). Tables are created first with
# delta.targetFileSize=1gb and nobus.autoCompact.minNumFiles=4, so every 1-second file is "small".
# After each run DuckDB reads the live files (bench/compaction_scan.mjs replays the Delta log
# itself) and checks exactly once: every (stream, seq) once, at least every acked record. On the
# full-speed baseline's table it times a full scan before and after one optimize. Soak mode: a
# fresh nobusd with default maintenance and properties fed 200 records/s (a commit a second);
# reports commits, live files and the same check, and times a scan of every file the commits
# wrote against the live files. Prints a markdown table and keeps it, the raw JSON lines and
# nobusd's logs under build/compaction-results/. Reading: doc/performance.md, "Compaction".
# Exits 1 if an exactly-once check fails.
#
# Usage: bench/compaction_bench.sh [BUILD_DIR]   (default build: the release preset, scripts/build.sh)
# Env:   NOBUS_COMPACTION_SECONDS       ingest seconds per run (default 20; 0 = soak only)
#        NOBUS_COMPACTION_SOAK_SECONDS  soak seconds (default 0 = no soak; doc/performance.md: 600)
#        NOBUS_COMPACTION_DATA          data directory (default build/compaction-data)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
secs="${NOBUS_COMPACTION_SECONDS:-20}"
soak="${NOBUS_COMPACTION_SOAK_SECONDS:-0}"
data="${NOBUS_COMPACTION_DATA:-$PWD/build/compaction-data}"
results_dir="$PWD/build/compaction-results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
[[ -x "$build/bin/nobusd" && -x "$build/bin/nobus" ]] || scripts/build.sh release nobusd nobus >&2
nobus="$build/bin/nobus"
table=main.bench.load_0
raw="$results_dir/$stamp.jsonl"
rm -rf "$data"
mkdir -p "$data" "$results_dir"
source bench/nobusd_lib.sh
loop=""
trap '[[ -z "$loop" ]] || kill "$loop" 2>/dev/null; stop_server' EXIT
started=$SECONDS

emit() {  # NAME JSON: one raw line (an empty JSON: the step before failed)
  [[ -n "$2" ]] || { echo "compaction_bench: $1 failed" >&2; exit 1; }
  echo "{\"what\":\"$1\",\"result\":$2}" | tee -a "$raw" >&2
}
# A plain `curl -X POST` (no body, no Content-Length) waits 5 s and gets HTTP 400: send '{}'.
optimize() { curl -sf -X POST -H 'Content-Type: application/json' -d '{}' "http://$http/admin/v1/tables/$table/optimize"; }
scan() { node bench/compaction_scan.mjs "$data/nobusd/tables/main/bench/load_0" "$@"; }
metric() { fetch /metrics | awk -v m="$1{table=\"$table\"}" '$1 == m {v = $2} END {print v == "" ? "null" : v}'; }
compactions() { echo "{\"commits\":$(metric nobus_table_compactions_total),\"bytes\":$(metric nobus_table_compaction_bytes_rewritten_total)}"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.3f", b - a}'; }
acked() { sed 's/.*"records":\([0-9]*\).*/\1/' <<<"$1"; }
bench() { "$nobus" bench --server "http://$grpc" --http "http://$http" --create-tables --server-pid "$pid" --ttt-wait-s 60 "$@"; }
finish() {  # NAME: stop nobusd, keep its log, show its warnings
  stop_server
  cp "$data/nobusd.log" "$results_dir/$stamp-$1.log"
  grep -E ' (warning|error) ' "$data/nobusd.log" | grep -v 'ingest buffers full' >&2 || true
}

# run NAME MODE [bench flags...]: one ingest on a fresh nobusd; MODE is baseline or compaction.
run() {
  local name="$1" mode="$2" line t
  shift 2
  echo "== $name: $mode, ${secs}s $*" >&2
  if [[ "$mode" == baseline ]]; then start_server --no-maintenance; else start_server --maintenance-interval-ms 200; fi
  "$nobus" table --server "http://$http" create "$table" --property delta.targetFileSize=1gb \
    --property nobus.autoCompact.minNumFiles=4 >&2 \
    --columns "stream INT NOT NULL, seq BIGINT NOT NULL, probe BIGINT, payload STRING NOT NULL"
  rm -f "$data/stop" "$data/calls.jsonl"
  if [[ "$mode" == compaction ]]; then  # each call: when it started and how long it waited (s)
    (while sleep 2 && [[ ! -e "$data/stop" ]]; do
      t=$EPOCHREALTIME
      a="$(optimize)" || a='{"failed":true}'
      echo "{\"what\":\"${name}_call\",\"result\":{\"at\":$t,\"wait_s\":$(since "$t"),\"answer\":$a}}" >>"$data/calls.jsonl"
    done) &
    loop=$!
  fi
  t=$EPOCHREALTIME
  line="$(bench --duration-s "$secs" "$@")"
  emit "${name}_ingest" "$line"
  emit "${name}_start" "$t"
  if [[ -n "$loop" ]]; then touch "$data/stop"; wait "$loop"; loop=""; fi
  settle
  [[ ! -s "$data/calls.jsonl" ]] || tee -a "$raw" <"$data/calls.jsonl" >&2
  emit "${name}_settled" "{\"compactions\":$(compactions)}"
  if [[ "$name" == full_baseline ]]; then  # query speed before and after one optimize
    emit "${name}_check" "$(scan "$(acked "$line")" 3)"
    t=$EPOCHREALTIME
    emit "${name}_optimize" "$(optimize)"
    emit "${name}_optimize_s" "$(since "$t")"
    emit "${name}_after" "$(scan "$(acked "$line")" 3)"
  else
    emit "${name}_check" "$(scan "$(acked "$line")" 1)"
  fi
  finish "$name"
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
if [[ "$secs" != 0 ]]; then
  run full_baseline baseline
  run full_compaction compaction
  run rate_baseline baseline --rate 50000
  run rate_compaction compaction --rate 50000
fi
if [[ "$soak" != 0 ]]; then
  echo "== soak: default maintenance, 200 records/s, ${soak}s" >&2
  start_server
  line="$(bench --rate 200 --duration-s "$soak")"
  emit soak_ingest "$line"
  settle
  emit soak_end "$(scan "$(acked "$line")" 0)"
  sleep 12  # one more maintenance pass
  emit soak_idle "{\"live_files\":$(metric nobus_table_live_files),\"compactions\":$(compactions)}"
  emit soak_ingested "$(scan "$(acked "$line")" 3 ingested)"
  emit soak_check "$(scan "$(acked "$line")" 3)"
  finish soak
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

node - "$raw" "$load_before" "$load_after" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | \
  cut -d: -f2- | sed 's/^ *//')" "$stamp" "$secs" "$soak" "$((SECONDS - started))" <<'JS' | tee "$results_dir/$stamp.md"
const fs = require('fs');
const [file, loadBefore, loadAfter, nproc, cpu, stamp, secs, soak, took] = process.argv.slice(2);
const r = {}, calls = {};
for (const l of fs.readFileSync(file, 'utf8').trim().split('\n')) {
  const x = JSON.parse(l);
  if (x.what.endsWith('_call')) (calls[x.what.slice(0, -5)] ??= []).push(x.result); else r[x.what] = x.result;
}
const f = (x, d = 0) => x == null ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const mb = (b) => f(b / 1e6, 0);
const ok = (c) => c.exactly_once ? `yes (${f(c.rows)} rows, ${f(c.acked)} acked)` :
  `**NO** (${f(c.rows)} rows, ${f(c.distinct)} distinct, ${f(c.acked)} acked, ${f(c.stats_rows)} in stats)`;
const out = [`Run ${stamp}: ${nproc} cores (${cpu}), load average ${loadBefore} before, ${loadAfter} after; took ${took} s.`, ''];
if (r.full_baseline_ingest) {
  out.push(`Ingest, 1 stream, 1 KB JSON records, ${secs} s per run, a fresh nobusd each. "During" = OPTIMIZE commits made while the stream was open (Delta log commit times); "after settle" adds those of the next seconds, until every buffered row was committed; optimize calls: answered while the stream was open / made, longest wait:`, '',
    '| load | nobusd | records/s | MB/s | ack p50 / p99 / p99.9 (ms) | nobusd CPU (cores) | nobusd VmHWM (MB) | OPTIMIZE commits during / after settle | MB rewritten (after settle) | optimize calls | live files | exactly once |',
    '|---|---|---:|---:|---|---:|---:|---:|---:|---|---:|---|');
  for (const [load, label] of [['full', 'full speed'], ['rate', '50,000 records/s']]) {
    for (const mode of ['baseline', 'compaction']) {
      const n = `${load}_${mode}`, x = r[`${n}_ingest`], s = r[`${n}_settled`], c = r[`${n}_check`];
      const end = r[`${n}_start`] + x.duration_s, cl = calls[n] ?? [];  // ingest ended (s since the epoch)
      const during = c.optimize_ms.filter((ms) => ms / 1000 <= end).length;
      const callText = mode === 'baseline' ? '–' : `${cl.filter((k) => k.at + k.wait_s <= end).length} / ${cl.length}` +
        `, ≤ ${f(Math.max(0, ...cl.map((k) => k.wait_s)), 1)} s${cl.some((k) => k.answer.failed) ? ' (failures!)' : ''}`;
      out.push(`| ${label} | ${mode === 'baseline' ? '--no-maintenance' : '--maintenance-interval-ms 200 + optimize every 2 s'} | ` +
        `${f(x.records_per_s)} | ${f(x.mb_per_s, 1)} | ${f(x.ack_p50_ms, 1)} / ${f(x.ack_p99_ms, 1)} / ${f(x.ack_p999_ms, 1)} | ` +
        `${f(x.server_cpu_cores, 2)} | ${f(x.server_vm_hwm_mb)} | ${f(during)} / ${f(s.compactions.commits)} | ${mb(s.compactions.bytes)} | ${callText} | ${f(c.file_count)} | ${ok(c)} |`);
    }
  }
  const a0 = r.full_baseline_check, a1 = r.full_baseline_after, o = r.full_baseline_optimize;
  out.push('', "Query on the full-speed baseline's table (DuckDB `read_parquet` of the live files: `count(*), sum(length(payload)), max(seq)`, best of 3, warm page cache):", '',
    '| table | live files | MB | scan best of 3 (ms) | scans (ms) | exactly once |', '|---|---:|---:|---:|---|---|',
    `| as ingested (1 file per commit) | ${f(a0.file_count)} | ${mb(a0.file_bytes)} | ${f(a0.scan_ms_best)} | ${a0.scan_ms.join(', ')} | ${ok(a0)} |`,
    `| after one optimize (${f(r.full_baseline_optimize_s, 1)} s: ${f(o.files_removed)} files → ${f(o.files_added)}, ${mb(o.bytes_rewritten)} MB rewritten) | ` +
    `${f(a1.file_count)} | ${mb(a1.file_bytes)} | ${f(a1.scan_ms_best)} | ${a1.scan_ms.join(', ')} | ${ok(a1)} |`, '');
}
if (r.soak_ingest) {
  const s = r.soak_ingest, i = r.soak_ingested, l = r.soak_check;
  out.push(`Soak: default maintenance (every 10 s) and table properties, 1 stream at 200 records/s for ${soak} s:`, '',
    '| records acked | commits (STREAMING UPDATE) | OPTIMIZE commits | MB rewritten | live files when ingest ended | 12 s later | exactly once |',
    '|---:|---:|---:|---:|---:|---:|---|',
    `| ${f(s.records)} | ${f(l.streaming)} | ${f(l.optimize_auto + l.optimize_manual)} | ${mb(l.optimize_removed_bytes)} | ` +
    `${f(r.soak_end.file_count)} | ${f(l.file_count)} | ${ok(r.soak_end)}; 12 s later ${ok(l)} |`, '',
    `Live files from the Delta log; nobus_table_live_files said ${f(r.soak_idle.live_files)} 12 s later. Ack p50 / p99 ${f(s.ack_p50_ms, 1)} / ${f(s.ack_p99_ms, 1)} ms, time to table p50 / p99 ${f(s.ttt_p50_ms)} / ${f(s.ttt_p99_ms)} ms.`, '',
    `Scan (same query, best of 3): every file the commits wrote (the table without compaction), ${f(i.file_count)} files ` +
    `(${mb(i.file_bytes)} MB): ${f(i.scan_ms_best)} ms (${ok(i)}); the ${f(l.file_count)} live files (${mb(l.file_bytes)} MB): ${f(l.scan_ms_best)} ms.`, '');
}
process.stdout.write(out.join('\n'));
const bad = Object.entries(r).filter(([, x]) => x.exactly_once === false).map(([k]) => k);
if (bad.length) { console.error(`exactly-once check FAILED: ${bad.join(', ')}`); process.exit(1); }
JS
