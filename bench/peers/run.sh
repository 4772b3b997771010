#!/usr/bin/env bash
# The customer story measured side by side (issue #17): N producers (1, 16, 256), each sending the
# same ~1,000-byte JSON events (columns `id BIGINT NOT NULL, producer INT, ts TIMESTAMP, payload
# STRING`; every id unique) in the append-only pattern, synchronously (send a request, wait until
# the system acks it, repeat), one record per request and batches of 100 records per request, for
# a fixed time per cell, against each of these, one after the other, on this machine, with their
# data on the same disk (build/peers-data, not tmpfs):
#   - nobus-grpc: nobusd through the official Python Zerobus SDK (databricks-zerobus-ingest-sdk,
#     one stream per producer: ingest_record_offset / ingest_records_offset, wait_for_offset);
#   - nobus-rest: nobusd's REST insert (POST /zerobus/v1/tables/<table>/insert, a JSON array, one
#     keep-alive connection per producer; a minimal HTTP/1.1 client: Python's http.client costs
#     more CPU per request than nobusd and capped the cells).
#     Both: a fresh nobusd per system (copied from BUILD_DIR/bin first), plaintext on loopback,
#     a static bearer token (the config file's "tokens", the simple mode), default flush interval
#     (1 s), --no-maintenance (no background compaction: the files are the writer's own); a table
#     per cell (`nobus table create`). Acks after the WAL's fdatasync.
#   - delta-rs: write_deltalake(path, table, mode="append") per request into one shared local
#     Delta table per cell (deltalake from PyPI): the "direct writes" pattern, optimistic commits
#     retried on conflicts (delta-rs' default retries); conflicts that exhaust them are counted as
#     errors. No fsync: delta-rs' local store writes and renames without syncing (page cache).
#   - postgres: Debian's PostgreSQL, a private cluster (initdb into the data dir, run as the
#     postgres user when we are root), fsync=on, synchronous_commit=on (COMMIT returns after the
#     WAL's flush), max_connections 300 (PEERS_PG_MAX_CONNECTIONS); one connection per producer, autocommit, a single-row
#     INSERT per record, one multi-row INSERT per batch (psycopg).
#   - kafka, kafka-fsync: an Apache Kafka broker (single-node KRaft, bench/kafka_broker_lib.sh,
#     jars pinned in bench/kafka/pom.xml), a topic per cell (1 partition, replication 1),
#     producers with acks=all (confluent-kafka; produce the request's records, then flush: every
#     delivery report in); kafka with Kafka's defaults: acked once in the page cache, no fsync;
#     kafka-fsync with log.flush.interval.messages=1: an fsync of the log after every append, the
#     guarantee nobusd gives. A bus only: nothing lands in a lake.
# Producers: bench/peers/producers.py, threads over a few worker processes (PEERS_PROCS), on the
# same 2 cores as the servers; each fresh server first gets a few seconds of untimed load
# (PEERS_WARMUP). Per cell: records/s, MB/s, write latency p50/p99, CPU seconds and peak memory
# (PSS summed over its processes) of the server side (nobusd; postgres and its backends; the
# Kafka JVM; for delta-rs, which has no server, the producers' own CPU), errors; what landed: rows
# in the Delta table (delta-rs' reader) vs records acked, the time to table of every acked request
# (the mtime of the Delta commit holding it minus its ack), Delta commits and data files per
# minute, nobusd's own ack latency and WAL syncs; PostgreSQL's rows and Kafka's high watermark vs
# acked. Where a system cannot keep up (connections refused, commit conflicts, errors) the cell
# says what happened instead of a number. Then the raw write + fdatasync of the same disk as a
# baseline.
# Prints a markdown table with ratios to nobus-grpc per producer count and mode and keeps it
# (results.md), the JSON lines (results.jsonl), the charts (peers.png: one record per request,
# peers-batch.png: batches; throughput and p99 latency by producer count) and the servers' and
# producers' logs under build/peers-results/<UTC timestamp>/.
#
# Installs what it needs: the Python packages (pinned in bench/peers/requirements.txt) into a
# venv under ${NOBUS_SDK_CACHE:-~/.cache/nobus}/peers/venv (pip's cache: ~/.cache/pip), Kafka's
# jars with Maven into ${NOBUS_SDK_CACHE:-~/.cache/nobus}/kafka-broker (shared with
# bench/kafka_bench.sh); PostgreSQL, Java and Maven with apt-get when missing and we are root
# (otherwise it says what to install). Builds nothing: build nobusd and nobus first.
#
# Usage: bench/peers/run.sh [BUILD_DIR]   (default build)
# Env:   PEERS_SECONDS    seconds per cell (default 10)
#        PEERS_PRODUCERS  producer counts (default "1 16 256")
#        PEERS_SYSTEMS    systems, in this order by default:
#                         "nobus-grpc nobus-rest delta-rs postgres kafka kafka-fsync"
#        PEERS_MODES      "single batch" (default both)
#        PEERS_BATCH      records per request in batch mode (default 100)
#        PEERS_PROCS      producer worker processes per cell (default 4; threads spread over them)
#        PEERS_WARMUP     seconds of untimed load (16 producers, one record per request) on each
#                         fresh server before its cells (default 5; 0: none)
#        PEERS_WARMUP_KAFKA  the same for each Kafka broker, whose JVM compiles its hot code in the
#                         first tens of seconds under load (default 15)
#        PEERS_PG_MAX_CONNECTIONS  PostgreSQL's max_connections (default 300)
#        PEERS_DATA       data directory of every system (default build/peers-data; not tmpfs;
#                         removed and made again at the start)
#        NOBUS_SDK_CACHE  cache root (default ~/.cache/nobus)
# A quick run: PEERS_SECONDS=3 PEERS_PRODUCERS="1 16" bench/peers/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
case "${1:-}" in
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  -*) echo "peers: unknown option $1 (try --help)" >&2; exit 2 ;;
esac
build="${1:-build}"
[[ "$build" == /* ]] || build="$repo/$build"
secs="${PEERS_SECONDS:-10}"
producer_counts="${PEERS_PRODUCERS:-1 16 256}"
systems="${PEERS_SYSTEMS:-nobus-grpc nobus-rest delta-rs postgres kafka kafka-fsync}"
modes="${PEERS_MODES:-single batch}"
batch="${PEERS_BATCH:-100}"
procs="${PEERS_PROCS:-4}"
warmup_s="${PEERS_WARMUP:-5}"
warmup_kafka_s="${PEERS_WARMUP_KAFKA:-15}"
pg_max_conns="${PEERS_PG_MAX_CONNECTIONS:-300}"
data="${PEERS_DATA:-$repo/build/peers-data}"
sdk_cache="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}"
cache="$sdk_cache/peers"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results_dir="$repo/build/peers-results/$stamp"
results="$results_dir/results.jsonl"
logs="$results_dir/logs"
started=$EPOCHREALTIME

for s in $systems; do
  case "$s" in
    nobus-grpc | nobus-rest | delta-rs | postgres | kafka | kafka-fsync) ;;
    *) echo "peers: unknown system $s in PEERS_SYSTEMS" >&2; exit 2 ;;
  esac
done
for m in $modes; do
  [[ "$m" == single || "$m" == batch ]] || { echo "peers: unknown mode $m in PEERS_MODES" >&2; exit 2; }
done
wants() { [[ " $systems " == *" $1 "* ]]; }

source bench/nobusd_lib.sh      # start_server, stop_server, fresh_bin_copy, need_tools
source bench/kafka_broker_lib.sh  # kafka_jars, start_kafka_broker, stop_kafka, free_ports
[[ -x "$build/bin/nobusd" && -x "$build/bin/nobus" ]] ||
  { echo "peers: no $build/bin/nobusd or nobus: build them first (scripts/build.sh)" >&2; exit 2; }

# -- tools: what is missing is installed with apt-get when we are root, else named -------------
apt_updated=0
apt_install() {  # PACKAGE...
  if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "peers: needs $* (on Debian: sudo apt-get install $*)" >&2
    exit 2
  fi
  echo "== installing $* (apt-get)" >&2
  if [[ $apt_updated == 0 ]]; then apt-get update -q >&2 || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
    { echo "peers: apt-get install $* failed" >&2; exit 2; }
}
need_tools peers python3 curl flock
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
if wants kafka || wants kafka-fsync; then
  command -v java >/dev/null || apt_install default-jre-headless
  command -v mvn >/dev/null || apt_install maven
  java_major="$(java -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')"
  (( ${java_major:-0} >= 17 )) ||
    { echo "peers: Kafka needs Java 17 or newer (found ${java_major:-none})" >&2; exit 2; }
fi
pg_bindir=""
find_pg() {
  pg_bindir="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)"
  if [[ -z "$pg_bindir" ]] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    pg_bindir="$(dirname "$(readlink -f "$(command -v initdb)")")"
  fi
}
if wants postgres; then
  find_pg
  [[ -n "$pg_bindir" ]] || { apt_install postgresql; find_pg; }
  [[ -x "$pg_bindir/initdb" && -x "$pg_bindir/pg_ctl" ]] ||
    { echo "peers: no initdb and pg_ctl found (install Debian's postgresql)" >&2; exit 2; }
  if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    echo "peers: running as root, PostgreSQL needs a non-root user: no user 'postgres'" >&2
    exit 2
  fi
fi

# -- data directory: fresh, not tmpfs, a copy of the binaries -----------------------------------
fresh_bin_copy peers --no-maintenance  # sets $nobus, $build_note; $build is now the copy
mkdir -p "$logs"

# -- the Python packages, in a venv outside the repository --------------------------------------
venv="$cache/venv"
mkdir -p "$cache"
exec 8>"$cache/venv.lock"
flock 8
if [[ ! -x "$venv/bin/python" ]] || ! cmp -s bench/peers/requirements.txt "$venv/requirements.txt"; then
  echo "== creating $venv (pip, bench/peers/requirements.txt)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  test/pip_install.sh "$venv/bin/python" bench/peers/requirements.txt
  cp bench/peers/requirements.txt "$venv/requirements.txt"  # last: a failed install is redone
fi
exec 8>&-
py="$venv/bin/python"

# -- servers: started per system, every one stopped on exit ------------------------------------
cell_pid="" pg_pid="" pgdata=""
as_pg() {  # COMMAND...: as the postgres user when we are root
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop_pg() {
  [[ -n "$pg_pid" ]] || return 0
  as_pg "$pg_bindir/pg_ctl" -D "$pgdata" -m fast -w -t 60 stop >/dev/null 2>&1 ||
    kill -KILL "$pg_pid" 2>/dev/null || true
  cp "$pgdata/server.log" "$logs/postgres.log" 2>/dev/null || true
  pg_pid=""
}
stop_nobusd() {
  [[ -n "$pid" ]] || return 0
  cp "$data/nobusd.log" "$logs/nobusd-$1.log" 2>/dev/null || true
  stop_server
}
cleanup() {
  if [[ -n "$cell_pid" ]]; then
    kill -TERM "$cell_pid" 2>/dev/null || true
    wait "$cell_pid" 2>/dev/null || true
    cell_pid=""
  fi
  stop_nobusd last
  stop_kafka
  stop_pg
}
trap cleanup EXIT
trap 'echo "peers: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

token="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
admin_token="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
cat >"$data/nobusd-config.json" <<EOF
{"tokens": [{"token": "$token", "tables": ["main.peers.*"]}, {"token": "$admin_token", "admin": true}]}
EOF

start_nobus() {
  start_server --config "$data/nobusd-config.json" --kafka-listen "" --mqtt-listen "" \
    --no-maintenance
}

start_pg() {
  pgdata="$data/pg"
  mkdir -p "$pgdata"
  [[ $EUID -ne 0 ]] || chown postgres: "$pgdata"
  chmod 700 "$pgdata"
  as_pg "$pg_bindir/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale \
    >"$logs/pg-initdb.log" 2>&1 || { cat "$logs/pg-initdb.log" >&2; exit 1; }
  pg_port="$(free_ports 1)"
  cat >>"$pgdata/postgresql.conf" <<EOF
# bench/peers/run.sh
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pgdata'
max_connections = $pg_max_conns
fsync = on
synchronous_commit = on
EOF
  as_pg "$pg_bindir/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -t 120 start >/dev/null ||
    { cat "$pgdata/server.log" >&2; exit 1; }
  pg_pid="$(head -1 "$pgdata/postmaster.pid")"
  pg_dsn="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"
  pg_version="$("$pg_bindir/postgres" --version | sed -n 's/^postgres (PostgreSQL) \([^ ]*\).*/\1/p')"
  echo "== PostgreSQL $pg_version pid $pg_pid" \
    "port $pg_port data $pgdata max_connections $pg_max_conns" >&2
}

# run_cell SYSTEM N MODE [producers.py target options...]: one cell; its JSON line goes to
# $results (or a cell_failed line when the harness itself failed). With cell_secs and cell_out
# set: a warm-up (its line goes to cell_out).
run_cell() {
  local system="$1" n="$2" mode="$3" rc=0 s="${cell_secs:-$secs}" out="${cell_out:-$results}"
  shift 3
  echo "== $system, $n producers, $mode, ${s}s${cell_out:+ (warm-up)}" >&2
  "$py" bench/peers/producers.py cell --system "$system" --n "$n" --mode "$mode" \
    --batch "$batch" --seconds "$s" --procs "$procs" --out "$out" "$@" \
    >>"$logs/producers.log" 2>&1 &  # the SDK's Rust core logs to stdout
  cell_pid=$!
  wait "$cell_pid" || rc=$?
  cell_pid=""
  if [[ $rc -ne 0 ]]; then
    echo "warning: the $system cell ($n, $mode) failed (exit $rc): logs/producers.log" >&2
    tail -5 "$logs/producers.log" >&2
    printf '{"what":"cell_failed","system":"%s","n":%s,"mode":"%s","exit":%s}\n' \
      "$system" "$n" "$mode" "$rc" >>"$out"
  else
    tail -1 "$logs/producers.log" >&2
  fi
}

# warm_up SYSTEM [producers.py target options...]: untimed load on a fresh server.
warm_up() {
  local s="$warmup_s"
  [[ "$1" != kafka* ]] || s="$warmup_kafka_s"
  [[ "$s" != 0 ]] || return 0
  cell_secs="$s" cell_out="$logs/warmup.jsonl" run_cell "$1" 16 single "${@:2}"
}

columns="id BIGINT NOT NULL, producer INT, ts TIMESTAMP, payload STRING"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
kafka_version="" pg_version=""
for system in $systems; do
  case "$system" in
    nobus-grpc | nobus-rest)
      start_nobus
      if [[ "$warmup_s" != 0 ]]; then
        name="${system//-/_}_warmup"
        "$nobus" table create "main.peers.$name" --columns "$columns" --server "http://$http" \
          --token "$admin_token" >/dev/null
        warm_up "$system" --server-pid "$pid" --grpc "$grpc" --http "$http" --token "$token" \
          --table "main.peers.$name" --table-path "$data/nobusd/tables/main/peers/$name"
      fi
      for mode in $modes; do
        for n in $producer_counts; do
          name="${system//-/_}_n${n}_${mode}"
          "$nobus" table create "main.peers.$name" --columns "$columns" --server "http://$http" \
            --token "$admin_token" >/dev/null
          run_cell "$system" "$n" "$mode" --server-pid "$pid" --grpc "$grpc" --http "$http" \
            --token "$token" --table "main.peers.$name" \
            --table-path "$data/nobusd/tables/main/peers/$name"
        done
      done
      stop_nobusd "$system"
      ;;
    delta-rs)
      mkdir -p "$data/delta"
      for mode in $modes; do
        for n in $producer_counts; do
          run_cell delta-rs "$n" "$mode" --table-path "$data/delta/n${n}_${mode}"
        done
      done
      ;;
    postgres)
      start_pg
      warm_up postgres --server-pid "$pg_pid" --dsn "$pg_dsn" --table events_warmup
      for mode in $modes; do
        for n in $producer_counts; do
          run_cell postgres "$n" "$mode" --server-pid "$pg_pid" --dsn "$pg_dsn" \
            --table "events_n${n}_${mode}"
        done
      done
      stop_pg
      ;;
    kafka | kafka-fsync)
      [[ -n "$kafka_version" ]] || kafka_jars "$sdk_cache/kafka-broker"
      if [[ "$system" == kafka ]]; then
        start_kafka_broker "$system"
      else
        start_kafka_broker "$system" log.flush.interval.messages=1
      fi
      warm_up "$system" --server-pid "$kpid" --bootstrap "$kafka_bootstrap" \
        --topic "${system}-warmup"
      for mode in $modes; do
        for n in $producer_counts; do
          run_cell "$system" "$n" "$mode" --server-pid "$kpid" --bootstrap "$kafka_bootstrap" \
            --topic "${system}-n${n}-${mode}"
        done
      done
      du -sb "$data/kafka/logs" | awk '{print "== Kafka log.dirs: " $1 " bytes"}' >&2
      stop_kafka
      rm -rf "$data/kafka/logs"  # GBs of records nothing reads
      ;;
  esac
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "== raw write + fdatasync on $data (same disk)" >&2
disk="$("$nobus" bench --disk-baseline "$data/disk" --duration-s 2 --disk-chunk-bytes 4096)" ||
  disk=null
