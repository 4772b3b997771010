"""nobusd's MQTT endpoint on the wire through raw_mqtt.py (packets built by hand), for what real
clients never send, each case checked against doc/mqtt.md byte by byte: the 5.0 CONNACK's
announcements and keep-alive answers; client identifiers; unsupported protocol levels (the
CONNACK format PeekProtocolLevel picks: 3.1.1 return code 1 for levels 3 and 6); a packet over
the 1 MiB Maximum Packet Size (DISCONNECT 0x95; exactly 1 MiB lands); malformed and refused
packets (wildcard topic 0x81, QoS 3 0x81, RETAIN 0x9A, Topic Alias 0x94, AUTH /
second CONNECT / a server's packet 0x82) and on 3.1.1 a closed connection; a QoS 0 failure
answered by nothing; PUBACKs matched to pipelined PUBLISHes (and the metrics); 3.1.1 RETAIN as a
plain message; a 3.1.1 token without MODIFY closing the connection; keep-alive (a silent 5.0
client gets DISCONNECT 0x8D after 1.5 x its interval, a pinging one stays); a connection that
never sends CONNECT is closed after 10 s; session takeover (DISCONNECT 0x8E); plaintext on the
TLS port. In every test a witness connection opened before the bad thing writes before and after
it: nothing else is disturbed. Generous time bounds only (tens of seconds)."""
import json
import socket
import threading
import time

import pytest

import mqtt_harness as mh
import nobusd_process as nb
import raw_mqtt as rm


class Witness:
    """A 5.0 connection to a table of its own, opened before the bad thing: land() publishes
    QoS 1 messages and requires PUBACK 0 for each."""

    def __init__(self, server, case):
        self.server = server
        self.table = mh.create_table(server, mh.table_name("raw", f"witness_{case}"))
        self.tag = f"witness-{case}"
        self.conn = rm.Connection(server.mqtt_address, ca_file=server.ca_file)
        ack = self.conn.connect(client_id=f"witness-{case}")
        assert ack.reason == rm.SUCCESS, f"witness CONNACK {ack}"
        self.expected = {}

    def land(self, n=5):
        first = len(self.expected)
        for i in range(first, first + n):
            ack = self.conn.publish_acked(self.table, mh.value(i, self.tag))
            assert ack.reason == rm.SUCCESS, (f"witness message {i}: {ack}\nnobusd log:\n"
                                              f"{mh.mqtt_log(self.server)}")
            self.expected[i] = mh.row(i, self.tag)

    def check(self, more=None):
        """The witness writes again, then its table (and `more`: {table: {id: row}}) must hold
        exactly what was acknowledged."""
        self.land()
        self.conn.send(rm.disconnect())
        self.conn.close()
        mh.expect_tables(self.server, {self.table: self.expected, **(more or {})})


@pytest.fixture
def witness(server, request):
    w = Witness(server, request.node.name.replace("[", "_").replace("]", ""))
    w.land()
    yield w
    w.conn.close()


def connected(server, version=rm.V5, client_id="raw", **kwargs):
    c = rm.Connection(server.mqtt_address, version=version, ca_file=server.ca_file)
    ack = c.connect(client_id=client_id, **kwargs)
    assert ack.reason == rm.SUCCESS, f"CONNACK {ack}"
    return c


def expect_disconnect(c, code, what, server):
    """A 5.0 DISCONNECT with `code` and then the end of the connection."""
    closed, got = c.closed_within(20)
    assert got and got[0].type == rm.DISCONNECT and got[0].reason == code, (
        f"{what}: got {[str(p) for p in got]} (closed: {closed}), expected DISCONNECT "
        f"0x{code:02x}\nnobusd log:\n{mh.mqtt_log(server)}")
    assert closed, f"{what}: the connection stayed open after DISCONNECT {got[0]}"
    assert len(got) == 1, f"{what}: packets after the DISCONNECT: {[str(p) for p in got[1:]]}"
    return got[0]


def expect_closed_silently(c, what, server):
    closed, got = c.closed_within(20)
    assert closed and not got, (f"{what}: closed {closed}, got {[str(p) for p in got]}; "
                                f"expected the connection closed without an answer\n"
                                f"nobusd log:\n{mh.mqtt_log(server)}")


