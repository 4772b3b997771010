#!/usr/bin/env python3
"""Exactly-once under SIGKILL: a persistent-stream producer and nobusd killed at random points,
>= 50 rounds, then every record must be in the table exactly once.

The producer (this file with `producer`, a separate process, raw gRPC on stubs generated from
proto/, test/server/nobusd_process.py) keeps its stream id in a file (written before the first
record), resumes on every start and after every broken call, and sends requests 0..T-1 of a fixed
plan: request offset o carries k(o) JSON records (k = 1, or a batch of 2..8) with the consecutive
ids start(o) .. start(o)+k(o)-1, so the ids of all requests are 0..total-1 and each row also
carries its request's offset ("off"). After a resume at W it starts again from its own last ack + 1
or W + 1, whichever is lower, and sometimes up to 20 offsets lower still: offsets <= W are
duplicates that nobusd must ack and not write. It appends every ack to a file as it sees it and
checks, at each resume, that W >= every ack it ever saw (acked = durable) and W <= the highest
offset it ever sent; a call that ends with a status a correct server never gives it
(INVALID_ARGUMENT, FAILED_PRECONDITION, ABORTED, ...) is a violation too (exit 3).

The driver kills, per round after a random delay, either nobusd (SIGKILL, restarted on the same
data dir and ports; the producer reconnects) or the producer (SIGKILL, restarted: it resumes from
its files), in a seeded random order with both kinds equally often. Then it lets the producer
finish, stops nobusd with SIGTERM and reads the table with DuckDB (live files from the Delta log,
read_parquet) and with delta-rs: ids 0..total-1, each exactly once, each in the row of its own
request offset, every acked id present, and the Delta txn of the stream at the last offset.

Usage: test/server/run_python.sh test/crash/persistent_kill_loop.py [--rounds 60] [--seed S]
       [--offsets 6000] [--work DIR] [--keep]      (NOBUS_BIN_DIR: nobusd's folder)
Prints "1 passed, 0 failed" or "0 passed, 1 failed" last; exit code 0 when passed.
"""
import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
import nobusd_process as nb  # noqa: E402
import kill_loop_util as klu  # noqa: E402

TABLE = "eos.crash.events"
COLUMNS = [("id", "bigint", False), ("off", "bigint", False), ("note", "string", True)]
WINDOW = 32          # requests in flight per call
RETRY_S = 0.1
CALL_TIMEOUT_S = 30
VIOLATION_EXIT = 3
RETRYABLE = {"UNAVAILABLE", "CANCELLED", "DEADLINE_EXCEEDED", "UNKNOWN", "RESOURCE_EXHAUSTED"}


def plan(offsets, seed):
    """[(first id, record count)] for offsets 0..offsets-1; the ids are 0..total-1."""
    rng = random.Random(seed)
    out, first = [], 0
    for _ in range(offsets):
        k = 1 if rng.random() < 0.6 else rng.randint(2, 8)
        out.append((first, k))
        first += k
    return out


def request(layout, offset, note):
    first, k = layout[offset]
    rows = [{"id": first + i, "off": offset, "note": note} for i in range(k)]
    return nb.p_record(offset, rows[0]) if k == 1 else nb.p_batch(offset, rows)


# ---------------------------------------------------------------------------------------------
# producer

class Files:
    def __init__(self, work):
        self.dir = Path(work) / "producer"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.stream_id = self.dir / "stream_id"
        self.acked = self.dir / "acked.log"       # one ack offset per line, as seen
        self.sent = self.dir / "sent.log"         # the highest offset sent, before it is sent
        self.done = self.dir / "done"
        self.violations = self.dir / "violations.log"
        self.resumes = self.dir / "resumes.log"   # one JSON line per resume
        self.address = Path(work) / "grpc_address"

    @staticmethod
    def max_line(path):
        try:
            values = [int(l) for l in path.read_text().split() if l.lstrip("-").isdigit()]
        except OSError:
            return -1
        return max(values, default=-1)


def write_durably(path, text):
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


class Violation(Exception):
    pass


