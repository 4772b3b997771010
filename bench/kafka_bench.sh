#!/usr/bin/env bash
# nobusd's Kafka endpoint vs an Apache Kafka broker, same run, same producer, same disk: Kafka's
# own producer benchmark (org.apache.kafka.tools.ProducerPerformance from kafka-tools, what
# kafka-producer-perf-test.sh runs; kafka-clients defaults: idempotent, linger.ms 5, batch.size 16
# KiB, no compression; plus acks=all) sends the same 1,000-byte JSON records (--payload-file: 1,000
# rows of the table main.kafka_bench.records, `id BIGINT NOT NULL, tag STRING, payload STRING`, one
# picked at random per record; the Kafka topic has the same name) to three servers, each fresh and
# with its data on the same disk:
#   - nobusd --kafka-listen (default options, 1 s flush): acks after the WAL's fdatasync;
#   - Apache Kafka (org.apache.kafka:kafka_2.13, single-node KRaft broker+controller, topic with 1
#     partition, replication 1, min.insync.replicas=1) with Kafka's defaults: it acks once the batch
#     is in the page cache, no fsync;
#   - the same broker with log.flush.interval.messages=1: an fsync of the partition log after every
#     append, i.e. acked only once on disk, the guarantee nobusd gives.
# Each once at full speed (--throughput -1) and once at a fixed rate (ack latency at moderate load);
# the table shows ProducerPerformance's steady-state figures (--warmup-records: the first 10% left
# out).
# After each nobusd run it waits until every row is committed to the Delta table and counts the
# table with DuckDB (bench/http_count.mjs): rows = records acked. Then the raw write + fdatasync of
# the same disk (`nobus bench --disk-baseline`) as the baseline. Prints a markdown table and keeps
# it, with the JSON lines and the producers' and servers' logs, under build/kafka-bench-results/.
# The figures and their reading: doc/performance.md, "Kafka endpoint vs an Apache Kafka broker".
#
# Kafka's jars (broker, kafka-tools and their runtime dependencies, pinned in bench/kafka/pom.xml)
# are copied from Maven Central by `mvn dependency:copy-dependencies` into
# ${NOBUS_SDK_CACHE:-~/.cache/nobus}/kafka-broker/lib (again only when the pom changes); needs
# Java 17+ and Maven. The jars, the broker's start and stop: bench/kafka_broker_lib.sh. nobusd and nobus are copied from BUILD_DIR/bin into the data directory first,
# so a rebuild during the run cannot swap them.
#
# Usage: bench/kafka_bench.sh [BUILD_DIR]   (default build; build nobusd and nobus first)
# Env:   NOBUS_KAFKA_RECORDS       records per full-speed run (default 1000000)
#        NOBUS_KAFKA_RATE          records/s of the fixed-rate runs (default 20000)
#        NOBUS_KAFKA_RATE_RECORDS  records per fixed-rate run (default 10 s worth of the rate)
#        NOBUS_KAFKA_PRODUCER_PROPS  extra producer properties for every run, e.g. "linger.ms=0"
#        NOBUS_KAFKA_DATA          data directory of all servers (default build/kafka-bench-data;
#                                  must not be tmpfs)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
records="${NOBUS_KAFKA_RECORDS:-1000000}"
rate="${NOBUS_KAFKA_RATE:-20000}"
rate_records="${NOBUS_KAFKA_RATE_RECORDS:-$((rate * 10))}"
read -r -a extra_props <<<"${NOBUS_KAFKA_PRODUCER_PROPS:-}"
data="${NOBUS_KAFKA_DATA:-$PWD/build/kafka-bench-data}"
cache="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/kafka-broker"
results_dir="$PWD/build/kafka-bench-results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
logs="$results_dir/$stamp"
topic="main.kafka_bench.records"  # the nobus table and the Kafka topic
source bench/nobusd_lib.sh
need_tools kafka_bench java mvn node curl python3
[[ -x "$build/bin/nobusd" && -x "$build/bin/nobus" ]] ||
  { echo "kafka_bench: no $build/bin/nobusd or nobus: build them first" >&2; exit 2; }