rm -rf "$data/disk"
echo "{\"what\":\"disk\",\"result\":$disk}" >>"$results"

wall_s="$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}')"
PEERS_META_STAMP="$stamp" PEERS_META_LOAD_BEFORE="$load_before" PEERS_META_LOAD_AFTER="$load_after" \
  PEERS_META_SECONDS="$secs" PEERS_META_WALL="$wall_s" PEERS_META_BUILD="$build_note" \
  PEERS_META_DISK="$(df --output=source,fstype "$data" | tail -1 | tr -s ' ')" \
  PEERS_META_PG="$pg_version" PEERS_META_KAFKA="$kafka_version" PEERS_META_PROCS="$procs" \
  PEERS_META_PG_MAX="$pg_max_conns" \
  "$py" - >>"$results" <<'PY'
import json, os
from importlib.metadata import version
e = os.environ
try:
    import confluent_kafka
    rdkafka = confluent_kafka.libversion()[0]
except ImportError:
    rdkafka = "?"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
versions = (f"nobusd {e['PEERS_META_BUILD']}; databricks-zerobus-ingest-sdk "
            f"{version('databricks-zerobus-ingest-sdk')}; deltalake {version('deltalake')}; "
            f"PostgreSQL {e['PEERS_META_PG'] or '(not run)'}, psycopg {version('psycopg')}; "
            f"Kafka {e['PEERS_META_KAFKA'] or '(not run)'}, confluent-kafka "
            f"{version('confluent-kafka')} (librdkafka {rdkafka}); producers: threads over "
            f"{e['PEERS_META_PROCS']} worker processes")
