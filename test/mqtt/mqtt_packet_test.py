"""Packets real MQTT clients do not send, against nobusd's MQTT endpoint (doc/mqtt.md), built with
mqtt-packet's generate() (npm `mqtt-packet` 9.0.2, MQTT.js's codec, pinned in test/package.json)
and every answer parsed with mqtt-packet's parser: a codec that shares nothing with nobus's. The
exchanges run in test/mqtt/node/raw_session.mjs (it reports what it sent and received, this file
judges). One nobusd for the module, authentication on (static tokens), the records of every case
that nobusd must write go to `mqtt.raw.cases` with ids of their own; the last test publishes with
MQTT.js to `mqtt.raw.after` and then checks, with DuckDB and delta-rs, that both tables hold
exactly the records that were acknowledged (or sent at QoS 0 without a failure) and none of the
refused ones.

Run: test/server/run_python.sh -m pytest -v -p no:cacheprovider test/mqtt/mqtt_packet_test.py"""
import itertools
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "node"))
import node_harness as nh  # noqa: E402

CASES = "mqtt.raw.cases"    # where the cases' records go
AFTER = "mqtt.raw.after"    # the MQTT.js client's records at the end
OTHER = "other.raw.t"       # exists; CLIENT_TOKEN may not write it
MISSING = "mqtt.raw.missing"  # a valid name, no such table
AFTER_N = 200
TAG = "mqtt-packet"

# 5.0 reason codes (MQTT 5.0, 2.4)
SUCCESS, NO_SUBSCRIPTION_EXISTED, UNSPECIFIED_ERROR = 0x00, 0x11, 0x80
MALFORMED, PROTOCOL_ERROR, IMPLEMENTATION_SPECIFIC = 0x81, 0x82, 0x83
UNSUPPORTED_VERSION, CLIENT_ID_INVALID = 0x84, 0x85
BAD_USER_OR_PASSWORD, NOT_AUTHORIZED = 0x86, 0x87
BAD_AUTH_METHOD, KEEP_ALIVE_TIMEOUT, SESSION_TAKEN_OVER = 0x8C, 0x8D, 0x8E
TOPIC_NAME_INVALID, TOPIC_ALIAS_INVALID, PACKET_TOO_LARGE = 0x90, 0x94, 0x95
PAYLOAD_FORMAT_INVALID, RETAIN_NOT_SUPPORTED, QOS_NOT_SUPPORTED = 0x99, 0x9A, 0x9B

EXPECTED = {}  # id -> row: what nobusd must have written to CASES by the last test (landed())
_ids = itertools.count(1)
_client_ids = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = nh.start_nobusd(tmp_path_factory.mktemp("mqtt_packet"))
    for table in (CASES, AFTER, OTHER):
        nh.create_table(s, table)
    yield s
    if s.running():
        s.stop()


# ---------------------------------------------------------------------------------------------
# Packets (mqtt-packet's packet objects; {"$hex": ...} is a Buffer in raw_session.mjs)

def client_id(prefix="raw"):
    return f"{prefix}-{next(_client_ids)}"


def connect5(cid=None, token=nh.CLIENT_TOKEN, table=CASES, keepalive=60, clean=True,
             properties=None, **extra):
    """A 5.0 CONNECT with the Zerobus User Properties (Authorization: Bearer TOKEN, the table
    header); token/table None leaves that one out."""
    user = {}
    if token is not None:
        user["Authorization"] = f"Bearer {token}"
    if table is not None:
        user[nh.TABLE_HEADER] = table
    props = {"userProperties": user} if user else {}
    props.update(properties or {})
    packet = {"cmd": "connect", "protocolId": "MQTT", "protocolVersion": 5, "clean": clean,
              "clientId": client_id() if cid is None else cid, "keepalive": keepalive}
    if props:
        packet["properties"] = props
    packet.update(extra)
    return packet


def connect4(cid=None, password=nh.CLIENT_TOKEN, username="raw-device", **extra):
    """A 3.1.1 CONNECT, the token as the password (None: no user name and password)."""
    packet = {"cmd": "connect", "protocolId": "MQTT", "protocolVersion": 4, "clean": True,
              "clientId": client_id() if cid is None else cid, "keepalive": 60}
    if password is not None:
        packet["username"], packet["password"] = username, password
    packet.update(extra)
    return packet


