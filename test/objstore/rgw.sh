#!/usr/bin/env bash
# A real single-node S3 server for the object-store tests: Ceph RADOS Gateway 16.2 from Debian
# bookworm (packages radosgw ceph-mon ceph-osd, installed by scripts/setup.sh).
#
#   test/objstore/rgw.sh start DIR [PORT]    start it (~2 s); prints the seconds it took
#   test/objstore/rgw.sh stop DIR [--clean]  stop it (<1 s); --clean also deletes DIR
#
# start runs one monitor, one OSD on memstore (objects live in RAM: 1 GiB at most, or
# RGW_MEMSTORE_BYTES), no manager,
# no cephx, and radosgw on http://127.0.0.1:PORT (default 7480); creates one S3 user, no bucket;
# and writes DIR/env (`set -a; . DIR/env`): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
# AWS_ENDPOINT_URL. RGW accepts SigV4 signatures for any region; us-east-1 keeps SDKs from sending
# a LocationConstraint on CreateBucket, which RGW rejects unless it names its zonegroup (default).
# An instance takes the loopback ports PORT..PORT+9 (RGW, monitor, OSD on PORT+2..+9), so
# instances whose PORTs differ by 10 or more run side by side. Everything (config, data, logs,
# sockets, pid files) stays in DIR; keep its path short (socket paths are limited to 107 bytes).
# start refuses a DIR with a running instance or foreign files, and wipes a stopped instance.
# If a step fails or takes longer than RGW_TIMEOUT seconds (default 60), start prints the tail
# of the step's log, stops what it started and exits non-zero. Runs as root (CI) or as any user
# that can write DIR; the daemons run as the calling user.
set -euo pipefail

ACCESS_KEY=nobus-test
SECRET_KEY=nobus-test-secret
TIMEOUT=${RGW_TIMEOUT:-60}
MEMSTORE_BYTES=${RGW_MEMSTORE_BYTES:-1073741824}  # the OSD's RAM for objects
DAEMONS=(client.rgw osd.0 mon.a)   # in stop order

die() { echo "rgw.sh: $*" >&2; exit 1; }

# Is pid $1 a live daemon of the instance in $D? A zombie counts as gone (a container's init
# may take seconds to reap it); the command line check guards against reused pids.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ] && [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") == *"$D/ceph.conf"* ]]
}

live_pid() {   # live_pid NAME: the pid of daemon NAME of the instance in $D, if it runs
  local pid
  pid=$(cat "$D/run/$1.pid" 2>/dev/null) || return 0
  if running "$pid"; then echo "$pid"; fi
}

stop_all() {
  local name pid i
  for name in "${DAEMONS[@]}"; do
    pid=$(live_pid "$name")
    [ -n "$pid" ] || continue
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do running "$pid" || continue 2; sleep 0.1; done
    echo "rgw.sh: $name (pid $pid) still runs 10 s after SIGTERM, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# EXIT trap of start: on failure, show the log of the failed step and leave no daemon behind.
on_start_exit() {
  local rc=$?
  [ "$rc" -eq 0 ] && return
  [ "$rc" -eq 124 ] && STEP="$STEP: timed out after ${TIMEOUT}s"
  echo "rgw.sh: start failed at: $STEP; last lines of $D/log/$DAEMON.log:" >&2
  tail -n 20 "$D/log/$DAEMON.log" >&2 2>/dev/null || true
  stop_all
}

# Runs a step's command with a timeout (daemons fork into the background once they are up).
run() { timeout "$TIMEOUT" "$@" 2>>"$D/log/$DAEMON.log"; }

wait_for() {   # wait_for WHAT COMMAND...: retry COMMAND while $DAEMON runs, for up to TIMEOUT
  local what=$1 deadline=$((SECONDS + TIMEOUT))
  shift
  until "$@" >/dev/null 2>&1; do
    [ -n "$(live_pid "$DAEMON")" ] || die "$DAEMON exited while waiting for $what"
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${TIMEOUT}s waiting for $what"
    sleep 0.2
  done
}
osd_up() { [[ $(timeout 10 ceph -c "$D/ceph.conf" osd stat -f json) == *'"num_up_osds":1,'* ]]; }
rgw_up() { [[ $(curl -s --max-time 2 "http://127.0.0.1:$PORT/") == *ListAllMyBucketsResult* ]]; }

write_conf() {
  cat >"$D/ceph.conf" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$((PORT + 1))]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind port min = $((PORT + 2))
ms bind port max = $((PORT + 9))
auth cluster required = none
auth service required = none
auth client required = none
run dir = $D/run
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
mon cluster log file = $D/log/cluster.log
crash dir = $D/crash
mon data = $D/\$name
osd data = $D/\$name
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
mon allow pool size one = true
# the monitor refuses to start when its disk has under 5 % free; its data here is a few MB
mon data avail crit = 0
mon max pg per osd = 1000
osd pool default size = 1
osd pool default pg num = 8
osd crush chooseleaf type = 0
# the default 1 s batching of map changes makes RGW's pool setup take ~9 s instead of <1 s
paxos propose interval = 0.1
[client.rgw]
rgw data = $D/rgw
rgw frontends = beast endpoint=127.0.0.1:$PORT
# with auth none, radosgw never gets past authentication without these
ms mon client mode = crc
ms client mode = crc
EOF
}

