#!/usr/bin/env python3
"""Runs the official Zerobus SDK drivers (test/sdk/<sdk>/run.sh, contract in test/sdk/README.md)
against a real nobusd and judges every case.

For each SDK: a fresh nobusd serving TLS (certificates from `nobus dev-certs`, own data dir,
loopback, port 0), a service principal with grants on the SDK's schema (`nobus principal create`,
`nobus grant`), the case tables created through the table API, the driver run with NOBUS_*
variables (https:// endpoint and workspace URL, client id and secret: the SDKs' default OAuth flow)
and a control endpoint the driver calls to close every stream (close-all) or to SIGKILL and restart
nobusd on the same ports. A second nobusd sharing the auth directory issues 3-second tokens, for
the token_refresh case (the stream outlives several tokens).
Each data case's table is then read by delta-rs and DuckDB (test/readers/run_readers.sh --no-spark)
and compared with the ids the SDK acknowledged; the tables are also kept in the reader corpus, where
Spark reads them at the end of the ctest run. The persistent (exactly-once) cases run only for the
SDKs in EOS_SDKS, and their tables must hold no id twice; the other SDKs list them as not
applicable.

Results: a JSON file (--results) and its Markdown rendering beside it; --update-docs also rewrites
doc/sdk-compat.md and the README's SDK table from this run. Prints "N passed, M failed" (cases).

Usage: test/sdk/harness.py [--sdk NAME ...] [--bin-dir build/bin] [--results FILE] [--update-docs]
Exit code 0 when every case of every SDK run passed.
"""
import argparse
import http.server
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import compat_table

REPO = Path(__file__).resolve().parents[2]
SDK_DIR = Path(__file__).resolve().parent

# name -> (folder under test/sdk, extra run.sh arguments)
SDKS = {
    "python": ("python", []),
    "rust": ("rust", []),
    "go": ("go", ["pure"]),
    "go-cgo": ("go", ["cgo"]),
    "java": ("java", []),
    "typescript": ("typescript", []),
}

DATA_CASES = {
    "json_single": range(0, 200),
    "json_batch": range(1000, 1500),
    "proto_single": range(2000, 2200),
    "proto_batch": range(3000, 3500),
    "flush_close": range(4000, 4200),
    "close_signal": range(5000, 5300),
    "restart": range(6000, 6300),
    "token_refresh": range(7000, 7300),
}
# Persistent streams (exactly-once): only SDKs with a persistent-stream API run them (EOS_SDKS);
# a duplicate id in their tables is a failure.
PERSISTENT_CASES = {
    "persistent_resume": range(8000, 8200),
    "persistent_restart": range(8200, 8500),
    "persistent_close_signal": range(8500, 8800),
}
EOS_SDKS = {"rust": "crate feature eos"}
SHORT_TTL_CASES = ("token_refresh",)  # run against the nobusd with 3-second tokens
SHORT_TOKEN_TTL_S = 3
ERROR_CASES = ("bad_record", "unknown_table")
COLUMNS = [
    {"name": "id", "type_text": "bigint", "nullable": False},
    {"name": "device", "type_text": "string"},
    {"name": "temp", "type_text": "double"},
    {"name": "ok", "type_text": "boolean"},
    {"name": "ts", "type_text": "timestamp"},
]
ADMIN_TOKEN = "sdk-admin-token"  # static token of the harness itself (tables, close-all)
DRIVER_TIMEOUT_S = 1200  # includes a cold build of the driver (cargo, maven)


def log(msg):
    print(f"sdk-harness: {msg}", file=sys.stderr, flush=True)


TLS_CONTEXT = None  # trusts the run's dev CA once made (make_certs)


def make_certs(bin_dir, work):
    """`nobus dev-certs`: the CA every client trusts and nobusd's certificate."""
    global TLS_CONTEXT
    certs = work / "certs"
    subprocess.run([str(Path(bin_dir) / "nobus"), "dev-certs", str(certs)], check=True,
                   stdout=subprocess.DEVNULL)
    TLS_CONTEXT = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    return certs


