#!/usr/bin/env bash
# Runs the Java SDK driver (contract: test/sdk/README.md): com.databricks:zerobus-ingest-sdk
# 1.0.1 from Maven Central (pinned in pom.xml), a JNI wrapper over the Rust core whose only way to
# authenticate is OAuth client credentials (every stream (re)creation POSTs
# {workspace URL}/oidc/v1/token). Builds with Maven (output under ~/.cache/nobus/sdk-java, rebuilt
# only when pom.xml or src/ change) and runs the driver with NOBUS_CLIENT_ID / NOBUS_CLIENT_SECRET.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

out="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/sdk-java"
mkdir -p "$out"
stamp=$(cat "$here/pom.xml" $(find "$here/src" -type f | sort) | sha256sum | cut -c1-16)
if [ ! -f "$out/driver.jar" ] || [ "$(cat "$out/stamp" 2>/dev/null)" != "$stamp" ]; then
  mvn -q -B -f "$here/pom.xml" -Dnobus.build.dir="$out" package -DskipTests 1>&2
  echo "$stamp" >"$out/stamp"
fi
exec java -jar "$out/driver.jar"
