#!/usr/bin/env bash
# Reads Delta tables straight from S3 with delta-rs and DuckDB (s3_readers.py), in a venv of
# requirements.txt beside this file at ${NOBUS_SDK_CACHE:-~/.cache/nobus}/venv-s3-readers (made
# again when requirements.txt changes; pip's cache is ~/.cache/pip).
# Usage: test/objstore/s3_readers.sh EXPECT.json   (AWS_* from rgw.sh's env file in the environment)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/venv-s3-readers"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  echo "s3_readers: creating $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$here/../pip_install.sh" "$venv/bin/python" "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.txt"  # last: a failed install is redone
fi
exec 9>&-
PYTHONDONTWRITEBYTECODE=1 exec "$venv/bin/python" "$here/s3_readers.py" "$@"
