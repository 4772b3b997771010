#!/usr/bin/env python3
"""MQTT QoS 2 exactly once and QoS 1 at least once while nobusd (and now and then a writer) is
SIGKILLed: every message a QoS 2 writer sent is in its table exactly once, no loss, no duplicate;
every message a QoS 1 writer got a PUBACK for is in its table (twice is allowed), none lost.

nobusd runs with its MQTT endpoint on a fixed port (`--mqtt-listen 127.0.0.1:<port>`, so a
restarted nobusd is where the writers reconnect). Two tables of test/mqtt/mqtt_harness.py's rows
(`id BIGINT NOT NULL, tag STRING, payload STRING`): mqtt.crash.qos2 for four QoS 2 writers,
mqtt.crash.qos1 for two QoS 1 writers. Each writer is a process (the `writer` / `qos1-writer` mode
of this file, raw MQTT packets from test/mqtt/raw_mqtt.py, so every resend is exactly what the
standard asks) with a client identifier and ids (base + 0, 1, 2, ...) of its own. The QoS 2 writers
have Clean Start = 0: three MQTT 5.0 (Session Expiry Interval 3600), one 3.1.1 (clean session 0). A
QoS 2 writer publishes its ids with QoS 2 at RATE messages/s and up to WINDOW messages in flight,
packet identifiers cycling through 1..PACKET_IDS (so they are reused, also across restarts), and
follows MQTT 5.0 4.4 / 3.1.1 4.4 on every reconnect (it retries connecting until nobusd is back):
first it resends, in their original order, every message without PUBREC as PUBLISH with DUP = 1 and
the same packet identifier, and PUBREL for every message with PUBREC but no PUBCOMP; then it goes
on with new ids.

A QoS 2 writer keeps its session in `journal` (one line per step, appended and flushed before the
packet goes out): `P n pid` before the first PUBLISH of id n, `D n pid` before a DUP resend, `R n
pid` before the PUBREL (after the PUBREC), `E n pid` before a resent PUBREL, `C n pid` at the
PUBCOMP, `K ...` at each CONNACK; and every PUBCOMP'd id in `acked`. A writer process started after
its predecessor was SIGKILLed replays the journal (every P/D without R/E: no PUBREC; every R/E
without C: no PUBCOMP) and resumes the session with Clean Start = 0. Anything a correct server
never does is a violation (exit 3, `violations`): a PUBREC or PUBCOMP for a packet identifier that
has no message in that state, a PUBREC with a failure reason code, a DISCONNECT other than Server
unavailable / busy / shutting down, a refused CONNECT other than those.

The QoS 1 writers (one 5.0, one 3.1.1) are devices without a session: Clean Start = 1 (no Session
Expiry), QoS 1 at RATE with up to WINDOW messages without PUBACK. The journal has `P n pid` before
the first PUBLISH of id n (the id counts as sent from then on), `D n pid` before a resend, `A n
pid` at the PUBACK (n is appended to `acked` as soon as the PUBACK is read), `K ...` at each
CONNACK. After a disconnect it reconnects (Clean Start 1 again, retrying until nobusd is back) and
resends, in order, every message without PUBACK as a new message (DUP 0, a new packet identifier),
then goes on: at least once, so a message that was durable when the connection broke before its
PUBACK lands twice. A process started after its predecessor was SIGKILLed does not resume: the
predecessor's messages without PUBACK are lost with it (a device's memory), and it goes on after
the last id sent. Violations as above, and a PUBACK for a packet identifier with no message
pending, a PUBACK with a failure reason code, Session Present 1 after Clean Start 1.

The driver, per round after a seeded random delay of 0.5-2 s: SIGKILLs nobusd and starts it again
on the same data dir and ports (2 rounds in 3), a writer (a new QoS 2 writer process resumes its
session), or both at once; before each nobusd kill it reads nobusd's counter of resends answered
without a write (`nobus_mqtt_publishes_total{qos="2",result="duplicate"}`, it starts at 0 with each
nobusd). Then the writers finish (no new ids; every pending message completed), nobusd stops
(SIGTERM), and the tables are read with DuckDB (over our own replay of the Delta log) and delta-rs.
Checks, QoS 2: every id a writer ever sent (P in its journal) is in the table exactly once and its
row is as sent, no other id, every sent id PUBCOMP'd by the end, no writer violation, and the run
did resend messages after kills. QoS 1: every id in an `acked` file is in mqtt.crash.qos1 at least
once, every row is one of an id sent and as sent, no writer violation, and the run did resend; the
ids in the table twice or more (a resend of a message that was durable but not acknowledged) and
the ids sent but never PUBACK'd that are missing (only a SIGKILLed writer process's messages in
flight) are counted and printed, not failed.

Usage: test/server/run_python.sh test/crash/mqtt_kill_loop.py [--rounds 30] [--seed S]
       [--work DIR] [--keep]            (NOBUS_BIN_DIR: nobusd's folder)
Prints "1 passed, 0 failed" or "0 passed, 1 failed" last; exit code 0 when passed.
"""
import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "server"))
sys.path.insert(0, str(HERE.parents[0] / "mqtt"))
import nobusd_process as nb  # noqa: E402
import mqtt_harness as mh  # noqa: E402
import kill_loop_util as klu  # noqa: E402
import raw_mqtt as rm  # noqa: E402

