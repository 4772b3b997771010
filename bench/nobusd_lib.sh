# Shared by the end-to-end benchmarks (sourced, not run): start and stop a fresh nobusd, read its
# CPU time, wait until it has committed everything; check the tools a script needs, make a fresh
# data directory with a copy of the binaries. Expects $build (build dir) and $data (data dir) to
# be set; sets $pid, $grpc, $http, and $ops (empty unless --ops-listen was given). Optional
# $scheme (http or https) and $curl_ca (a --cacert argument for curl when nobusd serves TLS).

scheme="${scheme:-http}"
curl_ca="${curl_ca:-}"
pid=""
fetch() { curl -sf ${curl_ca:+--cacert "$curl_ca"} "$scheme://$http$1"; }

# retire_dir DIR: moves DIR (if present) into $data.trash, which finish_runs empties once the
# measurements are over. Deleting a run's many thousand files right before the next run would
# slow that run's file creations on ext4 without a journal (the inode allocator skips, one by
# one, every inode deleted in the last 30 s; doc/delta.md, "Commit protocol").
retire_dir() {
  [[ -e "$1" ]] || return 0
  mkdir -p "$data.trash"
  mv "$1" "$data.trash/$(date +%s%N)"
}

# start_server [extra nobusd flags...]: a fresh nobusd (and data directory) on free ports.
start_server() {
  retire_dir "$data/nobusd"
  rm -f "$data/nobusd.out"  # a stale .out would name the previous run's ports
  "$build/bin/nobusd" --data-dir "$data/nobusd" --grpc-listen 127.0.0.1:0 \
    --http-listen 127.0.0.1:0 "$@" >"$data/nobusd.out" 2>"$data/nobusd.log" &
  pid=$!
  for _ in $(seq 300); do
    grep -q '^nobusd listening' "$data/nobusd.out" 2>/dev/null && break
    sleep 0.1
  done
  local line
  line="$(grep -m1 '^nobusd listening' "$data/nobusd.out")" || {
    echo "nobusd did not start:" >&2
    cat "$data/nobusd.log" >&2
    exit 1
  }
  grpc="$(sed 's/.*grpc=\([^ ]*\).*/\1/' <<<"$line")"
  http="$(sed 's/.*http=\([^ ]*\).*/\1/' <<<"$line")"
  ops="$(sed -n 's/.*ops=\([^ ]*\).*/\1/p' <<<"$line")"
  until fetch /healthz >/dev/null; do sleep 0.1; done
  echo "== nobusd pid $pid grpc=$grpc http=$http data=$data" >&2
}

stop_server() {
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

# stop_within_60s PID WHAT: SIGTERM, then SIGKILL (and a warning naming WHAT) if PID is still
# there after 60 s; reaps it.
stop_within_60s() {
  local p="$1" what="$2"
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 600); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then
    echo "warning: $what did not stop within 60 s of SIGTERM: killed" >&2
    kill -KILL "$p" 2>/dev/null || true
  fi
  wait "$p" 2>/dev/null || true
}

# nobusd's CPU time so far, in clock ticks (utime + stime).
server_ticks() { sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'; }

# Waits until nobusd has committed every buffered row.
settle() {
  local buffered=""
  for _ in $(seq 1200); do
    buffered="$(fetch /metrics | awk '/^nobus_table_buffered_bytes/ {s += $2} END {print s + 0}')"
    [[ "$buffered" == 0 ]] && return 0
    sleep 0.1
  done
  echo "warning: nobusd still buffers $buffered bytes" >&2
}

# need_tools NAME TOOL...: exits 2 ("NAME: needs TOOL") unless every TOOL is on PATH.
need_tools() {
  local name="$1" tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$name: needs $tool" >&2; exit 2; }
  done
}

# fresh_bin_copy NAME FLAG: a fresh data directory $data (the old one retired; refused on tmpfs, where
# fdatasync would cost nothing) with a copy of $build/bin/nobusd and nobus in $data/bin, that
# nobusd knowing FLAG (e.g. --mqtt-listen). Sets $nobus (the copy of nobus), $build_note (the
# build dir, its build type, the date of its nobusd) and then $build="$data": start_server
# starts the copy. NAME is the script's name in the error messages.
fresh_bin_copy() {
  local name="$1" flag="$2"
  rm -rf "$data.trash"  # left by a script that ended before finish_runs
  retire_dir "$data"
  mkdir -p "$data/bin"
  if [[ "$(df --output=fstype "$data" | tail -1 | tr -d ' ')" == tmpfs ]]; then
    echo "data dir $data is on tmpfs: fdatasync would cost nothing" >&2
    exit 2
  fi
  cp "$build/bin/nobusd" "$build/bin/nobus" "$data/bin/"
  [[ "$("$data/bin/nobusd" --help 2>&1)" == *"$flag"* ]] ||
    { echo "$name: $build/bin/nobusd has no $flag" >&2; exit 2; }
  nobus="$data/bin/nobus"
  build_note="$build ($(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null ||
    true); nobusd of $(date -u -r "$build/bin/nobusd" +%Y-%m-%dT%H:%MZ))"
  build="$data"
}

# finish_runs: after the configurations, the raw write + fdatasync baseline of the data dir's disk,
# then every JSON line ("${lines[@]}" and the baseline) saved to $results_dir/$stamp.jsonl, then
# the retired data directories deleted. Sets $disk (the baseline's line) and $load_after.
finish_runs() {
  echo "== raw write + fdatasync on $data (same disk)" >&2
  disk="$("$nobus" bench --disk-baseline "$data/disk" --duration-s 3 --disk-chunk-bytes 4096 65536)"
  echo "$disk" >&2
  load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%s\n' "${lines[@]}" "$disk" >"$results_dir/$stamp.jsonl"
  rm -rf "$data.trash"
}
