"""The Python side of the nobusd test harness (the C++ one is nobusd_process.h): real nobusd
processes on loopback, a raw gRPC Zerobus client on stubs generated from proto/ at test time, and
two readers of the Delta tables nobusd wrote. Used by persistent_wire_test.py and
test/crash/persistent_kill_loop.py; run through run_python.sh (the venv of requirements.txt).

- load_stubs(): grpcio-tools' protoc compiles proto/databricks/zerobus/zerobus.proto into
  $NOBUS_PY_GEN_DIR (default <bin dir>/../python-gen, i.e. build/python-gen), one folder per proto
  content, made atomically (concurrent tests share it); nothing is generated into the repo.
- Nobusd: `nobusd --data-dir D --grpc-listen 127.0.0.1:0 --http-listen 127.0.0.1:0
  --flush-interval-ms 1000` (plus `--kafka-listen 127.0.0.1:0` when this nobusd has the Kafka
  endpoint: never the default port 9092, which concurrent tests would share; and
  `--mqtt-listen 127.0.0.1:0` when the test asks for the MQTT endpoint, mqtt=True: never the
  default 1883; without mqtt= the flag is not passed, and nobusd skips its default port with a
  warning when another process has it), its "nobusd listening grpc=... http=... [kafka=...]
  [mqtt=...]" line (stdout goes to a file), /healthz; kill() is SIGKILL, restart() comes back on
  the same data dir and ports; kafka_address / mqtt_address are "" without the endpoint;
  `token`, when set, goes with every http() request as a bearer token (a node with auth on).
- Call: one bidi call (PersistentStream or EphemeralStream) on a connection of its own; requests
  are queued, responses read by a thread, the final status kept.
- Tables: read_rows_duckdb() replays the Delta log itself (JSON commits, or the last checkpoint
  read with pyarrow, then the JSON commits after it) and reads the live files with DuckDB's
  read_parquet; read_rows_deltalake() uses delta-rs. delta_txns() gives the txn actions of the
  latest snapshot (appId -> version).
"""
import hashlib
import json
import os
import queue
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # no gRPC core chatter (GOAWAY on a kill)
import grpc  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("NOBUS_BIN_DIR") or REPO / "build" / "bin").resolve()
PROTO_ROOT = REPO / "proto"
PROTO_FILE = "databricks/zerobus/zerobus.proto"

_stubs = None


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load_stubs():
    """(zerobus_pb2, zerobus_pb2_grpc), generated from the repo's proto into the build dir."""
    global _stubs
    if _stubs is not None:
        return _stubs
    import grpc_tools

    source = (PROTO_ROOT / PROTO_FILE).read_bytes()
    digest = hashlib.sha256(source + grpc_tools.__file__.encode()).hexdigest()[:16]
    gen_root = Path(os.environ.get("NOBUS_PY_GEN_DIR") or BIN_DIR.parent / "python-gen")
    out = gen_root / f"zerobus-{digest}"
    if not (out / "databricks/zerobus/zerobus_pb2_grpc.py").exists():
        gen_root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=gen_root, prefix=".tmp-"))
        # `python -m grpc_tools.protoc` adds the bundled well-known protos (duration.proto).
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}",
                        f"--python_out={tmp}", f"--grpc_python_out={tmp}", PROTO_FILE],
                       check=True)
        try:
            os.rename(tmp, out)
        except OSError:  # another test made it meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
    sys.path.insert(0, str(out))
    from databricks.zerobus import zerobus_pb2, zerobus_pb2_grpc  # noqa: E402

    _stubs = (zerobus_pb2, zerobus_pb2_grpc)
    return _stubs


# ---------------------------------------------------------------------------------------------
# nobusd