TABLE = "mqtt.crash.qos2"
QOS1_TABLE = "mqtt.crash.qos1"
# writer -> (first id, MQTT version)
WRITERS = {"w1-v5": (0, rm.V5), "w2-v5": (100_000_000, rm.V5), "w3-v5": (200_000_000, rm.V5),
           "w4-v311": (300_000_000, rm.V311)}
QOS1_WRITERS = {"q1-v5": (400_000_000, rm.V5), "q2-v311": (500_000_000, rm.V311)}
RATE = 250                # new messages per second per writer
WINDOW = 10               # messages in flight (without PUBCOMP / PUBACK) per writer
PACKET_IDS = 300          # packet identifiers cycle through 1..PACKET_IDS
SESSION_EXPIRY_S = 3600
KEEP_ALIVE_S = 60
STALL_S = 20              # nothing from nobusd this long with messages in flight: reconnect
RECONNECT_S = 0.05
CONNECT_GIVE_UP_S = 120
VIOLATION_EXIT = 3
DUPLICATE = {"qos": "2", "result": "duplicate"}
# DISCONNECT / CONNACK reasons a correct nobusd may give while it starts or stops
RETRYABLE_V5 = {0x88, 0x89, 0x8B}   # Server unavailable, Server busy, Server shutting down
RETRYABLE_V311 = {3}                # Server unavailable

PUB, REL = "pub", "rel"   # a pending message: PUBLISH sent, no PUBREC / PUBREL sent, no PUBCOMP


# ---------------------------------------------------------------------------------------------
# the writer

def journal_steps(path):
    """[(kind, n, pid)] of the P/D/R/E/C/A lines (each "K n pid ." with its final dot: whole)."""
    out = []
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split()
        if (len(parts) == 4 and parts[0] in "PDRECA" and len(parts[0]) == 1 and parts[3] == "."
                and parts[1].isdigit() and parts[2].isdigit()):
            out.append((parts[0], int(parts[1]), int(parts[2])))
    return out


def replay(steps):
    """(pending {pid: [n, state]}, next n, last packet id) from a journal."""
    pending, next_n, last_pid = {}, 0, 0
    for kind, n, pid in steps:
        if kind in "PD":
            pending[pid] = [n, PUB]
            if kind == "P":
                next_n, last_pid = max(next_n, n + 1), pid
        elif kind in "RE":
            pending[pid] = [n, REL]
        elif kind == "C":
            pending.pop(pid, None)
    return pending, next_n, last_pid


class Violation(Exception):
    pass


class Reconnect(Exception):
    pass


