"""Reads Delta tables straight from S3 with two readers nobus did not write, delta-rs (deltalake)
and DuckDB (its delta extension, on delta-kernel-rs, over its httpfs S3 client), and checks each
against what its writers had acknowledged.

Input: a JSON file {"s3://bucket/path/to/table": {"ids": [...], "unique": bool}, ...}. Each reader
must see exactly the distinct ids listed in the `id` column; with "unique", no id twice (an
exactly-once stream). Credentials and endpoint: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION (test/objstore/rgw.sh's env file).

Prints one line per table and reader, then a JSON summary {"tables": n, "failures": [...]}; exits
1 when any check failed. Run through s3_readers.sh (its venv)."""
import collections
import glob
import json
import os
import sys
from urllib.parse import urlparse


def log(msg):
    print(f"s3_readers: {msg}", file=sys.stderr, flush=True)


def deltalake_ids(url):
    from deltalake import DeltaTable

    options = {k: os.environ[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                          "AWS_SECRET_ACCESS_KEY", "AWS_REGION")}
    options["AWS_ALLOW_HTTP"] = "true"
    table = DeltaTable(url, storage_options=options)
    return table.version(), table.to_pyarrow_table(columns=["id"]).column("id").to_pylist()


def duckdb_connection():
    import duckdb
    import duckdb_extension_delta
    import duckdb_extension_httpfs

    con = duckdb.connect()
    for module in (duckdb_extension_httpfs, duckdb_extension_delta):
        pattern = os.path.join(os.path.dirname(module.__file__), "extensions", "*", "*.duckdb_extension")
        con.execute(f"LOAD '{glob.glob(pattern)[0]}'")
    endpoint = urlparse(os.environ["AWS_ENDPOINT_URL"])
    con.execute(
        "CREATE SECRET s3 (TYPE s3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', "
        "USE_SSL ?)",
        [os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"],
         os.environ["AWS_REGION"], endpoint.netloc, endpoint.scheme == "https"])
    return con


def check(reader, url, ids, want, unique, failures):
    counts = collections.Counter(ids)
    twice = [i for i, n in counts.items() if n > 1]
    missing = want - counts.keys()
    extra = counts.keys() - want
    problems = []
    if missing:
        problems.append(f"{len(missing)} acknowledged ids missing, e.g. {sorted(missing)[:5]}")
    if extra:
        problems.append(f"{len(extra)} ids nobody sent, e.g. {sorted(extra)[:5]}")
    if unique and twice:
        problems.append(f"{len(twice)} ids twice on an exactly-once stream, e.g. {sorted(twice)[:5]}")
    note = f"{len(ids)} rows, {len(counts)} distinct ids ({len(twice)} ids more than once)"
    if problems:
        failures.append({"table": url, "reader": reader, "detail": "; ".join(problems)})
        log(f"FAIL {reader} {url}: {note}: {'; '.join(problems)}")
    else:
        log(f"ok   {reader} {url}: {note}")


def main():
    expect = json.loads(open(sys.argv[1]).read())
    failures = []
    con = duckdb_connection()
    for url, spec in sorted(expect.items()):
        want, unique = set(spec["ids"]), spec.get("unique", False)
        try:
            version, ids = deltalake_ids(url)
            log(f"delta-rs read {url} at version {version}")
            check("delta-rs", url, ids, want, unique, failures)
        except Exception as e:  # noqa: BLE001 - any reader error is a failed check
            failures.append({"table": url, "reader": "delta-rs", "detail": repr(e)[:500]})
            log(f"FAIL delta-rs {url}: {e!r}")
        try:
            ids = [r[0] for r in con.execute("SELECT id FROM delta_scan(?)", [url]).fetchall()]
            check("duckdb", url, ids, want, unique, failures)
        except Exception as e:  # noqa: BLE001
            failures.append({"table": url, "reader": "duckdb", "detail": repr(e)[:500]})
            log(f"FAIL duckdb {url}: {e!r}")
    print(json.dumps({"tables": len(expect), "failures": failures}))
    sys.stdout.flush()
    # deltalake's runtime can abort at interpreter teardown after S3 reads; the checks are done.
    os._exit(1 if failures else 0)


if __name__ == "__main__":
    main()
