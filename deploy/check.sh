#!/usr/bin/env bash
# Checks the deployment files with the tools that run them: `haproxy -c` on the HAProxy config
# and `systemd-analyze verify` on the unit (pointed at a real nobusd binary; any warning fails).
# Usage: deploy/check.sh BIN_DIR   (ctest deploy_files)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir=$(cd "$1" && pwd)
haproxy -c -q -f "$here/haproxy/haproxy.cfg"
echo "deploy/check.sh: haproxy -c: haproxy/haproxy.cfg is valid"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/local/bin/nobusd|$bin_dir/nobusd|" "$here/systemd/nobusd.service" > "$tmp/nobusd.service"
out=$(systemd-analyze verify "$tmp/nobusd.service" 2>&1)
if [ -n "$out" ]; then
  echo "deploy/check.sh: systemd-analyze verify systemd/nobusd.service:" >&2
  echo "$out" >&2
  exit 1
fi
echo "deploy/check.sh: systemd-analyze verify: systemd/nobusd.service is valid"