# ---------------------------------------------------------------------------------------------
# CONNECT

def test_connack_v5(server, witness):
    with rm.Connection(server.mqtt_address) as c:
        ack = c.connect(client_id="announce", keep_alive=60)
    assert ack.reason == rm.SUCCESS and ack.session_present is False, str(ack)
    p = ack.props
    want = {"ReceiveMaximum": 4096, "MaximumQoS": None, "RetainAvailable": 0,
            "MaximumPacketSize": 1 << 20, "WildcardSubscriptionAvailable": 0,
            "SubscriptionIdentifierAvailable": 0, "SharedSubscriptionAvailable": 0}
    assert {k: p.get(k) for k in want} == want, f"CONNACK properties {p}"
    assert p.get("TopicAliasMaximum", 0) == 0, p  # absent means 0 (3.2.2.3.8)
    assert p.get("ServerKeepAlive", 60) == 60, f"keep alive 60 changed: {p}"
    assert "AssignedClientIdentifier" not in p, p
    witness.check()


@pytest.mark.parametrize("asked,told", [(0, 300), (301, 300), (65535, 300), (1, 5), (4, 5),
                                        (5, 5), (300, 300)])
def test_server_keep_alive_v5(server, asked, told):
    """doc/mqtt.md: 0 or more than 300 s -> 300; below 5 s -> 5; otherwise as asked (the
    property may then be left out)."""
    with rm.Connection(server.mqtt_address) as c:
        ack = c.connect(client_id=f"ka-{asked}", keep_alive=asked)
    assert ack.reason == rm.SUCCESS, str(ack)
    got = ack.props.get("ServerKeepAlive", asked)
    assert got == told, f"keep alive {asked}: Server Keep Alive {got}, expected {told}: {ack}"


def test_client_identifiers(server, witness):
    # empty with Clean Start: an assigned id (5.0), accepted (3.1.1)
    with rm.Connection(server.mqtt_address) as c:
        ack = c.connect(client_id="", clean=True)
        assert ack.reason == rm.SUCCESS and ack.props.get("AssignedClientIdentifier"), str(ack)
    with rm.Connection(server.mqtt_address, version=rm.V311) as c:
        ack = c.connect(client_id="", clean=True)
        assert ack.reason == rm.V311_ACCEPTED, str(ack)
    # empty without Clean Start, or over 128 bytes: 0x85 (3.1.1: 2), then closed
    for version, client_id, clean, code in [
            (rm.V5, "", False, rm.CLIENT_IDENTIFIER_NOT_VALID),
            (rm.V5, "x" * 129, True, rm.CLIENT_IDENTIFIER_NOT_VALID),
            (rm.V311, "", False, rm.V311_IDENTIFIER_REJECTED),
            (rm.V311, "x" * 129, True, rm.V311_IDENTIFIER_REJECTED)]:
        with rm.Connection(server.mqtt_address, version=version) as c:
            ack = c.connect(client_id=client_id, clean=clean)
            assert ack.reason == code, (f"v{version} client id of {len(client_id)} bytes, "
                                        f"clean {clean}: {ack}, expected 0x{code:02x}")
            expect_closed_silently(c, "after a refused client id", server)
    # exactly 128 bytes, and Clean Start 0: accepted, Session Present 0
    with rm.Connection(server.mqtt_address) as c:
        ack = c.connect(client_id="y" * 128, clean=False)
        assert ack.reason == rm.SUCCESS and ack.session_present is False, str(ack)
    witness.check()


@pytest.mark.parametrize("name,level", [("MQIsdp", 3), ("MQTT", 3), ("MQTT", 6)],
                         ids=["mqisdp_3", "mqtt_3", "mqtt_6"])