def create_principal(bin_dir, auth_dir, name, schema):
    """A service principal with what the SDKs request for tables of sdk.<schema> (USE CATALOG,
    USE SCHEMA, SELECT, MODIFY); returns (client_id, client_secret)."""
    nobus = [str(Path(bin_dir) / "nobus")]
    where = ["--auth-dir", str(auth_dir)]
    out = subprocess.run([*nobus, "principal", "create", name, *where], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    secret = re.search(r"client_secret: (\S+)", out).group(1)
    for grant in (["USE CATALOG", "ON", "CATALOG", "sdk"],
                  ["USE SCHEMA", "ON", "SCHEMA", f"sdk.{schema}"],
                  ["SELECT,MODIFY", "ON", "SCHEMA", f"sdk.{schema}"]):
        subprocess.run([*nobus, "grant", *grant, "TO", name, *where], check=True,
                       stdout=subprocess.DEVNULL)
    return name, secret


def call(method, url, body=None, token=None, timeout=30):
    """An HTTP request; returns (status, parsed JSON body or {"raw": text})."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=TLS_CONTEXT) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {"raw": raw.decode(errors="replace")}


class Nobusd:
    """One nobusd process on loopback serving TLS; restart() SIGKILLs it and starts it on the same
    ports."""

    def __init__(self, bin_dir, data_dir, certs, auth_dir, extra_args=()):
        self.bin = Path(bin_dir) / "nobusd"
        self.data_dir = Path(data_dir)
        self.config = self.data_dir.parent / f"{self.data_dir.name}.config.json"
        self.config.write_text(json.dumps({"tokens": [{"token": ADMIN_TOKEN, "admin": True}]}))
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.nobusd.log"
        self.args = ["--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"),
                     "--auth-dir", str(auth_dir), *extra_args]
        self.grpc, self.http = "127.0.0.1:0", "127.0.0.1:0"
        self.proc = None
        self.start()

    # The names clients use: the certificate is for localhost.
    def endpoint(self):
        return f"https://localhost:{self.grpc.rsplit(':', 1)[1]}"

    def workspace_url(self):
        return f"https://localhost:{self.http.rsplit(':', 1)[1]}"

    def start(self):
        log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [str(self.bin), "--data-dir", str(self.data_dir), "--grpc-listen", self.grpc,
             "--http-listen", self.http, "--flush-interval-ms", "200", "--config", str(self.config),
             *self.args],
            stdout=subprocess.PIPE, stderr=log_file, text=True)
        log_file.close()
        line = self.proc.stdout.readline()
        if not line.startswith("nobusd listening"):
            raise RuntimeError(f"nobusd did not start: {line!r}; log: {self.log_path}")
        parts = dict(p.split("=", 1) for p in line.split()[2:])
        self.grpc, self.http = parts["grpc"], parts["http"]
        for _ in range(300):
            try:
                if call("GET", f"{self.workspace_url()}/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("nobusd never became healthy")

    def restart(self):
        self.proc.kill()
        self.proc.wait()
        self.start()

    def stop(self):
        """SIGTERM (drain); returns the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class Control(http.server.ThreadingHTTPServer):
    """The driver's handle on the server: POST /close-all, POST /restart. `act(path)` does it and
    returns (status, JSON body); one at a time; an exception answers 500."""

    def __init__(self, act):
        self.act = act
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ControlHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class ControlHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        with self.server.lock:
            try:
                status, body = self.server.act(self.path)
            except Exception as e:  # noqa: BLE001 - reported to the driver and the log
                status, body = 500, {"error": repr(e)}
        log(f"control {self.path} -> {status} {body}")
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def single_node_control(server):
    """close-all: every open stream gets close_stream_signal; restart: SIGKILL and start again."""
    def act(path):
        if path == "/close-all":
            return call("POST", f"{server.workspace_url()}/admin/v1/streams/close-all",
                        token=ADMIN_TOKEN, timeout=120)
        if path == "/restart":
            server.restart()
            return 200, {"restarted": True}
        return 404, {"error": f"unknown control {path}"}
    return act


def run_driver(sdk, folder, args, env):
    cmd = [str(SDK_DIR / folder / "run.sh"), *args]
    log(f"{sdk}: {' '.join(cmd)}")
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True,
                              timeout=DRIVER_TIMEOUT_S)
        out, code = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as e:
        out, code = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or ""), -1
    lines = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                log(f"{sdk}: unparsable driver line {line[:200]!r}")
    return lines, code, time.monotonic() - started