def new_row():
    i = next(_ids)
    return i, nh.row(i, TAG)


def publish(topic=CASES, payload=None, qos=1, mid=1, retain=False, properties=None):
    """A PUBLISH; payload None: a new good row (its id is returned as well, not yet expected)."""
    i = None
    if payload is None:
        i, row = new_row()
        payload = nh.row_json(i, TAG)
    packet = {"cmd": "publish", "topic": topic, "payload": payload, "qos": qos,
              "retain": retain, "dup": False}
    if qos:
        packet["messageId"] = mid
    if properties:
        packet["properties"] = properties
    return packet, i


def good_publish(topic=CASES, qos=1, mid=1):
    """A PUBLISH of a good new row; landed(packet) once nobusd accepted it."""
    return publish(topic, qos=qos, mid=mid)[0]


def landed(*packets):
    """These PUBLISHes were accepted: their rows must be in CASES at the end."""
    for packet in packets:
        row = json.loads(packet["payload"])
        EXPECTED[row["id"]] = row


PINGREQ = {"cmd": "pingreq"}
DISCONNECT = {"cmd": "disconnect", "reasonCode": 0}


# ---------------------------------------------------------------------------------------------
# Running an exchange and reading its answers

def session(server, steps, timeout_ms=10000, linger_ms=300):
    result = nh.run_node("raw_session.mjs", {"address": server.mqtt_address, "steps": steps,
                                             "timeout_ms": timeout_ms, "linger_ms": linger_ms})
    assert result["error"] is None, f"raw_session failed: {result['error']}\n{result}"
    for c in result["conns"]:
        assert not c["parse_errors"], f"mqtt-packet could not parse nobusd's answer: {c}"
    return result


def answers(result, step, conn=0):
    """The packets received on `conn` while `step` ran (after its send)."""
    return [p for p in result["conns"][conn]["packets"] if p["step"] == step]


def describe(result, server):
    return f"exchange: {result}\nnobusd log:\n{nh.mqtt_log(server, 30)}"


def one(result, step, cmd, server, conn=0):
    got = answers(result, step, conn)
    assert len(got) == 1 and got[0]["cmd"] == cmd, (
        f"step {step}: expected one {cmd.upper()}, got {[p['cmd'] for p in got]}\n"
        f"{describe(result, server)}")
    return got[0]


def expect_connack(result, server, code, step=0, conn=0, version=5):
    connack = one(result, step, "connack", server, conn)
    got = connack.get("reasonCode") if version == 5 else connack.get("returnCode")
    assert got == code, (f"CONNACK {'reason' if version == 5 else 'return'} code {got!r}, "
                         f"expected 0x{code:02x}\n{describe(result, server)}")
    return connack


def expect_refused(result, server, code, version=5):
    """CONNACK with `code` at step 0 (which waited for the close too), then nobusd closed the
    connection."""
    connack = expect_connack(result, server, code, version=version)
    assert connack.get("sessionPresent") is False, f"Session Present set: {connack}"
    assert result["conns"][0]["closed"], (
        f"the connection stayed open after CONNACK 0x{code:02x}\n{describe(result, server)}")
    assert len(result["conns"][0]["packets"]) == 1, (
        f"more than the CONNACK came\n{describe(result, server)}")
    return connack


def expect_disconnect(result, server, step, code, conn=0):
    """A DISCONNECT with `code` as the answer of `step`, nothing after it, and the connection
    closed by nobusd."""
    packets = [p for p in result["conns"][conn]["packets"] if p["step"] >= step]
    assert packets and packets[0]["cmd"] == "disconnect", (
        f"step {step}: expected DISCONNECT 0x{code:02x}, got {[p['cmd'] for p in packets]}\n"
        f"{describe(result, server)}")
    assert packets[0].get("reasonCode") == code, (
        f"DISCONNECT reason code {packets[0].get('reasonCode')!r}, expected 0x{code:02x}\n"
        f"{describe(result, server)}")
    assert len(packets) == 1, f"packets after the DISCONNECT: {packets[1:]}"
    assert result["conns"][conn]["closed"], (
        f"nobusd did not close the connection after its DISCONNECT\n{describe(result, server)}")
    return packets[0]


