#!/usr/bin/env bash
# Runs the TypeScript SDK driver (contract: test/sdk/README.md). The SDK's native core and
# protobufjs come from test/package.json (installed by scripts/setup.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
[ -d "$root/node_modules/@databricks/zerobus-ingest-sdk-linux-x64-gnu" ] ||
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
exec node "$(dirname "$0")/driver.mjs"