def pace(conn, pending, publish_new, handle, stop_file, stats):
    """A writer's connection until it is done: publish_new(conn) (one new message, it adds it to
    pending) at RATE messages/s while fewer than WINDOW are pending, until the stop file appears,
    then until nothing is pending; every packet from nobusd goes to handle(conn, p). Reconnect
    after STALL_S without a packet while messages are pending."""
    tokens, last = 1.0, time.monotonic()
    last_heard = last
    stopping = stop_file.exists()
    next_stop_check = last + 0.1
    while True:
        now = time.monotonic()
        if now >= next_stop_check:
            stopping = stopping or stop_file.exists()
            next_stop_check = now + 0.1
        if stopping and not pending:
            return
        tokens = min(WINDOW, tokens + (now - last) * RATE)
        last = now
        while not stopping and len(pending) < WINDOW and tokens >= 1:
            tokens -= 1
            publish_new(conn)
        if not stopping and len(pending) < WINDOW:
            wait = max(0.001, (1 - tokens) / RATE)
        else:
            wait = 0.2
        try:
            p = conn.read(wait)
        except TimeoutError:
            if pending and time.monotonic() - last_heard > STALL_S:
                stats["stalls"] += 1
                raise Reconnect() from None
            continue
        last_heard = time.monotonic()
        handle(conn, p)
        while conn.buf:  # whatever else is buffered, without waiting
            try:
                p = conn.read(0.0001)
            except TimeoutError:
                break
            handle(conn, p)


class WriterSession:
    """What both kinds of writer process share: its files (`journal`, `acked`, `violations`, the
    summary `s<session>.json` in writers/<name>), the packet identifiers of its pending messages,
    connecting until nobusd accepts (retrying while nobusd starts or stops), the packets any
    writer handles alike, and the connection loop: connect, resend() what is pending, pace()
    new messages until the stop file, reconnect after a lost connection. A kind defines
    `pending` (packet id -> its message), `next_n`, clean (Clean Start), props (of the CONNECT),
    accepted(ack), resend(conn), handle(conn, p) and publish_new(conn)."""

    clean, props, refused = False, (), "session"
    summary_extra = {}

    def __init__(self, opts, writers):
        self.name, self.session, self.mqtt = opts.writer, opts.session, opts.mqtt
        self.base, self.version = writers[self.name]
        work = Path(opts.work)
        self.wdir = work / "writers" / self.name
        self.steps = journal_steps(self.wdir / "journal")  # what its predecessors did
        self.journal = klu.append_lines(self.wdir / "journal")
        self.acked = klu.append_lines(self.wdir / "acked")
        self.stop_file = work / "stop"
        self.stats = Counter()
        self.retryable = RETRYABLE_V5 if self.version == rm.V5 else RETRYABLE_V311
        self.last_pid = 0

    def violation(self, msg):
        with open(self.wdir / "violations", "a") as f:
            f.write(f"{self.name} s{self.session} pid {os.getpid()}: {msg}\n")
        nb.log(f"{self.name} VIOLATION: {msg}")
        self.journal.flush()
        os._exit(VIOLATION_EXIT)

    @staticmethod
    def send(conn, data):
        conn.sock.settimeout(10)  # read() leaves its own (short) timeout on the socket
        conn.sock.sendall(data)

    def new_pid(self):
        """The next packet identifier after the last one that has no message pending."""
        pid = self.last_pid
        while True:
            pid = pid % PACKET_IDS + 1
            if pid not in self.pending:
                self.last_pid = pid
                return pid

    def connect(self):
        """A connection whose CONNACK accepted it; retries until nobusd is back."""
        deadline = time.monotonic() + CONNECT_GIVE_UP_S
        while True:
            conn = None
            try:
                conn = rm.Connection(self.mqtt, version=self.version, timeout=5)
                ack = conn.connect(timeout=10, client_id=self.name, clean=self.clean,
                                   keep_alive=KEEP_ALIVE_S,
                                   props=list(self.props) if self.version == rm.V5 else [])
                if ack.reason == 0:
                    self.accepted(ack)
                    self.stats["connects"] += 1
                    self.journal.write(f"K {self.stats['connects']} {int(ack.session_present)} "
                                       f"{len(self.pending)} {time.time():.3f} .\n")
                    return conn
                if ack.reason not in self.retryable:
                    self.violation(f"CONNACK refused the {self.refused}: {ack}")
                self.stats[f"connack_0x{ack.reason:02x}"] += 1
            except (OSError, rm.Closed, TimeoutError, rm.Malformed, AssertionError) as e:
                self.stats[f"connect_{type(e).__name__}"] += 1
            if conn is not None:
                conn.close()
            if time.monotonic() > deadline:
                self.violation(f"no accepted CONNECT for {CONNECT_GIVE_UP_S} s")
            time.sleep(RECONNECT_S)

    def handle_other(self, p):
        """A packet that is not an answer to a message: DISCONNECT (reconnect), PINGRESP."""
        if p.type == rm.DISCONNECT:
            if p.reason not in RETRYABLE_V5:
                self.violation(f"DISCONNECT {p}")
            self.stats[f"disconnect_0x{p.reason:02x}"] += 1
            raise Reconnect()
        if p.type != rm.PINGRESP:
            self.violation(f"unexpected {p}")

    def run(self):
        while True:
            conn = self.connect()
            try:
                self.resend(conn)
                pace(conn, self.pending, self.publish_new, self.handle, self.stop_file,
                     self.stats)
                try:
                    conn.send(rm.disconnect(version=self.version))
                except OSError:
                    pass
                conn.close()
                break
            except (OSError, rm.Closed, TimeoutError, Reconnect) as e:
                self.stats[f"lost_{type(e).__name__}"] += 1
                conn.close()
                time.sleep(RECONNECT_S)
        summary = {"writer": self.name, "session": self.session, "next_n": self.next_n,
                   **self.summary_extra, **self.stats}
        (self.wdir / f"s{self.session}.json").write_text(json.dumps(summary))
        nb.log(f"{self.name} s{self.session}: finished {summary}")
        return 0