def expect_puback(result, server, step, code, mid=1, conn=0):
    puback = one(result, step, "puback", server, conn)
    assert puback.get("messageId") == mid, (
        f"PUBACK for message id {puback.get('messageId')}, sent {mid}")
    assert puback.get("reasonCode") == code, (
        f"PUBACK reason code {puback.get('reasonCode')!r}, expected 0x{code:02x}\n"
        f"{describe(result, server)}")
    return puback


def expect_alive(result, server, step):
    """`step` was a PINGREQ: a PINGRESP alone answered it, the connection is up."""
    one(result, step, "pingresp", server)


def reason_string(packet):
    return (packet.get("properties") or {}).get("reasonString")


def accepted_then(steps_after, connect=None):
    """Steps: a CONNECT (default: 5.0 with the table header) expecting its CONNACK, then
    steps_after (each expecting one answer unless it says otherwise)."""
    steps = [{"send": connect or connect5(), "expect": 1}]
    for s in steps_after:
        steps.append(s if "expect" in s or "expect_close" in s else {**s, "expect": 1})
    return steps


# ---------------------------------------------------------------------------------------------
# CONNECT

def test_connack_announces_the_limits(server):
    good = good_publish()
    result = session(server, accepted_then([{"send": good},
                                            {"send": DISCONNECT, "expect_close": True}]))
    connack = expect_connack(result, server, SUCCESS)
    assert connack["sessionPresent"] is False
    props = connack.get("properties") or {}
    expected = {"receiveMaximum": 4096, "maximumQoS": None, "retainAvailable": False,
                "maximumPacketSize": 1 << 20, "wildcardSubscriptionAvailable": False,
                "subscriptionIdentifiersAvailable": False, "sharedSubscriptionAvailable": False}
    wrong = {k: (props.get(k), v) for k, v in expected.items() if props.get(k) != v}
    assert not wrong, f"CONNACK properties (got, expected): {wrong}; all: {props}"
    # Topic Alias Maximum 0 is also what its absence means (MQTT 5.0, 3.2.2.3.8).
    assert props.get("topicAliasMaximum", 0) == 0, f"Topic Alias Maximum: {props}"
    expect_puback(result, server, 1, SUCCESS)
    landed(good)
    assert answers(result, 2) == [] and result["conns"][0]["closed"]


def test_v5_will_refused_0x83(server):
    will = {"topic": CASES, "payload": nh.row_json(999001, TAG), "qos": 1, "retain": False}
    result = session(server, [{"send": connect5(will=will), "expect": 1, "expect_close": True}])
    connack = expect_refused(result, server, IMPLEMENTATION_SPECIFIC)
    assert reason_string(connack), f"CONNACK 0x83 without a Reason String: {connack}"


def test_authentication_method_refused_0x8c(server):
    result = session(server, [{"send": connect5(properties={"authenticationMethod": "SCRAM-SHA-1",
                                                            "authenticationData": {"$hex": "00"}}),
                               "expect": 1, "expect_close": True}])
    expect_refused(result, server, BAD_AUTH_METHOD)


def test_protocol_level_3_refused_in_311_format(server):
    packet = {"cmd": "connect", "protocolId": "MQIsdp", "protocolVersion": 3, "clean": True,
              "clientId": client_id(), "keepalive": 60, "username": "u",
              "password": nh.CLIENT_TOKEN}
    result = session(server, [{"send": packet, "expect": 1, "expect_close": True}])
    expect_refused(result, server, 1, version=4)  # 3.1.1 return code 1