def producer_main(opts):
    files = Files(opts.work)
    layout = plan(opts.offsets, opts.seed)
    last = len(layout) - 1
    rng = random.Random(f"{opts.seed}-{os.getpid()}")
    acked_log = open(files.acked, "a", buffering=1)
    sent_log = open(files.sent, "a", buffering=1)
    lock = threading.Lock()
    state = {"max_acked": files.max_line(files.acked), "max_sent": files.max_line(files.sent)}

    def on_ack(ack):  # reader thread: record every ack the moment it is seen
        with lock:
            if ack > state["max_acked"]:
                state["max_acked"] = ack
                acked_log.write(f"{ack}\n")
            if ack > state["max_sent"]:
                raise_violation(f"ack {ack} beyond the highest offset ever sent "
                                f"{state['max_sent']}")

    def raise_violation(msg):
        with open(files.violations, "a") as f:
            f.write(f"pid {os.getpid()}: {msg}\n")
        nb.log(f"producer VIOLATION: {msg}")
        os._exit(VIOLATION_EXIT)

    while True:
        call = None
        try:
            call = nb.Call(files.address.read_text().strip(), on_ack=on_ack)
            stream_id = files.stream_id.read_text() if files.stream_id.exists() else None
            if stream_id is None:
                call.send(nb.p_create(TABLE))
                stream_id = call.expect("create_stream_response", CALL_TIMEOUT_S).stream_id
                if not stream_id:
                    raise_violation("create_stream_response without a stream id")
                write_durably(files.stream_id, stream_id)
                w = -1
            else:
                call.send(nb.p_resume(stream_id))
                answer = call.expect("resume_stream_response", CALL_TIMEOUT_S)
                w = answer.last_committed_offset if answer.HasField("last_committed_offset") else -1
            with lock:
                max_acked, max_sent = state["max_acked"], state["max_sent"]
            if w < max_acked:
                raise_violation(f"resume answered W={w}, but offset {max_acked} was acked")
            if w > max_sent:
                raise_violation(f"resume answered W={w}, but no offset above {max_sent} was sent")
            start = min(max_acked + 1, w + 1)
            if rng.random() < 0.5:
                start = max(0, start - rng.randint(0, 20))
            with open(files.resumes, "a") as f:
                f.write(json.dumps({"pid": os.getpid(), "w": w, "max_acked": max_acked,
                                    "start": start, "t": time.time()}) + "\n")
            next_offset = start
            while next_offset <= last:
                while next_offset - max(call.max_ack() + 1, start) >= WINDOW:
                    call.next(CALL_TIMEOUT_S)
                with lock:
                    if next_offset > state["max_sent"]:
                        state["max_sent"] = next_offset
                        sent_log.write(f"{next_offset}\n")
                call.send(request(layout, next_offset, "dup" if next_offset <= w else "orig"))
                next_offset += 1
                time.sleep(opts.pace)
            if w < last:  # else everything was durable before this call: no ack will come
                call.wait_ack(last, CALL_TIMEOUT_S * 4)
            files.done.write_text(stream_id)
            call.half_close()
            end = call.wait_end(CALL_TIMEOUT_S)
            if end.code.name != "OK":
                nb.log(f"producer: call ended with {end} after the last ack")
            return 0
        except nb.Ended as e:
            if e.code.name not in RETRYABLE:
                raise_violation(f"call ended with {e.code.name}: {e.details}")
            nb.log(f"producer: call ended {e.code.name}: {e.details}; resuming")
        except (TimeoutError, OSError) as e:
            nb.log(f"producer: {type(e).__name__}: {e}; resuming")
        finally:
            if call is not None:
                call.close()
        time.sleep(RETRY_S)


# ---------------------------------------------------------------------------------------------
# driver

class Producer(klu.Child):
    def __init__(self, opts):
        super().__init__(Path(opts.work) / "producer.log")
        self.opts = opts
        self.starts = 0

    def start(self):
        self.starts += 1
        self.spawn(__file__, "producer", "--work", self.opts.work, "--offsets", self.opts.offsets,
                   "--seed", self.opts.seed, "--pace", self.opts.pace)


def check_table(server, layout, files, max_acked):
    """Failures (strings) of the final table against the plan."""
    failures = []
    total = sum(k for _, k in layout)
    offset_of = {}
    for o, (first, k) in enumerate(layout):
        for i in range(k):
            offset_of[first + i] = o
    acked_ids = set(range(layout[max_acked][0] + layout[max_acked][1])) if max_acked >= 0 else set()
    root = server.table_root(TABLE)
    readers = {}
    try:
        readers["duckdb"] = nb.read_rows_duckdb(root)
    except Exception as e:  # noqa: BLE001
        failures.append(f"duckdb: cannot read the table: {e}")
    try:
        readers["deltalake"] = nb.read_rows_deltalake(root)
    except Exception as e:  # noqa: BLE001
        failures.append(f"deltalake: cannot read the table: {e}")
    for reader, rows in readers.items():
        counts = Counter(r["id"] for r in rows)
        missing = sorted(set(range(total)) - set(counts))
        dups = sorted(i for i, n in counts.items() if n > 1)
        extra = sorted(set(counts) - set(range(total)))
        wrong_off = sorted(r["id"] for r in rows if offset_of.get(r["id"]) != r["off"])
        resent = sorted(r["id"] for r in rows if r["note"] != "orig")
        lost_acked = sorted(acked_ids - set(counts))
        nb.log(f"{reader}: {len(rows)} rows, {len(counts)} distinct ids of {total}; missing "
               f"{len(missing)}, duplicated {len(dups)}, unexpected {len(extra)}, in the wrong "
               f"request {len(wrong_off)}, acked but missing {len(lost_acked)}, from resent "
               f"requests {len(resent)}")
        for what, ids in (("missing", missing), ("duplicated", dups), ("unexpected", extra),
                          ("in the row of another request offset", wrong_off),
                          ("acked but missing", lost_acked),
                          ("from a resent (duplicate) request", resent)):
            if ids:
                failures.append(f"{reader}: {len(ids)} ids {what}, e.g. {ids[:20]}")
    stream_id = files.stream_id.read_text() if files.stream_id.exists() else None
    last = len(layout) - 1
    if stream_id is None:
        failures.append("the producer never saved a stream id")
    else:
        txn = nb.delta_txns(root).get(stream_id)
        if txn != last:
            failures.append(f"Delta log: txn{{appId={stream_id}}} = {txn}, want {last}")
        try:
            rs = nb.deltalake_txn(root, stream_id)
            if rs != last:
                failures.append(f"deltalake transaction_version({stream_id}) = {rs}, want {last}")
        except Exception as e:  # noqa: BLE001
            failures.append(f"deltalake transaction_version: {e}")
    return failures


