"""Three nobusd nodes behind HAProxy with their tables on a real S3 server (Ceph RGW): the fleet of
doc/operations.md "A fleet behind HAProxy", driven by the official SDKs.

- RGW (rgw.sh) with one bucket; three nodes, each with its own --data-dir (its WAL) and one
  shared --table-root s3://...; TLS (nobus dev-certs), OAuth (one shared --auth-dir), --ops-listen.
- HAProxy runs deploy/haproxy/haproxy.cfg made concrete for loopback (fleet_haproxy.py): TLS on
  its frontends (the SDKs speak https) and to the nodes, the nodes' addresses. The rest (hashing
  on the table header, /readyz checks, the deny rule) is the shipped file.
- The official Python SDK (ephemeral streams) and the official Rust SDK with `eos` (persistent
  streams) run driver cases (test/sdk/README.md) through HAProxy, one table each. The control
  endpoint the drivers call acts on the node serving the stream:
  - `restart`: SIGKILL it, wait until HAProxy has taken it out (the stream fails over to another
    node, which resumes it while the killed node's WAL still holds acknowledged rows), and start
    it again in the background (it replays its WAL into the tables the others now write);
  - `close-all`: drain it through HAProxy's runtime socket and SIGTERM it (close signal to its
    streams, final commit, exit 0), then start it again and put it back.
- Every table is then read straight from S3 by delta-rs and DuckDB (s3_readers.sh): exactly the
  acknowledged ids, and no id twice on the persistent streams.
Run through run_python.sh (pytest)."""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "test/sdk"))
sys.path.insert(0, str(REPO / "test/server"))
sys.path.insert(0, str(HERE))
import fleet_haproxy  # noqa: E402
import nobusd_process as nb  # noqa: E402
import harness  # noqa: E402  (the official SDK harness: certs, principals, drivers)
from s3_nodes_test import rgw  # noqa: E402,F401  (pytest fixture: RGW with an empty bucket)

BUCKET = "nobus-nodes"
BIN_DIR = Path(os.environ.get("NOBUS_BIN_DIR", REPO / "build/bin"))
# (SDK, cases): each case writes its own table sdk.<sdk>.<case>; ids as in harness.py.
RUNS = [
    ("python", ["json_single", "json_batch", "proto_batch", "restart", "close_signal"]),
    ("rust", ["json_batch", "persistent_resume", "persistent_restart", "persistent_close_signal"]),
]
ALL_CASES = {**harness.DATA_CASES, **harness.PERSISTENT_CASES}


def log(msg):
    print(f"fleet: {msg}", file=sys.stderr, flush=True)


class Node:
    """One nobusd of the fleet on fixed loopback ports (HAProxy names them); start() returns once
    its ops listener says /readyz 200."""

    def __init__(self, name, work, certs, rgw_env):
        self.name = name
        self.grpc, self.http, self.ops = fleet_haproxy.free_ports(3)
        self.data_dir = work / name
        self.log_path = work / f"{name}.nobusd.log"
        config = work / f"{name}.config.json"
        config.write_text(json.dumps({"tokens": [{"token": harness.ADMIN_TOKEN, "admin": True}]}))
        self.args = [
            str(BIN_DIR / "nobusd"), "--data-dir", str(self.data_dir),
            "--grpc-listen", f"127.0.0.1:{self.grpc}", "--http-listen", f"127.0.0.1:{self.http}",
            "--ops-listen", f"127.0.0.1:{self.ops}", "--kafka-listen", "", "--mqtt-listen", "",
            "--flush-interval-ms", "10000", "--config", str(config),
            "--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"),
            "--auth-dir", str(work / "auth"), "--table-root", f"s3://{BUCKET}/warehouse"]
        self.env = {**os.environ, **rgw_env}
        self.proc = None
        self.exits = []  # exit codes after SIGTERM

    def start(self):
        with open(self.log_path, "a") as err:
            err.write(f"==== fleet test: start at {time.strftime('%H:%M:%S')}\n")
            err.flush()
            self.proc = subprocess.Popen(self.args, env=self.env, stdout=subprocess.DEVNULL,
                                         stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}; log {self.log_path}")
            if self.ops_get("/readyz")[0] == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} never became ready; log {self.log_path}")

    def ops_get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ops}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, ""
        except OSError:
            return 0, ""

    def metric(self, name, labels=None):
        return nb.metric_value(self.ops_get("/metrics")[1], name, labels)

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def terminate(self):
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.exits.append(code)
        return code