def test_unsupported_protocol_level(server, witness, name, level):
    """doc/mqtt.md: any level other than 4 and 5 gets Unsupported Protocol Version, in the CONNACK
    format PeekProtocolLevel picks (src/mqtt/connect.h: a 5.0 CONNACK for level 5 only, a 3.1.1
    CONNACK otherwise): exactly 20 02 00 01 (return code 1), then the connection is closed. MQTT
    3.1 ("MQIsdp" 3) is such a level; so is a level newer than 5.0."""
    with rm.Connection(server.mqtt_address, version=rm.V311) as c:
        c.send(rm.connect(client_id="old", version=rm.V311 if level < 5 else rm.V5,
                          protocol_name=name, level=level))
        closed, got = c.closed_within(20)
        raw = bytes([0x20, len(got[0].body)]) + got[0].body if got else b""
        assert raw == b"\x20\x02\x00\x01", (
            f"{name} level {level}: got {raw!r}, expected a 3.1.1 CONNACK with return code 1")
        assert closed and len(got) == 1, f"closed {closed}, got {[str(p) for p in got]}"
    witness.check()


def test_enhanced_authentication_refused(server, witness):
    with rm.Connection(server.mqtt_address) as c:
        ack = c.connect(client_id="scram", props=[("AuthenticationMethod", "SCRAM-SHA-1")])
        assert ack.reason == rm.BAD_AUTHENTICATION_METHOD, str(ack)
        expect_closed_silently(c, "after CONNACK 0x8C", server)
    witness.check()


# ---------------------------------------------------------------------------------------------
# Packet size

def publish_of_size(topic, total, i, tag, packet_id=1):
    """A 5.0 QoS 1 PUBLISH of exactly `total` bytes whose payload is a valid row (its payload
    column padded)."""
    head = {"id": i, "tag": tag, "payload": ""}
    base = len(rm.publish(topic, json.dumps(head, separators=(",", ":")), packet_id=packet_id))
    pad = total - base
    for _ in range(3):  # the Remaining Length may grow a byte
        head["payload"] = "p" * pad
        data = rm.publish(topic, json.dumps(head, separators=(",", ":")), packet_id=packet_id)
        if len(data) == total:
            return data, head
        pad -= len(data) - total
    raise AssertionError(f"no PUBLISH of {total} bytes")


def test_packet_size_limit_v5(server, witness):
    table = mh.create_table(server, mh.table_name("raw", "max_size"))
    limit = 1 << 20
    with connected(server, client_id="big") as c:
        data, row = publish_of_size(table, limit, 0, "max")
        c.send(data)
        ack = c.expect(rm.PUBACK, 60)
        assert ack.reason == rm.SUCCESS, f"a PUBLISH of exactly 1 MiB: {ack}"
        # one byte over: refused from the fixed header alone (nothing more is sent)
        # 1 byte of type and flags + 3 of Remaining Length + RL = limit + 1
        c.send(bytes([0x32]) + rm.varint(limit + 1 - 4))
        expect_disconnect(c, rm.PACKET_TOO_LARGE, "a PUBLISH over 1 MiB", server)
    witness.check({table: {0: row}})


def test_packet_too_large_header_only(server, witness):
    """Remaining Length far over the limit, announced in the fixed header and never sent."""
    with connected(server, client_id="huge") as c:
        c.send(bytes([0x32]) + rm.varint(64 << 20))
        expect_disconnect(c, rm.PACKET_TOO_LARGE, "a PUBLISH header of 64 MiB", server)
    with connected(server, version=rm.V311, client_id="huge311") as c:
        c.send(bytes([0x32]) + rm.varint(64 << 20))
        expect_closed_silently(c, "3.1.1: a PUBLISH header of 64 MiB", server)
    witness.check()


# ---------------------------------------------------------------------------------------------
# Refused packets

V5_DISCONNECTS = {
    # case: (the packet sent after CONNACK, given an existing table's name; reason code; a Reason
    # String required)
    "wildcard_plus": (lambda t: rm.publish("mqtt/+/x", b"{}", qos=1), rm.MALFORMED_PACKET, True),
    "wildcard_hash": (lambda t: rm.publish("mqtt/#", b"{}", qos=0), rm.MALFORMED_PACKET, True),
    "qos3": (lambda t: rm.packet(rm.PUBLISH, 0x06, rm.utf8(t) + rm.u16(1) + rm.properties()
                                 + mh.value(0, "qos3")), rm.MALFORMED_PACKET, True),
    "retain": (lambda t: rm.publish(t, mh.value(0, "retain"), qos=1, retain=True),
               rm.RETAIN_NOT_SUPPORTED, False),
    "topic_alias": (lambda t: rm.publish(t, mh.value(0, "alias"), qos=1,
                                         props=[("TopicAlias", 1)]), rm.TOPIC_ALIAS_INVALID,
                    False),
    "packet_id_0": (lambda t: rm.publish(t, mh.value(0, "pid0"), qos=1, packet_id=0),
                    rm.PROTOCOL_ERROR, True),
    "auth": (lambda t: rm.auth(), rm.PROTOCOL_ERROR, False),
    "second_connect": (lambda t: rm.connect(client_id="again"), rm.PROTOCOL_ERROR, False),
    "pingresp_from_client": (lambda t: rm.packet(rm.PINGRESP, 0, b""), rm.PROTOCOL_ERROR, False),
}


