# Shared by the end-to-end benchmarks (sourced, not run): start and stop a fresh nobusd, read its
# CPU time, wait until it has committed everything. Expects $build (build dir) and $data (data
# dir) to be set; sets $pid, $grpc, $http, and $ops (empty unless --ops-listen was given). Optional $scheme (http or https) and $curl_ca (a
# --cacert argument for curl when nobusd serves TLS).

scheme="${scheme:-http}"
curl_ca="${curl_ca:-}"
pid=""
fetch() { curl -sf ${curl_ca:+--cacert "$curl_ca"} "$scheme://$http$1"; }

# start_server [extra nobusd flags...]: a fresh nobusd (and data directory) on free ports.
start_server() {
  rm -rf "$data/nobusd" "$data/nobusd.out"  # a stale .out would name the previous run's ports
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