def read_tables(expect, corpus_table_root):
    """delta-rs + DuckDB check of every data case table; returns {table path: [failures]}."""
    expect_file = corpus_table_root / "expect.json"
    expect_file.write_text(json.dumps(expect))
    proc = subprocess.run(
        [str(REPO / "test/readers/run_readers.sh"), "--no-spark", "--expect", str(expect_file),
         str(corpus_table_root)], stdout=subprocess.PIPE, text=True)
    failures = {}
    try:
        summary = json.loads(proc.stdout[: proc.stdout.rindex("}") + 1])
    except ValueError:
        return {path: [f"reference readers gave no summary (exit {proc.returncode})"]
                for path in expect}, {}
    for f in summary.get("failures", []):
        failures.setdefault(str(Path(f["table"]).resolve()), []).append(
            f"{f.get('reader')}: {f.get('check')}: {f.get('detail')}")
    return failures, summary.get("readers", {})


def data_cases(sdk):
    """The data cases this SDK runs: {case: ids}."""
    return {**DATA_CASES, **(PERSISTENT_CASES if sdk in EOS_SDKS else {})}


def duplicate_requests(server):
    """{table: n} from nobusd's nobus_stream_duplicate_requests_total (resends it acknowledged
    without writing them again); {} when it has none."""
    try:
        text = call("GET", f"{server.workspace_url()}/metrics", timeout=10)[1].get("raw", "")
    except OSError:
        return {}
    found = re.findall(r'^nobus_stream_duplicate_requests_total\{[^}]*table="([^"]+)"[^}]*\} (\S+)',
                       text, re.M)
    return {table: int(float(n)) for table, n in found}


def judge_error_case(case, line, prefix):
    if not line.get("ok", False):
        return False, line.get("detail", "driver reported failure")
    msg = line.get("message", "")
    want = {"bad_record": "'id'", "unknown_table": f"{prefix}no_such_table"}[case]
    if not line.get("non_retriable"):
        return False, f"SDK did not class it non-retriable ({line.get('error_class')}): {msg}"
    if want not in msg:
        return False, f"message lacks {want!r}: {msg}"
    return True, f"{line.get('error_class')}: {msg}"


def persistent_detail(detail, line, dup_requests):
    """A passed persistent case's detail: no duplicates, and what the driver and nobusd saw."""
    facts = [f"{detail}, no id twice (exactly-once)"]
    if "resume_watermark" in line:
        facts.append(f"resumed by a new SDK object with resume_watermark {line['resume_watermark']}"
                     f", next offset {line.get('first_offset_after_resume')}")
    if dup_requests:
        facts.append(f"nobusd acknowledged {dup_requests} resent requests without writing them")
    return "; ".join(facts)