guarantees = (
    "What an ack means: nobus (gRPC and REST): the request is in nobusd's WAL and fdatasync "
    "returned; the rows reach the Delta table at the next commit (flush interval 1 s). "
    "delta-rs: the Parquet file and the commit file are written and renamed into place in the "
    "page cache, nothing fsynced (delta-rs' local store does not sync); visible at once. "
    "PostgreSQL: COMMIT returned after its WAL flush (fsync=on, synchronous_commit=on), "
    f"max_connections {e['PEERS_META_PG_MAX']}. Kafka (no fsync): acks=all, Kafka's default "
    "flushing: the batch is in the page cache of the (single) broker. Kafka (fsync per append): "
    "log.flush.interval.messages=1, the broker fsyncs the partition log after each append "
    "before acking. PostgreSQL and Kafka are not a lake: nothing is queryable as Delta.")
print(json.dumps({"what": "meta", "stamp": e["PEERS_META_STAMP"], "cores": os.cpu_count(),
                  "cpu": cpu, "mem_gb": mem, "load_before": e["PEERS_META_LOAD_BEFORE"],
                  "load_after": e["PEERS_META_LOAD_AFTER"], "seconds": float(e["PEERS_META_SECONDS"]),
                  "wall_s": int(e["PEERS_META_WALL"]), "disk": e["PEERS_META_DISK"],
                  "versions": versions, "guarantees": guarantees}))
PY

"$py" bench/peers/producers.py report --results "$results_dir"
echo "results: $results_dir (results.md, results.jsonl, the charts peers*.png, logs/)" >&2