# -- data directory: fresh, on the repository's disk, not tmpfs; a copy of the binaries ---------
fresh_bin_copy kafka_bench --kafka-listen  # sets $nobus, $build_note; $build is now the copy
mkdir -p "$logs"

# -- Kafka's jars, from Maven Central, outside the repository -----------------------------------
source bench/kafka_broker_lib.sh  # kafka_jars, tool, free_ports, start_kafka_broker, stop_kafka
kafka_jars "$cache"  # sets $kafka_version, $classpath

# -- the records: one ~1 KB JSON row per line, 1,000 different ones ----------------------------
payload="$data/payload.jsonl"
node -e '
  let s = 12345;
  const rnd = () => (s = (s * 48271) % 2147483647);  // MINSTD: exact in doubles
  const abc = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const out = [];
  for (let i = 0; i < 1000; i++) {
    const head = JSON.stringify({ id: i, tag: "kafka-bench", payload: "" });
    let p = "";
    while (p.length < 1000 - head.length) p += abc[rnd() % abc.length];
    out.push(JSON.stringify({ id: i, tag: "kafka-bench", payload: p }));
  }
  process.stdout.write(out.join("\n") + "\n");' >"$payload"
record_bytes="$(head -1 "$payload" | tr -d '\n' | wc -c)"
columns="id BIGINT NOT NULL, tag STRING, payload STRING"

proc_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
ticks_per_s="$(getconf CLK_TCK)"

# -- Apache Kafka: a fresh single-node KRaft broker+controller (bench/kafka_broker_lib.sh) -------
start_kafka() {  # NAME [extra server.properties lines...]
  start_kafka_broker "$@"
  kafka_create_topic "$topic"
}

# -- nobusd: a fresh server with its Kafka endpoint and the table ------------------------------
start_nobusd() {
  start_server --kafka-listen 127.0.0.1:0
  nobus_bootstrap="$(sed -n 's/^nobusd listening.* kafka=\([^ ]*\).*/\1/p' "$data/nobusd.out")"
  [[ -n "$nobus_bootstrap" ]] || { echo "nobusd printed no kafka= address" >&2; exit 1; }
  "$nobus" table create "$topic" --columns "$columns" --server "http://$http" >/dev/null
}
trap 'stop_server; stop_kafka' EXIT

# -- one producer run ----------------------------------------------------------------------------
# produce NAME BOOTSTRAP SERVER_PID RECORDS THROUGHPUT: ProducerPerformance; prints a JSON object
# (without the closing brace) with its summary, its errors and the server's CPU over the run.
produce() {
  local name="$1" bootstrap="$2" spid="$3" n="$4" tput="$5" t0 t1 w0 w1 out all steady
  out="$logs/producer-$name"
  t0="$(proc_ticks "$spid")"
  w0=$EPOCHREALTIME
  /usr/bin/time -f '%U %S' -o "$out.time" \
    java -Xmx512M "${jvm_opts[@]}" -Dlog4j2.configurationFile="$data/log4j2-tools.properties" \
    -cp "$classpath" org.apache.kafka.tools.ProducerPerformance --topic "$topic" \
    --num-records "$n" --warmup-records "$((n / 10))" --throughput "$tput" \
    --payload-file "$payload" \
    --command-property "bootstrap.servers=$bootstrap" acks=all "${extra_props[@]}" \
    >"$out.out" 2>"$out.err" || echo "warning: the producer exited with $?" >&2
  w1=$EPOCHREALTIME
  t1="$(proc_ticks "$spid")"
  all="$(grep -E '^[0-9]+ records sent, .* 99\.9th\.$' "$out.out" | tail -1 || true)"
  steady="$(grep -E '^[0-9]+ steady state records sent, .* 99\.9th\.$' "$out.out" | tail -1 || true)"
  echo "$all" >&2
  echo "$steady" >&2
  [[ -n "$all" && -n "$steady" ]] ||
    { echo "no summary from the producer:" >&2; tail -20 "$out.out" "$out.err" >&2; }
  printf '{"config":"%s","records":%s,"throughput":%s,"record_bytes":%s,"warmup_records":%s,' \
    "$name" "$n" "$tput" "$record_bytes" "$((n / 10))"
  printf '"summary":"%s","steady":"%s",' "$all" "$steady"
  printf '"errors":%s,"wall_s":%s,"server_cpu_s":%s,"producer_cpu_s":%s' \
    "$(grep -c 'Exception' "$out.err" || true)" \
    "$(awk -v a="$w0" -v b="$w1" 'BEGIN {print b - a}')" \
    "$(awk -v a="$t0" -v b="$t1" -v h="$ticks_per_s" 'BEGIN {print (b - a) / h}')" \
    "$(tail -1 "$out.time" | awk 'NF == 2 {print $1 + $2; ok = 1} END {if (!ok) print "null"}')"
}

