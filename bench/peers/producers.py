"""Producer harness of bench/peers/run.sh: N synchronous producers against one system, then what
landed; and the report (markdown tables, chart) over a run's cells.

  producers.py cell --system SYSTEM --n N --mode single|batch [target options] --out FILE
  producers.py report --results DIR

A cell: N producers, each with its own connection (gRPC stream, HTTP keep-alive connection,
PostgreSQL connection, Kafka producer instance, or nothing for delta-rs), send the same ~1 KB JSON
events in the append-only pattern, synchronously: build the request (1 event, or --batch events),
send it, wait until the system says it is durable (its ack), record the latency, repeat, for
--seconds. The producers are threads spread over --procs worker processes (spawned, not forked):
every client library here waits for its ack outside the GIL (the Rust core of the Zerobus SDK and of
delta-rs, libpq, librdkafka, sockets), so threads run their requests concurrently, and the worker
processes keep one GIL from capping the Python side at one core; 256 processes would cost GBs for
nothing. Client and server share the machine's cores.

Counted: requests and records acked before the deadline (records/s, MB/s of the JSON events),
latency (request built to ack, every request that completed, also those that finished after the
deadline), errors (and their first messages), the server's CPU seconds over the timed window and
its peak memory (the proportional set size summed over the server's processes, sampled every
0.25 s), the producers' own CPU and peak RSS. Then what landed: for the Delta systems the rows in
the table (read with delta-rs) against the records acked, the distinct ids, when the last acked
record was visible in a committed Delta version (the commit file's mtime minus the last ack), and
the commits and data files the table got (its _delta_log); for PostgreSQL the table's rows, for
Kafka the topic's high watermark. One JSON line per cell is appended to --out.
"""
import argparse
import array
import json
import math
import multiprocessing as mp
import os
import queue
import random
import signal
import socket
import sys
import threading
import time
import urllib.request

SYSTEMS = {
    "nobus-grpc": "nobus, Zerobus SDK (gRPC)",
    "nobus-rest": "nobus, REST insert",
    "delta-rs": "delta-rs direct appends",
    "postgres": "PostgreSQL",
    "kafka": "Kafka (no fsync)",
    "kafka-fsync": "Kafka (fsync per append)",
}
RECORD_BYTES = 1000  # the JSON event, about
TS0 = 1767225600000000  # 2026-01-01T00:00:00Z in microseconds


# -- the events --------------------------------------------------------------------------------
def payloads():
    """1,000 different payloads (alphanumeric: no JSON escaping), the same in every process."""
    rnd = random.Random(12345)
    abc = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    size = RECORD_BYTES - len('{"id":10000000000,"producer":1,"ts":1767225600000000,"payload":""}')
    return ["".join(rnd.choice(abc) for _ in range(size)) for _ in range(1000)]


class Events:
    """A producer's events: id = (producer + 1) * 10^9 + sequence, ts = now (microseconds)."""

    def __init__(self, producer, pool):
        self.producer = producer
        self.pool = pool
        self.seq = 0

    def take(self, count):
        """(ids, ts, payloads) of the next `count` events."""
        base = (self.producer + 1) * 1_000_000_000 + self.seq
        self.seq += count
        ts = time.time_ns() // 1000
        ids = list(range(base, base + count))
        return ids, ts, [self.pool[i % len(self.pool)] for i in ids]

    def json(self, ids, ts, pays):
        p = self.producer
        return [f'{{"id":{i},"producer":{p},"ts":{ts},"payload":"{s}"}}' for i, s in zip(ids, pays)]


# -- the sinks: one per system, one instance per producer ---------------------------------------
class GrpcSink:
    """nobusd through the official Python SDK: one stream per producer (the SDK's default: its own
    HTTP/2 connection), JSON records; ingest_record_offset / ingest_records_offset, then
    wait_for_offset (returns once nobusd acked the offset: after the WAL's fdatasync)."""
    sdk = None
    lock = threading.Lock()

    def __init__(self, args, producer):
        from zerobus.sdk.shared import RecordType, StreamConfigurationOptions, TableProperties
        from zerobus.sdk.sync import HeadersProvider, ZerobusSdk

        class Headers(HeadersProvider):  # nobusd's static token (its "simple mode")
            def get_headers(self):
                return [("authorization", f"Bearer {args.token}"),
                        ("x-databricks-zerobus-table-name", args.table)]

        with GrpcSink.lock:
            if GrpcSink.sdk is None:
                GrpcSink.sdk = ZerobusSdk(f"http://{args.grpc}", f"http://{args.http}",
                                          application_name="nobus-peers-bench")
        self.stream = GrpcSink.sdk.create_stream(
            table_properties=TableProperties(args.table),
            options=StreamConfigurationOptions(record_type=RecordType.JSON),
            headers_provider=Headers())
        self.events = None

    def send(self, ev, ids, ts, pays):
        recs = ev.json(ids, ts, pays)
        if len(recs) == 1:
            offset = self.stream.ingest_record_offset(recs[0])
        else:
            offset = self.stream.ingest_records_offset(recs)
        self.stream.wait_for_offset(offset)

    def close(self):
        self.stream.close()


