#!/usr/bin/env python3
"""Idempotent Kafka producers while nobusd is SIGKILLed: every acknowledged record lands, no
retried batch is written twice within a producer session, and the only duplicates are records a
NEW producer session resent because it never saw their ack.

nobusd runs with its Kafka endpoint on a fixed port (`--kafka-listen 127.0.0.1:<port>`, so a
restarted nobusd is where the clients reconnect) behind test/kafka/wiretap.py (nobusd advertises
the tap). The tap reads every Produce batch header (producer id, epoch, base sequence, client id)
and nobusd's answer to it (error code), and holds each answer 150 ms before passing it on: when
nobusd is killed the answers it holds are dropped, so every kill leaves batches that are durable in
nobusd but unacknowledged at the client, which sends them again in the same session after it
reconnects. Producers, each process one producer session (one producer id; client.id names it):

- two confluent-kafka writers (`rdkafka` mode of this file; librdkafka from the wheel,
  enable.idempotence=true, acks=all, 500 records/s each, message.timeout.ms far beyond the run, so
  librdkafka retries within its session instead of starting a new one). A writer's ids are
  base + 0, 1, 2, ...; a session appends the highest id it handed to librdkafka to `sent` (before
  producing) and every delivery report to `acked`, the moment it sees it. A new session (after its
  predecessor was SIGKILLed) first resends every id <= the highest sent that has no ack, then goes
  on with new ids. Every row carries its session in `tag` (`rdkafka-a-s3`).
- the Java producer of test/kafka/java (kafka-clients 4.x defaults: idempotent, acks=all;
  delivery.timeout.ms far beyond the run; 500 records/s): one process per chunk of 3000 fresh
  ids, started again whenever one finishes; it reports every record's offset at its end (-2:
  acknowledged without one, i.e. a DUPLICATE_SEQUENCE_NUMBER answer). It is never killed.

The driver SIGKILLs, per round after a random delay, nobusd (restarted on the same data dir and
ports) or one confluent-kafka writer (a new session takes over), in a seeded random order: 30
rounds, at least 20 of them nobusd. Then the writers finish, nobusd stops (SIGTERM), and the table
is read with DuckDB (over our own replay of the Delta log) and delta-rs. Checks:

- every id whose delivery a client reported is in the table (0 lost acked), no id that was never
  sent, every Java record acknowledged, every writer's ids acknowledged by the end;
- no id twice within one session, and each session used one producer id and one epoch on the
  wire; batches were retried within their session after kills (same producer id, epoch and base
  sequence twice on the wire) and nobusd answered some of them DUPLICATE_SEQUENCE_NUMBER (46),
  i.e. it had them from before the kill and recognised them from its durable producer state (the
  WAL and the Delta txn `<table>/kafka-producer/<pid>`); no answer 45 or 47 (a lost state);
- every duplicated id has its rows from different sessions of one writer, no earlier session
  having recorded an ack for it, the sessions with different producer ids: the duplicate count is
  reported with that cause (a killed session's batches that were durable but whose acks it never
  saw, resent by its successor as new records under a new producer id);
- the final snapshot holds a txn `<table>/kafka-producer/<pid>` for every producer id whose batches
  were written (our replay; delta-rs agrees for a sample).

Usage: test/server/run_python.sh test/crash/kafka_kill_loop.py [--rounds 30] [--seed S]
       [--work DIR] [--keep] [--no-java]          (NOBUS_BIN_DIR: nobusd's folder;
       NOBUS_KAFKA_RDKAFKA_DEBUG=eos,msg: librdkafka's debug log in the writers' logs)
Prints "1 passed, 0 failed" or "0 passed, 1 failed" last; exit code 0 when passed.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "server"))
sys.path.insert(0, str(HERE.parents[0] / "kafka"))
import nobusd_process as nb  # noqa: E402
import kafka_harness as kh  # noqa: E402
import kill_loop_util as klu  # noqa: E402

TABLE = "kafka.crash.events"
WRITERS = {"rdkafka-a": 0, "rdkafka-b": 100_000_000}  # writer -> first id
JAVA_BASE = 200_000_000
JAVA_CHUNK = 3000           # records per Java session
RATE = 500                  # records per second per confluent-kafka writer
TICK_S = 0.02
RUN_TIMEOUT_MS = 300_000    # message.timeout.ms / delivery.timeout.ms: beyond the whole run
APP_ID_PREFIX = f"{TABLE}/kafka-producer/"
OUT_OF_ORDER_SEQUENCE_NUMBER, DUPLICATE_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH = 45, 46, 47
# The tap holds nobusd's answers this long and drops those it holds when nobusd dies: each kill
# leaves batches durable whose acks the client never sees, so it retries them in its session.
ANSWER_DELAY_S = 0.15


# ---------------------------------------------------------------------------------------------
# the confluent-kafka writer session

def read_acked(path):
    """{n: (session, offset)} from a writer's `acked` file (lines "n offset session")."""
    out = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if (len(parts) == 3 and parts[0].isdigit() and parts[1].lstrip("-").isdigit()
                and parts[2].rsplit("-s", 1)[-1].isdigit()):
            out[int(parts[0])] = (parts[2], int(parts[1]))
    return out


