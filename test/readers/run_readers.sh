#!/usr/bin/env bash
# Reads every Delta table under the given roots with the reference readers (delta-rs, DuckDB and,
# unless --no-spark, Apache Spark with Delta Lake): reference_readers.py --help for the checks.
# The Python packages live in a venv outside the repo, ${NOBUS_SDK_CACHE:-~/.cache/nobus}/venv-readers,
# made again whenever requirements.txt changes (the venv keeps a copy to compare with); pip's cache
# is ~/.cache/pip. Spark's Ivy resolves the Delta jars from Maven Central into the same cache dir.
# Usage: test/readers/run_readers.sh [--no-spark] [--expect FILE] ROOT...
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}"
venv="$cache/venv-readers"
req="$here/requirements.txt"
python="${NOBUS_PYTHON:-python3}"

log() { echo "run_readers: $*" >&2; }

if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$req" "$venv/requirements.txt"; then
  log "creating $venv from $req"
  started=$SECONDS
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
  # pip's own cache (~/.cache/pip) keeps the wheels for the next venv.
  "$here/../pip_install.sh" "$venv/bin/python" "$req"
  # Written last: a venv whose install failed is made again on the next run.
  cp "$req" "$venv/requirements.txt"
  log "venv ready in $((SECONDS - started)) s"
fi

export NOBUS_READERS_CACHE="$cache"
exec "$venv/bin/python" "$here/reference_readers.py" "$@"
