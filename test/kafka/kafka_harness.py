"""Shared pieces of the Kafka-client tests (README.md beside this file): the record every client
sends, the table it lands in, the security variants, running the client programs (kcat, the Java
and franz-go producers), and the exactly-once check of a table with DuckDB and delta-rs.

Every client case writes ids 0..N-1 to a table of its own (`kafka.<client>.<case>`, the topic); a
record's value is `{"id": ID, "tag": "<client>-<case>", "payload": "row-ID-" + 4 x
"0123456789abcdef"}` (the Java and Go programs build the same text)."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import nobusd_process as nb

HERE = Path(__file__).resolve().parent
COLUMNS = [("id", "BIGINT", False), ("tag", "STRING", True), ("payload", "STRING", True)]
COLUMN_NAMES = tuple(c[0] for c in COLUMNS)
N = int(os.environ.get("NOBUS_KAFKA_RECORDS", "2000"))  # records per client case
PROGRAM_TIMEOUT_S = 300
CODECS = ("gzip", "snappy", "lz4", "zstd")

log = nb.log


def payload(i):
    return f"row-{i}-" + "0123456789abcdef" * 4


def row(i, tag):
    return {"id": i, "tag": tag, "payload": payload(i)}


def value(i, tag):
    """The record value, byte for byte what the Java and Go producers send."""
    return json.dumps(row(i, tag), separators=(",", ":")).encode()


def table_name(client, case):
    return f"kafka.{client}.{re.sub(r'[^a-z0-9_]', '_', case.lower())}"


# ---------------------------------------------------------------------------------------------
# Security variants. Each says how nobusd is started and how each client connects; the tests take
# one as the `security` fixture (conftest.py). Only plaintext on loopback today; a SASL variant
# (PLAIN with a token as password, OAUTHBEARER with nobus's tokens) adds a class here and a param
# in conftest.py, and every client case runs under it too.

class Plaintext:
    name = "plaintext"

    def nobusd_args(self):
        return []

    def prepare(self, server):
        """After nobusd started: principals, grants, tokens (nothing for plaintext)."""

    def librdkafka(self):
        """librdkafka properties (kcat -X, confluent-kafka)."""
        return {}

    def kafka_python(self):
        return {}

    def java_args(self):
        return []

    def go_args(self):
        return []


SECURITY_VARIANTS = {"plaintext": Plaintext}


# ---------------------------------------------------------------------------------------------
# Client programs

def run_program(cmd, log_path, stdin_bytes=None, timeout_s=PROGRAM_TIMEOUT_S, env=None):
    """Runs cmd with stderr into log_path; returns (exit code, stdout text, stderr text)."""
    log(f"run: {' '.join(str(c) for c in cmd)}")
    started = time.monotonic()
    with open(log_path, "wb") as err:
        try:
            proc = subprocess.run([str(c) for c in cmd], input=stdin_bytes,
                                  stdout=subprocess.PIPE, stderr=err, timeout=timeout_s,
                                  env=env)
            rc, out = proc.returncode, proc.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            rc, out = "timeout", (e.stdout or b"").decode(errors="replace")
    text = Path(log_path).read_text(errors="replace")
    log(f"  exit {rc} after {time.monotonic() - started:.1f} s")
    return rc, out, text


def last_json_line(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    return None


def tail(text, lines=40, grep=None):
    rows = text.splitlines()
    if grep:
        rows = [r for r in rows if any(g in r for g in grep)]
    return "\n".join(rows[-lines:])


def build_program(kind):
    """Builds the Java or Go producer (run.sh --build); the build's output on failure."""
    script = HERE / kind / "run.sh"
    proc = subprocess.run([str(script), "--build"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=1200)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} --build failed ({proc.returncode}):\n"
                           f"{proc.stdout.decode(errors='replace')[-4000:]}")


def producer_program(kind, bootstrap, security, topic, tag, count, options, log_path):
    """Runs test/kafka/{java,go}/run.sh; returns (exit code, result dict or None, stderr)."""
    extra = security.java_args() if kind == "java" else security.go_args()
    cmd = [HERE / kind / "run.sh", "--bootstrap", bootstrap, "--topic", topic,
           "--tag", tag, "--first", "0", "--count", str(count)]
    for k, v in options.items():
        cmd += [f"--{k}", str(v)]
    rc, out, err = run_program(cmd + extra, log_path)
    return rc, last_json_line(out), err


