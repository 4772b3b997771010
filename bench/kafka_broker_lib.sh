# shellcheck shell=bash disable=SC2154  # $data and $logs are the sourcing script's
# Shared by the benchmarks that run an Apache Kafka broker (sourced, not run): bench/kafka_bench.sh
# and bench/peers/run.sh. Fetches Kafka's jars, starts and stops a fresh single-node KRaft
# broker+controller, creates topics and runs Kafka's command-line tools.
#
# The jars (broker, kafka-tools and their runtime dependencies, pinned in bench/kafka/pom.xml) are
# copied from Maven Central by `mvn dependency:copy-dependencies` into KAFKA_CACHE/lib, again only
# when the pom changes (KAFKA_CACHE: ${NOBUS_SDK_CACHE:-~/.cache/nobus}/kafka-broker by default).
# Needs Java 17+ and Maven.
#
# Needs bench/nobusd_lib.sh sourced first (stop_within_60s).
# Expects $data (the broker's files go to $data/kafka, a tools' log4j config to $data) and $logs
# (the broker's log goes to $logs/kafka-NAME.log). Sets $kafka_version, $classpath, $jvm_opts
# (kafka_jars), $kpid and $kafka_bootstrap (start_kafka_broker).

# kafka_jars [KAFKA_CACHE]: Kafka's jars into KAFKA_CACHE/lib (Maven, under a lock), then sets
# $kafka_version and $classpath.
kafka_jars() {
  local cache="${1:-${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/kafka-broker}" pom pom_stamp
  pom="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kafka/pom.xml"
  mkdir -p "$cache"
  exec 9>"$cache.lock"
  flock 9
  pom_stamp="$(sha256sum "$pom" | cut -c1-16)"
  if [[ "$(cat "$cache/stamp" 2>/dev/null)" != "$pom_stamp" ]]; then
    echo "== resolving Kafka's jars into $cache/lib (Maven)" >&2
    rm -rf "${cache:?}/lib"
    (cd "$cache" && mvn -q -B -f "$pom" dependency:copy-dependencies \
      -Dnobus.kafka.lib="$cache/lib") >&2
    echo "$pom_stamp" >"$cache/stamp"
  fi
  exec 9>&-
  kafka_version="$(find "$cache/lib" -maxdepth 1 -name 'kafka_2.13-*.jar' -printf '%f\n' |
    sed -n 's/^kafka_2\.13-\(.*\)\.jar$/\1/p')"
  [[ -n "$kafka_version" ]] || { echo "no kafka_2.13 jar in $cache/lib" >&2; exit 1; }
  classpath="$cache/lib/*"
  cat >"$data/log4j2-tools.properties" <<'EOF'
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
EOF
}

# The JVM options of kafka-run-class.sh (KAFKA_JVM_PERFORMANCE_OPTS); heaps as kafka-server-start.sh
# and kafka-producer-perf-test.sh set them.
jvm_opts=(-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true)

tool() {  # MAIN_CLASS ARGS...: a Kafka command-line tool
  java -Xmx512M "${jvm_opts[@]}" -Dlog4j2.configurationFile="$data/log4j2-tools.properties" \
    -cp "$classpath" "$@"
}

free_ports() {  # N: N free TCP ports on 127.0.0.1
  python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])' "$1"
}

# start_kafka_broker NAME [extra server.properties lines...]: a fresh single-node KRaft
# broker+controller with its log.dirs under $data/kafka (removed first), topics of 1 partition,
# replication 1, min.insync.replicas=1, no auto-created topics. Sets $kpid and $kafka_bootstrap.
kpid=""
start_kafka_broker() {
  local name="$1" dir="$data/kafka" bport cport
  shift
  rm -rf "$dir"
  mkdir -p "$dir"
  read -r bport cport <<<"$(free_ports 2)"
  {
    echo "process.roles=broker,controller"
    echo "node.id=1"
    echo "controller.quorum.voters=1@127.0.0.1:$cport"
    echo "listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport"
    echo "advertised.listeners=PLAINTEXT://127.0.0.1:$bport"
    echo "controller.listener.names=CONTROLLER"
    echo "inter.broker.listener.name=PLAINTEXT"
    echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    echo "log.dirs=$dir/logs"
    echo "num.partitions=1"
    echo "default.replication.factor=1"
    echo "min.insync.replicas=1"
    echo "offsets.topic.replication.factor=1"
    echo "transaction.state.log.replication.factor=1"
    echo "transaction.state.log.min.isr=1"
    echo "share.coordinator.state.topic.replication.factor=1"
    echo "share.coordinator.state.topic.min.isr=1"
    echo "auto.create.topics.enable=false"
    printf '%s\n' "$@"
  } >"$dir/server.properties"
  cat >"$dir/log4j2.properties" <<EOF
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = $logs/kafka-$name.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
EOF
  tool kafka.tools.StorageTool format -t "$(tool kafka.tools.StorageTool random-uuid)" \
    -c "$dir/server.properties" >"$dir/format.out" 2>&1 ||
    { cat "$dir/format.out" >&2; exit 1; }
  java -Xmx1G -Xms1G "${jvm_opts[@]}" -Dlog4j2.configurationFile="$dir/log4j2.properties" \
    -cp "$classpath" kafka.Kafka "$dir/server.properties" >"$dir/kafka.out" 2>&1 &
  kpid=$!
  for _ in $(seq 600); do
    grep -q 'Kafka Server started' "$logs/kafka-$name.log" 2>/dev/null && break
    kill -0 "$kpid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q 'Kafka Server started' "$logs/kafka-$name.log" 2>/dev/null || {
    echo "the Kafka broker did not start:" >&2
    tail -30 "$dir/kafka.out" "$logs/kafka-$name.log" >&2
    exit 1
  }
  kafka_bootstrap="127.0.0.1:$bport"
  echo "== Kafka $kafka_version pid $kpid broker=$kafka_bootstrap controller=127.0.0.1:$cport" \
    "log.dirs=$dir/logs $*" >&2
}

# kafka_create_topic TOPIC: 1 partition, replication 1, min.insync.replicas=1 (Kafka's TopicCommand).
kafka_create_topic() {
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$kafka_bootstrap" --create \
    --topic "$1" --partitions 1 --replication-factor 1 --config min.insync.replicas=1 \
    >"$data/kafka/topic.out" 2>&1 || { cat "$data/kafka/topic.out" >&2; exit 1; }
}

# stop_kafka: SIGTERM (a controlled shutdown), SIGKILL if the broker is still there after 60 s.
stop_kafka() {
  [[ -n "$kpid" ]] || return 0
  stop_within_60s "$kpid" "the Kafka broker"
  kpid=""
}