@pytest.mark.parametrize("case", list(V5_DISCONNECTS))
def test_refused_packet_v5(server, witness, case):
    """Each refused packet on a connection of its own: the DISCONNECT doc/mqtt.md names, then the
    end of the connection; nothing of it is written (the PUBLISHes name a real table)."""
    build, code, reason_string = V5_DISCONNECTS[case]
    table = mh.create_table(server, mh.table_name("raw", f"refused_{case}"))
    with connected(server, client_id=f"bad-{case}") as c:
        c.send(build(table))
        d = expect_disconnect(c, code, case, server)
    if reason_string:
        assert d.reason_string, f"{case}: DISCONNECT 0x{code:02x} without a Reason String: {d}"
    mh.log(f"{case}: {d}")
    witness.check({table: {}})


V311_CLOSES = {
    "wildcard": lambda t: rm.publish("mqtt/+/x", b"{}", qos=1, version=rm.V311),
    "second_connect": lambda t: rm.connect(client_id="again", version=rm.V311),
}


@pytest.mark.parametrize("case", list(V311_CLOSES))
def test_refused_packet_v311(server, witness, case):
    table = mh.create_table(server, mh.table_name("raw", f"refused_v311_{case}"))
    with connected(server, version=rm.V311, client_id=f"bad311-{case}") as c:
        c.send(V311_CLOSES[case](table))
        expect_closed_silently(c, f"3.1.1 {case}", server)
    witness.check({table: {}})


def test_retain_v311_is_a_plain_message(server, witness):
    """3.1.1 RETAIN 1: accepted as a plain message (doc/mqtt.md), PUBACK and written."""
    table = mh.create_table(server, mh.table_name("raw", "retain_v311"))
    with connected(server, version=rm.V311, client_id="retain311") as c:
        ack = c.publish_acked(table, mh.value(0, "retain"), retain=True)
        assert ack.reason == rm.SUCCESS, str(ack)
        ack = c.publish_acked(table, mh.value(1, "retain"))
        assert ack.reason == rm.SUCCESS, str(ack)
    witness.check({table: {i: mh.row(i, "retain") for i in range(2)}})


def test_not_authorized_v311_closes(auth_server):
    """A token that may not write the topic's table: 3.1.1 has no failure PUBACK, the connection
    is closed; 5.0 gets PUBACK 0x87 and goes on (paho_test.py too)."""
    server = auth_server
    table = mh.create_table(server, mh.table_name("raw", "authz_v311"))
    other = mh.create_table(server, "other.raw.authz_v311")
    with rm.Connection(server.mqtt_address, version=rm.V311) as c:
        ack = c.connect(client_id="authz311", username="any", password=server.client_token)
        assert ack.reason == rm.V311_ACCEPTED, str(ack)
        assert c.publish_acked(table, mh.value(0, "authz")).reason == rm.SUCCESS
        c.publish(other, mh.value(1, "authz"))
        expect_closed_silently(c, "3.1.1 PUBLISH to a table the token may not write", server)
    with rm.Connection(server.mqtt_address) as c:
        ack = c.connect(client_id="authz5", username="any", password=server.client_token)
        assert ack.reason == rm.SUCCESS, str(ack)
        ack = c.publish_acked(other, mh.value(1, "authz"))
        assert ack.reason == rm.NOT_AUTHORIZED and ack.reason_string, str(ack)
        assert c.publish_acked(table, mh.value(2, "authz")).reason == rm.SUCCESS
    mh.expect_tables(server, {table: {i: mh.row(i, "authz") for i in (0, 2)}, other: {}})