class Qos2Session(WriterSession):
    """A QoS 2 writer: Clean Start 0, resumes its predecessor's session from the journal, resends
    per MQTT 4.4 after every reconnect."""

    clean, props = False, [("SessionExpiryInterval", SESSION_EXPIRY_S)]

    def __init__(self, opts):
        super().__init__(opts, WRITERS)
        self.pending, self.next_n, self.last_pid = replay(self.steps)
        self.summary_extra = {"resumed": {
            "pub": sum(s == PUB for _, s in self.pending.values()),
            "rel": sum(s == REL for _, s in self.pending.values())}}
        resumed = self.summary_extra["resumed"]
        nb.log(f"{self.name} s{self.session}: next id {self.next_n}, resuming {resumed['pub']} "
               f"messages without PUBREC and {resumed['rel']} without PUBCOMP")

    def send_publish(self, conn, n, pid, dup):
        self.send(conn, rm.publish(TABLE, mh.value(self.base + n, self.name), qos=2,
                                   packet_id=pid, version=self.version, dup=dup))

    def accepted(self, ack):
        self.stats[f"session_present_{int(ack.session_present)}"] += 1

    def resend(self, conn):
        """MQTT 4.4: every pending message again, in the original order (by id)."""
        for pid, (n, state) in sorted(self.pending.items(), key=lambda kv: kv[1][0]):
            if state == PUB:
                self.journal.write(f"D {n} {pid} .\n")
                self.send_publish(conn, n, pid, dup=True)
                self.stats["dup_publishes"] += 1
            else:
                self.journal.write(f"E {n} {pid} .\n")
                self.send(conn, rm.pubrel(pid))
                self.stats["pubrel_resends"] += 1

    def handle(self, conn, p):
        if p.type == rm.PUBREC:
            entry = self.pending.get(p.packet_id)
            if entry is None or entry[1] != PUB:
                self.violation(f"PUBREC for packet id {p.packet_id}, pending there: {entry}")
            if p.reason != 0:
                self.violation(f"PUBREC {p} for id {self.base + entry[0]}")
            entry[1] = REL
            self.journal.write(f"R {entry[0]} {p.packet_id} .\n")
            self.send(conn, rm.pubrel(p.packet_id))
        elif p.type == rm.PUBCOMP:
            entry = self.pending.get(p.packet_id)
            if entry is None or entry[1] != REL:
                self.violation(f"PUBCOMP for packet id {p.packet_id}, pending there: {entry}")
            if p.reason != 0:
                self.violation(f"PUBCOMP {p} for id {self.base + entry[0]}")
            del self.pending[p.packet_id]
            self.journal.write(f"C {entry[0]} {p.packet_id} .\n")
            self.acked.write(f"{entry[0]}\n")
            self.stats["completed"] += 1
        else:
            self.handle_other(p)

    def publish_new(self, conn):
        n, pid = self.next_n, self.new_pid()
        self.journal.write(f"P {n} {pid} .\n")
        self.pending[pid] = [n, PUB]
        self.next_n += 1
        self.send_publish(conn, n, pid, dup=False)


