#!/usr/bin/env bash
# Starts Ceph RGW (rgw.sh) in a temporary directory, runs the object-store test binary against it
# (it leaves a Delta table written by two writers in the bucket), reads that table with delta-rs
# straight from the object store (read_s3_table.py, in the reference readers' venv), and stops
# RGW. Usage: test/objstore/run_rgw_test.sh BUILD/bin/objstore_rgw_test
# NOBUS_RGW_PORT picks the RGW port (default 17480; the instance takes it and the next 9).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary=$1
dir=$(mktemp -d /tmp/nobus-rgw.XXXXXX)  # short: ceph's socket paths are limited to 107 bytes
trap '"$here/rgw.sh" stop "$dir" --clean' EXIT
"$here/rgw.sh" start "$dir" "${NOBUS_RGW_PORT:-17480}"
set -a
# shellcheck disable=SC1091
. "$dir/env"
NOBUS_S3_BUCKET=nobus-test
set +a
"$binary"
# delta-rs, from the reference readers' venv (run_readers.sh makes it on first use).
"$here/../readers/run_readers.sh" --help >/dev/null
"${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/venv-readers/bin/python" "$here/read_s3_table.py" \
  "s3://$NOBUS_S3_BUCKET/warehouse/tables/t"
