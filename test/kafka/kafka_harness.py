"""Shared pieces of the Kafka-client tests (README.md beside this file): the record every client
sends, the table it lands in, the security variants (plaintext, SASL PLAIN with a static token,
SASL OAUTHBEARER with a service principal's access token), running the client programs (kcat, the
Java and franz-go producers), and the exactly-once check of tables with DuckDB and delta-rs.

Every client case writes ids 0..N-1 to a table of its own (`kafka.<client>.<case>`, the topic); a
record's value is `{"id": ID, "tag": "<client>-<case>", "payload": "row-ID-" + 4 x
"0123456789abcdef"}` (the Java and Go programs build the same text)."""
import base64
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import nobusd_process as nb

HERE = Path(__file__).resolve().parent
COLUMNS, COLUMN_NAMES = nb.RECORD_COLUMNS, nb.RECORD_COLUMN_NAMES
N = int(os.environ.get("NOBUS_KAFKA_RECORDS", "2000"))  # records per client case
PROGRAM_TIMEOUT_S = 300
CODECS = ("gzip", "snappy", "lz4", "zstd")

log = nb.log
# a record's row and its value (byte for byte what the Java and Go producers send)
payload, row, value = nb.record_payload, nb.record_row, nb.record_value


def table_name(client, case):
    return f"kafka.{client}.{re.sub(r'[^a-z0-9_]', '_', case.lower())}"


# ---------------------------------------------------------------------------------------------
# Security variants. Each says how nobusd is started and how each client connects; the tests take
# one as the `security` fixture (conftest.py), every client case runs under each variant its client
# supports (`clients`).
#
# - plaintext: no auth on the node (loopback), no SASL.
# - sasl_plain: static tokens in nobusd's config file (doc/server.md "Authentication"): the
#   harness's admin token (it creates the tables) and CLIENT_TOKEN covering kafka.*.*; clients
#   authenticate with SASL PLAIN, the token as the password (any user name).
# - sasl_oauthbearer: a service principal (`nobus principal create`, `nobus grant MODIFY ON
#   CATALOG kafka`) in the data dir's auth directory, made before nobusd starts; its access token
#   from nobusd's POST /oidc/v1/token (client credentials) is the OAUTHBEARER bearer token of every
#   client. kcat cannot take part: librdkafka 2.0.2 in Debian has no OIDC token fetching (built
#   without curl) and its unsecured JWT is `alg: none`, which nobus refuses; confluent-kafka hands
#   the token over through oauth_cb.
#
# The token methods take an optional `token` (the negative cases of sasl_test.py pass a wrong one).

ADMIN_TOKEN = "kafka-test-admin-token"    # the harness's own static token (creates tables)
CLIENT_TOKEN = "kafka-test-client-token"  # sasl_plain: the clients' static token, kafka.*.*
CLIENT_TABLES = ["kafka.*.*"]
WRITER = "kafka-writer"                   # sasl_oauthbearer: the clients' service principal
SASL_USER = "nobus-test"                  # PLAIN user name (nobus ignores it)
CLIENTS = ("kcat", "confluent", "kafka_python", "java", "go")
SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36


class Plaintext:
    name = "plaintext"
    mechanism = None
    clients = CLIENTS
    tls = False  # the Kafka connections are TLS: the tap only relays them (wiretap.py)

    def __init__(self):
        self.token = None  # what the clients authenticate with, set by prepare()
        self.ca_file = None  # the CA of nobusd's certificate (TLS variants)

    def nobusd_config(self):
        """Keys of nobusd's config file (merged with the harness's own); after before_start."""
        return {}

    def before_start(self, data_dir):
        """Before nobusd first starts on data_dir: principals and grants in its auth directory,
        certificates."""

    def prepare(self, server):
        """After nobusd started: the harness's admin token, the clients' token."""

    def librdkafka(self, token=None):
        """librdkafka properties (kcat -X, confluent-kafka)."""
        return {}

    def kafka_python(self, token=None):
        return {}

    def java_args(self, token=None):
        return []

    def go_args(self, token=None):
        return []

    def auth_bytes(self, token=None):
        """The client's SASL message for this variant's mechanism (raw_kafka tests)."""
        return None

    def expect_wire(self, tap, what):
        """The client's SASL exchange as the tap saw it: none for plaintext."""
        versions = tap.versions()
        assert SASL_HANDSHAKE not in versions and SASL_AUTHENTICATE not in versions, (
            f"{what}: SASL requests from a plaintext client: {versions}")


