"""Shared pieces of the MQTT-client tests (README.md beside this file): the record every client
sends and the table it lands in, starting nobusd with its MQTT endpoint (plain, with
authentication by static tokens, with TLS), running mosquitto_pub, a paho-mqtt client that keeps
every CONNACK, PUBACK, SUBACK and DISCONNECT it gets, and the exactly-once check of tables with
DuckDB and delta-rs.

Every client case writes its ids to a table of its own (`mqtt.<client>.<case>`, the topic),
schema `id BIGINT NOT NULL, tag STRING, payload STRING`; a message's payload is
`{"id":ID,"tag":"<client>-<case>","payload":"row-ID-" + 4 x "0123456789abcdef"}`."""
import itertools
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import nobusd_process as nb

HERE = Path(__file__).resolve().parent
COLUMNS, COLUMN_NAMES = nb.RECORD_COLUMNS, nb.RECORD_COLUMN_NAMES
N = int(os.environ.get("NOBUS_MQTT_RECORDS", "2000"))  # messages per client case
PROGRAM_TIMEOUT_S = 300

# Authentication (doc/mqtt.md "CONNECT", doc/server.md "tokens"): static tokens in nobusd's
# config file. The harness creates tables with ADMIN_TOKEN; clients connect with CLIENT_TOKEN
# (MODIFY on every mqtt.*.* table); OTHER_TOKEN covers only other.*.* tables.
ADMIN_TOKEN = "mqtt-test-admin-token"
CLIENT_TOKEN = "mqtt-test-client-token"
OTHER_TOKEN = "mqtt-test-other-token"
WRONG_TOKEN = "mqtt-test-no-such-token"
TABLE_HEADER = "x-databricks-zerobus-table-name"

log = nb.log
# a message's row and its payload (one JSON object of the table's columns, compact)
payload, row, value = nb.record_payload, nb.record_row, nb.record_value


def table_name(client, case):
    return f"mqtt.{client}.{re.sub(r'[^a-z0-9_]', '_', case.lower())}"


def create_table(server, name):
    server.create_table(name, COLUMNS)
    return name


# ---------------------------------------------------------------------------------------------
# nobusd

def start_nobusd(work_dir, auth=False, tls=False):
    """A nobusd with its MQTT endpoint on a loopback port of its own (`--mqtt-listen
    127.0.0.1:0`); auth: the static tokens above in its config file (the harness's http() calls
    send ADMIN_TOKEN); tls: `--tls-cert/--tls-key` from `nobus dev-certs` (SANs localhost,
    127.0.0.1, ::1), every listener TLS. Sets `client_token` (None without auth) and `ca_file`
    (None without TLS) on the returned Nobusd."""
    work_dir = Path(work_dir)
    extra, ca_file = [], None
    if auth:
        config = {"tokens": [{"token": ADMIN_TOKEN, "admin": True},
                             {"token": CLIENT_TOKEN, "tables": ["mqtt.*.*"]},
                             {"token": OTHER_TOKEN, "tables": ["other.*.*"]}]}
        path = work_dir / "nobusd.json"
        path.write_text(json.dumps(config))
        extra += ["--config", str(path)]
    if tls:
        certs = work_dir / "certs"
        if not (certs / "ca.pem").exists():
            subprocess.run([str(nb.BIN_DIR / "nobus"), "dev-certs", str(certs)], check=True,
                           stdout=subprocess.DEVNULL)
        ca_file = certs / "ca.pem"
        extra += ["--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key")]
    s = nb.Nobusd(work_dir / "data", kafka=False, mqtt=True, extra_args=extra, ca_file=ca_file)
    if auth:
        s.token = ADMIN_TOKEN
    s.client_token = CLIENT_TOKEN if auth else None
    s.ca_file = ca_file
    s.auth, s.tls = auth, tls
    log(f"nobusd (auth={auth}, tls={tls}) mqtt={s.mqtt_address} http={s.http_address} "
        f"log={s.log_path}")
    return s


def host_port(server):
    host, port = server.mqtt_address.rsplit(":", 1)
    return host, int(port)


# ---------------------------------------------------------------------------------------------
# Logs

tail = nb.tail


def server_log(server, lines=60):
    return server.log_tail(lines)


def mqtt_log(server, lines=60):
    return tail(server.log_text(), lines, grep=("mqtt", "MQTT", "error", "ERROR", "warn", "WARN"))