class RestSink:
    """nobusd's REST insert: POST /zerobus/v1/tables/<table>/insert with a JSON array, one HTTP/1.1
    keep-alive connection per producer; 200 = durable (after the WAL's fdatasync). The client is
    a minimal HTTP/1.1 one on a socket (the request in one send, the answer read by its
    Content-Length): Python's http.client spends more CPU per request than nobusd does (at 16
    producers it capped the cell at ~4,000 requests/s where this client reached ~9,600)."""

    def __init__(self, args, producer):
        self.host, port = args.http.rsplit(":", 1)
        self.port = int(port)
        self.head = (f"POST /zerobus/v1/tables/{args.table}/insert HTTP/1.1\r\n"
                     f"Host: {args.http}\r\nContent-Type: application/json\r\n"
                     f"Authorization: Bearer {args.token}\r\nContent-Length: ").encode()
        self.sock = None
        self.connect()

    def connect(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = socket.create_connection((self.host, self.port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def response(self):
        """(status, body) of the next answer on the connection."""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("nobusd closed the connection")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, close = None, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
            elif name == b"transfer-encoding":
                raise RuntimeError("chunked answer: not handled by this client")
        if length is None:
            raise RuntimeError(f"answer {status} without Content-Length")
        while len(self.buf) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("nobusd closed the connection")
            self.buf += chunk
        body, self.buf = self.buf[:length], self.buf[length:]
        if close:
            self.connect()
        return status, body

    def send(self, ev, ids, ts, pays):
        body = ("[" + ",".join(ev.json(ids, ts, pays)) + "]").encode()
        try:
            self.sock.sendall(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status, text = self.response()
        except (OSError, ValueError, IndexError):
            self.connect()  # the next request goes on a new connection
            raise
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {text[:200].decode(errors='replace')}")

    def close(self):
        self.sock.close()


class DeltaSink:
    """delta-rs: write_deltalake(path, arrow table, mode="append") per request into one shared
    local table: each call writes a Parquet file and commits a new version (its optimistic
    concurrency: a version taken by another writer is retried, up to delta-rs' default commit
    retries). Nothing is fsynced: object_store's local file system writes and renames (checked
    with strace: no fsync or fdatasync), so a returned call means the page cache, not the disk."""

    def __init__(self, args, producer):
        import pyarrow as pa
        from deltalake import write_deltalake
        self.pa = pa
        self.write = write_deltalake
        self.path = args.table_path
        self.schema = delta_schema(pa)

    def send(self, ev, ids, ts, pays):
        pa = self.pa
        n = len(ids)
        table = pa.Table.from_arrays([
            pa.array(ids, pa.int64()), pa.array([ev.producer] * n, pa.int32()),
            pa.array([ts] * n, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            pa.array(pays, pa.string())], schema=self.schema)
        self.write(self.path, table, mode="append")

    def close(self):
        pass


def delta_schema(pa):
    return pa.schema([pa.field("id", pa.int64(), nullable=False), ("producer", pa.int32()),
                      ("ts", pa.timestamp("us", tz="UTC")), ("payload", pa.string())])


class PgSink:
    """PostgreSQL: one connection per producer, autocommit (synchronous_commit=on: COMMIT returns
    after the WAL's flush); a single-row INSERT per record, one multi-row INSERT per batch
    (psycopg prepares both after 5 uses)."""

    def __init__(self, args, producer):
        import psycopg
        self.conn = psycopg.connect(args.dsn, autocommit=True)
        self.table = args.table
        self.queries = {}

    def query(self, n):
        if n not in self.queries:
            row = "(%s, %s, 'epoch'::timestamptz + %s * interval '1 microsecond', %s)"
            self.queries[n] = (f"INSERT INTO {self.table} (id, producer, ts, payload) VALUES " +
                               ", ".join([row] * n))
        return self.queries[n]

    def send(self, ev, ids, ts, pays):
        params = []
        for i, s in zip(ids, pays):
            params += (i, ev.producer, ts, s)
        self.conn.execute(self.query(len(ids)), params)

    def close(self):
        self.conn.close()


class KafkaSink:
    """A Kafka broker through confluent-kafka (librdkafka): one Producer per producer, acks=all;
    produce() the request's records (the JSON events as values), then flush(): returns once every
    one has its delivery report, i.e. the broker's ack. Synchronous, like the other producers."""

    def __init__(self, args, producer):
        from confluent_kafka import Producer
        self.producer = Producer({"bootstrap.servers": args.bootstrap, "acks": "all",
                                  "client.id": f"peers-{producer}"})
        self.topic = args.topic
        self.failed = []
        # the metadata before the clock starts
        self.producer.list_topics(self.topic, timeout=30)

    def report(self, err, _msg):
        if err is not None:
            self.failed.append(str(err))

    def send(self, ev, ids, ts, pays):
        for rec in ev.json(ids, ts, pays):
            self.producer.produce(self.topic, rec.encode(), on_delivery=self.report)
        left = self.producer.flush(60)
        if left:
            raise RuntimeError(f"{left} records without a delivery report after 60 s")
        if self.failed:
            errs, self.failed = self.failed, []
            raise RuntimeError(f"{len(errs)} of {len(ids)} records failed: {errs[0]}")

    def close(self):
        self.producer.flush(10)


SINKS = {"nobus-grpc": GrpcSink, "nobus-rest": RestSink, "delta-rs": DeltaSink, "postgres": PgSink,
         "kafka": KafkaSink, "kafka-fsync": KafkaSink}


# -- a worker process: its share of the producers, as threads --------------------------------
def producer_thread(args, producer, pool, gate, start_at, out):
    res = {"producer": producer, "requests": 0, "records": 0, "late_records": 0, "errors": 0,
           "error_samples": [], "setup_error": None, "last_ack": 0.0, "lat": array.array("d"),
           "ack_ids": array.array("q"), "ack_at": array.array("d")}
    track = args.system.startswith("nobus")  # for the time to table: first id and ack time
    out.append(res)
    try:
        sink = SINKS[args.system](args, producer)
    except Exception as e:  # noqa: BLE001 - what a producer could not do is the result
        res["setup_error"] = f"{type(e).__name__}: {e}"[:300]
        gate["ready"].release()
        return
    gate["ready"].release()
    gate["go"].wait()
    begin = start_at.value
    deadline = begin + args.seconds
    time.sleep(max(0.0, begin - time.time()))
    ev = Events(producer, pool)
    size = 1 if args.mode == "single" else args.batch
    lat = res["lat"]
    while time.time() < deadline:
        ids, ts, pays = ev.take(size)
        t0 = time.perf_counter()
        try:
            sink.send(ev, ids, ts, pays)
        except Exception as e:  # noqa: BLE001
            res["errors"] += 1
            msg = f"{type(e).__name__}: {e}"[:300]
            if len(res["error_samples"]) < 3 and msg not in res["error_samples"]:
                res["error_samples"].append(msg)
            time.sleep(0.001)  # no hot loop on a refusing server
            continue
        t1 = time.perf_counter()
        now = time.time()
        lat.append((t1 - t0) * 1000)
        res["last_ack"] = now
        if track:
            res["ack_ids"].append(ids[0])
            res["ack_at"].append(now)
        if now <= deadline:
            res["requests"] += 1
            res["records"] += size
        else:
            res["late_records"] += size
    try:
        sink.close()
    except Exception as e:  # noqa: BLE001
        res["error_samples"].append(f"close: {type(e).__name__}: {e}"[:300])


def worker_main(args, producers, go, start_at, ready_q, result_q):
    import resource
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.environ.setdefault("RUST_LOG", "warn")
    pool = payloads()
    gate = {"ready": threading.Semaphore(0), "go": go}
    out = []
    threads = [threading.Thread(target=producer_thread, args=(args, p, pool, gate, start_at, out),
                                daemon=True) for p in producers]
    for t in threads:
        t.start()
    for _ in threads:
        gate["ready"].acquire()
    ready_q.put(os.getpid())
    go.wait()
    time.sleep(max(0.0, start_at.value - time.time()))
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    for t in threads:
        t.join()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    for r in out:
        for k in ("lat", "ack_ids", "ack_at"):
            r[k] = r[k].tobytes()
    result_q.put({"cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
                  "maxrss_mb": r1.ru_maxrss / 1024, "producers": out})


# -- the server side: CPU and memory of a process tree ------------------------------------------
TICK = os.sysconf("SC_CLK_TCK")


def proc_tree(root):
    """root and its descendants (pids)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, stack = [], [root]
    while stack:
        p = stack.pop()
        out.append(p)
        stack += children.get(p, [])
    return out


def tree_cpu_s(root):
    """CPU seconds of root and its live descendants, plus what root reaped (cutime, cstime)."""
    total = 0
    for p in proc_tree(root):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
        if p == root:
            total += int(fields[13]) + int(fields[14])
    return total / TICK


def tree_pss_mb(root):
    total = 0
    for p in proc_tree(root):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total / 1024


class MemSampler(threading.Thread):
    def __init__(self, root):
        super().__init__(daemon=True)
        self.root, self.peak, self.stop = root, 0.0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, tree_pss_mb(self.root))
            self.stop.wait(0.25)


# -- what landed ----------------------------------------------------------------------------
class DeltaLog:
    """The commits of a Delta table read from its _delta_log JSON files, incrementally."""

    def __init__(self, path):
        self.dir = os.path.join(path, "_delta_log")
        self.next = 0
        self.commits = []  # (version, mtime, adds, rows, data file paths)
        self.rows = 0

    def poll(self):
        while True:
            name = os.path.join(self.dir, f"{self.next:020d}.json")
            try:
                st = os.stat(name)
                with open(name) as f:
                    text = f.read()
            except FileNotFoundError:
                return self.rows
            adds = rows = 0
            paths = []
            for line in text.splitlines():
                if not line.strip():
                    continue
                action = json.loads(line)
                if "add" in action:
                    adds += 1
                    paths.append(action["add"]["path"])
                    stats = action["add"].get("stats")
                    if stats:
                        rows += json.loads(stats).get("numRecords", 0)
                elif "remove" in action:
                    rows -= action["remove"].get("numRecords", 0) or 0
            self.commits.append((self.next, st.st_mtime_ns / 1e9, adds, rows, paths))
            self.rows += rows
            self.next += 1


def delta_count(path):
    """Rows and distinct ids of the table's current version (delta-rs + pyarrow)."""
    import pyarrow.compute as pc
    from deltalake import DeltaTable
    dt = DeltaTable(path)
    ids = dt.to_pyarrow_dataset().to_table(columns=["id"]).column("id")
    return {"version": dt.version(), "rows": len(ids),
            "distinct_ids": pc.count_distinct(ids).as_py() if len(ids) else 0}


def metrics_text(http):
    try:
        with urllib.request.urlopen(f"http://{http}/metrics", timeout=10) as r:
            return r.read().decode()
    except OSError:
        return ""


def server_ack(before, after):
    """nobusd's own ack latency (request received -> durable) over the window: p50 and p99 from
    the delta of its histogram nobus_ack_latency_seconds (upper bucket bounds, ms), and its WAL
    syncs (count, mean seconds)."""
    def parse(text):
        buckets, vals = {}, {}
        for line in text.splitlines():
            if line.startswith("nobus_ack_latency_seconds_bucket{le="):
                le = line.split('"')[1]
                buckets[math.inf if le == "+Inf" else float(le)] = float(line.split()[-1])
            elif line.startswith(("nobus_wal_sync_seconds_count", "nobus_wal_sync_seconds_sum")):
                vals[line.split()[0]] = float(line.split()[-1])
        return buckets, vals
    (b0, v0), (b1, v1) = parse(before), parse(after)
    if not b1:
        return None
    delta = sorted((le, b1[le] - b0.get(le, 0)) for le in b1)
    total = delta[-1][1]
    pick = lambda q: next((le * 1000 for le, c in delta if c >= q * total), None)
    syncs = v1.get("nobus_wal_sync_seconds_count", 0) - v0.get("nobus_wal_sync_seconds_count", 0)
    sync_s = v1.get("nobus_wal_sync_seconds_sum", 0) - v0.get("nobus_wal_sync_seconds_sum", 0)
    return {"requests": total, "p50_ms_at_most": pick(0.5) if total else None,
            "p99_ms_at_most": pick(0.99) if total else None, "wal_syncs": syncs,
            "wal_sync_mean_ms": round(sync_s / syncs * 1000, 3) if syncs else None}


def metric(http, name):
    try:
        with urllib.request.urlopen(f"http://{http}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:
        return None
    total = None
    for line in text.splitlines():
        if line.startswith(name):
            total = (total or 0) + float(line.split()[-1])
    return total


def time_to_table(path, log, prods):
    """Per acked request: the mtime of the Delta commit that holds its first record minus its ack
    time (seconds). Reads the id column of every data file the commits added."""
    import numpy as np
    import pyarrow.parquet as pq
    from urllib.parse import unquote
    ids, when = [], []
    for _v, mtime, _adds, _rows, paths in log.commits:
        for p in paths:
            col = pq.read_table(os.path.join(path, unquote(p)), columns=["id"]).column("id")
            ids.append(col.to_numpy())
            when.append(np.full(len(col), mtime))
    q = np.frombuffer(b"".join(p["ack_ids"] for p in prods), dtype=np.int64)
    at = np.frombuffer(b"".join(p["ack_at"] for p in prods), dtype=np.float64)
    if not ids or not len(q):
        return None
    ids, when = np.concatenate(ids), np.concatenate(when)
    order = np.argsort(ids, kind="stable")
    ids, when = ids[order], when[order]
    idx = np.minimum(np.searchsorted(ids, q), len(ids) - 1)
    found = ids[idx] == q
    ttt = np.sort(when[idx[found]] - at[found])
    pick = lambda f: round(float(ttt[max(0, math.ceil(f * len(ttt)) - 1)]), 3)
    return {"requests": int(len(q)), "not_found": int((~found).sum()), "p50_s": pick(0.5),
            "p99_s": pick(0.99), "max_s": round(float(ttt[-1]), 3)} if len(ttt) else None


def lake_check(args, cell, acked, last_ack, prods):
    """Waits until the acked records are visible (or 120 s), then counts the table."""
    log = DeltaLog(args.table_path)
    deadline = time.time() + 120
    visible_at = None
    while True:
        rows = log.poll()
        if rows >= acked:
            # the commit that brought the count to the acked records
            total = 0
            for _v, mtime, _adds, r, _paths in log.commits:
                total += r
                if total >= acked:
                    visible_at = mtime
                    break
            break
        if time.time() > deadline:
            break
        time.sleep(0.02)
    if args.system.startswith("nobus"):
        for _ in range(600):  # nobusd_lib.sh's settle: nothing buffered any more
            if (metric(args.http, "nobus_table_buffered_bytes") or 0) == 0:
                break
            time.sleep(0.1)
        cell["server_rows"] = metric(args.http, f'nobus_ingest_records_total{{table="{args.table}"}}')
    log.poll()
    count = delta_count(args.table_path)
    commits = [c for c in log.commits if c[0] >= 1]  # version 0 created the table
    minutes = args.seconds / 60
    cell["lake"] = {
        **count, "acked": acked, "rows_match": count["rows"] == acked,
        "visible_after_last_ack_s": None if visible_at is None or not last_ack
        else round(visible_at - last_ack, 3),
        "commits": len(commits), "files": sum(c[2] for c in commits),
        "commits_per_min": round(len(commits) / minutes, 1),
        "files_per_min": round(sum(c[2] for c in commits) / minutes, 1),
        "commit_interval_s": round((commits[-1][1] - commits[0][1]) / (len(commits) - 1), 3)
        if len(commits) > 1 else None}
    if args.system.startswith("nobus"):
        cell["lake"]["time_to_table"] = time_to_table(args.table_path, log, prods)


def stored_check(args, cell, acked):
    if args.system == "postgres":
        import psycopg
        with psycopg.connect(args.dsn, autocommit=True) as c:
            rows, distinct = c.execute(
                f"SELECT count(*), count(DISTINCT id) FROM {args.table}").fetchone()
        cell["stored"] = {"what": "rows in the PostgreSQL table", "rows": rows,
                          "distinct_ids": distinct, "acked": acked, "rows_match": rows == acked}
    elif args.system.startswith("kafka"):
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "peers-count"})
        low, high = c.get_watermark_offsets(TopicPartition(args.topic, 0), timeout=30)
        c.close()
        cell["stored"] = {"what": "records in the topic (high watermark)", "rows": high - low,
                          "acked": acked, "rows_match": high - low == acked}


def prepare(args):
    """The cell's table or topic, where the harness makes it (nobus tables: run.sh, nobus CLI)."""
    if args.system == "delta-rs":
        import pyarrow as pa
        from deltalake import DeltaTable
        DeltaTable.create(args.table_path, schema=delta_schema(pa))
    elif args.system == "postgres":
        import psycopg
        with psycopg.connect(args.dsn, autocommit=True) as c:
            c.execute(f"CREATE TABLE {args.table} (id bigint NOT NULL, producer int, "
                      "ts timestamptz, payload text)")
    elif args.system.startswith("kafka"):
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": args.bootstrap})
        fut = admin.create_topics([NewTopic(args.topic, 1, 1,
                                            config={"min.insync.replicas": "1"})])
        fut[args.topic].result(60)


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, math.ceil(q * len(sorted_vals)) - 1))
    return sorted_vals[k]


def run_cell(args):
    prepare(args)
    ctx = mp.get_context("spawn")
    procs = max(1, min(args.n, args.procs))
    shares = [list(range(w, args.n, procs)) for w in range(procs)]
    go, start_at = ctx.Event(), ctx.Value("d", 0.0)
    ready_q, result_q = ctx.Queue(), ctx.Queue()
    workers = [ctx.Process(target=worker_main, args=(args, s, go, start_at, ready_q, result_q),
                           daemon=True) for s in shares]
    t_setup = time.time()
    for w in workers:
        w.start()
    cell = {"what": "cell", "system": args.system, "label": SYSTEMS[args.system], "n": args.n,
            "mode": args.mode, "batch": 1 if args.mode == "single" else args.batch,
            "seconds": args.seconds, "procs": procs, "record_bytes": RECORD_BYTES,
            "server_pid": args.server_pid or None}
    not_ready = len(workers)
    try:
        for _ in workers:
            ready_q.get(timeout=max(0.1, t_setup + args.setup_timeout - time.time()))
            not_ready -= 1
    except queue.Empty:
        pass  # started anyway; noted in the cell
    cell["setup_s"] = round(time.time() - t_setup, 1)
    cell["workers_not_ready"] = not_ready
    sampler = MemSampler(args.server_pid) if args.server_pid else None
    begin = time.time() + 0.2
    start_at.value = begin
    go.set()
    time.sleep(max(0.0, begin - time.time()))
    cpu0 = tree_cpu_s(args.server_pid) if args.server_pid else None
    nobus = args.system.startswith("nobus")
    m0 = metrics_text(args.http) if nobus else ""
    if sampler:
        sampler.start()
    time.sleep(max(0.0, begin + args.seconds - time.time()))
    cpu1 = tree_cpu_s(args.server_pid) if args.server_pid else None
    if nobus:
        cell["server_ack"] = server_ack(m0, metrics_text(args.http))
    results, grace = [], time.time() + args.grace
    while len(results) < len(workers) and time.time() < grace:
        try:
            results.append(result_q.get(timeout=max(0.1, grace - time.time())))
        except queue.Empty:  # the grace period is over
            break
    if sampler:
        sampler.stop.set()
        cell["server_peak_mb"] = round(sampler.peak, 1)
    stuck = len(workers) - len(results)
    for w in workers:
        w.join(timeout=5)
        if w.is_alive():
            w.terminate()
    prods = [p for r in results for p in r["producers"]]
    lat = sorted(x for p in prods for x in array.array("d", p["lat"]))
    recs = sum(p["records"] for p in prods)
    acked = recs + sum(p["late_records"] for p in prods)
    setup_errors = [p["setup_error"] for p in prods if p["setup_error"]]
    samples = []
    for p in prods:
        for s in p["error_samples"] + ([p["setup_error"]] if p["setup_error"] else []):
            if s not in samples and len(samples) < 5:
                samples.append(s)
    last_ack = max((p["last_ack"] for p in prods), default=0.0)
    cell.update({
        "producers_reported": len(prods), "workers_stuck": stuck,
        "producers_failed_setup": len(setup_errors),
        "producers_without_ack": sum(1 for p in prods if not p["lat"] and not p["setup_error"]),
        "requests": sum(p["requests"] for p in prods), "records": recs,
        "late_records": acked - recs, "acked": acked,
        "errors": sum(p["errors"] for p in prods), "error_samples": samples,
        "records_per_s": round(recs / args.seconds, 1),
        "mb_per_s": round(recs * RECORD_BYTES / args.seconds / 1e6, 3),
        "lat_p50_ms": percentile(lat, 0.50), "lat_p99_ms": percentile(lat, 0.99),
        "lat_max_ms": lat[-1] if lat else None, "latencies": len(lat),
        "server_cpu_s": None if cpu0 is None else round(cpu1 - cpu0, 2),
        "producer_cpu_s": round(sum(r["cpu_s"] for r in results), 2),
        "producer_peak_mb": round(sum(r["maxrss_mb"] for r in results), 1),
    })
    for k in ("lat_p50_ms", "lat_p99_ms", "lat_max_ms"):
        if cell[k] is not None:
            cell[k] = round(cell[k], 3)
    if args.system in ("nobus-grpc", "nobus-rest", "delta-rs"):
        lake_check(args, cell, acked, last_ack, prods)
    else:
        stored_check(args, cell, acked)
    return cell


# -- the report ----------------------------------------------------------------------------------
def fmt(x, d=0):
    if x is None:
        return "–"
    return f"{x:,.{d}f}"


def ratio(x, base):
    if not x or not base:
        return "–"
    r = x / base
    return f"{r:.2f}×" if r >= 0.095 else f"{r:.3f}×"


def failed_note(c):
    """What happened in a cell that has no throughput to show, else None."""
    bits = []
    if c["producers_failed_setup"]:
        bits.append(f"{c['producers_failed_setup']}/{c['n']} producers could not start")
    if c["workers_stuck"]:
        bits.append(f"{c['workers_stuck']} worker processes still in a request "
                    f"{c.get('grace_s', '')} s after the end: killed")
    if c["errors"]:
        bits.append(f"{c['errors']:,} failed requests")
    if c.get("producers_without_ack"):
        bits.append(f"{c['producers_without_ack']} producers never got an ack")
    if bits and c["error_samples"]:
        bits.append(f"e.g. `{c['error_samples'][0][:140]}`")
    if c.get("exit_after"):
        bits.append(f"then the producers' process exited with {c['exit_after']} "
                    "(logs/producers.log)")
    return "; ".join(bits) or None


def report(results_dir):
    lines = [json.loads(l) for l in open(os.path.join(results_dir, "results.jsonl")) if l.strip()]
    meta = next((l for l in lines if l.get("what") == "meta"), {})
    disk = next((l for l in lines if l.get("what") == "disk"), None)
    cells = [l for l in lines if l.get("what") == "cell"]
    failed = []
    for f in (l for l in lines if l.get("what") == "cell_failed"):
        # A process that wrote its cell and then failed on the way out (delta-rs' native code has
        # aborted at exit): the numbers stand, with a note; otherwise the cell failed.
        done = [c for c in cells if (c["system"], c["n"], c["mode"]) == (f["system"], f["n"], f["mode"])]
        if done:
            done[-1]["exit_after"] = f["exit"]
        else:
            failed.append(f)
    base = {(c["n"], c["mode"]): c for c in cells if c["system"] == "nobus-grpc"}
    order = list(SYSTEMS)
    modes = [m for m in ("single", "batch") if any(c["mode"] == m for c in cells + failed)]
    out = []
    if meta:
        out.append(f"Run {meta.get('stamp')}: {meta.get('cores')} cores ({meta.get('cpu')}) shared "
                   f"by the producers and the servers, {meta.get('mem_gb')} GB; load average "
                   f"{meta.get('load_before')} before, {meta.get('load_after')} after; "
                   f"{meta.get('seconds', 0):g} s per cell; data on {meta.get('disk')}; "
                   f"{meta.get('wall_s')} s in all. {meta.get('versions')}.")
        out.append("")
    for mode in modes:
        mcells = sorted((c for c in cells + failed if c["mode"] == mode),
                        key=lambda c: (c["n"], order.index(c["system"])))
        size = "one record per request" if mode == "single" else \
            f"batches of {max(c.get('batch', 0) for c in mcells)} records per request"
        out += [f"**{size.capitalize()}** (synchronous producers: send, wait for the durable ack, "
                "repeat)", "",
                "| producers | system | records/s | vs nobus gRPC | MB/s | latency p50 / p99 (ms) "
                "| p99 vs nobus gRPC | server CPU s (cores) | server peak MB (PSS) | producers' CPU s "
                "| errors | what landed | time to table p50 / p99 / max (s) | Delta commits / files "
                "per min |",
                "|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---|---|---:|---:|"]
        for c in mcells:
            b = base.get((c["n"], mode))
            if c["what"] == "cell_failed":
                out.append(f"| {c['n']} | {SYSTEMS[c['system']]} | **the harness failed** (exit "
                           f"{c['exit']}: logs/producers.log) |" + " |" * 11)
                continue
            note = failed_note(c)
            no_numbers = c["records"] == 0
            rps = "**none**" if no_numbers else fmt(c["records_per_s"])
            lat = "–" if c["lat_p50_ms"] is None else \
                f"{fmt(c['lat_p50_ms'], 1)} / {fmt(c['lat_p99_ms'], 1)}"
            cores = "" if c["server_cpu_s"] is None else \
                f" ({fmt(c['server_cpu_s'] / c['seconds'], 2)})"
            server_cpu = f"{fmt(c['server_cpu_s'], 1)}{cores}" if c["server_cpu_s"] is not None \
                else "no server"
            landed, visible, commits = "–", "n/a", "n/a"
            lake = c.get("lake")
            if lake:
                ok = "= acked" if lake["rows_match"] else f"**≠ {fmt(lake['acked'])} acked**"
                dup = "" if lake["distinct_ids"] == lake["rows"] else \
                    f", **{fmt(lake['rows'] - lake['distinct_ids'])} duplicate ids**"
                landed = f"{fmt(lake['rows'])} rows in the Delta table ({ok}{dup})"
                ttt = lake.get("time_to_table")
                if c["system"] == "delta-rs":
                    visible = "0 (at its commit)"
                elif lake["visible_after_last_ack_s"] is None and lake["acked"]:
                    visible = "**not all visible after 120 s**"
                elif ttt:
                    visible = f"{fmt(ttt['p50_s'], 2)} / {fmt(ttt['p99_s'], 2)} / {fmt(ttt['max_s'], 2)}"
                    if ttt["not_found"]:
                        visible += f" (**{fmt(ttt['not_found'])} acked requests not found**)"
                commits = f"{fmt(lake['commits_per_min'])} / {fmt(lake['files_per_min'])}"
            elif c.get("stored"):
                s = c["stored"]
                ok = "= acked" if s["rows_match"] else f"**≠ {fmt(s['acked'])} acked**"
                where = "table rows" if c["system"] == "postgres" else "topic records"
                landed = f"not in the lake; {fmt(s['rows'])} {where} ({ok})"
            errs = fmt(c["errors"]) if not note else note
            out.append(
                f"| {c['n']} | {c['label']} | {rps} | {'' if no_numbers else ratio(c['records_per_s'], b and b['records_per_s'])} "
                f"| {'' if no_numbers else fmt(c['mb_per_s'], 2)} | {lat} "
                f"| {ratio(c['lat_p99_ms'], b and b['lat_p99_ms'])} | {server_cpu} "
                f"| {fmt(c.get('server_peak_mb'))} | {fmt(c['producer_cpu_s'], 1)} | {errs} "
                f"| {landed} | {visible} | {commits} |")
        out.append("")
    out.append(
        "records/s and MB/s: records acked within the timed window (~1,000-byte JSON events; "
        "MB = 10^6 bytes of events). Latency: from building a request to its durable ack, per "
        "request, measured by the producers on the same 2 cores as the server, so it includes "
        "waiting for a core. vs nobus gRPC: the ratio to the nobus gRPC SDK cell with the same "
        "producers and mode (throughput: higher is better; p99: lower is better). Server CPU: "
        "the server's processes over the timed window (nobusd; postgres and its backends; the "
        "Kafka JVM); delta-rs has no server: its work is in the producers' CPU. Server peak MB: "
        "the largest sum of the server processes' PSS sampled every 0.25 s. What landed: after "
        "the cell, the rows in the Delta table (delta-rs' reader) against the records acked "
        "(including requests acked just after the window); PostgreSQL and Kafka do not write to "
        "a lake: their own count is shown. Time to table: for every acked request, the mtime of "
        "the Delta commit that holds its rows minus the time the producer got the ack; delta-rs' "
        "rows are visible once its call returns. Delta commits and data files per minute of load "
        "(the cell's table, its creation left out).")
    inner = [c for c in cells if c.get("server_ack")]
    if inner:
        out += ["", "nobusd's side of the nobus cells (its /metrics over the timed window): its own "
                "ack latency, request received to durable (histogram bucket bounds), and its WAL "
                "group commits.", "",
                "| mode | producers | front end | server ack p50 / p99 (ms, at most) | WAL syncs/s "
                "| requests per sync | mean sync (ms) |", "|---|---:|---|---|---:|---:|---:|"]
        for c in sorted(inner, key=lambda c: (c["mode"] != "single", c["n"], c["system"])):
            a = c["server_ack"]
            out.append(f"| {c['mode']} | {c['n']} | {c['system'].split('-')[1]} | "
                       f"{fmt(a['p50_ms_at_most'], 2)} / {fmt(a['p99_ms_at_most'], 2)} | "
                       f"{fmt(a['wal_syncs'] / c['seconds'])} | "
                       f"{fmt(a['requests'] / a['wal_syncs'], 1) if a['wal_syncs'] else '–'} | "
                       f"{fmt(a['wal_sync_mean_ms'], 2)} |")
    if meta.get("guarantees"):
        out += ["", meta["guarantees"]]
    if disk and disk.get("result"):
        out += ["", "| raw write + fdatasync of the data disk, bytes per sync | syncs/s | "
                "fdatasync p50 / p99 (ms) |", "|---:|---:|---|"]
        for r in disk["result"].get("results", []):
            out.append(f"| {fmt(r['chunk_bytes'])} | {fmt(r['syncs_per_s'])} | "
                       f"{fmt(r['sync_p50_ms'], 2)} / {fmt(r['sync_p99_ms'], 2)} |")
    text = "\n".join(out) + "\n"
    with open(os.path.join(results_dir, "results.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)
    for mode in modes:
        chart(results_dir, cells, mode, meta)


def chart(results_dir, cells, mode, meta):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    styles = {"nobus-grpc": ("#d62728", "o", "-"), "nobus-rest": ("#ff7f0e", "s", "-"),
              "delta-rs": ("#2ca02c", "^", "--"), "postgres": ("#1f77b4", "D", "--"),
              "kafka": ("#9467bd", "v", ":"), "kafka-fsync": ("#8c564b", "P", "--")}
    mcells = [c for c in cells if c["mode"] == mode]
    ns = sorted({c["n"] for c in mcells})
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    for system, label in SYSTEMS.items():
        sc = sorted((c for c in mcells if c["system"] == system), key=lambda c: c["n"])
        if not sc:
            continue
        color, marker, line = styles[system]
        pts = [(c["n"], c["records_per_s"]) for c in sc if c["records"] > 0]
        lat = [(c["n"], c["lat_p99_ms"]) for c in sc if c["records"] > 0 and c["lat_p99_ms"]]
        fails = [c["n"] for c in sc if c["records"] == 0]
        kw = dict(color=color, marker=marker, linestyle=line, label=label)
        if pts:
            ax1.plot(*zip(*pts), **kw)
        if lat:
            ax2.plot(*zip(*lat), **kw)
        if fails:
            ax1.plot(fails, [0.5] * len(fails), color=color, marker="x", linestyle="none",
                     markersize=10)
    size = "1 record per request" if mode == "single" else f"{mcells[0]['batch']} records per request"
    ax1.set(xscale="log", yscale="log", xlabel="producers", ylabel="records/s (durable)",
            title=f"Throughput, {size}")
    ax2.set(xscale="log", yscale="log", xlabel="producers", ylabel="ms",
            title=f"p99 write latency, {size}")
    for ax in (ax1, ax2):
        ax.set_xticks(ns)
        ax.set_xticklabels([str(n) for n in ns])
        ax.minorticks_off()
        ax.set_xticks(ns)
        ax.grid(True, which="major", alpha=0.3)
    ax1.legend(fontsize=8, loc="best")
    fig.text(0.5, 0.005, f"~1 KB JSON events, synchronous producers, {meta.get('seconds', 0):g} s "
             f"per point; {meta.get('cores', '?')} cores shared by producers and server; "
             f"x at the bottom: no record acked. bench/peers/run.sh {meta.get('stamp', '')}",
             ha="center", fontsize=8, color="#555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    name = "peers.png" if mode == "single" else "peers-batch.png"
    fig.savefig(os.path.join(results_dir, name), dpi=120)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cell")
    c.add_argument("--system", choices=list(SYSTEMS), required=True)
    c.add_argument("--n", type=int, required=True)
    c.add_argument("--mode", choices=["single", "batch"], required=True)
    c.add_argument("--batch", type=int, default=100)
    c.add_argument("--seconds", type=float, default=10)
    c.add_argument("--procs", type=int, default=4)
    c.add_argument("--setup-timeout", type=float, default=300)
    c.add_argument("--grace", type=float, default=60)
    c.add_argument("--server-pid", type=int, default=0)
    c.add_argument("--grpc")
    c.add_argument("--http")
    c.add_argument("--token")
    c.add_argument("--table")
    c.add_argument("--table-path")
    c.add_argument("--dsn")
    c.add_argument("--bootstrap")
    c.add_argument("--topic")
    c.add_argument("--out", required=True)
    r = sub.add_parser("report")
    r.add_argument("--results", required=True)
    args = ap.parse_args()
    if args.cmd == "report":
        report(args.results)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cell = run_cell(args)
    cell["grace_s"] = args.grace
    line = json.dumps(cell)
    with open(args.out, "a") as f:
        f.write(line + "\n")
    summary = {k: cell.get(k) for k in ("system", "n", "mode", "records_per_s", "lat_p50_ms",
                                         "lat_p99_ms", "errors", "server_cpu_s", "setup_s")}
    summary["landed"] = (cell.get("lake") or cell.get("stored") or {}).get("rows")
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
