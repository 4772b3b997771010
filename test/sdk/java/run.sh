#!/usr/bin/env bash
# Runs the Java SDK driver (contract: test/sdk/README.md): com.databricks:zerobus-ingest-sdk
# 1.0.1 from Maven Central (pinned in pom.xml), a JNI wrapper over the Rust core whose only way to
# authenticate is OAuth client credentials: every stream (re)creation POSTs
# {workspace URL}/oidc/v1/token. Until nobusd serves that endpoint (the security issue) this prints
# only the first line, "unavailable", with the reason; then it builds (Maven, output under
# ~/.cache/nobus/sdk-java, rebuilt only when pom.xml or src/ change) and runs the driver with
# NOBUS_CLIENT_ID / NOBUS_CLIENT_SECRET.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$NOBUS_WORKSPACE_URL/oidc/v1/token" \
  -d grant_type=client_credentials || true)
if [ "$status" = 404 ]; then
  why="com.databricks:zerobus-ingest-sdk 1.0.1 (the only version Maven Central serves here) \
authenticates only with OAuth client credentials (POST {workspace}/oidc/v1/token); nobusd has no \
token endpoint yet (POST /oidc/v1/token -> $status), so the driver cannot open a stream"
  printf '{"sdk": "java", "package": "com.databricks:zerobus-ingest-sdk", "version": "1.0.1", "registry": "Maven Central", "transport": "h2c", "auth": "OAuth client credentials", "unavailable": "%s"}\n' "$why"
  exit 0
fi

out="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/sdk-java"
mkdir -p "$out"
stamp=$(cat "$here/pom.xml" $(find "$here/src" -type f | sort) | sha256sum | cut -c1-16)
if [ ! -f "$out/driver.jar" ] || [ "$(cat "$out/stamp" 2>/dev/null)" != "$stamp" ]; then
  mvn -q -B -f "$here/pom.xml" -Dnobus.build.dir="$out" package -DskipTests 1>&2
  echo "$stamp" >"$out/stamp"
fi
exec java -jar "$out/driver.jar"