class _Sasl(Plaintext):
    def _token(self, token):
        return token if token is not None else self.token

    def java_args(self, token=None):
        return ["--sasl-mechanism", self.mechanism, "--sasl-token", self._token(token)]

    def go_args(self, token=None):
        return ["-sasl-mechanism", self.mechanism, "-sasl-token", self._token(token)]

    def expect_wire(self, tap, what):
        """The client authenticated on the wire: SaslHandshake, then SaslAuthenticate (v1) or a
        bare SASL frame (v0)."""
        versions = tap.versions()
        assert SASL_HANDSHAKE in versions, f"{what}: no SaslHandshake on the wire: {versions}"
        assert SASL_AUTHENTICATE in versions or tap.raw_sasl_frames, (
            f"{what}: neither SaslAuthenticate nor a bare SASL frame on the wire: {versions}")
        log(f"{what}: SASL {self.mechanism} on the wire: SaslHandshake "
            f"v{versions[SASL_HANDSHAKE]}, SaslAuthenticate v{versions.get(SASL_AUTHENTICATE, [])}"
            f", bare SASL frames {tap.raw_sasl_frames}")


class SaslPlain(_Sasl):
    name = "sasl_plain"
    mechanism = "PLAIN"

    def nobusd_config(self):
        return {"tokens": [{"token": ADMIN_TOKEN, "admin": True},
                           {"token": CLIENT_TOKEN, "tables": CLIENT_TABLES}]}

    def prepare(self, server):
        server.token = ADMIN_TOKEN
        self.token = CLIENT_TOKEN

    def librdkafka(self, token=None):
        return {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN",
                "sasl.username": SASL_USER, "sasl.password": self._token(token)}

    def kafka_python(self, token=None):
        return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                "sasl_plain_username": SASL_USER, "sasl_plain_password": self._token(token)}

    def auth_bytes(self, token=None):
        return b"\0" + SASL_USER.encode() + b"\0" + self._token(token).encode()


class SaslOauthbearer(_Sasl):
    name = "sasl_oauthbearer"
    mechanism = "OAUTHBEARER"
    clients = tuple(c for c in CLIENTS if c != "kcat")

    def __init__(self):
        super().__init__()
        self.secret = None

    def nobusd_config(self):
        return {"tokens": [{"token": ADMIN_TOKEN, "admin": True}]}

    def before_start(self, data_dir):
        self.secret = create_principal(data_dir, WRITER, [("MODIFY", "CATALOG", "kafka")])

    def prepare(self, server):
        server.token = ADMIN_TOKEN
        self.token = access_token(server, WRITER, self.secret)

    def librdkafka(self, token=None):
        tok = self._token(token)
        expiry = jwt_expiry(tok)
        # oauth_cb(sasl.oauthbearer.config) -> (token, expiry in epoch seconds, principal,
        # extensions); librdkafka calls it before connecting and again before the expiry.
        return {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "OAUTHBEARER",
                "oauth_cb": lambda _config: (tok, expiry, WRITER, {})}

    def kafka_python(self, token=None):
        return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "OAUTHBEARER",
                "sasl_oauth_token_provider": kafka_python_token_provider(self._token(token))}

    def auth_bytes(self, token=None):
        return b"n,,\x01auth=Bearer " + self._token(token).encode() + b"\x01\x01"


class SaslSsl(SaslPlain):
    """SASL PLAIN over TLS (security.protocol SASL_SSL): nobusd serves TLS on every listener with
    a certificate of `nobus dev-certs` (its SANs: localhost, 127.0.0.1, ::1), and every client
    trusts that CA and checks the certificate, host name included."""
    name = "sasl_ssl"
    tls = True

    def before_start(self, data_dir):
        certs = data_dir.parent / "certs"
        if not (certs / "ca.pem").exists():
            subprocess.run([str(nb.BIN_DIR / "nobus"), "dev-certs", str(certs)], check=True,
                           stdout=subprocess.DEVNULL)
        self.certs = certs
        self.ca_file = certs / "ca.pem"

    def nobusd_config(self):
        return {**super().nobusd_config(), "tls_cert": str(self.certs / "server.pem"),
                "tls_key": str(self.certs / "server.key")}

    def librdkafka(self, token=None):
        return {**super().librdkafka(token), "security.protocol": "SASL_SSL",
                "ssl.ca.location": str(self.ca_file)}

    def kafka_python(self, token=None):
        return {**super().kafka_python(token), "security_protocol": "SASL_SSL",
                "ssl_cafile": str(self.ca_file)}

    def java_args(self, token=None):
        return [*super().java_args(token), "--tls-ca", str(self.ca_file)]

    def go_args(self, token=None):
        return [*super().go_args(token), "-tls-ca", str(self.ca_file)]

    def expect_wire(self, tap, what):
        """TLS both ways on every connection the tap relayed (it cannot read the SASL inside)."""
        tls = tap.tls_summary()
        assert tls["connections"] and tls["client_hellos"] == tls["connections"] and (
            tls["server_hellos"] == tls["connections"]), f"{what}: not TLS on the wire: {tls}"
        log(f"{what}: TLS on the wire: {tls}")


SECURITY_VARIANTS = {v.name: v for v in (Plaintext, SaslPlain, SaslOauthbearer, SaslSsl)}