class Fleet:
    """The nodes, HAProxy and the control actions the drivers call (serialized)."""

    def __init__(self, work, certs, rgw_env, tables):
        self.tables = tables  # "catalog.schema.table" of every case
        self.nodes = [Node(f"n{k}", work, certs, rgw_env) for k in (1, 2, 3)]
        self.lb = fleet_haproxy.HAProxy(work, certs, self.nodes)
        self.lock = threading.Lock()
        self.restarts = []  # background restarts after a kill
        self.actions = []
        self.killed_holding = {}  # table -> uncommitted bytes its node held when SIGKILLed

    # What harness.driver_env asks of a server: the names clients use (certificate: localhost).
    def endpoint(self):
        return f"https://localhost:{self.lb.grpc_port}"

    def workspace_url(self):
        return f"https://localhost:{self.lb.http_port}"

    def serving(self):
        """The node with the open stream (the drivers run one case at a time)."""
        open_streams = [(n.metric("nobus_open_streams"), n) for n in self.nodes]
        count, node = max(open_streams, key=lambda t: t[0])
        if count == 0:
            raise RuntimeError("no node has an open stream")
        return node

    def restart(self):
        node = self.serving()
        # With a 10 s flush interval the rows the driver just had acknowledged are still
        # uncommitted: only in this node's WAL when it dies.
        buffered = {t: b for t in self.tables
                    if (b := node.metric("nobus_table_buffered_bytes", {"table": t}))}
        node.kill()
        self.lb.wait_status(node.name, "DOWN")  # from now on its tables hash to the others
        thread = threading.Thread(target=node.start, daemon=True)
        thread.start()
        self.restarts.append(thread)
        self.actions.append(f"SIGKILL {node.name} holding uncommitted rows {buffered}, "
                            "failed over, restarted")
        self.killed_holding.update(buffered)
        return {"killed": node.name, "uncommitted_bytes": buffered}

    def drain(self):
        node = self.serving()
        self.lb.set_state(node.name, "drain")
        code = node.terminate()
        node.start()
        self.lb.set_state(node.name, "ready")
        self.lb.wait_status(node.name, "UP")
        self.actions.append(f"drained {node.name} (exit {code}), restarted")
        return {"drained": node.name, "exit": code}

    def settle(self):
        """Every node back and UP in HAProxy: one disturbance at a time."""
        for t in self.restarts:
            t.join()
        self.restarts.clear()
        self.lb.wait_all_up()

    def control(self, path):
        with self.lock:
            self.settle()
            if path == "/restart":
                return self.restart()
            if path == "/close-all":
                return self.drain()
            raise KeyError(path)


def test_three_nodes_behind_haproxy_lose_no_acked_row(rgw, tmp_path):
    certs = harness.make_certs(BIN_DIR, tmp_path)
    clients = {sdk: harness.create_principal(BIN_DIR, tmp_path / "auth", f"fleet-{sdk}", sdk)
               for sdk, _ in RUNS}
    fleet = Fleet(tmp_path, certs, rgw, [f"sdk.{sdk}.{case}" for sdk, cases in RUNS for case in cases])
    control = None
    try:
        for n in fleet.nodes:
            n.start()
        fleet.lb.start()
        fleet.lb.wait_all_up()
        for sdk, cases in RUNS:  # through the balancer: any node creates them, all serve them
            harness.create_tables(fleet, sdk, cases)
        control = harness.Control(lambda path: (200, fleet.control(path)))
        acked = {}
        for sdk, cases in RUNS:
            env = harness.driver_env(fleet, fleet, certs, clients[sdk], f"sdk.{sdk}.", control)
            env["NOBUS_CASES"] = ",".join(cases)
            folder, args = harness.SDKS[sdk]
            lines, code, seconds = harness.run_driver(sdk, folder, args, env)
            by_case = {l["case"]: l for l in lines if "case" in l}
            log(f"{sdk}: driver exit {code} after {seconds:.0f} s")
            for case in cases:
                line = by_case.get(case, {"ok": False, "detail": "no result line"})
                assert line.get("ok"), f"{sdk} {case}: {line.get('detail')}"
                assert set(line["acked_ids"]) == set(ALL_CASES[case]), f"{sdk} {case}: acked ids"
                acked[(sdk, case)] = line["acked_ids"]
            with fleet.lock:
                fleet.settle()  # the next driver's kill must not wait for this one's restart
        log("actions: " + "; ".join(fleet.actions))
        assert any(a.startswith("SIGKILL") for a in fleet.actions)
        for table in ("sdk.python.restart", "sdk.rust.persistent_restart"):
            assert fleet.killed_holding.get(table), f"{table}: its node held no uncommitted rows"
        assert any(a.startswith("drained") for a in fleet.actions)
        assert all(code == 0 for n in fleet.nodes for code in n.exits), "a drained node exited != 0"
        conflicts = sum(n.metric("nobus_table_commit_conflicts_total") for n in fleet.nodes)
        elsewhere = sum(n.metric("nobus_table_requests_committed_elsewhere_total")
                        for n in fleet.nodes)
        log(f"commit conflicts since the last restarts: {conflicts:.0f}; requests another node "
            f"had committed: {elsewhere:.0f}")
        for n in fleet.nodes:
            assert n.terminate() == 0, f"{n.name} did not drain cleanly"
    finally:
        if control is not None:
            control.shutdown()
        fleet.lb.stop()
        for n in fleet.nodes:
            if n.proc is not None and n.proc.poll() is None:
                n.proc.kill()

    expect = {f"s3://{BUCKET}/warehouse/sdk/{sdk}/{case}":
              {"ids": ids, "unique": case in harness.PERSISTENT_CASES}
              for (sdk, case), ids in acked.items()}
    expect_file = tmp_path / "expect.json"
    expect_file.write_text(json.dumps(expect))
    readers = subprocess.run([str(HERE / "s3_readers.sh"), str(expect_file)],
                             env={**os.environ, **rgw}, stdout=subprocess.PIPE, text=True)
    summary = json.loads(readers.stdout.strip().splitlines()[-1])
    assert summary["tables"] == len(expect) and not summary["failures"], summary["failures"]
