#!/usr/bin/env bash
# Runs the Java Kafka producer of test/kafka (Produce.java; arguments and output: README.md), on
# org.apache.kafka:kafka-clients from Maven Central (pinned in pom.xml, cache ~/.m2). Builds with
# Maven into ${NOBUS_SDK_CACHE:-~/.cache/nobus}/kafka-java (rebuilt only when pom.xml or src/
# change). `run.sh --build` only builds. The client logs (slf4j-simple) go to stderr at
# ${NOBUS_KAFKA_JAVA_LOG:-info}.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

out="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/kafka-java"
mkdir -p "$out"
exec 9>"$out.lock"
flock 9  # tests started together build once
stamp=$(cat "$here/pom.xml" $(find "$here/src" -type f | sort) | sha256sum | cut -c1-16)
if [ ! -f "$out/producer.jar" ] || [ "$(cat "$out/stamp" 2>/dev/null)" != "$stamp" ]; then
  mvn -q -B -f "$here/pom.xml" -Dnobus.build.dir="$out" package -DskipTests 1>&2
  echo "$stamp" >"$out/stamp"
fi
exec 9>&-
if [ "${1:-}" = "--build" ]; then
  exit 0
fi
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel="${NOBUS_KAFKA_JAVA_LOG:-info}" \
  -Dorg.slf4j.simpleLogger.showDateTime=true \
  -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \
  -jar "$out/producer.jar" "$@"
