#!/usr/bin/env bash
# Installs everything nobus needs to build and test on a fresh Debian bookworm machine:
# the Debian packages of the C++ build (and kcat and mosquitto-clients, the Kafka and MQTT
# command-line clients of test/kafka and test/mqtt, and Ceph's radosgw, the S3 server of
# test/objstore) and the npm packages of the
# independent-reader tests, and checks the toolchains the SDK and reader tests use
# (Python, Rust, Go, Java + Maven, Node: they come with the machine). The SDK drivers and
# reference readers install their own pinned registry packages when they first run
# (test/sdk/*/run.sh, test/readers/run_readers.sh, test/kafka/*/run.sh), into caches outside the
# repo. Idempotent and quick when everything is already present.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(
  build-essential cmake ninja-build ccache pkg-config git curl
  libabsl-dev libzstd-dev libsnappy-dev zlib1g-dev liblz4-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libsimdjson-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc libcpp-httplib-dev
  libssl-dev openssl libboost-dev libpugixml-dev
  kcat mosquitto-clients
  radosgw ceph-mon ceph-osd   # the object-store tests' S3 server (test/objstore/rgw.sh)
  haproxy systemd             # deploy/check.sh checks deploy/ with them
)
command -v node >/dev/null 2>&1 || debs+=(nodejs)
command -v npm >/dev/null 2>&1 || debs+=(npm)

missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm test dependencies (independent Parquet readers), pinned by test/package-lock.json.
if [ ! -d test/node_modules ] || [ test/package.json -nt test/node_modules/.stamp ]; then
  echo "setup: installing npm test dependencies"
  (cd test && npm ci --no-audit --no-fund --loglevel=error)
  touch test/node_modules/.stamp
fi
# Toolchains of the SDK and reader tests (test/sdk, test/readers); only checked here.
missing_tools=()
for tool in python3 cargo go java mvn node; do
  command -v "$tool" >/dev/null 2>&1 || missing_tools+=("$tool")
done
if [ ${#missing_tools[@]} -gt 0 ]; then
  echo "setup: missing toolchains for the SDK and reader tests: ${missing_tools[*]}" >&2
  echo "setup: install them (Python 3.10+, Rust/cargo, Go 1.22+, Java 17 + Maven, Node 20) or" >&2
  echo "setup: skip those tests with: ctest --preset release -E 'official_sdks|reference_readers' -FA reader_corpus" >&2
  [ "${NOBUS_SETUP_LENIENT:-0}" = 1 ] || exit 1
fi
echo "setup: ok"