def create_principal(data_dir, name, grants):
    """`nobus principal create NAME --data-dir D` and `nobus grant PRIV ON KIND OBJECT TO NAME`
    for each (privilege, kind, object) of grants; returns the client secret (the client id is
    NAME)."""
    nobus = [str(nb.BIN_DIR / "nobus")]
    where = ["--data-dir", str(data_dir)]
    out = subprocess.run([*nobus, "principal", "create", name, *where], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    secret = re.search(r"client_secret: (\S+)", out).group(1)
    for privilege, kind, obj in grants:
        subprocess.run([*nobus, "grant", privilege, "ON", kind, obj, "TO", name, *where],
                       check=True, stdout=subprocess.DEVNULL)
    return secret


def access_token(server, client_id, secret):
    """An access token from nobusd's POST /oidc/v1/token (client credentials, HTTP Basic), for
    every table the principal holds MODIFY on."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    req = urllib.request.Request(server.url("/oidc/v1/token"),
                                 data=b"grant_type=client_credentials", method="POST")
    req.add_header("content-type", "application/x-www-form-urlencoded")
    req.add_header("authorization", f"Basic {basic}")
    try:
        with urllib.request.urlopen(req, timeout=30, context=server.ssl_context) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"POST /oidc/v1/token for {client_id}: {e.code} "
                           f"{e.read().decode(errors='replace')}") from None
    return body["access_token"]


def jwt_expiry(token, default_ttl_s=3600):
    """The `exp` claim of a JWT (epoch seconds), or now + default_ttl_s when it is none."""
    try:
        payload = token.split(".")[1]
        return float(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return time.time() + default_ttl_s


def kafka_python_token_provider(token):
    """kafka-python's OAUTHBEARER token provider handing out `token`."""
    try:
        from kafka.net.sasl.oauth import AbstractTokenProvider  # kafka-python 3.x
    except ImportError:
        from kafka.sasl.oauth import AbstractTokenProvider  # 2.x

    class StaticTokenProvider(AbstractTokenProvider):
        def token(self):
            return token

    return StaticTokenProvider()


def variants_for(client=None, allowed=None):
    """The names of the security variants a test runs under: those in `allowed` (default all)
    whose `clients` include `client` (when given)."""
    return [name for name, v in sorted(SECURITY_VARIANTS.items())
            if (allowed is None or name in allowed) and (client is None or client in v.clients)]


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


tail = nb.tail


def build_program(kind):
    """Builds the Java or Go producer (run.sh --build); the build's output on failure."""
    script = HERE / kind / "run.sh"
    proc = subprocess.run([str(script), "--build"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=1200)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} --build failed ({proc.returncode}):\n"
                           f"{proc.stdout.decode(errors='replace')[-4000:]}")


def producer_program(kind, bootstrap, security, topic, tag, count, options, log_path, first=0,
                     token=None):
    """Runs test/kafka/{java,go}/run.sh (ids first..first+count-1; `token` instead of the
    variant's own); returns (exit code, result dict or None, stderr)."""
    extra = security.java_args(token) if kind == "java" else security.go_args(token)
    cmd = [HERE / kind / "run.sh", "--bootstrap", bootstrap, "--topic", topic,
           "--tag", tag, "--first", str(first), "--count", str(count)]
    for k, v in options.items():
        cmd += [f"--{k}", str(v)]
    rc, out, err = run_program(cmd + extra, log_path)
    return rc, last_json_line(out), err


# ---------------------------------------------------------------------------------------------
# Checks

def server_log(server, lines=60):
    return server.log_tail(lines)


def kafka_log(server, lines=60):
    return tail(server.log_text(), lines, grep=("kafka", "Kafka", "error", "ERROR", "warn", "WARN"))


def expect_wire(tap, topic, codec, idempotent, count, what):
    """What the client sent for `topic`, read off the wire by the tap: RecordBatch v2 only, every
    batch in `codec`, producer ids (>= 0) exactly when idempotent (Kafka's hasProducerId()), at
    least `count` records (more only if the client retried), and nobusd's answer to every batch
    read off the wire too: error 0. Through a TLS tap (it cannot read the frames) only that
    connections passed; the plaintext variants check the frames."""
    if tap.opaque:
        assert tap.tls_summary()["connections"], f"{what}: no connection through the tap"
        log(f"{what}: TLS, the frames are not visible to the tap ({tap.tls_summary()})")
        return
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
    answers = summary["answers"]
    assert answers and set(answers) == {0} and sum(answers.values()) == len(batches), (
        f"{what}: nobusd's Produce answers (error code: partitions) {answers} for "
        f"{len(batches)} batches sent: {summary}")


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
    return nb.read_table(server, table, reader, COLUMN_NAMES)


def expect_table(server, table, rows_by_id, timeout_s=60):
    """Waits until both readers see at least len(rows_by_id) rows of `table` while nobusd runs,
    then stops nobusd (SIGTERM: everything acked is committed) and checks, with DuckDB and
    delta-rs, that the table holds every expected id exactly once with the expected row."""
    expect_tables(server, {table: rows_by_id}, timeout_s)


def expect_tables(server, expected_tables, timeout_s=60):
    """expect_table for several tables of one nobusd: {table: {id: row}} (nobusd_process)."""
    nb.expect_tables(server, expected_tables, COLUMN_NAMES, lambda: kafka_log(server), timeout_s)

