#!/usr/bin/env bash
# Runs the franz-go producer of test/kafka (main.go; arguments and output: README.md), on the Go
# module github.com/twmb/franz-go (pinned in go.mod, from the Go module proxy; module cache ~/go),
# built into ${NOBUS_SDK_CACHE:-~/.cache/nobus}/kafka-go. `run.sh --build` only builds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

out="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/kafka-go"
mkdir -p "$out"
exec 9>"$out.lock"
flock 9
# go build is incremental (build cache): a no-op in about a second when nothing changed.
(cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$out/producer" .) >&2
exec 9>&-
if [ "${1:-}" = "--build" ]; then
  exit 0
fi
exec "$out/producer" "$@"