@pytest.mark.parametrize("version,what,cid,flags", [
    (5, "129 bytes", "c" * 129, None),
    (5, "empty, Clean Start 0", "", 0x00),  # no user name, password, Will; Clean Start 0
    (4, "129 bytes", "c" * 129, None),
    (4, "empty, Clean Session 0", "", 0xC0),  # user name and password; Clean Session 0
])
def test_bad_client_identifier(server, version, what, cid, flags):
    # mqtt-packet refuses to build an empty client id without Clean Start: it is built with
    # Clean Start 1 and its Connect Flags byte overwritten.
    connect = connect5(cid) if version == 5 else connect4(cid)
    step = {"send": connect, "expect": 1, "expect_close": True}
    if flags is not None:
        step["connect_flags"] = flags
    result = session(server, [step])
    expect_refused(result, server, CLIENT_ID_INVALID if version == 5 else 2, version=version)


def test_client_identifier_of_128_bytes_accepted(server):
    good = good_publish()
    result = session(server, accepted_then([{"send": good}], connect5("c" * 128)))
    expect_connack(result, server, SUCCESS)
    expect_puback(result, server, 1, SUCCESS)
    landed(good)


def test_empty_client_identifier_gets_one_assigned(server):
    good = good_publish()
    result = session(server, accepted_then([{"send": good}], connect5("")))
    connack = expect_connack(result, server, SUCCESS)
    assigned = (connack.get("properties") or {}).get("assignedClientIdentifier")
    assert assigned, f"no Assigned Client Identifier: {connack}"
    expect_puback(result, server, 1, SUCCESS)
    landed(good)


@pytest.mark.parametrize("what,connect,code", [
    ("wrong bearer token", lambda: connect5(token="wrong-token"), NOT_AUTHORIZED),
    ("no credentials", lambda: connect5(token=None), NOT_AUTHORIZED),
    ("wrong password", lambda: connect5(token=None, username="u", password="wrong-token"),
     BAD_USER_OR_PASSWORD),
    ("token without MODIFY on the header's table", lambda: connect5(token=nh.OTHER_TOKEN),
     NOT_AUTHORIZED),
    ("header names a missing table", lambda: connect5(table=MISSING), TOPIC_NAME_INVALID),
    ("header is not a table name", lambda: connect5(table="not-a-table"), TOPIC_NAME_INVALID),
], ids=lambda v: v if isinstance(v, str) else "")
def test_v5_connect_refused(server, what, connect, code):
    result = session(server, [{"send": connect(), "expect": 1, "expect_close": True}])
    expect_refused(result, server, code)


@pytest.mark.parametrize("what,password,code", [
    ("wrong password", "wrong-token", 4),
    ("no credentials", None, 5),
])
def test_v311_connect_refused(server, what, password, code):
    result = session(server, [{"send": connect4(password=password), "expect": 1,
                               "expect_close": True}])
    expect_refused(result, server, code, version=4)


@pytest.mark.parametrize("asked,announced", [(0, 300), (1000, 300), (2, 5)])
def test_server_keep_alive(server, asked, announced):
    result = session(server, [{"send": connect5(keepalive=asked), "expect": 1}])
    connack = expect_connack(result, server, SUCCESS)
    got = (connack.get("properties") or {}).get("serverKeepAlive")
    assert got == announced, f"keep alive {asked}: Server Keep Alive {got!r}: {connack}"


def test_keep_alive_timeout_0x8d(server):
    # Keep alive 5 s (the minimum): nobusd closes a silent connection after 7.5 s.
    result = session(server, [{"send": connect5(keepalive=5), "expect": 1},
                              {"expect_close": True}], timeout_ms=30000)
    expect_connack(result, server, SUCCESS)
    expect_disconnect(result, server, 1, KEEP_ALIVE_TIMEOUT)


def test_second_connection_takes_the_session_over(server):
    cid = client_id("takeover")
    good = good_publish()
    result = session(server, [
        {"conn": 0, "send": connect5(cid), "expect": 1},
        {"conn": 1, "send": connect5(cid), "expect": 1},
        {"conn": 0, "expect_close": True},
        {"conn": 1, "send": good, "expect": 1},
    ])
    expect_connack(result, server, SUCCESS, step=0, conn=0)
    expect_connack(result, server, SUCCESS, step=1, conn=1)
    old = [p for p in result["conns"][0]["packets"] if p["step"] >= 1]
    assert [(p["cmd"], p.get("reasonCode")) for p in old] == [("disconnect", SESSION_TAKEN_OVER)], (
        f"the older connection got {old}, expected DISCONNECT 0x8e\n{describe(result, server)}")
    assert result["conns"][0]["closed"], "the older connection was not closed"
    expect_puback(result, server, 3, SUCCESS, conn=1)
    landed(good)


