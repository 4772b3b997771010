#!/usr/bin/env bash
# Runs the Go SDK driver (contract: test/sdk/README.md). Usage: run.sh [pure|cgo] (default pure).
#   pure: the official pure-Go SDK, github.com/databricks/zerobus-sdk/purego (pinned in go.mod,
#         from the Go module proxy; module cache ~/go, binary under ~/.cache/nobus/sdk-go).
#   cgo:  the official cgo SDK, github.com/databricks/zerobus-sdk/go; the Go module proxy refuses
#         it, so this prints only the first line, with "unavailable" saying why (the harness lists
#         it as not run).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
variant="${1:-pure}"

case "$variant" in
  pure) ;;
  cgo)
    why="the Go module proxy answers 403 'This module version is not available.' for \
github.com/databricks/zerobus-sdk/go at every version tried (v1.0.0, v1.1.1, v1.3.0, v1.6.0) and \
for its predecessor github.com/databricks/zerobus-sdk-go v0.1.0"
    printf '{"sdk": "go-cgo", "package": "github.com/databricks/zerobus-sdk/go", "version": "-", "registry": "Go module proxy", "transport": "-", "auth": "-", "unavailable": "%s"}\n' "$why"
    exit 0 ;;
  *) echo "usage: $0 [pure|cgo]" >&2; exit 2 ;;
esac

out="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/sdk-go"
mkdir -p "$out"
# go build is incremental (build cache): a no-op in about a second when nothing changed.
(cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$out/driver-pure" .) >&2
exec "$out/driver-pure"