def driver_main(opts):
    work = Path(opts.work or tempfile.mkdtemp(prefix="nobus-eos-kill-"))
    opts.work = str(work)
    files = Files(work)
    layout = plan(opts.offsets, opts.seed)
    total = sum(k for _, k in layout)
    nb.log(f"persistent_kill_loop: seed {opts.seed}, {opts.rounds} rounds, {opts.offsets} "
           f"requests, {total} records; work dir {work}")
    nb.load_stubs()  # once here, not concurrently in the first producers
    server = nb.Nobusd(work / "data")
    server.create_table(TABLE, COLUMNS)
    files.address.write_text(server.grpc_address)
    producer = Producer(opts)
    producer.start()
    rng = random.Random(opts.seed)
    kinds = ["nobusd"] * (opts.rounds // 2) + ["producer"] * (opts.rounds - opts.rounds // 2)
    rng.shuffle(kinds)
    failures = []
    mid_stream = Counter()
    started = time.monotonic()
    try:
        for round_no, kind in enumerate(kinds, 1):
            time.sleep(rng.uniform(0.05, 1.5))
            code = producer.proc.poll()
            if code not in (None, 0):
                failures.append(f"round {round_no}: the producer exited {code}")
                break
            finishing = files.done.exists()
            acked = Files.max_line(files.acked)
            if kind == "nobusd":
                server.kill()
                server.start()
            else:
                producer.kill()
            if code is not None or kind == "producer":
                producer.start()  # a finished producer resumes, checks W and exits again
            if not finishing:
                mid_stream[kind] += 1
            nb.log(f"round {round_no}: killed {kind}; acked up to {acked} of {len(layout) - 1}"
                   + (" (stream finished)" if finishing else ""))
        nb.log(f"{len(kinds)} rounds in {time.monotonic() - started:.0f} s; kills while the "
               f"stream was still being written: {dict(mid_stream)}")
        if not failures:
            code = producer.finish(opts.finish_timeout)
            if code != 0:
                failures.append(f"the producer did not finish: exit {code}")
        if files.violations.exists():
            failures.append("producer violations:\n" + files.violations.read_text())
        exit_code = server.stop()
        if exit_code != 0:
            failures.append(f"nobusd exited {exit_code} after SIGTERM")
        if not failures:
            failures += check_table(server, layout, files, Files.max_line(files.acked))
        resumes = [json.loads(l) for l in files.resumes.read_text().splitlines()] \
            if files.resumes.exists() else []
        dup_resends = sum(max(0, r["w"] - r["start"] + 1) for r in resumes)
        nb.log(f"{len(resumes)} resumes, {dup_resends} duplicate requests resent, "
               f"{producer.starts} producer starts, {server.starts} nobusd starts")
        if not failures and dup_resends == 0:
            failures.append("no resume resent a duplicate: the run did not test de-duplication")
    finally:
        if producer.running():
            producer.kill()
        if server.running():
            server.kill()
    nb.keep_tables_for_readers(server.data_dir, "persistent_kill_loop")
    return nb.verdict(failures, work, opts.keep,
                      f"nobusd log {server.log_path}, producer log {producer.log_path}",
                      "nobusd log, stream lines",
                      server.log_tail(60, grep=["stream", "error", "ERROR", "WARN"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", nargs="?", default="driver", choices=["driver", "producer"])
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--offsets", type=int, default=6000, help="requests the producer sends")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("NOBUS_SEED", time.time())))
    ap.add_argument("--work", help="work dir (default: a new temp dir, removed when passed)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir when passed")
    ap.add_argument("--pace", type=float, default=0.01,
                    help="seconds between two requests: the stream must outlast the kill rounds")
    ap.add_argument("--finish-timeout", type=float, default=120)
    opts = ap.parse_args()
    if opts.mode == "producer":
        return producer_main(opts)
    return driver_main(opts)


if __name__ == "__main__":
    sys.exit(main())