# ---------------------------------------------------------------------------------------------
# PUBLISH

def test_v5_retain_disconnects_0x9a(server):
    packet, _ = publish(retain=True)  # not written
    result = session(server, accepted_then([{"send": packet, "expect_close": True}]))
    expect_disconnect(result, server, 1, RETAIN_NOT_SUPPORTED)


def test_v5_topic_alias_disconnects_0x94(server):
    packet, _ = publish(properties={"topicAlias": 1})
    result = session(server, accepted_then([{"send": packet, "expect_close": True}]))
    expect_disconnect(result, server, 1, TOPIC_ALIAS_INVALID)


PUBREL = {"cmd": "pubrel", "messageId": 1}


def test_v5_qos2_pubrec_then_pubcomp(server):
    packet, _ = publish(qos=2)
    result = session(server, accepted_then([{"send": packet}, {"send": PUBREL}]))
    rec = one(result, 1, "pubrec", server)
    assert rec["messageId"] == 1 and rec.get("reasonCode", 0) == 0, rec
    comp = one(result, 2, "pubcomp", server)
    assert comp["messageId"] == 1 and comp.get("reasonCode", 0) == 0, comp
    landed(packet)


def test_payload_format_indicator_with_invalid_utf8_0x99(server):
    # A JSON object of the table's columns except for one byte that is no UTF-8 (0xff) in a
    # string, with Payload Format Indicator 1 (UTF-8).
    i, _ = new_row()  # not written
    text = nh.row_json(i, TAG).encode()
    bad = text.replace(b'"tag":"', b'"tag":"\xff', 1)
    assert bad != text
    packet, _ = publish(payload={"$hex": bad.hex()}, properties={"payloadFormatIndicator": True},
                        mid=7)
    good = good_publish(mid=8)
    result = session(server, accepted_then([{"send": packet}, {"send": PINGREQ},
                                            {"send": good}]))
    expect_puback(result, server, 1, PAYLOAD_FORMAT_INVALID, mid=7)
    expect_alive(result, server, 2)
    expect_puback(result, server, 3, SUCCESS, mid=8)
    landed(good)


@pytest.mark.parametrize("what,connect_table,topic,code", [
    ("topic other than the table header", CASES, AFTER, TOPIC_NAME_INVALID),
    ("topic names a missing table", None, MISSING, TOPIC_NAME_INVALID),
    ("topic is not a table name", None, "devices/42/readings", TOPIC_NAME_INVALID),
    ("token may not write the topic's table", None, OTHER, NOT_AUTHORIZED),
])
def test_v5_publish_refused_with_puback(server, what, connect_table, topic, code):
    packet, _ = publish(topic=topic, mid=3)  # not written
    good = good_publish(topic=CASES, mid=4)
    result = session(server, accepted_then([{"send": packet}, {"send": PINGREQ}, {"send": good}],
                                           connect5(table=connect_table)))
    puback = expect_puback(result, server, 1, code, mid=3)
    assert reason_string(puback), f"{what}: PUBACK 0x{code:02x} without a Reason String: {puback}"
    expect_alive(result, server, 2)
    expect_puback(result, server, 3, SUCCESS, mid=4)
    landed(good)


def test_qos0_bad_record_answered_with_nothing(server):
    bad, _ = publish(payload='{"id":"not-a-number"}', qos=0)
    good = good_publish(qos=0)
    result = session(server, accepted_then([{"send": bad, "expect": 0},
                                            {"send": good, "expect": 0},
                                            {"send": PINGREQ}]))
    expect_alive(result, server, 3)
    assert [p["cmd"] for p in result["conns"][0]["packets"]] == ["connack", "pingresp"], (
        f"QoS 0 was answered\n{describe(result, server)}")
    landed(good)  # best effort, but nothing failed: written like QoS 1


