#!/usr/bin/env bash
# Checks the deployment files with the tools that run them: `haproxy -c` on the HAProxy config,
# `systemd-analyze verify` on the unit (pointed at a real nobusd binary; any warning fails), and
# the Helm chart linted (`helm lint --strict`) and rendered by `helm template` (with TLS, and
# insecure without the load balancer)
# and validated by kubeconform against the Kubernetes schemas (strict: unknown fields fail),
# its HAProxy config by `haproxy -c`. Tools: deploy/tools.sh.
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

tools=$("$here/tools.sh")
schemas=$(echo "$tools"/venv/lib/python3*/site-packages/kubernetes_validate/kubernetes-json-schema)
k8s=1.33.0
render() {  # render NAME ARGS...: the chart's manifests into $tmp/NAME.yaml
  local name=$1
  shift
  "$tools/bin/helm" template nobus "$here/helm/nobus" --namespace ingest "$@" > "$tmp/$name.yaml"
}
render tls --set tls.existingSecret=nobus-tls --set 'auth.tokens[0].token=t' \
  --set 'auth.tokens[0].tables[0]=main.default.*'
render insecure --set insecure=true --set lb.enabled=false --set persistence.enabled=false \
  --set autoscaling.enabled=false
"$tools/bin/helm" lint --strict --quiet "$here/helm/nobus" --set insecure=true
if "$tools/bin/helm" template nobus "$here/helm/nobus" > "$tmp/refused.yaml" 2>&1; then
  echo "deploy/check.sh: the chart rendered without TLS or insecure; it must refuse" >&2
  exit 1
fi
"$tools/venv/bin/python" "$here/k8s_schemas.py" "$schemas/v$k8s-local-strict" \
  "$tmp/schemas/v$k8s-local-strict" "$tmp/tls.yaml" "$tmp/insecure.yaml"
"$tools/bin/kubeconform" -strict -summary -kubernetes-version "$k8s" \
  -schema-location "$tmp/schemas/{{ .NormalizedKubernetesVersion }}-local-strict/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
  "$tmp/tls.yaml" "$tmp/insecure.yaml"
# The load balancer's config, out of its ConfigMap.
"$tools/venv/bin/python" - "$tmp/tls.yaml" > "$tmp/lb-haproxy.cfg" <<'PY'
import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc["kind"] == "ConfigMap" and doc["metadata"]["name"].endswith("-haproxy"):
        sys.stdout.write(doc["data"]["haproxy.cfg"])
PY
haproxy -c -q -f "$tmp/lb-haproxy.cfg"
grep -q "server-template" "$tmp/lb-haproxy.cfg"
grep -q '"tls_cert": "/etc/nobus/tls/tls.crt"' "$tmp/tls.yaml"
echo "deploy/check.sh: helm template + kubeconform (Kubernetes $k8s, strict): helm/nobus is valid"