# run_nobusd and run_kafka run in this shell (a failure exits, and the EXIT trap stops the
# servers) and append their JSON line to $lines.
run_nobusd() {  # NAME RECORDS THROUGHPUT
  local line w0 committed_s count metric
  start_nobusd
  line="$(produce "$1" "$nobus_bootstrap" "$pid" "$2" "$3")"
  w0=$EPOCHREALTIME
  settle
  committed_s="$(awk -v a="$w0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')"
  metric="$(fetch /metrics | awk -v m="nobus_ingest_records_total{table=\"$topic\"}" \
    '$1 == m {print $2}')"
  count="$(node bench/http_count.mjs "$data/nobusd/tables/${topic//.//}")" || count=null
  cp "$data/nobusd.log" "$logs/nobusd-$1.log"
  stop_server
  lines+=("$line,\"server\":\"nobusd\",\"commit_wait_s\":$committed_s,\"server_rows\":${metric:-null},\"table\":$count}")
}

run_kafka() {  # NAME RECORDS THROUGHPUT [server.properties lines...]
  local name="$1" n="$2" tput="$3" line
  shift 3
  start_kafka "$name" "$@"
  line="$(produce "$name" "$kafka_bootstrap" "$kpid" "$n" "$tput")"
  du -sb "$data/kafka/logs" | awk '{print "== Kafka log.dirs: " $1 " bytes"}' >&2
  stop_kafka
  lines+=("$line,\"server\":\"kafka\",\"broker_config\":\"$*\"}")
}

# -- the runs --------------------------------------------------------------------------------------
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started=$EPOCHREALTIME
lines=()
for load in full rate; do
  if [[ "$load" == full ]]; then n="$records" tput=-1; else n="$rate_records" tput="$rate"; fi
  echo "== nobusd Kafka endpoint, $n records at $([[ $tput == -1 ]] && echo "full speed" || echo "$tput records/s")" >&2
  run_nobusd "nobusd-$load" "$n" "$tput"
  echo "== Kafka broker, defaults (no fsync), $n records" >&2
  run_kafka "kafka-$load" "$n" "$tput"
  echo "== Kafka broker, log.flush.interval.messages=1, $n records" >&2
  run_kafka "kafka-flush-$load" "$n" "$tput" log.flush.interval.messages=1
done
echo "== raw write + fdatasync on $data (same disk)" >&2
disk="$("$nobus" bench --disk-baseline "$data/disk" --duration-s 3 --disk-chunk-bytes 4096 65536 1048576)"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
total_s="$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}')"
printf '%s\n' "${lines[@]}" "$disk" >"$results_dir/$stamp.jsonl"

node - "$stamp" "$(nproc)" "$load_before" "$load_after" "$total_s" "$kafka_version" \
  "$build_note" "$(df --output=source,fstype "$data" | tail -1 | tr -s ' ')" \
  "${NOBUS_KAFKA_PRODUCER_PROPS:-}" "$disk" "${lines[@]}" <<'JS' | tee "$results_dir/$stamp.md"
const [stamp, nproc, loadBefore, loadAfter, totalS, kafkaVersion, buildNote, disk0, props,
  diskJson, ...rest] = process.argv.slice(2);
const disk = JSON.parse(diskJson);
const f = (x, d = 0) => x == null || Number.isNaN(x) ? '–' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const re = /^(\d+)( steady state)? records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th\.$/;
const parse = (line) => {
  const m = re.exec(line ?? '');
  if (!m) return {};
  const [count, , rps, mibps, avg, max, p50, p95, p99, p999] = m.slice(1);
  return Object.fromEntries(Object.entries({ count, rps, mibps, avg, max, p50, p95, p99, p999 })
    .map(([k, v]) => [k, Number(v)]));
};
const runs = rest.map((s) => {
  const r = JSON.parse(s);
  r.all = parse(r.summary);    // every record
  r.ss = parse(r.steady);      // after the warmup records
  r.busy_s = r.all.count / r.all.rps;  // the producer's own elapsed time, JVM start excluded
  return r;
});
const what = (r) => r.server === 'nobusd' ? 'nobusd Kafka endpoint (WAL fdatasync before the ack)'
  : r.broker_config.includes('log.flush.interval.messages=1')
    ? `Kafka ${kafkaVersion}, log.flush.interval.messages=1 (fsync before the ack)`
    : `Kafka ${kafkaVersion}, defaults (page cache, no fsync)`;
const load = (r) => r.throughput < 0 ? 'full speed' : `${f(r.throughput)} records/s`;
const stored = (r) => {
  if (r.server !== 'nobusd') return 'bytes in the partition log';
  const t = r.table;
  if (!t) return '**no count**';
  const ok = t.rows === r.all.count && t.rows === r.records && t.stats_rows === t.rows;
  return `${f(t.rows)} rows in the Delta table ${ok ? '(= records acked)' : `**≠ ${f(r.all.count)} acked**`}, ` +
    `all committed ${f(r.commit_wait_s, 1)} s after the last ack`;
};
const errors = (r) => r.all.count === r.records ? f(r.errors)
  : `${f(r.errors)}; **${f(r.records - (r.all.count ?? 0))} not acked**`;
const out = [`Run ${stamp}: ${nproc} cores, load average ${loadBefore} before, ${loadAfter} after; ` +
  `data on ${disk0}; nobusd ${buildNote}; ${totalS} s in all. Producer: kafka-tools ` +
  `${kafkaVersion} ProducerPerformance, acks=all${props ? ` ${props}` : ''}, kafka-clients ` +
  `defaults otherwise; ${runs[0].record_bytes}-byte JSON records; a fresh server per run.`, ''];
out.push('| load | server | records | records/s | MB/s | latency p50 / p99 / p99.9 / max (ms) | server CPU (cores) | producer CPU (cores) | errors | stored |');
out.push('|---|---|---:|---:|---:|---|---:|---:|---:|---|');
for (const r of runs)
  out.push(`| ${load(r)} | ${what(r)} | ${f(r.records)} | ${f(r.ss.rps)} | ` +
    `${f(r.ss.rps * r.record_bytes / 1e6, 1)} | ${f(r.ss.p50)} / ${f(r.ss.p99)} / ` +
    `${f(r.ss.p999)} / ${f(r.ss.max)} | ${f(r.server_cpu_s / r.busy_s, 2)} | ` +
    `${f(r.producer_cpu_s / r.wall_s, 2)} | ${errors(r)} | ${stored(r)} |`);
out.push('', 'records/s, MB/s (10^6 bytes of record values) and latency (ProducerPerformance: send() ' +
  'to its callback, whole ms) are its "steady state" figures: without the first 10% of the ' +
  'records (--warmup-records; JVM and connection warm-up). Server CPU: over the producer\'s ' +
  'whole send time; producer CPU: over its process lifetime (JVM start and JIT included). ' +
  'Whole runs, warm-up included: ' + runs.map((r) => `${r.config} ${f(r.all.rps)} records/s, ` +
  `p50 / p99 ${f(r.all.p50)} / ${f(r.all.p99)} ms`).join('; ') + '.');
out.push('', '| raw write + fdatasync, bytes per sync | MB/s | syncs/s | fdatasync p50 / p99 (ms) |', '|---:|---:|---:|---|');
for (const r of disk.results)
  out.push(`| ${f(r.chunk_bytes)} | ${f(r.mb_per_s, 1)} | ${f(r.syncs_per_s)} | ${f(r.sync_p50_ms, 2)} / ${f(r.sync_p99_ms, 2)} |`);
console.log(out.join('\n'));
JS