def test_packet_too_large_0x95(server):
    # Remaining Length over 1 MiB: refused from the fixed header; only the first bytes are sent.
    packet, _ = publish(payload="x" * ((1 << 20) + 1024))
    result = session(server, accepted_then([{"send": packet, "limit_bytes": 64,
                                             "expect_close": True}]))
    expect_disconnect(result, server, 1, PACKET_TOO_LARGE)


def test_packet_of_1_mib_accepted(server):
    # A PUBLISH just under the limit: a row whose payload column fills it.
    i, _ = new_row()
    head = nh.row_json(i, TAG)
    # Fixed header 1 + 3 (Remaining Length), topic 2 + len, packet id 2, property length 1.
    room = (1 << 20) - 4 - (2 + len(CASES)) - 2 - 1 - len(head)
    row = {"id": i, "tag": TAG, "payload": nh.payload(i) + "y" * room}
    text = json.dumps(row, separators=(",", ":"))
    packet = {"cmd": "publish", "topic": CASES, "payload": text, "qos": 1, "messageId": 9,
              "retain": False, "dup": False}
    result = session(server, accepted_then([{"send": packet}]))
    assert result["steps"][1]["sent_bytes"] == 1 << 20, result["steps"][1]
    expect_puback(result, server, 1, SUCCESS, mid=9)
    landed(packet)


# ---------------------------------------------------------------------------------------------
# Other packets

def test_subscribe_suback_0x80_for_every_filter(server):
    packet = {"cmd": "subscribe", "messageId": 11,
              "subscriptions": [{"topic": "devices/+/readings", "qos": 1},
                                {"topic": CASES, "qos": 0},
                                {"topic": "#", "qos": 2}]}
    result = session(server, accepted_then([{"send": packet}, {"send": PINGREQ}]))
    suback = one(result, 1, "suback", server)
    assert suback["messageId"] == 11 and suback["granted"] == [UNSPECIFIED_ERROR] * 3, (
        f"SUBACK {suback}")
    assert reason_string(suback), f"SUBACK without a Reason String: {suback}"
    expect_alive(result, server, 2)


def test_unsubscribe_unsuback_0x11(server):
    packet = {"cmd": "unsubscribe", "messageId": 12,
              "unsubscriptions": ["devices/+/readings", CASES]}
    result = session(server, accepted_then([{"send": packet}, {"send": PINGREQ}]))
    unsuback = one(result, 1, "unsuback", server)
    assert unsuback["messageId"] == 12 and (
        unsuback.get("granted") == [NO_SUBSCRIPTION_EXISTED] * 2), (
        f"UNSUBACK {unsuback}")
    expect_alive(result, server, 2)


def test_pingreq_pingresp(server):
    result = session(server, accepted_then([{"send": PINGREQ}, {"send": PINGREQ}]))
    expect_alive(result, server, 1)
    expect_alive(result, server, 2)


def test_auth_after_connect_disconnects_0x82(server):
    packet = {"cmd": "auth", "reasonCode": 0x19,  # Re-authenticate
              "properties": {"authenticationMethod": "SCRAM-SHA-1"}}
    result = session(server, accepted_then([{"send": packet, "expect_close": True}]))
    expect_disconnect(result, server, 1, PROTOCOL_ERROR)


def test_second_connect_disconnects_0x82(server):
    result = session(server, accepted_then([{"send": connect5(), "expect_close": True}]))
    expect_disconnect(result, server, 1, PROTOCOL_ERROR)


@pytest.mark.parametrize("what,packet", [
    ("CONNACK", {"cmd": "connack", "reasonCode": 0, "sessionPresent": False}),
    ("PINGRESP", {"cmd": "pingresp"}),
    ("SUBACK", {"cmd": "suback", "messageId": 5, "granted": [0]}),
])
def test_server_only_packet_disconnects_0x82(server, what, packet):
    result = session(server, accepted_then([{"send": packet, "expect_close": True}]))
    expect_disconnect(result, server, 1, PROTOCOL_ERROR)