def test_plain_packets(server, witness):
    """PINGREQ -> PINGRESP; UNSUBSCRIBE -> UNSUBACK 0x11 (3.1.1: no reason codes); SUBSCRIBE ->
    SUBACK 0x80 per filter; the connection stays up and writes."""
    table = mh.create_table(server, mh.table_name("raw", "plain_packets"))
    rows = {}
    for version in (rm.V5, rm.V311):
        with connected(server, version=version, client_id=f"plain-{version}") as c:
            c.send(rm.pingreq())
            c.expect(rm.PINGRESP)
            c.send(rm.subscribe(7, ["a/#", "b"], version=version))
            sub = c.expect(rm.SUBACK)
            assert sub.packet_id == 7 and sub.reasons == [0x80, 0x80], str(sub)
            c.send(rm.unsubscribe(8, ["a/#"], version=version))
            unsub = c.expect(rm.UNSUBACK)
            assert unsub.packet_id == 8, str(unsub)
            if version == rm.V5:
                assert sub.reason_string, f"5.0 SUBACK without a Reason String: {sub}"
                assert unsub.reasons == [rm.NO_SUBSCRIPTION_EXISTED], str(unsub)
            else:
                assert unsub.reasons == [], str(unsub)
            i = version
            ack = c.publish_acked(table, mh.value(i, "plain"))
            assert ack.reason == rm.SUCCESS, str(ack)
            rows[i] = mh.row(i, "plain")
            c.send(rm.disconnect())
            closed, got = c.closed_within(20)
            assert closed and not got, f"after DISCONNECT: {[str(p) for p in got]}"
    witness.check({table: rows})


def test_pipelined_publishes_v5(server, witness):
    """50 QoS 1 PUBLISHes in one write, the 25th not JSON: every packet id gets one PUBACK, 0 for
    the good ones and 0x99 for the bad one; a QoS 0 bad message is answered by nothing."""
    table = mh.create_table(server, mh.table_name("raw", "pipelined"))
    with connected(server, client_id="pipe") as c:
        data, expected, bad_pid = b"", {}, None
        for i in range(50):
            pid = i + 1
            if i == 24:
                data += rm.publish(table, b"not json", qos=1, packet_id=pid)
                bad_pid = pid
            else:
                data += rm.publish(table, mh.value(i, "pipe"), qos=1, packet_id=pid)
                expected[i] = mh.row(i, "pipe")
        c.send(data)
        acks = {}
        for _ in range(50):
            a = c.expect(rm.PUBACK, 60)
            assert a.packet_id not in acks, f"two PUBACKs for packet id {a.packet_id}"
            acks[a.packet_id] = a
        assert set(acks) == set(range(1, 51))
        wrong = {p: str(a) for p, a in acks.items()
                 if a.reason != (rm.PAYLOAD_FORMAT_INVALID if p == bad_pid else rm.SUCCESS)}
        assert not wrong, f"PUBACKs: {wrong}"
        # QoS 0, not JSON: no answer; the next QoS 1's PUBACK is the next packet
        c.publish(table, b"{not json", qos=0)
        ack = c.publish_acked(table, mh.value(100, "pipe"))
        assert ack.reason == rm.SUCCESS, str(ack)
        expected[100] = mh.row(100, "pipe")
        # doc/mqtt.md "Metrics": 50 written (49 + 1) and 2 rejected (QoS 1 and QoS 0) for the
        # table; this connection and the witness's are open
        m = server.metrics()
        written = mh.nb.metric_value(m, "nobus_mqtt_publishes_total",
                                     {"table": table, "result": "written"})
        rejected = mh.nb.metric_value(m, "nobus_mqtt_publishes_total",
                                      {"table": table, "result": "rejected"})
        assert (written, rejected) == (50, 2), (
            f"nobus_mqtt_publishes_total for {table}: written {written}, rejected {rejected}; "
            f"expected 50, 2:\n" + mh.tail(m, 20, grep=("nobus_mqtt",)))
        connections = mh.nb.metric_value(m, "nobus_mqtt_connections")
        assert connections >= 2, f"nobus_mqtt_connections {connections} with 2 open"
        accepted = mh.nb.metric_value(m, "nobus_mqtt_connects_total", {"result": "accepted"})
        assert accepted >= 2, f"nobus_mqtt_connects_total accepted {accepted}"
    witness.check({table: expected})