class Qos1Session(WriterSession):
    """A QoS 1 writer: Clean Start 1, resends what has no PUBACK as new messages after every
    reconnect; a killed predecessor's messages without PUBACK are not resent."""

    clean, refused = True, "connection"

    def __init__(self, opts):
        super().__init__(opts, QOS1_WRITERS)
        self.next_n = 1 + max((n for kind, n, _ in self.steps if kind == "P"), default=-1)
        self.pending = {}  # packet id -> n: PUBLISH sent, no PUBACK
        nb.log(f"{self.name} s{self.session}: QoS 1, next id {self.next_n}")

    def add(self, n):
        """n pending under a free packet identifier (returned)."""
        pid = self.new_pid()
        self.pending[pid] = n
        return pid

    def send_publish(self, conn, n, pid, kind):
        self.journal.write(f"{kind} {n} {pid} .\n")
        self.send(conn, rm.publish(QOS1_TABLE, mh.value(self.base + n, self.name), qos=1,
                                   packet_id=pid, version=self.version))

    def accepted(self, ack):
        if ack.session_present:
            self.violation(f"Session Present 1 after Clean Start 1: {ack}")

    def resend(self, conn):
        """Every message without PUBACK again, in order, as a new message of the new session."""
        unacked = sorted(self.pending.values())
        self.pending.clear()
        for n, pid in [(n, self.add(n)) for n in unacked]:  # all pending before the first send
            self.send_publish(conn, n, pid, "D")
            self.stats["resends"] += 1

    def handle(self, conn, p):
        if p.type == rm.PUBACK:
            n = self.pending.get(p.packet_id)
            if n is None:
                self.violation(f"PUBACK for packet id {p.packet_id}, no message pending there")
            if p.reason != 0:
                self.violation(f"PUBACK {p} for id {self.base + n}")
            del self.pending[p.packet_id]
            self.acked.write(f"{n}\n")
            self.journal.write(f"A {n} {p.packet_id} .\n")
            self.stats["acked"] += 1
        else:
            self.handle_other(p)

    def publish_new(self, conn):
        n, pid = self.next_n, self.add(self.next_n)
        self.next_n += 1
        self.send_publish(conn, n, pid, "P")


# ---------------------------------------------------------------------------------------------
# driver

class Writer(klu.Child):
    """One writer: its processes (sessions of one client id), one at a time."""

    def __init__(self, name, opts, mqtt_address):
        super().__init__(Path(opts.work) / f"{name}.log")
        self.name, self.opts, self.mqtt_address = name, opts, mqtt_address
        self.qos = 1 if name in QOS1_WRITERS else 2
        self.base, self.version = {**WRITERS, **QOS1_WRITERS}[name]
        self.dir = Path(opts.work) / "writers" / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sessions = 0
        self.kills = 0

    def start(self):
        self.sessions += 1
        self.spawn(__file__, "writer" if self.qos == 2 else "qos1-writer", "--work",
                   self.opts.work, "--writer", self.name, "--session", self.sessions,
                   "--mqtt", self.mqtt_address)

    @property
    def label(self):
        return f"{self.name} s{self.sessions}"

    def kill(self):
        super().kill()
        self.kills += 1


def explain(writer, n):
    """The journal lines of one id of a writer (with the CONNACK line before each), for a
    failure report."""
    try:
        lines = (writer.dir / "journal").read_text().splitlines()
    except OSError:
        return "no journal"
    out, last_k = [], None
    for i, line in enumerate(lines):
        parts = line.split()
        if parts and parts[0] == "K":
            last_k = f"{i}: {line}"
        elif len(parts) >= 3 and parts[1] == str(n):
            if last_k:
                out.append(last_k)
                last_k = None
            out.append(f"{i}: {line}")
    return "; ".join(out[-24:])


