"""MQTT.js (npm `mqtt` 5.x, pinned in test/package.json) against nobusd's MQTT endpoint
(doc/mqtt.md), on a node with authentication on: a real client publishes N QoS 1 messages, ids
0..N-1, to a table of its own (`mqtt.mqttjs.<case>`, `id BIGINT NOT NULL, tag STRING, payload
STRING`), every publish callback must come back without an error, and the table must then hold
every id exactly once, read by DuckDB and by delta-rs. The client is
test/mqtt/node/mqttjs_publish.mjs; it reports, this file judges.

- 5.0 with the Zerobus CONNECT User Properties (Authorization: Bearer, the table header);
- 5.0 with the token as the password and no table header (the topic names the table);
- 3.1.1 with the token as the password;
- 5.0 bad records among good ones: MQTT.js turns a PUBACK reason code >= 0x80 into an error on
  the publish callback; each must be 0x99 Payload format invalid with a Reason String naming the
  column, the connection stays up and the records after them land;
- 3.1.1 bad record: the connection is closed (3.1.1 PUBACK has no reason code), the records
  acknowledged before it land.

Run: test/server/run_python.sh -m pytest -v -p no:cacheprovider test/mqtt/mqttjs_test.py
Env: NOBUS_MQTT_RECORDS (default 2000) records per case."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "node"))
import node_harness as nh  # noqa: E402

N = int(os.environ.get("NOBUS_MQTT_RECORDS", "2000"))
PAYLOAD_FORMAT_INVALID = 0x99


@pytest.fixture
def server(tmp_path):
    s = nh.start_nobusd(tmp_path)
    yield s
    if s.running():
        s.stop()


def table_for(server, case):
    return nh.create_table(server, f"mqtt.mqttjs.{case}")


def client_spec(server, case, table, version, auth, **extra):
    """The mqttjs_publish.mjs spec of one case: auth "user_property" (Authorization: Bearer and
    the table header, 5.0) or "password" (any user name, the token as the password)."""
    spec = {"url": f"mqtt://{server.mqtt_address}", "protocolVersion": version,
            "clientId": f"mqttjs-{case}", "topic": table, "qos": 1}
    if auth == "user_property":
        spec["userProperties"] = {"Authorization": f"Bearer {nh.CLIENT_TOKEN}",
                                  nh.TABLE_HEADER: table}
    else:
        spec["username"] = "mqttjs-device"
        spec["password"] = nh.CLIENT_TOKEN
    spec.update(extra)
    return spec


def rows_batch(first, count, tag):
    return {"kind": "rows", "first": first, "count": count, "tag": tag}


def expect_connected(result, version, server):
    assert result["connected"], (f"no CONNACK accepting the client: {result}\n"
                                 f"nobusd log:\n{nh.mqtt_log(server)}")
    connack = result["connack"]
    code = connack.get("reasonCode") if version == 5 else connack.get("returnCode")
    assert code == 0, f"CONNACK {connack}"
    assert connack.get("sessionPresent") is False, f"Session Present set: {connack}"


def expect_stayed_up(result, server):
    """No close, offline, server DISCONNECT or client error before the client's own end."""
    events = result["events"]
    before_end = events[:events.index({"event": "end"})] if {"event": "end"} in events else events
    assert not before_end and result["connected_at_end"], (
        f"the connection did not stay up: events {events}, error {result['error']}\n"
        f"nobusd log:\n{nh.mqtt_log(server)}")


def expect_all_acked(batch, what):
    assert batch["acked"] == batch["sent"] and not batch["errors"] and not batch["unanswered"], (
        f"{what}: {batch['acked']} of {batch['sent']} publishes acknowledged, "
        f"{batch['unanswered']} unanswered, errors {batch['errors'][:5]}")


@pytest.mark.parametrize("case,version,auth,qos", [
    ("v5_user_property", 5, "user_property", 1),
    ("v5_password", 5, "password", 1),
    ("v311_password", 4, "password", 1),
    ("v5_qos2", 5, "password", 2),
    ("v311_qos2", 4, "password", 2),
])
def test_publish_lands_exactly_once(server, case, version, auth, qos):
    table = table_for(server, case)
    tag = f"mqttjs-{case}"
    result = nh.run_node("mqttjs_publish.mjs",
                         client_spec(server, case, table, version, auth, qos=qos,
                                     batches=[rows_batch(0, N, tag)]))
    nh.log(f"{case}: {result['batches']} events {result['events']}")
    assert result["error"] is None, f"client error: {result['error']}"
    expect_connected(result, version, server)
    expect_all_acked(result["batches"][0], case)
    expect_stayed_up(result, server)
    nh.expect_tables(server, {table: {i: nh.row(i, tag) for i in range(N)}})


