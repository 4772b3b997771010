"""Shared pieces of the Node-driven MQTT tests (test/mqtt/mqttjs_test.py, mqtt_packet_test.py):
a nobusd with its MQTT endpoint on a port of its own and authentication on (static tokens in its
config file), running the Node scripts beside this file (they print one JSON line; the tests
judge it), and the exactly-once check of a table with DuckDB and delta-rs.

The Node packages (MQTT.js `mqtt`, `mqtt-packet`) are pinned in test/package.json and installed
into test/node_modules by `cd test && npm ci` (scripts/setup.sh)."""
import json
import shutil
import subprocess
from pathlib import Path

import nobusd_process as nb

NODE_DIR = Path(__file__).resolve().parent
NODE_MODULES = NODE_DIR.parents[1] / "node_modules"

# Static tokens (doc/server.md "Authentication"): the harness's admin token creates the tables;
# CLIENT_TOKEN covers every mqtt.*.* table; OTHER_TOKEN covers only other.*.* (a valid token that
# may not write the mqtt tables).
ADMIN_TOKEN = "mqtt-node-test-admin-token"
CLIENT_TOKEN = "mqtt-node-test-client-token"
OTHER_TOKEN = "mqtt-node-test-other-token"
TABLE_HEADER = "x-databricks-zerobus-table-name"
COLUMNS, COLUMN_NAMES = nb.RECORD_COLUMNS, nb.RECORD_COLUMN_NAMES
NODE_TIMEOUT_S = 300

log = nb.log


payload, row = nb.record_payload, nb.record_row  # the row of id i, as mqttjs_publish.mjs sends it


def row_json(i, tag):
    return nb.record_value(i, tag).decode()


def check_node():
    """Node on PATH and the pinned packages installed, or an error saying how to get them."""
    if shutil.which("node") is None:
        raise RuntimeError("node is not on PATH")
    for package in ("mqtt", "mqtt-packet"):
        if not (NODE_MODULES / package / "package.json").exists():
            raise RuntimeError(f"{NODE_MODULES / package} missing: run `cd test && npm ci`")


def start_nobusd(tmp_path):
    """A nobusd with the MQTT endpoint on a free port and authentication on (the three static
    tokens); http() requests go with the admin token. Returns the Nobusd (mqtt_address set)."""
    check_node()
    config = {"tokens": [{"token": ADMIN_TOKEN, "admin": True},
                         {"token": CLIENT_TOKEN, "tables": ["mqtt.*.*"]},
                         {"token": OTHER_TOKEN, "tables": ["other.*.*"]}]}
    path = Path(tmp_path) / "nobusd.json"
    path.write_text(json.dumps(config))
    server = nb.Nobusd(Path(tmp_path) / "data", mqtt=True, extra_args=["--config", str(path)])
    server.token = ADMIN_TOKEN
    log(f"nobusd mqtt={server.mqtt_address} http={server.http_address} log={server.log_path}")
    return server


def create_table(server, name):
    server.create_table(name, COLUMNS)
    return name


def run_node(script, spec, timeout_s=NODE_TIMEOUT_S):
    """Runs `node NODE_DIR/script` with the spec as JSON on its stdin; returns its last JSON line
    (a dict). Its stderr goes to the test's output when it fails to print one."""
    cmd = ["node", str(NODE_DIR / script)]
    try:
        proc = subprocess.run(cmd, input=json.dumps(spec).encode(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout_s, cwd=NODE_DIR)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{script} still running after {timeout_s} s; stderr:\n"
                             f"{(e.stderr or b'').decode(errors='replace')[-4000:]}") from None
    out = proc.stdout.decode(errors="replace")
    for line in reversed(out.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(f"{script} exited {proc.returncode} without a JSON line; stdout:\n"
                         f"{out[-2000:]}\nstderr:\n{proc.stderr.decode(errors='replace')[-4000:]}")


def mqtt_log(server, lines=60):
    return server.log_tail(lines, grep=("mqtt", "MQTT", "error", "ERROR", "warn", "WARN"))


def expect_tables(server, expected_tables, timeout_s=60):
    """{table: {id: row}}: every expected id exactly once, as sent, in DuckDB and delta-rs, before
    and after a SIGTERM (nobusd_process.expect_tables)."""
    nb.expect_tables(server, expected_tables, COLUMN_NAMES, lambda: mqtt_log(server), timeout_s)