def check(server, writers):
    """(failures, report lines)."""
    failures, report = [], []
    expected = {}   # id -> (writer, n)
    steps = Counter()
    for w in writers.values():
        journal = journal_steps(w.dir / "journal")
        steps.update(kind for kind, _, _ in journal)
        sent = sorted({n for kind, n, _ in journal if kind == "P"})
        if sent != list(range(len(sent))):
            failures.append(f"{w.name}: journal ids not 0..{len(sent) - 1}")
        acked = set()
        for v in (w.dir / "acked").read_text().split():
            if v.isdigit():
                acked.add(int(v))
        never = sorted(set(sent) - acked)
        if never:
            failures.append(f"{w.name}: {len(never)} ids sent but never PUBCOMP'd, e.g. "
                            f"{never[:10]}")
        if acked - set(sent):
            failures.append(f"{w.name}: PUBCOMP'd ids never sent: {sorted(acked - set(sent))[:10]}")
        for n in sent:
            expected[w.base + n] = (w, n)
        if (w.dir / "violations").exists():
            failures.append(f"{w.name} violations:\n" + (w.dir / "violations").read_text())
    report.append(f"writers: {len(expected)} messages sent; journal steps "
                  f"{dict(sorted(steps.items()))} (P publish, D DUP resend, R pubrel, E pubrel "
                  f"resend, C pubcomp)")
    root = server.table_root(TABLE)
    for reader, read in (("duckdb", nb.read_rows_duckdb), ("deltalake", nb.read_rows_deltalake)):
        try:
            rows = read(root, columns=mh.COLUMN_NAMES)
        except Exception as e:  # noqa: BLE001
            failures.append(f"{reader}: cannot read {TABLE}: {e!r}")
            continue
        counts = Counter(r["id"] for r in rows)
        missing = sorted(set(expected) - set(counts))
        dups = sorted(i for i, c in counts.items() if c > 1)
        unexpected = sorted(set(counts) - set(expected))
        wrong = sorted(r["id"] for r in rows
                       if r["id"] in expected and r != mh.row(r["id"], expected[r["id"]][0].name))
        report.append(f"{reader}: {len(rows)} rows, {len(counts)} distinct ids of "
                      f"{len(expected)} sent; missing {len(missing)}, duplicated {len(dups)} "
                      f"({sum(counts[i] - 1 for i in dups)} extra rows), never sent "
                      f"{len(unexpected)}, not as sent {len(wrong)}")
        for what, ids in (("missing", missing), ("duplicated", dups),
                          ("never sent", unexpected), ("not as sent", wrong)):
            if ids:
                failures.append(f"{reader}: {len(ids)} ids {what}, e.g. {ids[:10]}")
                for i in ids[:3]:
                    if i in expected:
                        w, n = expected[i]
                        failures.append(f"  id {i} ({w.name} n={n}, {counts[i]} rows), its "
                                        f"journal: {explain(w, n)}")
    return failures, report, steps, len(expected)


