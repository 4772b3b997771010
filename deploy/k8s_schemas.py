"""Writes self-contained JSON schemas for kubeconform: for each Kubernetes object in the given
manifests, the strict schema of its kind and version from the PyPI package kubernetes-validate,
with the shared definitions it references embedded (that package points them at its own
resolver's "/api/_definitions.json", which kubeconform cannot load).
Usage: k8s_schemas.py SCHEMA_DIR(v<version>-local-strict) OUT_DIR MANIFEST..."""
import json
import sys
from pathlib import Path

import yaml


def file_name(api_version, kind):
    group, _, version = api_version.rpartition("/")
    group = group.split(".")[0]
    return f"{kind.lower()}{'-' + group if group else ''}-{version}.json"


def local_refs(text):
    return (text.replace('"/api/_definitions.json#/$defs/', '"#/$defs/')
                .replace('"_definitions.json#/$defs/', '"#/$defs/'))


def main(schema_dir, out_dir, *manifests):
    schema_dir, out_dir = Path(schema_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    defs = json.loads(local_refs((schema_dir / "_definitions.json").read_text()))["$defs"]
    names = {file_name(doc["apiVersion"], doc["kind"])
             for path in manifests for doc in yaml.safe_load_all(Path(path).read_text()) if doc}
    for name in sorted(names):
        source = schema_dir / name
        if not source.exists():
            sys.exit(f"k8s_schemas.py: no schema {source} for a manifest's kind")
        schema = json.loads(local_refs(source.read_text()))
        schema["$defs"] = defs
        (out_dir / name).write_text(json.dumps(schema))


if __name__ == "__main__":
    main(*sys.argv[1:])