def read_max_sent(path):
    try:
        values = [int(v) for v in path.read_text().split() if v.isdigit()]
    except OSError:
        return -1
    return max(values, default=-1)


def rdkafka_main(opts):
    import confluent_kafka

    wdir = Path(opts.work) / "writers" / opts.writer
    session = f"{opts.writer}-s{opts.session}"
    acked_before = read_acked(wdir / "acked")
    max_sent = read_max_sent(wdir / "sent")
    resend = [n for n in range(max_sent + 1) if n not in acked_before]
    sent_log = klu.append_lines(wdir / "sent")
    acked_log = klu.append_lines(wdir / "acked")
    stop = Path(opts.work) / "stop"
    failed, client_errors = Counter(), Counter()
    state = {"acked": 0, "produced": 0}

    def on_error(err):
        client_errors[f"{err.name()}: {err.str()}"[:160]] += 1

    def report(n):
        def on_delivery(err, msg):
            if err is None:
                # librdkafka reports a batch answered DUPLICATE_SEQUENCE_NUMBER (a retry of one
                # nobusd already has) as delivered with made-up offsets (None, 0, 1, ...)
                offset = msg.offset() if msg.offset() is not None else -1
                acked_log.write(f"{n} {offset} {session}\n")
                state["acked"] += 1
            else:
                failed[f"{err.name()} ({err.code()}): {err.str()}"] += 1
        return on_delivery

    debug = os.environ.get("NOBUS_KAFKA_RDKAFKA_DEBUG")  # e.g. "eos,msg,protocol" (stderr)
    p = confluent_kafka.Producer({
        **({"debug": debug} if debug else {}),
        "bootstrap.servers": opts.bootstrap, "client.id": session,
        "enable.idempotence": True, "acks": "all", "linger.ms": 5,
        "batch.num.messages": 500, "message.timeout.ms": RUN_TIMEOUT_MS,
        "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500,
        "error_cb": on_error})

    def send(ns):
        for n in ns:
            while True:
                try:
                    p.produce(TABLE, value=kh.value(WRITERS[opts.writer] + n, session),
                              on_delivery=report(n))
                    state["produced"] += 1
                    break
                except BufferError:
                    p.poll(0.05)
        p.poll(0)

    nb.log(f"{session}: resending {len(resend)} ids without an ack, then new ids from "
           f"{max_sent + 1}")
    with open(wdir / "sessions.log", "a") as f:
        f.write(json.dumps({"session": session, "resent": len(resend)}) + "\n")
    send(resend)
    next_n = max_sent + 1
    per_tick = max(1, int(RATE * TICK_S))
    deadline = time.monotonic()
    while not stop.exists():
        ns = range(next_n, next_n + per_tick)
        sent_log.write(f"{ns[-1]}\n")  # before producing: a later session knows it was sent
        send(ns)
        next_n += per_tick
        deadline += TICK_S
        while (left_s := deadline - time.monotonic()) > 0:
            p.poll(left_s)  # serves delivery reports; returns early when it served some
    left = p.flush(120)
    summary = {"session": session, "resent": len(resend), "new": next_n - max_sent - 1,
               "acked": state["acked"], "left_after_flush": left, "failed": dict(failed),
               "client_errors": dict(client_errors.most_common(5))}
    (wdir / f"{session}.json").write_text(json.dumps(summary))
    nb.log(f"{session}: {summary}")
    return 0 if left == 0 and not failed else 1