# ---------------------------------------------------------------------------------------------
# Time limits

def test_keep_alive(server, witness):
    """A 5.0 client with keep alive 5 (the minimum) that stays silent: DISCONNECT 0x8D after
    1.5 x 5 s (checked: not before 7 s, within 20 s), then closed. Meanwhile another with keep
    alive 1 (raised to 5) that sends PINGREQ every 2 s stays connected, and a 3.1.1 client with
    keep alive 3 that stays silent is closed without a DISCONNECT (after 4.5 s: within 20 s)."""
    # each clock starts before its CONNECT is sent: the server's starts later, so a measured
    # time is never shorter than the server's
    started = {"silent": time.monotonic()}
    silent = connected(server, client_id="silent", keep_alive=5)
    started["silent311"] = time.monotonic()
    silent311 = connected(server, version=rm.V311, client_id="silent311", keep_alive=3)
    pinger = rm.Connection(server.mqtt_address)
    ack = pinger.connect(client_id="pinger", keep_alive=1)
    assert ack.reason == rm.SUCCESS and ack.props.get("ServerKeepAlive") == 5, str(ack)
    pongs, stop = [], threading.Event()

    def ping():
        while not stop.wait(2):
            try:
                pinger.send(rm.pingreq())
                pongs.append(pinger.expect(rm.PINGRESP, 10))
            except Exception as e:  # noqa: BLE001
                pongs.append(e)
                return

    t = threading.Thread(target=ping, daemon=True)
    t.start()
    try:
        results = {}

        def watch(name, conn):
            results[name] = (*conn.closed_within(20), time.monotonic() - started[name])

        watchers = [threading.Thread(target=watch, args=a) for a in
                    (("silent", silent), ("silent311", silent311))]
        for w in watchers:
            w.start()
        for w in watchers:
            w.join()
        closed, got, after = results["silent"]
        assert closed and got and got[0].type == rm.DISCONNECT and (
            got[0].reason == rm.KEEP_ALIVE_TIMEOUT), (
            f"silent 5.0 client (keep alive 5): closed {closed} after {after:.1f} s, got "
            f"{[str(p) for p in got]}, expected DISCONNECT 0x8D\nnobusd log:\n"
            f"{mh.mqtt_log(server)}")
        assert after >= 7.0, f"disconnected after {after:.1f} s, before 1.5 x 5 s"
        closed, got, after311 = results["silent311"]
        assert closed and not got, (f"silent 3.1.1 client (keep alive 3): closed {closed} after "
                                    f"{after311:.1f} s, got {[str(p) for p in got]}")
        assert after311 >= 4.0, f"3.1.1 closed after {after311:.1f} s, before 1.5 x 3 s"
        mh.log(f"keep alive: 5.0 DISCONNECT 0x8D after {after:.1f} s, 3.1.1 closed after "
               f"{after311:.1f} s")
        stop.set()
        t.join(15)
        errors = [p for p in pongs if isinstance(p, Exception)]
        assert not errors and len(pongs) >= 3, f"the pinging client: {pongs}"
        pinger.send(rm.pingreq())  # still connected
        pinger.expect(rm.PINGRESP)
    finally:
        stop.set()
        for conn in (silent, silent311, pinger):
            conn.close()
    witness.check()


