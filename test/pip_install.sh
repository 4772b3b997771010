#!/usr/bin/env bash
# Installs a pinned requirements file into a venv for the test drivers (test/server/run_python.sh,
# test/sdk/python/run.sh, test/readers/run_readers.sh), with pip's cache in ~/.cache/pip. A failed
# install is tried again twice, 20 s apart: the registry's TLS proxy has been seen to fail for a
# minute (CERTIFICATE_VERIFY_FAILED), which would otherwise fail a whole test run.
# Under the SDK harness (test/sdk/harness.py), whose drivers trust only nobusd's dev CA, the
# machine's own trust settings (NOBUS_HOST_TLS_ENV, JSON) are put back for pip.
# Usage: test/pip_install.sh VENV_PYTHON REQUIREMENTS_FILE
set -euo pipefail
python=$1
req=$2
if [ -n "${NOBUS_HOST_TLS_ENV:-}" ]; then
  unset SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
  eval "$("$python" -c 'import json, os, shlex
for k, v in json.loads(os.environ["NOBUS_HOST_TLS_ENV"]).items():
    print(f"export {k}={shlex.quote(v)}")')"
fi
for attempt in 1 2 3; do
  if "$python" -m pip install --quiet --disable-pip-version-check --no-input \
       --cache-dir "$HOME/.cache/pip" -r "$req" >&2; then
    exit 0
  fi
  [ "$attempt" -lt 3 ] || break
  echo "pip_install: installing $req failed (attempt $attempt of 3); trying again in 20 s" >&2
  sleep 20
done
echo "pip_install: could not install $req (see pip's messages above)" >&2
exit 1