# Bad records of the 5.0 case: (label, payload, a word the Reason String must hold or None).
BAD_RECORDS = [
    ("wrong type", '{"id":"not-a-number","tag":"bad","payload":"x"}', "id"),
    ("missing NOT NULL column", '{"tag":"bad","payload":"x"}', "id"),
    ("unknown column", '{"id":900001,"tag":"bad","payload":"x","colour":"red"}', "colour"),
    ("bad JSON", '{"id":900002,"tag":"bad",', None),
    ("not an object", '[900003,"bad","x"]', None),
]


def test_v5_bad_records_get_puback_0x99(server):
    case = "v5_bad_records"
    table = table_for(server, case)
    tag = f"mqttjs-{case}"
    half = N // 2
    batches = [rows_batch(0, half, tag)]
    batches += [{"kind": "raw", "payload": p} for _, p, _ in BAD_RECORDS]
    batches.append(rows_batch(half, N - half, tag))
    result = nh.run_node("mqttjs_publish.mjs",
                         client_spec(server, case, table, 5, "user_property", batches=batches))
    nh.log(f"{case}: {result['batches']} events {result['events']}")
    assert result["error"] is None, f"client error: {result['error']}"
    expect_connected(result, 5, server)
    assert len(result["batches"]) == len(batches), (
        f"the client stopped after {len(result['batches'])} of {len(batches)} batches: "
        f"{result['batches']} events {result['events']}\nnobusd log:\n{nh.mqtt_log(server)}")
    expect_all_acked(result["batches"][0], f"{case}: the records before the bad ones")
    for (label, text, word), batch in zip(BAD_RECORDS, result["batches"][1:-1]):
        assert batch["acked"] == 0 and len(batch["errors"]) == 1, (
            f"{case}: bad record ({label}) {text!r}: acknowledged without an error: {batch}")
        error = batch["errors"][0]
        assert error["code"] == PAYLOAD_FORMAT_INVALID, (
            f"{case}: bad record ({label}) {text!r}: error code {error['code']} "
            f"({error['message']}), expected 0x99; PUBACK {error['puback']}")
        reason = (error["puback"] or {}).get("properties", {}).get("reasonString")
        assert reason, f"{case}: bad record ({label}): PUBACK 0x99 without a Reason String: {error}"
        if word is not None:
            assert word in reason, (f"{case}: bad record ({label}) {text!r}: the Reason String "
                                    f"{reason!r} does not name the column {word!r}")
        nh.log(f"{case}: {label}: PUBACK 0x{error['code']:02x} {reason!r}")
    expect_all_acked(result["batches"][-1], f"{case}: the records after the bad ones")
    expect_stayed_up(result, server)
    nh.expect_tables(server, {table: {i: nh.row(i, tag) for i in range(N)}})


def test_v311_bad_record_closes_the_connection(server):
    case = "v311_bad_record"
    table = table_for(server, case)
    tag = f"mqttjs-{case}"
    half = N // 2
    batches = [rows_batch(0, half, tag),
               {"kind": "raw", "payload": '{"id":"not-a-number","tag":"bad","payload":"x"}'},
               rows_batch(half, N - half, tag)]
    result = nh.run_node("mqttjs_publish.mjs",
                         client_spec(server, case, table, 4, "password", batches=batches))
    nh.log(f"{case}: {result['batches']} events {result['events']}")
    expect_connected(result, 4, server)
    expect_all_acked(result["batches"][0], f"{case}: the records before the bad one")
    assert len(result["batches"]) == 2, (
        f"{case}: the client went on after the bad record: {result['batches']}")
    bad = result["batches"][1]
    assert bad["acked"] == 0 and not bad["errors"] and bad["unanswered"] == 1, (
        f"{case}: the bad record was answered: {bad}")
    assert {"event": "close"} in result["events"] and {"event": "end"} not in result["events"], (
        f"{case}: nobusd did not close the connection after the bad record: "
        f"{result['events']}\nnobusd log:\n{nh.mqtt_log(server)}")
    nh.expect_tables(server, {table: {i: nh.row(i, tag) for i in range(half)}})