def check_qos1(server, writers):
    """(failures, report lines, journal steps) of the QoS 1 writers and their table."""
    failures, report = [], []
    sent, acked = {}, set()   # id -> (writer, n); ids
    steps = Counter()
    for w in writers.values():
        journal = journal_steps(w.dir / "journal")
        steps.update(kind for kind, _, _ in journal)
        w_sent = sorted({n for kind, n, _ in journal if kind == "P"})
        if w_sent != list(range(len(w_sent))):
            failures.append(f"{w.name}: journal ids not 0..{len(w_sent) - 1}")
        w_acked = {int(v) for v in (w.dir / "acked").read_text().split() if v.isdigit()}
        if w_acked - set(w_sent):
            failures.append(f"{w.name}: PUBACK'd ids never sent: "
                            f"{sorted(w_acked - set(w_sent))[:10]}")
        for n in w_sent:
            sent[w.base + n] = (w, n)
        acked |= {w.base + n for n in w_acked}
        if (w.dir / "violations").exists():
            failures.append(f"{w.name} violations:\n" + (w.dir / "violations").read_text())
    unacked = set(sent) - acked
    report.append(f"QoS 1 writers: {len(sent)} messages sent, {len(acked)} PUBACK'd; journal "
                  f"steps {dict(sorted(steps.items()))} (P publish, D resend, A puback)")
    root = server.table_root(QOS1_TABLE)
    for reader, read in (("duckdb", nb.read_rows_duckdb), ("deltalake", nb.read_rows_deltalake)):
        try:
            rows = read(root, columns=mh.COLUMN_NAMES)
        except Exception as e:  # noqa: BLE001
            failures.append(f"{reader}: cannot read {QOS1_TABLE}: {e!r}")
            continue
        counts = Counter(r["id"] for r in rows)
        lost = sorted(acked - set(counts))
        unexpected = sorted(set(counts) - set(sent))
        wrong = sorted(r["id"] for r in rows
                       if r["id"] in sent and r != mh.row(r["id"], sent[r["id"]][0].name))
        twice = sorted(i for i, c in counts.items() if c > 1)
        unacked_missing = sorted(unacked - set(counts))
        report.append(f"QoS 1 {reader}: {len(rows)} rows, {len(counts)} distinct ids of "
                      f"{len(sent)} sent; PUBACK'd but missing {len(lost)}, never sent "
                      f"{len(unexpected)}, not as sent {len(wrong)}; twice or more {len(twice)} "
                      f"({sum(counts[i] - 1 for i in twice)} extra rows); sent but never "
                      f"PUBACK'd {len(unacked)}: {len(unacked_missing)} missing, "
                      f"{len(unacked) - len(unacked_missing)} in the table")
        for what, ids in (("PUBACK'd but missing", lost), ("never sent", unexpected),
                          ("not as sent", wrong)):
            if ids:
                failures.append(f"{reader} {QOS1_TABLE}: {len(ids)} ids {what}, e.g. {ids[:10]}")
                for i in ids[:3]:
                    if i in sent:
                        w, n = sent[i]
                        failures.append(f"  id {i} ({w.name} n={n}, {counts[i]} rows), its "
                                        f"journal: {explain(w, n)}")
    return failures, report, steps


