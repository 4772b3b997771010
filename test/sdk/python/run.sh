#!/usr/bin/env bash
# Runs the Python SDK driver (contract: test/sdk/README.md): databricks-zerobus-ingest-sdk from
# PyPI, pinned in requirements.txt, in a venv outside the repo
# (${NOBUS_SDK_CACHE:-~/.cache/nobus}/venv-sdk-python, made again when requirements.txt changes;
# pip's cache is ~/.cache/pip). The Reading message is compiled with grpcio-tools' protoc into the
# venv, as the SDK's README says. Only the driver's JSON lines go to stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/venv-sdk-python"
if [[ ! -x "$venv/bin/python" ]] || ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  echo "sdk-python: creating $venv" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$here/../../pip_install.sh" "$venv/bin/python" "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.txt"  # last: a failed install is redone
fi
gen="$venv/generated"
mkdir -p "$gen"
if [ ! -f "$gen/reading_pb2.py" ] || [ "$here/../reading.proto" -nt "$gen/reading_pb2.py" ]; then
  "$venv/bin/python" -m grpc_tools.protoc -I "$here/.." --python_out="$gen" reading.proto >&2
fi
PYTHONPATH="$gen" exec "$venv/bin/python" "$here/driver.py"