HOST_TLS_VARS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def driver_env(main, short, certs, client, prefix, control):
    """The driver's environment: endpoints, credentials, and the dev CA as the only trusted root,
    given the way each SDK's TLS stack reads it (doc/server.md "TLS")."""
    ca = str(certs / "ca.pem")
    env = {k: v for k, v in os.environ.items() if k != "SSL_CERT_DIR"}
    # The machine's own trust settings, for the drivers' installs from the registries
    # (test/pip_install.sh puts them back): the dev CA alone cannot verify the registry's proxy.
    env["NOBUS_HOST_TLS_ENV"] = json.dumps({k: os.environ[k] for k in HOST_TLS_VARS
                                            if k in os.environ})
    env.update(NOBUS_ENDPOINT=main.endpoint(), NOBUS_WORKSPACE_URL=main.workspace_url(),
               NOBUS_SHORT_TTL_ENDPOINT=short.endpoint(),
               NOBUS_SHORT_TTL_WORKSPACE_URL=short.workspace_url(),
               NOBUS_CLIENT_ID=client[0], NOBUS_CLIENT_SECRET=client[1], NOBUS_CA_FILE=ca,
               NOBUS_TABLE_PREFIX=prefix,
               NOBUS_CONTROL=f"http://127.0.0.1:{control.server_address[1]}",
               SSL_CERT_FILE=ca, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=ca, REQUESTS_CA_BUNDLE=ca,
               CURL_CA_BUNDLE=ca, NODE_EXTRA_CA_CERTS=ca)
    return env


def create_tables(server, schema, cases):
    for case in cases:
        status, body = call("POST", f"{server.workspace_url()}/api/2.1/unity-catalog/tables", {
            "catalog_name": "sdk", "schema_name": schema, "name": case, "columns": COLUMNS},
            token=ADMIN_TOKEN)
        if status != 200:
            raise RuntimeError(f"create table sdk.{schema}.{case}: {status} {body}")