class Nobusd:
    """One nobusd process on loopback, plaintext, no auth config (loopback needs none)."""

    def __init__(self, data_dir, flush_interval_ms=1000, extra_args=(), start=True, kafka=None,
                 ca_file=None, mqtt=None):
        """kafka: True serves the Kafka endpoint on a port of its own (an error when this nobusd
        has none), False turns it off, None (default): on when this nobusd has it. mqtt: True
        serves the MQTT endpoint on a port of its own (an error when this nobusd has none), False
        turns it off (`--mqtt-listen ""`), None (default): no flag, nobusd's own default (its
        mqtt_address is then what the listening line says, "" when it printed none). ca_file: the
        node serves TLS (its --tls-cert among extra_args or in its config file) with a
        certificate from this CA; http() then speaks https and checks it."""
        self.data_dir = Path(data_dir)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.nobusd.log"
        self.flush_interval_ms = flush_interval_ms
        self.extra_args = list(extra_args)
        self.grpc_address, self.http_address = "127.0.0.1:0", "127.0.0.1:0"
        if kafka is None:
            kafka = has_kafka_endpoint()
        elif kafka and not has_kafka_endpoint():
            raise RuntimeError(f"{BIN_DIR / 'nobusd'} has no --kafka-listen (no Kafka endpoint)")
        self.kafka = kafka
        self.kafka_address = "127.0.0.1:0" if kafka else ""
        if mqtt and not has_mqtt_endpoint():
            raise RuntimeError(f"{BIN_DIR / 'nobusd'} has no --mqtt-listen (no MQTT endpoint)")
        self.mqtt = mqtt
        self.mqtt_address = "127.0.0.1:0" if mqtt else ""
        self.proc = None
        self.starts = 0
        self.token = None  # sent as `authorization: Bearer` by http() when set (auth-on nodes)
        self.ssl_context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
        if start:
            self.start()

    def start(self, timeout_s=60):
        self.starts += 1
        stdout_path = self.data_dir.parent / f"{self.data_dir.name}.stdout.{self.starts}"
        with open(self.log_path, "a") as err, open(stdout_path, "w") as out:
            err.write(f"==== test harness: start #{self.starts} at {time.strftime('%H:%M:%S')}\n")
            err.flush()
            self.proc = subprocess.Popen(
                [str(BIN_DIR / "nobusd"), "--data-dir", str(self.data_dir),
                 "--grpc-listen", self.grpc_address, "--http-listen", self.http_address,
                 "--flush-interval-ms", str(self.flush_interval_ms), *self._kafka_args(),
                 *self._mqtt_args(), *self.extra_args],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        line = None
        while time.monotonic() < deadline:
            text = stdout_path.read_text(errors="replace")
            for candidate in text.splitlines(keepends=True):
                if candidate.startswith("nobusd listening ") and candidate.endswith("\n"):
                    line = candidate
            if line or self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if not line:
            raise RuntimeError(f"nobusd printed no listening line (exit {self.proc.poll()}); "
                               f"log:\n{self.log_tail()}")
        fields = dict(p.split("=", 1) for p in line.split()[2:] if "=" in p)
        self.grpc_address, self.http_address = fields["grpc"], fields["http"]
        if self.kafka:
            if "kafka" not in fields:
                raise RuntimeError(f"nobusd listening line without kafka=: {line.strip()}")
            self.kafka_address = fields["kafka"]
        if self.mqtt:
            if "mqtt" not in fields:
                raise RuntimeError(f"nobusd listening line without mqtt=: {line.strip()}")
            self.mqtt_address = fields["mqtt"]
        elif self.mqtt is None:
            self.mqtt_address = fields.get("mqtt", "")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nobusd exited {self.proc.returncode} while starting; "
                                   f"log:\n{self.log_tail()}")
            try:
                if self.http("GET", "/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.025)
        raise RuntimeError(f"nobusd never became healthy; log:\n{self.log_tail()}")

    def _kafka_args(self):
        if not has_kafka_endpoint():
            return []  # an older nobusd: no such flag
        return ["--kafka-listen", self.kafka_address if self.kafka else ""]

    def _mqtt_args(self):
        if self.mqtt is None:
            return []  # nobusd's default (and an older nobusd has no such flag)
        if not self.mqtt and not has_mqtt_endpoint():
            return []  # off: an older nobusd has no MQTT endpoint at all
        return ["--mqtt-listen", self.mqtt_address if self.mqtt else ""]

    def kill(self):
        """SIGKILL (a crash: nothing flushed or drained) and reap."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def restart(self):
        """SIGKILL, then start again on the same data dir and ports."""
        self.kill()
        self.start()

    def stop(self, timeout_s=60):
        """SIGTERM (drain, commit everything); returns the exit code."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines=40, grep=None):
        return tail(self.log_text(), lines, grep)

    def url(self, path):
        """The HTTP API's URL of `path` (https on a TLS node)."""
        return f"{'https' if self.ssl_context else 'http'}://{self.http_address}{path}"

    def http(self, method, path, body=None, timeout=30):
        """(status, parsed JSON body, or {"raw": text} when not JSON)."""
        if body is not None:
            data = json.dumps(body).encode()
        else:
            data = b"" if method == "POST" else None  # a POST always has a body (doc/server.md)
        req = urllib.request.Request(self.url(path), data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if self.token:
            req.add_header("authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw or b"{}")
        except ValueError:
            return status, {"raw": raw.decode(errors="replace")}

    def create_table(self, full_name, columns):
        """POST /api/2.1/unity-catalog/tables; columns: [(name, type_text, nullable), ...]."""
        catalog, schema, name = full_name.split(".")
        status, body = self.http("POST", "/api/2.1/unity-catalog/tables", {
            "catalog_name": catalog, "schema_name": schema, "name": name,
            "columns": [{"name": n, "type_text": t, "nullable": nullable}
                        for n, t, nullable in columns]})
        if status != 200:
            raise RuntimeError(f"create table {full_name}: {status} {body}")
        return body

    def set_properties(self, full_name, properties):
        """POST /admin/v1/tables/{name}/properties; returns (status, body)."""
        return self.http("POST", f"/admin/v1/tables/{full_name}/properties",
                         {"properties": properties})

    def metrics(self):
        status, body = self.http("GET", "/metrics")
        if status != 200:
            raise RuntimeError(f"GET /metrics: {status} {body}")
        return body["raw"]

    def metric(self, name, labels=None):
        """Sum of the samples of `name` whose labels include `labels` (0 if none)."""
        return metric_value(self.metrics(), name, labels)

    def table_root(self, full_name):
        return table_root(self.data_dir, full_name)

    def wal_segments(self):
        wal = self.data_dir / "wal"
        if not wal.is_dir():
            return []
        return sorted(p.name for p in wal.iterdir() if p.name.endswith(".wal"))

    def channel(self):
        """A channel on a connection of its own (a fresh subchannel pool)."""
        return new_channel(self.grpc_address)


_help_texts = {}


def _nobusd_help():
    """`nobusd --help` of this build's nobusd (cached per binary and mtime), "" without one."""
    binary = BIN_DIR / "nobusd"
    try:
        key = (str(binary), binary.stat().st_mtime_ns)
    except OSError:
        return ""
    if key not in _help_texts:
        out = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=60)
        _help_texts[key] = out.stdout + out.stderr
    return _help_texts[key]


def has_kafka_endpoint():
    """Whether this build's nobusd has the Kafka endpoint (`--kafka-listen` in its --help)."""
    return "--kafka-listen" in _nobusd_help()


def has_mqtt_endpoint():
    """Whether this build's nobusd has the MQTT endpoint (`--mqtt-listen` in its --help)."""
    return "--mqtt-listen" in _nobusd_help()


def new_channel(address):
    return grpc.insecure_channel(address, options=[
        ("grpc.use_local_subchannel_pool", 1),
        ("grpc.max_receive_message_length", -1),
        ("grpc.max_send_message_length", -1),
        ("grpc.enable_retries", 0)])


def metric_value(text, name, labels=None):
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, label_text = head.partition("{")
        if metric != name:
            continue
        have = {}
        for part in label_text.rstrip("}").split(","):
            if "=" in part:
                k, v = part.split("=", 1)
                have[k.strip()] = v.strip().strip('"')
        if all(have.get(k) == v for k, v in (labels or {}).items()):
            total += float(value)
    return total


# ---------------------------------------------------------------------------------------------
# gRPC calls

class Ended(Exception):
    """The call ended; code and details of its final status."""

    def __init__(self, code, details):
        super().__init__(f"{code.name}: {details}")
        self.code, self.details = code, details


_END = object()


class Call:
    """One bidi streaming call on its own connection. send() queues a request; next() returns the
    next response or raises Ended; every ack is also kept in `acks`."""

    def __init__(self, address, method="PersistentStream", metadata=None, on_ack=None):
        _, pb_grpc = load_stubs()
        self.channel = new_channel(address)
        stub = pb_grpc.ZerobusStub(self.channel)
        self._requests = queue.Queue()
        self._responses = queue.Queue()
        self.acks = []
        self.ended = None
        self.sent = []
        self._on_ack = on_ack  # called on the reader thread with each ack offset
        self.call = getattr(stub, method)(self._request_iter(), metadata=metadata)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _request_iter(self):
        while True:
            r = self._requests.get()
            if r is _END:
                return
            yield r

    def _read(self):
        try:
            for response in self.call:
                if response.WhichOneof("payload") == "ingest_record_response":
                    ack = response.ingest_record_response.durability_ack_up_to_offset
                    self.acks.append(ack)
                    if self._on_ack is not None:
                        self._on_ack(ack)
                self._responses.put(response)
            ended = Ended(self.call.code(), self.call.details())
        except grpc.RpcError as e:
            ended = Ended(e.code(), e.details())
        except Exception as e:  # noqa: BLE001
            ended = Ended(grpc.StatusCode.UNKNOWN, f"client reader: {e!r}")
        self._responses.put(ended)

    def send(self, request):
        self.sent.append(request)
        self._requests.put(request)

    def half_close(self):
        self._requests.put(_END)

    def next(self, timeout=30):
        if self.ended is not None:
            raise self.ended
        try:
            item = self._responses.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no response within {timeout} s") from None
        if isinstance(item, Ended):
            self.ended = item
            raise item
        return item

    def expect(self, kind, timeout=30):
        """The next response, which must be of oneof kind `kind`."""
        response = self.next(timeout)
        got = response.WhichOneof("payload")
        if got != kind:
            raise AssertionError(f"expected {kind}, got {got}: {response}")
        return getattr(response, kind)

    def max_ack(self):
        return max(self.acks, default=-1)

    def wait_ack(self, offset, timeout=30):
        """Reads responses until a cumulative ack >= offset; returns it (Ended, TimeoutError)."""
        deadline = time.monotonic() + timeout
        while self.max_ack() < offset:
            self.next(max(0.01, deadline - time.monotonic()))
        return self.max_ack()

    def wait_end(self, timeout=30):
        """Reads (and drops) responses until the call ends; returns the Ended status."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.next(max(0.01, deadline - time.monotonic()))
            except Ended as e:
                return e

    def cancel(self):
        self.call.cancel()
        self.half_close()

    def close(self):
        self.cancel()
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# Request builders (JSON record type).

def pb():
    return load_stubs()[0]


def p_create(table, record_type=None):
    m = pb()
    create = m.CreateIngestStreamRequest(table_name=table,
                                         record_type=m.JSON if record_type is None else record_type)
    return m.PersistentStreamRequest(
        create_stream=m.CreatePersistentStreamRequest(create_stream=create))


def p_resume(stream_id, record_type=None):
    m = pb()
    return m.PersistentStreamRequest(resume_stream=m.ResumeIngestStreamRequest(
        stream_id=stream_id, record_type=m.JSON if record_type is None else record_type))


def p_record(offset, row):
    m = pb()
    return m.PersistentStreamRequest(ingest_record=m.IngestRecordRequest(
        offset_id=offset, json_record=json.dumps(row)))


def p_batch(offset, rows):
    m = pb()
    return m.PersistentStreamRequest(ingest_record_batch=m.IngestRecordBatchRequest(
        offset_id=offset, json_batch=m.JsonRecordBatch(records=[json.dumps(r) for r in rows])))


def e_create(table, stream_id=None):
    m = pb()
    create = m.CreateIngestStreamRequest(table_name=table, record_type=m.JSON)
    if stream_id is not None:
        create.stream_id = stream_id
    return m.EphemeralStreamRequest(create_stream=create)


def e_record(offset, row):
    m = pb()
    return m.EphemeralStreamRequest(ingest_record=m.IngestRecordRequest(
        offset_id=offset, json_record=json.dumps(row)))


def e_batch(offset, rows):
    m = pb()
    return m.EphemeralStreamRequest(ingest_record_batch=m.IngestRecordBatchRequest(
        offset_id=offset, json_batch=m.JsonRecordBatch(records=[json.dumps(r) for r in rows])))


def retire(address, table, stream_id, timeout=30):
    """RetireStream; returns (code, details)."""
    m, pb_grpc = load_stubs()
    channel = new_channel(address)
    try:
        pb_grpc.ZerobusStub(channel).RetireStream(
            m.RetireStreamRequest(table_name=table, stream_id=stream_id), timeout=timeout)
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as e:
        return e.code(), e.details()
    finally:
        channel.close()


# ---------------------------------------------------------------------------------------------
# The record of the protocol-client tests (test/kafka, test/mqtt, test/mqtt/node and their kill
# loops): table `id BIGINT NOT NULL, tag STRING, payload STRING`, a message or record value of
# `{"id":ID,"tag":TAG,"payload":"row-ID-" + 4 x "0123456789abcdef"}` in compact JSON, byte for
# byte what the Java, Go and Node programs of those tests build.

RECORD_COLUMNS = [("id", "BIGINT", False), ("tag", "STRING", True), ("payload", "STRING", True)]
RECORD_COLUMN_NAMES = tuple(c[0] for c in RECORD_COLUMNS)


def record_payload(i):
    return f"row-{i}-" + "0123456789abcdef" * 4


def record_row(i, tag):
    return {"id": i, "tag": tag, "payload": record_payload(i)}


def record_value(i, tag):
    """The message / record value of id i: its row as one compact JSON object."""
    return json.dumps(record_row(i, tag), separators=(",", ":")).encode()


# ---------------------------------------------------------------------------------------------
# Tables

def table_root(data_dir, full_name):
    return Path(data_dir) / "tables" / Path(*full_name.lower().split("."))


def _checkpoint_actions(path):
    """add/remove/txn actions of a (single- or multi-part) checkpoint, read with pyarrow."""
    import pyarrow.parquet as pq

    actions = []
    present = set(pq.read_schema(path).names)
    columns = [c for c in ("add", "remove", "txn") if c in present]
    for row in pq.read_table(path, columns=columns).to_pylist():
        for kind in ("add", "remove", "txn"):
            if row.get(kind):
                actions.append({kind: row[kind]})
    return actions


def delta_snapshot(root):
    """The latest snapshot from the Delta log: (version, {live file path: add}, {appId: version}).
    Replays the JSON commits from the last checkpoint (or from 0)."""
    log_dir = Path(root) / "_delta_log"
    commits = {}
    checkpoints = {}
    for p in log_dir.iterdir():
        name = p.name
        if name.endswith(".json") and name[:20].isdigit() and len(name) == 25:
            commits[int(name[:20])] = p
        elif ".checkpoint" in name and name.endswith(".parquet"):
            checkpoints.setdefault(int(name[:20]), []).append(p)
    if not commits and not checkpoints:
        raise FileNotFoundError(f"no Delta commits in {log_dir}")
    latest = max([*commits, *checkpoints])
    start = 0
    files, txns = {}, {}

    def apply(action):
        if "add" in action:
            files[urllib.parse.unquote(action["add"]["path"])] = action["add"]
        elif "remove" in action:
            files.pop(urllib.parse.unquote(action["remove"]["path"]), None)
        elif "txn" in action:
            txns[action["txn"]["appId"]] = int(action["txn"]["version"])

    if 0 not in commits or any(v not in commits for v in range(latest + 1)):
        usable = [v for v in checkpoints if all(c in commits for c in range(v + 1, latest + 1))]
        if not usable:
            raise RuntimeError(f"{log_dir}: neither a complete commit sequence nor a checkpoint")
        cp = max(usable)
        for part in sorted(checkpoints[cp]):
            for action in _checkpoint_actions(part):
                apply(action)
        start = cp + 1
    for v in range(start, latest + 1):
        for line in commits[v].read_text().splitlines():
            if line.strip():
                apply(json.loads(line))
    return latest, files, txns


def delta_txns(root):
    return delta_snapshot(root)[2]


def read_rows_duckdb(root, columns=("id", "off", "note")):
    """The rows of the latest snapshot: the live files from our own log replay, each read by
    DuckDB's read_parquet. A list of dicts."""
    import duckdb

    _, files, _ = delta_snapshot(root)
    if not files:
        return []
    con = duckdb.connect()
    try:
        paths = [str(Path(root) / f) for f in sorted(files)]
        cols = ", ".join(f'"{c}"' for c in columns)
        rel = con.execute(f"SELECT {cols} FROM read_parquet(?, union_by_name = true)", [paths])
        names = [d[0] for d in rel.description]
        return [dict(zip(names, r)) for r in rel.fetchall()]
    finally:
        con.close()


def read_rows_deltalake(root, columns=("id", "off", "note")):
    """The rows of the latest snapshot read by delta-rs. A list of dicts."""
    from deltalake import DeltaTable

    return DeltaTable(str(root)).to_pyarrow_table(columns=list(columns)).to_pylist()


def deltalake_txn(root, app_id):
    from deltalake import DeltaTable

    return DeltaTable(str(root)).transaction_version(app_id)


def tail(text, lines=40, grep=None):
    """The last `lines` lines of `text` (only those holding one of `grep`, when given)."""
    rows = text.splitlines()
    if grep:
        rows = [r for r in rows if any(g in r for g in grep)]
    return "\n".join(rows[-lines:])


def describe_ids(ids, expected):
    """What a table's ids are against the expected ones: missing, unexpected, duplicated."""
    counts = {}
    for i in ids:
        counts[i] = counts.get(i, 0) + 1
    missing = sorted(set(expected) - set(counts))
    extra = sorted(set(counts) - set(expected))
    dups = sorted(i for i, c in counts.items() if c > 1)
    return (f"{len(ids)} rows, {len(counts)} distinct ids; missing {len(missing)} "
            f"{missing[:10]}; unexpected {len(extra)} {extra[:10]}; duplicated {len(dups)} "
            f"{dups[:10]}")


def read_table(server, table, reader, columns):
    """The rows of `table` read by "duckdb" (our log replay + read_parquet) or delta-rs."""
    read = read_rows_duckdb if reader == "duckdb" else read_rows_deltalake
    return read(server.table_root(table), columns)


def expect_tables(server, expected_tables, columns, log=None, timeout_s=60):
    """{table: {id: row}} (rows as dicts of `columns`; an empty dict: the table must hold no
    row): waits until DuckDB and delta-rs each see at least as many rows as expected while nobusd
    runs, then stops nobusd (SIGTERM: everything acknowledged is committed) and checks with both
    readers that each table holds every expected id exactly once, each row as sent, and nothing
    else. `log()` gives the nobusd log lines a failure shows (default: its last 60)."""
    log = log or (lambda: server.log_tail(60))
    for table, rows_by_id in expected_tables.items():
        for reader in ("duckdb", "deltalake"):
            if not rows_by_id:
                continue
            try:
                wait_for(lambda: len(read_table(server, table, reader, columns)) >= len(rows_by_id),
                         timeout_s, f"{len(rows_by_id)} rows of {table} in {reader}")
            except AssertionError as e:
                try:
                    detail = describe_ids(
                        [r["id"] for r in read_table(server, table, reader, columns)], rows_by_id)
                except Exception as read_error:  # noqa: BLE001
                    detail = f"unreadable: {read_error!r}"
                raise AssertionError(f"{e}\n{reader}: {detail}\nnobusd log:\n{log()}") from None
    code = server.stop()
    assert code == 0, f"nobusd exit code {code} on SIGTERM; log:\n{server.log_tail(60)}"
    for table, rows_by_id in expected_tables.items():
        for reader in ("duckdb", "deltalake"):
            try:
                rows = read_table(server, table, reader, columns)
            except Exception:  # noqa: BLE001
                if rows_by_id:
                    raise
                rows = []  # an empty table may have no data files (or no commit) at all
            ids = [r["id"] for r in rows]
            assert sorted(ids) == sorted(rows_by_id), (
                f"{table} read by {reader}: {describe_ids(ids, rows_by_id)}\nnobusd log:\n{log()}")
            wrong = [r for r in rows if r != rows_by_id[r["id"]]]
            assert not wrong, f"{table} read by {reader}: rows not as sent: {wrong[:3]}"


def wait_for(predicate, timeout_s, what, poll_s=0.1):
    """Polls predicate() until it returns a truthy value; returns it. On timeout raises
    AssertionError naming `what` and the last value or error."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except (FileNotFoundError, OSError, RuntimeError, ValueError) as e:
            last = f"{type(e).__name__}: {e}"
        except Exception as e:  # noqa: BLE001 (duckdb/pyarrow errors of a half-written table)
            last = f"{type(e).__name__}: {e}"
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; last: "
                                 f"{str(last)[:2000]}")
        time.sleep(poll_s)


def verdict(failures, work, keep, kept, log_title, log_text):
    """How a kill loop ends: with failures, logs each, what was `kept` (work dir, logs) and the
    nobusd log excerpt, prints "0 passed, 1 failed" and returns 1; otherwise removes `work`
    (unless keep), prints "1 passed, 0 failed" and returns 0."""
    if failures:
        for f in failures:
            log(f"FAIL: {f}")
        log(f"kept {work} ({kept})")
        log(f"{log_title}:\n{log_text}")
        print("0 passed, 1 failed")
        return 1
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    print("1 passed, 0 failed")
    return 0


def keep_tables_for_readers(data_dir, label):
    """Copies every Delta table under data_dir/tables into the reader corpus
    ($NOBUS_READER_CORPUS, else <bin dir>/../reader-corpus when it exists), like
    test/delta/table_reader.h KeepTablesForReaders: the reference readers read them at the end."""
    corpus = Path(os.environ.get("NOBUS_READER_CORPUS") or BIN_DIR.parent / "reader-corpus")
    tables = Path(data_dir) / "tables"
    if not corpus.is_dir() or not tables.is_dir():
        return
    into = corpus / f"{label}-{os.getpid()}-{time.monotonic_ns()}"
    for log_dir in tables.rglob("_delta_log"):
        table = log_dir.parent
        if any(part.startswith(".") for part in table.relative_to(tables).parts):
            continue
        try:
            shutil.copytree(table, into / table.relative_to(tables))
        except OSError as e:
            log(f"reader corpus: cannot copy {table}: {e}")