@pytest.mark.parametrize("what,hex_bytes", [
    # PUBLISH QoS 1, topic "mqtt/+" (a wildcard in a Topic Name), id 1, no properties, "{}"
    ("wildcard in the topic", "32" "0d" "0006" + b"mqtt/+".hex() + "0001" "00" + b"{}".hex()),
    # SUBSCRIBE with flags 0 (must be 0b0010), id 1, no properties, filter "a", options 0
    ("reserved flags", "80" "07" "0001" "00" "0001" + b"a".hex() + "00"),
    # PUBLISH whose property length runs past the packet's end
    ("property length overrun", "32" "08" "0001" + b"t".hex() + "0001" "20" + b"{}".hex()),
], ids=lambda v: v if " " in v else "")
def test_malformed_disconnects_0x81(server, what, hex_bytes):
    result = session(server, accepted_then([{"hex": hex_bytes, "expect_close": True}]))
    disconnect = expect_disconnect(result, server, 1, MALFORMED)
    reason = reason_string(disconnect)
    assert reason and "byte" in reason, (
        f"{what}: DISCONNECT 0x81 without a Reason String naming the byte: {disconnect}")


# ---------------------------------------------------------------------------------------------
# 3.1.1

def test_v311_will_accepted(server):
    will = {"topic": CASES, "payload": nh.row_json(999002, TAG), "qos": 1, "retain": False}
    good = good_publish()
    result = session(server, accepted_then([{"send": good}, {"send": DISCONNECT,
                                                             "expect_close": True}],
                                           connect4(will=will)))
    expect_connack(result, server, 0, version=4)
    one(result, 1, "puback", server)
    landed(good)


def test_v311_retain_accepted_as_plain_message(server):
    packet, _ = publish(retain=True)
    result = session(server, accepted_then([{"send": packet}, {"send": PINGREQ}], connect4()))
    expect_connack(result, server, 0, version=4)
    assert one(result, 1, "puback", server)["messageId"] == 1
    expect_alive(result, server, 2)
    landed(packet)


def test_v311_qos2_pubrec_then_pubcomp(server):
    packet, _ = publish(qos=2)
    result = session(server, accepted_then([{"send": packet}, {"send": PUBREL}], connect4()))
    expect_connack(result, server, 0, version=4)
    assert one(result, 1, "pubrec", server)["messageId"] == 1
    assert one(result, 2, "pubcomp", server)["messageId"] == 1
    landed(packet)


def test_v311_subscribe_and_unsubscribe(server):
    sub = {"cmd": "subscribe", "messageId": 21, "subscriptions": [{"topic": "a/b", "qos": 1},
                                                                  {"topic": "c/#", "qos": 0}]}
    unsub = {"cmd": "unsubscribe", "messageId": 22, "unsubscriptions": ["a/b"]}
    result = session(server, accepted_then([{"send": sub}, {"send": unsub}, {"send": PINGREQ}],
                                           connect4()))
    suback = one(result, 1, "suback", server)
    assert suback["messageId"] == 21 and suback["granted"] == [0x80, 0x80], f"SUBACK {suback}"
    assert one(result, 2, "unsuback", server)["messageId"] == 22
    expect_alive(result, server, 3)


# ---------------------------------------------------------------------------------------------
# After all that: a normal client's records land, and exactly the records nobusd accepted.

def test_zz_records_land_after_all(server):
    assert server.running(), "nobusd is not running"
    tag = "mqttjs-after"
    spec = {"url": f"mqtt://{server.mqtt_address}", "protocolVersion": 5,
            "clientId": "mqttjs-after", "topic": AFTER, "qos": 1,
            "userProperties": {"Authorization": f"Bearer {nh.CLIENT_TOKEN}",
                               nh.TABLE_HEADER: AFTER},
            "batches": [{"kind": "rows", "first": 0, "count": AFTER_N, "tag": tag}]}
    result = nh.run_node("mqttjs_publish.mjs", spec)
    assert result["connected"] and result["error"] is None, f"MQTT.js: {result}"
    batch = result["batches"][0]
    assert batch["acked"] == AFTER_N and not batch["errors"], f"MQTT.js publishes: {batch}"
    nh.log(f"{len(EXPECTED)} records of the cases expected in {CASES}")
    nh.expect_tables(server, {AFTER: {i: nh.row(i, tag) for i in range(AFTER_N)},
                              CASES: dict(EXPECTED), OTHER: {}})