def driver_main(opts):
    work = Path(opts.work or tempfile.mkdtemp(prefix="nobus-mqtt-kill-"))
    work.mkdir(parents=True, exist_ok=True)
    opts.work = str(work)
    rng = random.Random(opts.seed)
    n_nobusd = opts.rounds * 2 // 3
    n_both = (opts.rounds - n_nobusd) // 2
    kinds = (["nobusd"] * n_nobusd + ["both"] * n_both
             + ["writer"] * (opts.rounds - n_nobusd - n_both))
    rng.shuffle(kinds)
    nb.log(f"mqtt_kill_loop: seed {opts.seed}, {len(kinds)} rounds ({Counter(kinds)}); "
           f"work dir {work}")
    server = nb.Nobusd(work / "data", mqtt=True, start=False)
    server.mqtt_address = f"127.0.0.1:{klu.free_port()}"  # fixed: a restarted nobusd binds it again
    server.start()
    server.create_table(TABLE, mh.COLUMNS)
    server.create_table(QOS1_TABLE, mh.COLUMNS)
    nb.log(f"nobusd mqtt={server.mqtt_address} http={server.http_address}, log {server.log_path}")
    writers = {name: Writer(name, opts, server.mqtt_address)
               for name in (*WRITERS, *QOS1_WRITERS)}
    for w in writers.values():
        w.start()
    failures = []
    duplicates_before_kills = 0
    kills = Counter()
    started = time.monotonic()
    try:
        for round_no, kind in enumerate(kinds, 1):
            time.sleep(rng.uniform(0.5, 2.0))
            failures += klu.exited_early(writers.values(), round_no)
            if failures:
                break
            victim = writers[rng.choice(sorted(writers))] if kind != "nobusd" else None
            if kind != "writer":
                try:
                    duplicates_before_kills += server.metric("nobus_mqtt_publishes_total",
                                                             DUPLICATE)
                except (OSError, RuntimeError) as e:
                    nb.log(f"round {round_no}: GET /metrics: {e}")
            if victim:
                victim.kill()
                kills["writer"] += 1
            if kind != "writer":
                server.kill()
                kills["nobusd"] += 1
                time.sleep(rng.uniform(0, 0.3))  # writers find nobody listening for a moment
                server.start()
            if victim:
                victim.start()
            nb.log(f"round {round_no}: killed "
                   + {"nobusd": "nobusd", "writer": f"{victim and victim.name}",
                      "both": f"nobusd and {victim and victim.name}"}[kind])
        nb.log(f"{len(kinds)} rounds in {time.monotonic() - started:.0f} s")
        (work / "stop").write_text("")
        for w in writers.values():
            if failures:
                break
            if failure := w.finish_failure(opts.finish_timeout):
                failures.append(failure)
        final_duplicates = 0
        try:
            final_duplicates = server.metric("nobus_mqtt_publishes_total", DUPLICATE)
        except (OSError, RuntimeError) as e:
            failures.append(f"GET /metrics before the stop: {e}")
        code = server.stop()
        if code != 0:
            failures.append(f"nobusd exited {code} after SIGTERM")
        f, report, steps, messages = check(server, {n: w for n, w in writers.items()
                                                    if w.qos == 2})
        failures += f
        f, qos1_report, qos1_steps = check_qos1(server, {n: w for n, w in writers.items()
                                                          if w.qos == 1})
        failures += f
        report += qos1_report
        summaries = [json.loads(p.read_text()) for w in writers.values()
                     for p in sorted(w.dir.glob("s*.json"))]
        resends = steps["D"] + steps["E"]
        report.append(f"rounds {len(kinds)}, kills {dict(kills)} ({server.starts} nobusd starts); "
                      f"messages {messages}; resends after reconnects {resends} "
                      f"({steps['D']} DUP PUBLISHes, {steps['E']} PUBRELs); nobusd answered "
                      f"{duplicates_before_kills + final_duplicates:.0f} resends without "
                      f"writing them ({duplicates_before_kills:.0f} read before the kills, "
                      f"{final_duplicates:.0f} by the last nobusd)")
        report.append("writers: " + ", ".join(
            f"{w.name} {w.sessions} processes ({w.kills} killed)" for w in writers.values()))
        for s in summaries:
            report.append(f"  {s}")
        if not failures and (steps["D"] == 0 or steps["E"] == 0):
            failures.append("no DUP PUBLISH or no resent PUBREL: the run did not test resends")
        if not failures and duplicates_before_kills + final_duplicates == 0:
            failures.append("nobusd answered no resend as a duplicate: the run did not test "
                            "de-duplication")
        if not failures and qos1_steps["D"] == 0:
            failures.append("no QoS 1 resend: the run did not test QoS 1 after reconnects")
        for line in report:
            nb.log(line)
    finally:
        for w in writers.values():
            if w.running():
                w.kill()
        if server.running():
            server.kill()
    nb.keep_tables_for_readers(server.data_dir, "mqtt_kill_loop")
    return nb.verdict(failures, work, opts.keep, f"nobusd log {server.log_path}",
                      "nobusd log, MQTT lines", mh.mqtt_log(server))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", nargs="?", default="driver",
                    choices=["driver", "writer", "qos1-writer"])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--seed", type=int, default=int(os.environ.get("NOBUS_SEED", time.time())))
    ap.add_argument("--work", help="work dir (default: a new temp dir, removed when passed)")
    ap.add_argument("--keep", action="store_true", help="keep the work dir when passed")
    ap.add_argument("--finish-timeout", type=float, default=120)
    # writer mode
    ap.add_argument("--writer")
    ap.add_argument("--session", type=int)
    ap.add_argument("--mqtt")
    opts = ap.parse_args()
    if opts.mode == "writer":
        return Qos2Session(opts).run()
    if opts.mode == "qos1-writer":
        return Qos1Session(opts).run()
    return driver_main(opts)


if __name__ == "__main__":
    sys.exit(main())