# ---------------------------------------------------------------------------------------------
# mosquitto_pub (Debian's mosquitto-clients; scripts/setup.sh)

MOSQUITTO_PUB = "/usr/bin/mosquitto_pub"
# its -d debug lines (libmosquitto 2.0 log__printf)
SENT_PUBLISH = re.compile(r"sending PUBLISH \(d\d, q(\d), r\d, m(\d+),")
RECEIVED_PUBACK = re.compile(r"received PUBACK \(Mid: (\d+), RC:(\d+)\)")
RECEIVED_CONNACK = re.compile(r"received CONNACK \((\d+)\)")
RECEIVED_PUBCOMP = re.compile(r"received PUBCOMP \(Mid: (\d+)(?:, RC:(\d+))?\)")


def mosquitto_pub(server, topic, lines, log_path, version="mqttv5", qos=1, args=(),
                  timeout_s=PROGRAM_TIMEOUT_S):
    """`mosquitto_pub -l -d` publishing each of `lines` (bytes, no newline) as one message on one
    connection. Returns (exit code, combined stdout and stderr)."""
    host, port = host_port(server)
    cmd = [MOSQUITTO_PUB, "-h", host, "-p", str(port), "-V", version, "-q", str(qos),
           "-t", topic, "-l", "-d", *args]
    if server.ca_file and "--cafile" not in args:
        cmd += ["--cafile", str(server.ca_file)]
    log(f"run: {' '.join(cmd)}  (<- {len(lines)} lines)")
    started = time.monotonic()
    stdin = b"".join(line + b"\n" for line in lines)
    try:
        proc = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout_s)
        rc, out = proc.returncode, proc.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        rc, out = "timeout", (e.stdout or b"").decode(errors="replace")
    Path(log_path).write_text(out)
    log(f"  exit {rc} after {time.monotonic() - started:.1f} s ({log_path})")
    return rc, out


# ---------------------------------------------------------------------------------------------
# paho-mqtt 2.1 (PyPI; test/server/requirements.txt)

_client_ids = itertools.count(1)


def reason_value(rc):
    """A paho ReasonCode (or int) as its integer value."""
    return getattr(rc, "value", rc)


def reason_string(properties):
    return getattr(properties, "ReasonString", None) if properties is not None else None