start() {
  [ -z "$(live_pid mon.a)$(live_pid osd.0)$(live_pid client.rgw)" ] ||
    die "an instance is already running in $D; stop it first: $0 stop $D"
  if [ -f "$D/ceph.conf" ]; then
    rm -rf "$D"/{ceph.conf,env,monmap,mon.a,osd.0,rgw,run,log,crash}
  elif [ -n "$(ls -A "$D")" ]; then
    die "$D is not empty and holds no rgw.sh instance"
  fi
  mkdir -p "$D"/{mon.a,osd.0,rgw,run,log,crash}
  local t0=$EPOCHREALTIME conf=(-c "$D/ceph.conf") uuid osd_id took
  FSID=$(cat /proc/sys/kernel/random/uuid)
  STEP="monitor (port $((PORT + 1)))" DAEMON=mon.a
  trap on_start_exit EXIT
  trap 'exit 1' INT TERM HUP   # so that the EXIT trap runs
  write_conf
  run monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$((PORT + 1))]" \
    "$D/monmap" >/dev/null
  run ceph-mon "${conf[@]}" -i a --mkfs --monmap "$D/monmap"
  run ceph-mon "${conf[@]}" -i a

  # the OSD's uuid in `osd new` and in --mkfs must match, or the OSD never comes up
  STEP="OSD (ports $((PORT + 2))-$((PORT + 9)))" DAEMON=osd.0
  uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_id=$(run ceph "${conf[@]}" osd new "$uuid")
  [ "$osd_id" = 0 ] || die "ceph osd new gave id '$osd_id', not 0"
  run ceph-osd "${conf[@]}" -i 0 --mkfs --osd-uuid "$uuid"
  run ceph-osd "${conf[@]}" -i 0
  wait_for "the OSD to come up" osd_up

  # before radosgw runs (once a radosgw has died, it can hang ~20 s); also creates RGW's pools
  STEP="S3 user (radosgw-admin)" DAEMON=client.admin
  run radosgw-admin "${conf[@]}" user create --uid=nobus --display-name=nobus \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null

  # setsid: out of our process group (which `timeout` kills) before radosgw detaches itself
  STEP="radosgw (port $PORT)" DAEMON=client.rgw
  run setsid radosgw "${conf[@]}" -n client.rgw </dev/null >/dev/null
  wait_for "radosgw to answer on port $PORT" rgw_up

  printf '%s\n' "AWS_ACCESS_KEY_ID=$ACCESS_KEY" "AWS_SECRET_ACCESS_KEY=$SECRET_KEY" \
    "AWS_REGION=us-east-1" "AWS_ENDPOINT_URL=http://127.0.0.1:$PORT" >"$D/env"
  trap - EXIT INT TERM HUP
  took=$(awk -v t0="$t0" -v t1="$EPOCHREALTIME" 'BEGIN { printf "%.1f", t1 - t0 }')
  echo "rgw.sh: S3 on http://127.0.0.1:$PORT, started in $took s; credentials in $D/env"
}

usage="usage: $0 start DIR [PORT] | stop DIR [--clean]"
[ $# -ge 2 ] || die "$usage"
D=$2
case $1 in
  start)
    PORT=${3:-7480}
    if [ $# -gt 3 ] || ! [[ $PORT =~ ^[1-9][0-9]{3,4}$ ]] || [ "$PORT" -gt 65526 ]; then
      die "$usage"
    fi
    for tool in monmaptool ceph-mon ceph-osd ceph radosgw-admin radosgw curl timeout setsid; do
      command -v "$tool" >/dev/null || die "$tool not found; run scripts/setup.sh"
    done
    mkdir -p "$D" && D=$(cd "$D" && pwd)
    start ;;
  stop)
    if [ $# -gt 3 ] || [ "${3:---clean}" != --clean ]; then die "$usage"; fi
    [ -f "$D/ceph.conf" ] || die "$D holds no rgw.sh instance"
    D=$(cd "$D" && pwd)
    stop_all
    if [ $# -eq 3 ]; then rm -rf "$D"; fi ;;
  *) die "$usage" ;;
esac