def test_no_connect_closed(server, witness):
    """A connection that never sends CONNECT (and one that sends half of it) is closed after
    10 s: not before 8 s, within 30 s; nothing is answered."""
    host, port = mh.host_port(server)
    half = rm.connect(client_id="half")[:7]
    socks = []
    started = time.monotonic()
    for data in (b"", half):
        s = socket.create_connection((host, port), timeout=10)
        if data:
            s.sendall(data)
        socks.append(s)
    results = {}

    def watch(k, s):
        s.settimeout(30)
        got = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            results[k] = (True, got, time.monotonic() - started)
        except ConnectionResetError:
            results[k] = (True, got, time.monotonic() - started)
        except socket.timeout:
            results[k] = (False, got, time.monotonic() - started)

    watchers = [threading.Thread(target=watch, args=(k, s)) for k, s in enumerate(socks)]
    for w in watchers:
        w.start()
    for w in watchers:
        w.join()
    for s in socks:
        s.close()
    for k, (closed, got, after) in sorted(results.items()):
        what = ("silent", "half a CONNECT")[k]
        assert closed and got == b"", (f"{what}: closed {closed} after {after:.1f} s, got "
                                       f"{got[:20]!r}\nnobusd log:\n{mh.mqtt_log(server)}")
        assert after >= 8.0, f"{what}: closed after {after:.1f} s, before the 10 s deadline"
        mh.log(f"{what}: closed after {after:.1f} s")
    witness.check()


# ---------------------------------------------------------------------------------------------
# Sessions, TLS

@pytest.mark.parametrize("version", [rm.V5, rm.V311], ids=["v5", "v311"])
def test_session_takeover(server, witness, version):
    table = mh.create_table(server, mh.table_name("raw", f"takeover_v{version}"))
    first = connected(server, version=version, client_id="same-device")
    try:
        assert first.publish_acked(table, mh.value(0, "takeover")).reason == rm.SUCCESS
        second = connected(server, version=version, client_id="same-device")
        try:
            closed, got = first.closed_within(20)
            if version == rm.V5:
                assert got and got[0].type == rm.DISCONNECT and (
                    got[0].reason == rm.SESSION_TAKEN_OVER) and len(got) == 1, (
                    f"the first connection got {[str(p) for p in got]}, expected DISCONNECT "
                    f"0x8E")
            else:
                assert not got, f"3.1.1: the first connection got {[str(p) for p in got]}"
            assert closed, "the first connection stayed open after the takeover"
            assert second.publish_acked(table, mh.value(1, "takeover")).reason == rm.SUCCESS
            second.send(rm.disconnect(version=version))
        finally:
            second.close()
    finally:
        first.close()
    witness.check({table: {i: mh.row(i, "takeover") for i in range(2)}})


def test_plaintext_on_tls_port(nobusd):
    """With --tls-cert every MQTT connection is TLS: a plaintext CONNECT gets no MQTT answer in
    the clear (nothing, or a TLS alert record) and is closed; a TLS client still writes."""
    server = nobusd(tls=True)
    w = Witness(server, "tls")
    w.land()
    host, port = mh.host_port(server)
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(rm.connect(client_id="cleartext"))
        s.settimeout(20)
        got = b""
        closed = False
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    closed = True
                    break
                got += chunk
        except ConnectionResetError:
            closed = True
        except socket.timeout:
            pass
    assert closed, "nobusd kept a plaintext connection open on its TLS MQTT port"
    assert got == b"" or got[0] == 0x15, f"a plaintext CONNECT on the TLS port got {got[:20]!r}"
    w.check()


# ---------------------------------------------------------------------------------------------
# QoS 2 (doc/mqtt.md "QoS 2"): PUBREC once durable, resends never written twice, PUBCOMP once the
# release is durable; the state follows the client identifier to its next connection.

