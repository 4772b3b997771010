#!/usr/bin/env bash
# Disk-full drill, same run, two nobusd configurations on the same small disk (a tmpfs mount; needs
# root): the free-space guard with its defaults (pause below 256 MiB free or below the node's
# uncommitted rows plus a WAL segment, resume at 384 MiB), with a low 64 MiB watermark, and off
# (both watermarks 0: the baseline, nobusd before the guard, except that it now reopens its WAL by
# itself). Each run: a filler file leaves FREE_MIB free, `nobus bench` streams 1 KB JSON records
# at RATE records/s (its SDK retries RESOURCE_EXHAUSTED and UNAVAILABLE, resending unacked
# records), the node's own WAL and tables eat the rest; at FREE_AT seconds the filler is deleted.
# A sampler records free space and /readyz every 100 ms. Reported per run: the lowest free space,
# whether the WAL met ENOSPC (its log), seconds not ready, seconds from freeing space to ready,
# records acked, whether the client's SDK gave up (the nobus C++ SDK stops after
# recovery_retries = 4 failed reconnects, ~8 s), and the table's rows (the SDK's resends after a reconnect may add duplicates: it
# is at least once; every acked record must be there). Prints a markdown table, keeps the raw
# lines and logs under build/disk-full-results/. Reading: doc/performance.md, "Disk full".
#
# Usage: bench/disk_full_bench.sh [BUILD_DIR]
# Env:   NOBUS_DISK_MIB (default 1024), NOBUS_DISK_FREE_MIB (500), NOBUS_DISK_RATE (30000),
#        NOBUS_DISK_SECONDS (20), NOBUS_DISK_FREE_AT (8)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
disk_mib="${NOBUS_DISK_MIB:-1024}"
free_mib="${NOBUS_DISK_FREE_MIB:-500}"
rate="${NOBUS_DISK_RATE:-30000}"
secs="${NOBUS_DISK_SECONDS:-20}"
free_at="${NOBUS_DISK_FREE_AT:-8}"
[[ -x "$build/bin/nobusd" && -x "$build/bin/nobus" ]] || scripts/build.sh release nobusd nobus >&2
results_dir="$PWD/build/disk-full-results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mnt="$(mktemp -d /tmp/nobus-disk-full-XXXXXX)"
mkdir -p "$results_dir"
mount -t tmpfs -o "size=${disk_mib}m" tmpfs "$mnt" || {
  echo "mounting a tmpfs needs root (CAP_SYS_ADMIN)" >&2
  exit 1
}
data="$mnt"
source bench/nobusd_lib.sh
sampler=""
trap '[[ -z "$sampler" ]] || kill "$sampler" 2>/dev/null; stop_server; umount -l "$mnt"; rmdir "$mnt"' EXIT

free_bytes() { stat -f -c '%a %S' "$mnt" | awk '{print $1 * $2}'; }

run() {  # NAME PAUSE_MIB RESUME_MIB
  local name="$1" pause=$(( $2 << 20 )) resume=$(( $3 << 20 ))
  rm -rf "$mnt"/*
  cat >"$mnt/config.json" <<EOF
{"disk_pause_below_free_bytes": $pause, "disk_resume_above_free_bytes": $resume,
 "disk_pause_below_free_percent": 0, "disk_resume_above_free_percent": 0}
EOF
  start_server --config "$mnt/config.json" --no-maintenance
  fallocate -l $(( $(free_bytes) - (free_mib << 20) )) "$mnt/filler"
  local samples="$results_dir/$stamp-$name.samples"
  (
    while kill -0 $$ 2>/dev/null; do  # ends with the script
      code="$(curl -s -o /dev/null -w '%{http_code}' "http://$http/readyz" || true)"
      echo "$(date +%s.%N) $(free_bytes) ${code:-000}"
      sleep 0.1
    done
  ) >"$samples" &
  sampler=$!
  "$build/bin/nobus" bench --server "http://$grpc" --http "http://$http" --create-tables \
    --rate "$rate" --duration-s "$secs" --ttt-wait-s 5 >"$results_dir/$stamp-$name.json" &
  local bench=$!
  sleep "$free_at"
  rm -f "$mnt/filler"
  local freed_at ready_after=never
  freed_at="$(date +%s.%N)"
  for _ in $(seq 200); do  # up to 10 s
    if fetch /readyz >/dev/null; then
      ready_after="$(awk -v t="$freed_at" -v n="$(date +%s.%N)" 'BEGIN {printf "%.2f", n - t}')"
      break
    fi
    sleep 0.05
  done
  wait "$bench" || true  # its SDK gives up when the node refuses for too long (reported)
  settle
  kill "$sampler"
  sampler=""
  local rows
  rows="$(fetch "/admin/v1/tables/main.bench.load_0/history?limit=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["history"][0]["table_rows"])')"
  stop_server
  cp "$data/nobusd.log" "$results_dir/$stamp-$name.log"
  local acked enospc min_free not_ready
  acked="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' \
    "$results_dir/$stamp-$name.json")"
  enospc="$(grep -c 'No space left' "$data/nobusd.log" || true)"
  min_free="$(awk 'NR == 1 || $2 < m {m = $2} END {printf "%.1f", m / 1048576}' "$samples")"
  not_ready="$(awk '$3 != 200 {n++} END {printf "%.1f", n * 0.1}' "$samples")"
  local gave_up
  gave_up="$(python3 -c 'import json,sys; print("yes" if json.load(open(sys.argv[1])).get("errors") else "no")' \
    "$results_dir/$stamp-$name.json")"
  echo "| $name | ${min_free} MiB | $enospc | ${not_ready} s | ${ready_after} s | $acked | $gave_up | $rows |"
}

echo "disk ${disk_mib} MiB tmpfs, filler leaves ${free_mib} MiB, ${rate} records/s of 1 KB for ${secs} s, filler deleted at ${free_at} s"
echo
echo "| run | lowest free | ENOSPC log lines | not ready | ready after freeing | records acked | client gave up | table rows |"
echo "|---|---|---|---|---|---|---|---|"
run guard-defaults 256 384 | tee -a "$results_dir/$stamp.md"
run guard-64MiB 64 96 | tee -a "$results_dir/$stamp.md"
run baseline-no-guard 0 0 | tee -a "$results_dir/$stamp.md"