# ---------------------------------------------------------------------------------------------
# Checks

def server_log(server, lines=60):
    return tail(server.log_text(), lines)


def kafka_log(server, lines=60):
    return tail(server.log_text(), lines, grep=("kafka", "Kafka", "error", "ERROR", "warn", "WARN"))


def expect_wire(tap, topic, codec, idempotent, count, what):
    """What the client sent for `topic`, read off the wire by the tap: RecordBatch v2 only, every
    batch in `codec`, producer ids (>= 0) exactly when idempotent (Kafka's hasProducerId()), and
    at least `count` records (more only if the client retried)."""
    summary = tap.summary(topic)
    log(f"{what}: on the wire {summary}")
    batches = tap.produce_batches(topic)
    assert batches and not tap.parse_errors, f"{what}: the tap read no Produce batches: {summary}"
    assert {b["magic"] for b in batches} == {2}, f"{what}: not RecordBatch v2: {summary}"
    assert {b["codec"] for b in batches} == {codec}, f"{what}: expected codec {codec}: {summary}"
    pids = {b["producer_id"] for b in batches}
    if idempotent:
        assert all(p >= 0 for p in pids), f"{what}: batches without a producer id: {summary}"
    else:
        assert pids == {-1}, f"{what}: a non-idempotent producer sent producer ids: {summary}"
    assert summary["records"] >= count, f"{what}: fewer records on the wire than sent: {summary}"


def check_offsets(offsets, what):
    """Offsets in id order (one producer, one partition, sent in order): each acknowledged record
    has one, and they grow strictly (doc/kafka.md: not dense)."""
    bad = [(i, o) for i, o in enumerate(offsets) if o is None or o < 0]
    assert not bad, f"{what}: records acknowledged without an offset (id, offset): {bad[:10]}"
    down = [(i, offsets[i - 1], offsets[i]) for i in range(1, len(offsets))
            if offsets[i] <= offsets[i - 1]]
    assert not down, (f"{what}: offsets not strictly increasing in send order "
                      f"(id, previous, this): {down[:10]}")


def table_ids(server, table, reader):
    root = server.table_root(table)
    if reader == "duckdb":
        return nb.read_rows_duckdb(root, COLUMN_NAMES)
    return nb.read_rows_deltalake(root, COLUMN_NAMES)


def describe_ids(ids, expected):
    counts = {}
    for i in ids:
        counts[i] = counts.get(i, 0) + 1
    missing = sorted(set(expected) - set(counts))
    extra = sorted(set(counts) - set(expected))
    dups = sorted(i for i, c in counts.items() if c > 1)
    return (f"{len(ids)} rows, {len(counts)} distinct ids; missing {len(missing)} "
            f"{missing[:10]}; unexpected {len(extra)} {extra[:10]}; duplicated {len(dups)} "
            f"{dups[:10]}")


def expect_table(server, table, rows_by_id, timeout_s=60):
    """Waits until both readers see at least len(rows_by_id) rows of `table` while nobusd runs,
    then stops nobusd (SIGTERM: everything acked is committed) and checks, with DuckDB and
    delta-rs, that the table holds every expected id exactly once with the expected row."""
    expected = set(rows_by_id)
    for reader in ("duckdb", "deltalake"):
        try:
            nb.wait_for(lambda: len(table_ids(server, table, reader)) >= len(expected),
                        timeout_s, f"{len(expected)} rows of {table} in {reader}")
        except AssertionError as e:
            try:
                got = [r["id"] for r in table_ids(server, table, reader)]
                detail = describe_ids(got, expected)
            except Exception as read_error:  # noqa: BLE001
                detail = f"unreadable: {read_error!r}"
            raise AssertionError(f"{e}\n{reader}: {detail}\nnobusd log:\n{kafka_log(server)}")
    code = server.stop()
    assert code == 0, f"nobusd exit code {code} on SIGTERM; log:\n{server_log(server)}"
    for reader in ("duckdb", "deltalake"):
        rows = table_ids(server, table, reader)
        ids = [r["id"] for r in rows]
        assert sorted(ids) == sorted(expected), (
            f"{table} read by {reader}: {describe_ids(ids, expected)}\n"
            f"nobusd log:\n{kafka_log(server)}")
        wrong = [r for r in rows if r != rows_by_id[r["id"]]]
        assert not wrong, f"{table} read by {reader}: rows not as sent: {wrong[:3]}"