@pytest.mark.parametrize("version", [rm.V5, rm.V311])
def test_qos2_resends_are_answered_and_not_written_again(server, witness, version):
    table = mh.create_table(server, mh.table_name("raw", f"qos2_v{version}"))
    tag = f"qos2-{version}"
    client = f"qos2-{version}"
    with connected(server, version=version, client_id=client, clean=False) as c:
        c.send(rm.publish(table, mh.value(0, tag), qos=2, packet_id=7, version=version))
        rec = c.expect(rm.PUBREC)
        assert (rec.packet_id, rec.reason) == (7, rm.SUCCESS), str(rec)
        # The same packet identifier before the PUBREL, DUP or not: PUBREC, nothing written.
        for dup in (True, False):
            c.send(rm.publish(table, mh.value(0, tag), qos=2, packet_id=7, version=version,
                              dup=dup))
            rec = c.expect(rm.PUBREC)
            assert (rec.packet_id, rec.reason) == (7, rm.SUCCESS), str(rec)
        c.send(rm.publish(table, mh.value(1, tag), qos=2, packet_id=8, version=version))
        assert c.expect(rm.PUBREC).packet_id == 8
    # The next connection of the client (Clean Start 0) finds the session: a resend of 8 is
    # still a duplicate; PUBREL completes both; then 7 is free again and names a new message.
    with connected(server, version=version, client_id=client, clean=False) as c:
        c.send(rm.publish(table, mh.value(1, tag), qos=2, packet_id=8, version=version,
                          dup=True))
        assert c.expect(rm.PUBREC).packet_id == 8
        for pid in (7, 8, 8):  # the second PUBREL of 8: already released, completed again
            c.send(rm.pubrel(pid))
            comp = c.expect(rm.PUBCOMP)
            assert (comp.packet_id, comp.reason) == (pid, rm.SUCCESS), str(comp)
        c.send(rm.publish(table, mh.value(2, tag), qos=2, packet_id=7, version=version))
        assert c.expect(rm.PUBREC).packet_id == 7
        c.send(rm.pubrel(7))
        assert c.expect(rm.PUBCOMP).packet_id == 7
    witness.check({table: {i: mh.row(i, tag) for i in range(3)}})


def test_qos2_session_present_and_clean_start_forgets(server, witness):
    table = mh.create_table(server, mh.table_name("raw", "qos2_clean"))
    with connected(server, client_id="qos2-clean", clean=False) as c:
        c.send(rm.publish(table, mh.value(0, "clean"), qos=2, packet_id=3))
        assert c.expect(rm.PUBREC).packet_id == 3
    with rm.Connection(server.mqtt_address, ca_file=server.ca_file) as c:
        ack = c.connect(client_id="qos2-clean", clean=False)
        assert ack.reason == rm.SUCCESS and ack.session_present is True, str(ack)
    # Clean Start: the pending message is forgotten; the same packet identifier is a new message.
    with rm.Connection(server.mqtt_address, ca_file=server.ca_file) as c:
        ack = c.connect(client_id="qos2-clean", clean=True)
        assert ack.reason == rm.SUCCESS and ack.session_present is False, str(ack)
        c.send(rm.publish(table, mh.value(1, "clean"), qos=2, packet_id=3))
        assert c.expect(rm.PUBREC).packet_id == 3
        c.send(rm.pubrel(3))
        assert c.expect(rm.PUBCOMP).packet_id == 3
    witness.check({table: {i: mh.row(i, "clean") for i in range(2)}})


def test_qos2_bad_record_gets_pubrec_0x99(server, witness):
    table = mh.create_table(server, mh.table_name("raw", "qos2_bad"))
    with connected(server, client_id="qos2-bad") as c:
        c.send(rm.publish(table, b'{"id": "x"}', qos=2, packet_id=5))
        rec = c.expect(rm.PUBREC)
        assert (rec.packet_id, rec.reason) == (5, rm.PAYLOAD_FORMAT_INVALID), str(rec)
        assert "id" in (rec.reason_string or ""), str(rec)
        c.send(rm.publish(table, mh.value(0, "bad"), qos=2, packet_id=5))  # free again
        assert c.expect(rm.PUBREC).reason == rm.SUCCESS
        c.send(rm.pubrel(5))
        assert c.expect(rm.PUBCOMP).packet_id == 5
    witness.check({table: {0: mh.row(0, "bad")}})


def test_stopping_nobusd_says_server_shutting_down(server):
    """SIGTERM: a 5.0 client gets DISCONNECT 0x8B before the connection ends; a 3.1.1 client's
    connection just ends; what was acknowledged is in the table."""
    table = mh.create_table(server, mh.table_name("raw", "shutdown"))
    c5 = connected(server, client_id="shutdown-5")
    c4 = connected(server, version=rm.V311, client_id="shutdown-4")
    assert c5.publish_acked(table, mh.value(0, "shutdown")).reason == rm.SUCCESS
    assert server.stop() == 0
    expect_disconnect(c5, 0x8B, "SIGTERM", server)  # Server shutting down
    expect_closed_silently(c4, "3.1.1 at SIGTERM", server)
    rows = nb.read_rows_duckdb(server.table_root(table), mh.COLUMN_NAMES)
    assert [r["id"] for r in rows] == [0], rows