# ---------------------------------------------------------------------------------------------
# driver

class Writer(klu.Child):
    """One confluent-kafka writer: its sessions, one process each."""

    def __init__(self, name, opts, bootstrap):
        super().__init__(Path(opts.work) / f"{name}.log")
        self.name, self.opts, self.bootstrap = name, opts, bootstrap
        self.dir = Path(opts.work) / "writers" / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sessions = 0
        self.killed = []

    def start(self):
        self.sessions += 1
        self.spawn(__file__, "rdkafka", "--work", self.opts.work, "--writer", self.name,
                   "--session", self.sessions, "--bootstrap", self.bootstrap)

    @property
    def label(self):
        return f"{self.name}-s{self.sessions}"

    def kill(self):
        super().kill()
        self.killed.append(self.label)


class JavaSessions:
    """Java producer processes in sequence, each with fresh ids (never killed)."""

    def __init__(self, opts, bootstrap):
        self.opts, self.bootstrap = opts, bootstrap
        self.proc = None
        self.started = 0
        self.results = {}  # session tag -> (first id, exit code, result dict or None)
        self.current = None

    def start(self):
        tag = f"java-s{self.started}"
        first = JAVA_BASE + self.started * JAVA_CHUNK
        self.started += 1
        work = Path(self.opts.work)
        cmd = [str(kh.HERE / "java" / "run.sh"), "--bootstrap", self.bootstrap, "--topic", TABLE,
               "--tag", tag, "--first", str(first), "--count", str(JAVA_CHUNK),
               "--linger-ms", "5", "--pause-every", "10", "--pause-ms", "20",
               "--delivery-timeout-ms", str(RUN_TIMEOUT_MS), "--max-block-ms", str(RUN_TIMEOUT_MS)]
        self.out_path = work / f"{tag}.out"
        with open(self.out_path, "wb") as out, open(work / f"{tag}.log", "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.current = (tag, first)

    def collect(self):
        """When the current process has ended: its result. True when it ended."""
        if self.proc is None or self.proc.poll() is None:
            return False
        tag, first = self.current
        result = kh.last_json_line(self.out_path.read_text(errors="replace"))
        self.results[tag] = (first, self.proc.returncode, result)
        self.proc = None
        return True

    def wait(self, timeout_s):
        if self.proc is not None:
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.collect()


def wire_sessions(tap):
    """From the tap: per client id (session), the (producer id, epoch) pairs of its batches, and
    how many batches it sent again (same producer id, epoch, base sequence)."""
    pids = defaultdict(set)
    seen = Counter()
    for b in tap.all_batches():
        if b["topic"] != TABLE:
            continue
        pids[b["client_id"]].add((b["producer_id"], b["epoch"]))
        seen[(b["client_id"], b["producer_id"], b["epoch"], b["base_sequence"])] += 1
    retried = Counter()
    for (client, _, _, _), n in seen.items():
        if n > 1:
            retried[client] += n - 1
    return pids, retried


def session_of(tag, client_ids):
    """The wire client id of a row's tag (the Java program prefixes its client id)."""
    return tag if tag in client_ids else f"nobus-test-java-{tag}"


def check(server, tap, writers, java):
    """(failures, report lines)."""
    failures, report = [], []
    root = server.table_root(TABLE)
    # what the clients reported
    acked, sent = {}, set()  # acked: id -> session
    for w in writers.values():
        base = WRITERS[w.name]
        for n, (session, _) in read_acked(w.dir / "acked").items():
            acked[base + n] = session
        max_sent = read_max_sent(w.dir / "sent")
        sent |= {base + n for n in range(max_sent + 1)}
        unacked = [base + n for n in range(max_sent + 1) if base + n not in acked]
        if unacked:
            failures.append(f"{w.name}: {len(unacked)} ids sent but never acknowledged by any "
                            f"session, e.g. {unacked[:10]}")
        for path in sorted(w.dir.glob("*.json")):
            s = json.loads(path.read_text())
            if s["failed"] or s["left_after_flush"]:
                failures.append(f"{s['session']}: delivery failures {s['failed']}, "
                                f"{s['left_after_flush']} left after flush")
    for tag, (first, code, result) in sorted(java.results.items()):
        sent |= set(range(first, first + JAVA_CHUNK))
        if not result:
            failures.append(f"{tag}: exit {code}, no result line")
            continue
        for i, off in enumerate(result["offsets"]):
            if off >= 0 or off == -2:  # -2: acknowledged without an offset (a duplicate retry)
                acked[first + i] = tag
        if code != 0 or result["acked"] != JAVA_CHUNK:
            failures.append(f"{tag}: exit {code}, acked {result['acked']} of {JAVA_CHUNK}, "
                            f"errors {result['errors']}")
    pids, retried = wire_sessions(tap)
    client_ids = set(pids)
    for client, pairs in sorted(pids.items()):
        if len(pairs) != 1:
            failures.append(f"session {client} used more than one (producer id, epoch) on the "
                            f"wire: {sorted(pairs)}")
    all_pids = [p for pairs in pids.values() for p, _ in pairs]
    if len(set(all_pids)) != len(all_pids):
        failures.append(f"two sessions shared a producer id: {sorted(pids.items())}")
    report.append(f"wire: {len(pids)} producer sessions, {sum(retried.values())} batches sent "
                  f"again within their session after a kill "
                  f"({dict(sorted(retried.items()))})")
    answers = Counter(a["error"] for a in tap.all_answers() if a["topic"] == TABLE)
    dup_answers = Counter(a["client_id"] for a in tap.all_answers()
                          if a["topic"] == TABLE and a["error"] == DUPLICATE_SEQUENCE_NUMBER)
    report.append(f"nobusd's Produce answers by error code {dict(sorted(answers.items()))}; "
                  f"{sum(dup_answers.values())} retried batches it already had (durable before "
                  f"the kill, their ack lost) answered DUPLICATE_SEQUENCE_NUMBER and not written "
                  f"again ({dict(sorted(dup_answers.items()))})")
    if sum(retried.values()) == 0 or not dup_answers:
        failures.append("no retried batch was one nobusd already had: the run did not test "
                        "de-duplication across a restart")
    bad = {e: n for e, n in answers.items() if e in (OUT_OF_ORDER_SEQUENCE_NUMBER,
                                                     INVALID_PRODUCER_EPOCH)}
    if bad:
        failures.append(f"nobusd lost a producer's state: answers {bad} (45 out of order, 47 "
                        f"invalid epoch)")
    resent = sum(json.loads(line)["resent"] for w in writers.values()
                 for line in (w.dir / "sessions.log").read_text().splitlines())
    # the table, read by both readers
    for reader in ("duckdb", "deltalake"):
        try:
            rows = kh.table_ids(server, TABLE, reader)
        except Exception as e:  # noqa: BLE001
            failures.append(f"{reader}: cannot read {TABLE}: {e!r}")
            continue
        tags = defaultdict(list)
        wrong = 0
        for r in rows:
            tags[r["id"]].append(r["tag"])
            wrong += r != kh.row(r["id"], r["tag"])
        lost = sorted(set(acked) - set(tags))
        unexpected = sorted(set(tags) - sent)
        dups = {i: t for i, t in tags.items() if len(t) > 1}
        same_session = {i: t for i, t in dups.items() if len(set(t)) != len(t)}
        cross = {i: t for i, t in dups.items() if i not in same_session}
        # a cross-session duplicate is allowed when it is one writer's id, no session that wrote
        # it saw an ack except possibly the last one, and the sessions had different producer ids
        unexplained = []
        for i, t in cross.items():
            writer = {s.rsplit("-s", 1)[0] for s in t}
            sessions = sorted(t, key=lambda s: int(s.rsplit("-s", 1)[1]))
            acked_by = acked.get(i)
            earlier_acked = acked_by is not None and acked_by != sessions[-1]
            wire = [pids.get(session_of(s, client_ids), set()) for s in sessions]
            distinct = all(wire) and len(set().union(*wire)) == len(wire)
            if len(writer) != 1 or earlier_acked or not distinct or i >= JAVA_BASE:
                unexplained.append((i, t, acked_by, [sorted(x) for x in wire]))
        extra_rows = sum(len(t) - 1 for t in dups.values())
        report.append(f"{reader}: {len(rows)} rows, {len(tags)} distinct ids; acked "
                      f"{len(acked)}, acked but missing {len(lost)}; never sent "
                      f"{len(unexpected)}; duplicated ids {len(dups)} ({extra_rows} extra rows): "
                      f"{len(same_session)} within one session, {len(cross)} across sessions "
                      f"(of the {resent} ids new sessions resent because the killed session had "
                      f"recorded no ack for them: written by the killed session too, under its "
                      f"own producer id), {len(unexplained)} unexplained")
        for what, bad_ids in (("acked but missing", lost), ("never sent", unexpected),
                              ("duplicated within one producer session",
                               sorted(same_session.items())[:10]),
                              ("duplicated across sessions without the expected cause",
                               unexplained)):
            if bad_ids:
                failures.append(f"{reader}: {len(bad_ids)} ids {what}, e.g. {list(bad_ids)[:10]}")
        if wrong:
            failures.append(f"{reader}: {wrong} rows not as sent")
    # the producer state in the Delta log
    txns = nb.delta_txns(root)
    producer_txns = {k for k in txns if k.startswith(APP_ID_PREFIX)}
    written_pids = {p for p in all_pids if p >= 0}
    missing_txn = sorted(p for p in written_pids if f"{APP_ID_PREFIX}{p}" not in producer_txns)
    report.append(f"Delta log: {len(producer_txns)} txns {APP_ID_PREFIX}<pid> for "
                  f"{len(written_pids)} producer ids on the wire")
    if missing_txn:
        failures.append(f"no txn {APP_ID_PREFIX}<pid> for producer ids {missing_txn[:10]}")
    for pid in sorted(written_pids)[:3]:
        app_id = f"{APP_ID_PREFIX}{pid}"
        try:
            rs = nb.deltalake_txn(root, app_id)
            if rs != txns.get(app_id):
                failures.append(f"delta-rs transaction_version({app_id}) = {rs}, our replay "
                                f"{txns.get(app_id)}")
        except Exception as e:  # noqa: BLE001
            failures.append(f"delta-rs transaction_version({app_id}): {e!r}")
    return failures, report


def driver_main(opts):
    from wiretap import WireTap

    work = Path(opts.work or tempfile.mkdtemp(prefix="nobus-kafka-kill-"))
    work.mkdir(parents=True, exist_ok=True)
    opts.work = str(work)
    rng = random.Random(opts.seed)
    nobusd_kills = max(20, opts.rounds * 4 // 5)
    kinds = ["nobusd"] * nobusd_kills + ["writer"] * max(0, opts.rounds - nobusd_kills)
    rng.shuffle(kinds)
    nb.log(f"kafka_kill_loop: seed {opts.seed}, {len(kinds)} rounds ({nobusd_kills} nobusd "
           f"kills); work dir {work}")
    if not opts.no_java:
        kh.build_program("java")
    tap = WireTap(response_delay_s=ANSWER_DELAY_S)
    port = klu.free_port()
    config = work / "nobusd.json"
    config.write_text(json.dumps({"kafka_advertised": tap.address}))
    server = nb.Nobusd(work / "data", kafka=True, start=False,
                       extra_args=["--config", str(config)])
    server.kafka_address = f"127.0.0.1:{port}"  # fixed: a restarted nobusd binds it again
    server.start()
    tap.upstream = server.kafka_address
    server.create_table(TABLE, kh.COLUMNS)
    nb.log(f"nobusd kafka={server.kafka_address} (clients through the tap {tap.address}), "
           f"log {server.log_path}")
    writers = {name: Writer(name, opts, tap.address) for name in WRITERS}
    for w in writers.values():
        w.start()
    java = JavaSessions(opts, tap.address)
    if not opts.no_java:
        java.start()
    failures = []
    started = time.monotonic()
    try:
        for round_no, kind in enumerate(kinds, 1):
            time.sleep(rng.uniform(0.3, 2.0))
            failures += klu.exited_early(writers.values(), round_no)
            if failures:
                break
            if java.collect():
                java.start()
            if kind == "nobusd":
                server.kill()
                time.sleep(rng.uniform(0, 0.3))  # clients find nobody listening for a moment
                server.start()
                what = "nobusd"
            else:
                w = writers[rng.choice(sorted(writers))]
                w.kill()
                w.start()
                what = f"{w.killed[-1]} (now session s{w.sessions})"
            nb.log(f"round {round_no}: killed {what}")
        nb.log(f"{len(kinds)} rounds in {time.monotonic() - started:.0f} s")
        (work / "stop").write_text("")
        for w in writers.values():
            if failure := w.finish_failure(opts.finish_timeout):
                failures.append(failure)
        java.wait(opts.finish_timeout)
        code = server.stop()
        if code != 0:
            failures.append(f"nobusd exited {code} after SIGTERM")
        f, report = check(server, tap, writers, java)
        failures += f
        report.append(f"the tap dropped {tap.dropped_answers} chunks of nobusd's answers it held "
                      f"when nobusd died ({server.starts} nobusd starts)")
        report.append("sessions: " + ", ".join(f"{w.name} {w.sessions} (killed {len(w.killed)})"
                                               for w in writers.values())
                      + f", java {java.started}")
        for line in report:
            nb.log(line)
    finally:
        for w in writers.values():
            if w.running():
                w.kill()
        if java.proc is not None and java.proc.poll() is None:
            java.proc.kill()
        if server.running():
            server.kill()
        tap.close()
    nb.keep_tables_for_readers(server.data_dir, "kafka_kill_loop")
    return nb.verdict(failures, work, opts.keep, f"nobusd log {server.log_path}",
                      "nobusd log, Kafka lines", kh.kafka_log(server))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", nargs="?", default="driver", choices=["driver", "rdkafka"])
    ap.add_argument("--rounds", type=int, default=30, help="kills (at least 20 of nobusd)")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("NOBUS_SEED", time.time())))
    ap.add_argument("--work", help="work dir (default: a new temp dir, removed when passed)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir when passed")
    ap.add_argument("--no-java", action="store_true", help="only the confluent-kafka writers")
    ap.add_argument("--finish-timeout", type=float, default=150)
    # rdkafka mode
    ap.add_argument("--writer")
    ap.add_argument("--session", type=int)
    ap.add_argument("--bootstrap")
    opts = ap.parse_args()
    if opts.mode == "rdkafka":
        return rdkafka_main(opts)
    return driver_main(opts)


if __name__ == "__main__":
    sys.exit(main())
