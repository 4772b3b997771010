#!/usr/bin/env bash
# Installs the pinned tools deploy/check.sh renders and validates the Helm chart with, into
# ${NOBUS_SDK_CACHE:-~/.cache/nobus}/deploy-tools (outside the repo): helm and kubeconform built
# from the Go module proxy, and the Kubernetes JSON schemas of the PyPI package
# kubernetes-validate (kubeconform cannot download schemas from here). Prints the directory.
# A first run builds helm (a few minutes); later runs only check the versions.
set -euo pipefail
HELM=v3.21.4
KUBECONFORM=v0.8.0
SCHEMAS=1.37.0  # kubernetes-validate: schemas up to Kubernetes 1.37
dir="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/deploy-tools"
mkdir -p "$dir/bin"
stamp="$dir/versions"
want="helm $HELM kubeconform $KUBECONFORM kubernetes-validate $SCHEMAS"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "deploy/tools.sh: building helm $HELM and kubeconform $KUBECONFORM into $dir" >&2
  GOBIN="$dir/bin" go install "helm.sh/helm/v3/cmd/helm@$HELM"
  GOBIN="$dir/bin" go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM"
  rm -rf "$dir/venv"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install -q "kubernetes-validate==$SCHEMAS"
  echo "$want" > "$stamp"
fi
echo "$dir"