class Paho:
    """One paho-mqtt client (CallbackAPIVersion.VERSION2) on a loop thread, without paho's
    automatic reconnect (specs/mqtt.md: disable it), keeping what the server answers:
    `connacks` [(reason code, properties)], `acks` {mid: (reason code, properties)},
    `subacks` {mid: ([reason codes], properties)}, `disconnects` [(reason code, properties,
    from the server)]."""

    def __init__(self, server, version=5, client_id=None, user_properties=None, username=None,
                 password=None, will=None, keepalive=60, inflight=100, tls=None):
        import paho.mqtt.client as mqtt

        self.mqtt = mqtt
        self.server = server
        self.version = version
        if client_id is None:
            client_id = f"paho-{os.getpid()}-{next(_client_ids)}"
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5 if version == 5 else mqtt.MQTTv311,
                                  reconnect_on_failure=False)
        self.client.max_inflight_messages_set(inflight)
        self.user_properties = user_properties
        self.keepalive = keepalive
        if username is not None or password is not None:
            self.client.username_pw_set(username or "", password)
        if will is not None:
            self.client.will_set(will[0], will[1], qos=0)
        ca = server.ca_file if tls is None else tls
        if ca:
            self.client.tls_set(ca_certs=str(ca))
        self.cond = threading.Condition()
        self.connacks, self.acks, self.subacks, self.unsubacks = [], {}, {}, {}
        self.disconnects = []
        self.paho_log = []
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_log = lambda _c, _u, _level, text: self.paho_log.append(text)

    # callbacks (the loop thread)
    def _on_connect(self, _c, _u, _flags, reason_code, properties):
        with self.cond:
            self.connacks.append((reason_value(reason_code), properties))
            self.cond.notify_all()

    def _on_publish(self, _c, _u, mid, reason_code, properties):
        with self.cond:
            self.acks[mid] = (reason_value(reason_code), properties)
            self.cond.notify_all()

    def _on_subscribe(self, _c, _u, mid, reason_codes, properties):
        with self.cond:
            self.subacks[mid] = ([reason_value(r) for r in reason_codes], properties)
            self.cond.notify_all()

    def _on_unsubscribe(self, _c, _u, mid, reason_codes, properties):
        with self.cond:
            self.unsubacks[mid] = ([reason_value(r) for r in reason_codes], properties)
            self.cond.notify_all()

    def _on_disconnect(self, _c, _u, flags, reason_code, properties):
        with self.cond:
            self.disconnects.append((reason_value(reason_code), properties,
                                     flags.is_disconnect_packet_from_server))
            self.cond.notify_all()

    def wait(self, predicate, timeout_s, what):
        with self.cond:
            if not self.cond.wait_for(predicate, timeout_s):
                raise AssertionError(
                    f"paho: timed out after {timeout_s} s waiting for {what}; connacks "
                    f"{self.connacks_text()}, disconnects {self.disconnects_text()}, "
                    f"{len(self.acks)} PUBACKs\npaho log:\n" + "\n".join(self.paho_log[-15:])
                    + f"\nnobusd log:\n{mqtt_log(self.server, 30)}")

    def connacks_text(self):
        return [(f"0x{rc:02x}", reason_string(p)) for rc, p in self.connacks]

    def disconnects_text(self):
        return [(f"0x{rc:02x}", reason_string(p), "from server" if s else "local")
                for rc, p, s in self.disconnects]

    def connect(self, timeout_s=30):
        """CONNECT (user properties on 5.0) and the CONNACK: (reason code, properties)."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        host, port = host_port(self.server)
        kwargs = {}
        if self.version == 5:
            kwargs["clean_start"] = True
            if self.user_properties:
                props = Properties(PacketTypes.CONNECT)
                props.UserProperty = list(self.user_properties)
                kwargs["properties"] = props
        self.client.connect(host, port, keepalive=self.keepalive, **kwargs)
        self.client.loop_start()
        self.wait(lambda: self.connacks or self.disconnects, timeout_s, "a CONNACK")
        if not self.connacks:
            raise AssertionError(f"paho: disconnected without a CONNACK: "
                                 f"{self.disconnects_text()}")
        return self.connacks[0]

    def publish(self, topic, payload, qos=1, retain=False):
        """Queues one PUBLISH; returns its mid."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != self.mqtt.MQTT_ERR_SUCCESS:
            raise AssertionError(f"paho publish: {self.mqtt.error_string(info.rc)}")
        return info.mid

    def publish_all(self, topic, items, timeout_s=120, qos=1):
        """QoS 1 (or 2) PUBLISH of every (id, payload) of items, then waits for every PUBACK (QoS
        2: PUBCOMP, or the PUBREC that failed it) or the end of the connection; returns {id:
        (reason code, properties)} (None: no answer)."""
        mids = {}
        for i, data in items:
            mids[i] = self.publish(topic, data, qos=qos)
        self.wait(lambda: all(m in self.acks for m in mids.values()) or self.disconnects,
                  timeout_s, f"{len(mids)} PUBACKs")
        with self.cond:
            return {i: self.acks.get(m) for i, m in mids.items()}

    def ack(self, mid, timeout_s=60):
        """The PUBACK of one message: (reason code, properties), None when the connection ended
        first."""
        self.wait(lambda: mid in self.acks or self.disconnects, timeout_s, f"PUBACK of mid {mid}")
        with self.cond:
            return self.acks.get(mid)

    def wait_disconnect(self, timeout_s=30):
        self.wait(lambda: self.disconnects, timeout_s, "the end of the connection")
        return self.disconnects[0]

    def close(self):
        try:
            if not self.disconnects:
                self.client.disconnect()
        finally:
            self.client.loop_stop()


# ---------------------------------------------------------------------------------------------
# Checks

def expect_table(server, table, rows_by_id, timeout_s=60):
    """Waits until both readers see at least len(rows_by_id) rows of `table` while nobusd runs,
    then stops nobusd (SIGTERM: everything acked is committed) and checks, with DuckDB and
    delta-rs, that the table holds every expected id exactly once with the expected row."""
    expect_tables(server, {table: rows_by_id}, timeout_s)


def expect_tables(server, expected_tables, timeout_s=60):
    """expect_table for several tables of one nobusd: {table: {id: row}} (nobusd_process)."""
    nb.expect_tables(server, expected_tables, COLUMN_NAMES, lambda: mqtt_log(server), timeout_s)