def run_sdk(sdk, bin_dir, corpus):
    folder, args = SDKS[sdk]
    work = Path(tempfile.mkdtemp(prefix=f"nobus-sdk-{sdk}-"))
    result = {"sdk": sdk, "cases": {}, "info": {}}
    cases = data_cases(sdk)
    if sdk not in EOS_SDKS:
        result["not_applicable"] = {c: "no persistent-stream (exactly-once) API in this SDK"
                                    for c in PERSISTENT_CASES}
    certs = make_certs(bin_dir, work)
    schema = sdk.replace("-", "_")
    client = create_principal(bin_dir, work / "auth", f"sdk-{sdk}", schema)
    server = Nobusd(bin_dir, work / "data", certs, work / "auth")
    short = Nobusd(bin_dir, work / "short", certs, work / "auth",
                   ["--token-ttl-s", str(SHORT_TOKEN_TTL_S)])
    control = Control(single_node_control(server))
    prefix = f"sdk.{schema}."
    try:
        create_tables(server, schema,
                      [c for c in [*cases, "bad_record"] if c not in SHORT_TTL_CASES])
        create_tables(short, schema, SHORT_TTL_CASES)
        env = driver_env(server, short, certs, client, prefix, control)
        lines, code, seconds = run_driver(sdk, folder, args, env)
        result["seconds"] = round(seconds, 1)
        if lines and "sdk" in lines[0]:
            result["info"] = lines.pop(0)
        if result["info"].get("unavailable"):
            # The SDK cannot be installed here (e.g. its registry does not serve it): listed with
            # the reason, no cases run. Not a failure of nobus.
            log(f"{sdk}: not run: {result['info']['unavailable']}")
            server.stop()
            short.stop()
            return result
        by_case = {l["case"]: l for l in lines if "case" in l}
        dup_requests = duplicate_requests(server)  # since the last restart
        exits = {"nobusd": server.stop(), "nobusd with short tokens": short.stop()}
        # Evidence that token_refresh outlived its tokens: nobusd closed its stream on expiry.
        expiries = Path(short.log_path).read_text(errors="replace").count("access token expired")
        bad = [f"{name} exited {code} after SIGTERM (expected 0)"
               for name, code in exits.items() if code != 0]
        if bad:
            result["server_exit"] = "; ".join(bad)
        # Keep the tables for the readers (here: delta-rs + DuckDB; at the end of the run: Spark).
        table_root = corpus / f"sdk-{sdk}"
        shutil.rmtree(table_root, ignore_errors=True)
        for data in ("data", "short"):
            shutil.copytree(work / data / "tables", table_root / "tables", dirs_exist_ok=True)
        expect = {}
        for case in cases:
            line = by_case.get(case)
            if line and line.get("ok"):
                path = str((table_root / "tables" / prefix.replace(".", "/") / case).resolve())
                expect[path] = {"ids": line.get("acked_ids", []), "row": "reading",
                                "unique": case in PERSISTENT_CASES}
        failures, readers = read_tables(expect, table_root) if expect else ({}, {})
        result["readers"] = readers
        for case in [*cases, *ERROR_CASES]:
            line = by_case.get(case)
            if line is None:
                verdict = (False, f"driver printed no result (exit {code})")
            elif case in ERROR_CASES:
                verdict = judge_error_case(case, line, prefix)
            elif not line.get("ok"):
                verdict = (False, line.get("detail", "driver reported failure"))
            else:
                path = str((table_root / "tables" / prefix.replace(".", "/") / case).resolve())
                acked = line.get("acked_ids", [])
                want = set(cases[case])
                if set(acked) != want:
                    verdict = (False, f"driver acked {len(set(acked))} of {len(want)} ids")
                elif failures.get(path):
                    verdict = (False, "; ".join(failures[path])[:2000])
                elif case in SHORT_TTL_CASES and expiries == 0:
                    verdict = (False, "no token expired while the stream was open")
                else:
                    verdict = (True, f"{len(acked)} acked rows read back by delta-rs and DuckDB")
                    if case in SHORT_TTL_CASES:
                        verdict = (True, f"{verdict[1]}; the stream was closed {expiries} times "
                                         "as its token expired and reconnected with a new one")
                    if case in PERSISTENT_CASES:
                        verdict = (True, persistent_detail(verdict[1], line,
                                                           dup_requests.get(prefix + case)))
            result["cases"][case] = {"passed": verdict[0], "detail": verdict[1]}
            log(f"{sdk} {case}: {'PASS' if verdict[0] else 'FAIL'} {verdict[1]}")
    finally:
        control.shutdown()
        for s in (server, short):
            if s.proc.poll() is None:
                s.proc.kill()
        if result.get("server_exit") or not all(c["passed"] for c in result["cases"].values()):
            log(f"{sdk}: nobusd logs kept at {server.log_path} and {short.log_path}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sdk", action="append", choices=sorted(SDKS),
                    help="run only this SDK (repeatable; default: all)")
    ap.add_argument("--bin-dir", default=os.environ.get("NOBUS_BIN_DIR", str(REPO / "build/bin")))
    ap.add_argument("--results", default=str(REPO / "build/sdk-compat/results.json"))
    ap.add_argument("--corpus", default=os.environ.get("NOBUS_READER_CORPUS"),
                    help="where the tables are kept for the end-of-run readers "
                         "(default: <bin-dir>/../reader-corpus, else a temp dir)")
    ap.add_argument("--update-docs", action="store_true",
                    help="rewrite doc/sdk-compat.md and the README table from this run")
    opts = ap.parse_args()
    corpus = Path(opts.corpus or Path(opts.bin_dir).parent / "reader-corpus")
    if not corpus.is_dir():
        corpus = Path(tempfile.mkdtemp(prefix="nobus-sdk-corpus-"))
    results = [run_sdk(sdk, opts.bin_dir, corpus) for sdk in (opts.sdk or SDKS)]
    out = Path(opts.results)
    out.parent.mkdir(parents=True, exist_ok=True)
    run = {"date": time.strftime("%Y-%m-%d"), "results": results}
    out.write_text(json.dumps(run, indent=2))
    out.with_suffix(".md").write_text(compat_table.render_doc(run))
    if opts.update_docs:
        compat_table.update_docs(run, REPO)
    cases = [c for r in results for c in r["cases"].values()]
    passed = sum(c["passed"] for c in cases)
    failed = len(cases) - passed + sum(1 for r in results if r.get("server_exit"))
    for r in results:
        if r.get("server_exit"):
            log(f"{r['sdk']}: {r['server_exit']}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and cases else 1


if __name__ == "__main__":
    sys.exit(main())
