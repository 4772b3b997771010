"""mosquitto_pub (Debian's mosquitto-clients 2.0.11, scripts/setup.sh) publishing N JSON lines
with `-l` (one message per stdin line, all on one connection) into nobusd's MQTT endpoint: MQTT
5.0 and 3.1.1, QoS 0, 1 and 2, without authentication, with the token as the Zerobus CONNECT user
properties (`Authorization: Bearer`, `x-databricks-zerobus-table-name`) or as the password, and
over TLS (`--cafile`). Its -d debug output says what it sent and got (CONNACK, every PUBACK and its
reason code). The table must hold every id exactly once (DuckDB and delta-rs).

QoS 0 is best effort (doc/mqtt.md): nothing is acknowledged; on loopback every message must still
land, and the check is the same (every id exactly once). Should that ever prove flaky, the QoS 0
cases are the ones to look at (their ids are `*_qos0`)."""
import os

import pytest

import mqtt_harness as mh


def user_properties(token, table):
    return ["-D", "connect", "user-property", "Authorization", f"Bearer {token}",
            "-D", "connect", "user-property", mh.TABLE_HEADER, table]


def password(token, _table):
    return ["-u", "any", "-P", token]


# case -> (auth, tls, -V, QoS, credentials)
CASES = {
    "v5_qos1": (False, False, "mqttv5", 1, None),
    "v5_qos0": (False, False, "mqttv5", 0, None),
    "v311_qos1": (False, False, "mqttv311", 1, None),
    "v311_qos0": (False, False, "mqttv311", 0, None),
    "v5_user_property": (True, False, "mqttv5", 1, user_properties),
    "v5_password": (True, False, "mqttv5", 1, password),
    "v311_password": (True, False, "mqttv311", 1, password),
    "v5_user_property_qos0": (True, False, "mqttv5", 0, user_properties),
    "v5_tls_user_property": (True, True, "mqttv5", 1, user_properties),
    "v311_tls_password": (True, True, "mqttv311", 1, password),
    "v5_tls_noauth": (False, True, "mqttv5", 1, None),
    "v5_qos2": (False, False, "mqttv5", 2, None),
    "v311_qos2": (False, False, "mqttv311", 2, None),
    "v5_tls_password_qos2": (True, True, "mqttv5", 2, password),
}


@pytest.fixture(autouse=True)
def have_mosquitto_pub():
    if not os.access(mh.MOSQUITTO_PUB, os.X_OK):
        pytest.fail(f"{mh.MOSQUITTO_PUB} is missing (scripts/setup.sh installs mosquitto-clients)")


@pytest.mark.parametrize("case", list(CASES))
def test_mosquitto_pub(nobusd, case, tmp_path):
    auth, tls, version, qos, credentials = CASES[case]
    server = nobusd(auth=auth, tls=tls)
    table = mh.create_table(server, mh.table_name("mosquitto", case))
    tag = f"mosquitto-{case}"
    args = credentials(server.client_token, table) if credentials else []
    rc, out = mh.mosquitto_pub(server, table, [mh.value(i, tag) for i in range(mh.N)],
                               tmp_path / "mosquitto_pub.log", version=version, qos=qos,
                               args=args)
    connacks = mh.RECEIVED_CONNACK.findall(out)
    sent = mh.SENT_PUBLISH.findall(out)
    acks = mh.RECEIVED_PUBACK.findall(out)
    what = f"mosquitto_pub {case}: exit {rc}, CONNACK {connacks}, {len(sent)} PUBLISH sent, "
    what += f"{len(acks)} PUBACK"
    detail = (f"\nmosquitto_pub output (last lines):\n"
              f"{mh.tail(out, 15, grep=('rror', 'arning', 'CONNACK', 'DISCONNECT', 'failed'))}"
              f"\nnobusd log:\n{mh.mqtt_log(server)}")
    assert rc == 0 and connacks == ["0"], what + detail
    assert len(sent) == mh.N and {q for q, _ in sent} == {str(qos)}, what + detail
    if qos == 1:
        failed = [(m, c) for m, c in acks if c != "0"]
        assert len(acks) == mh.N and not failed, (
            f"{what}; PUBACKs with a failure reason code (mid, code): {failed[:10]}" + detail)
        assert {m for m, _ in acks} == {m for _, m in sent}, what + ": PUBACKs for other mids"
    elif qos == 2:  # exactly once: PUBREC, PUBREL, PUBCOMP with reason code 0 for every message
        comps = mh.RECEIVED_PUBCOMP.findall(out)
        failed = [(m, c) for m, c in comps if c not in ("", "0")]
        assert len(comps) == mh.N and not failed and not acks, (
            f"{what}, {len(comps)} PUBCOMP; failed (mid, code): {failed[:10]}" + detail)
    else:
        assert not acks, what + ": PUBACKs for QoS 0 messages" + detail
    mh.expect_table(server, table, {i: mh.row(i, tag) for i in range(mh.N)})


# case -> (-V, credentials, CONNACK code mosquitto_pub prints: the 5.0 reason code, or the 3.1.1
# return code)
WRONG_TOKEN_CASES = {
    "v5_password": ("mqttv5", password, 0x86),
    "v5_user_property": ("mqttv5", user_properties, 0x87),
    "v5_none": ("mqttv5", None, 0x87),
    "v311_password": ("mqttv311", password, 4),
    "v311_none": ("mqttv311", None, 5),
}


@pytest.mark.parametrize("case", list(WRONG_TOKEN_CASES))
def test_mosquitto_pub_refused(auth_server, case, tmp_path):
    """A wrong token (or none) on a node with authentication: the CONNACK refuses (doc/mqtt.md
    CONNECT "Authentication"), mosquitto_pub publishes nothing and nothing is written; the node
    still serves a client with the right token."""
    version, credentials, code = WRONG_TOKEN_CASES[case]
    server = auth_server
    table = mh.create_table(server, mh.table_name("mosquitto", f"refused_{case}"))
    args = credentials(mh.WRONG_TOKEN, table) if credentials else []
    rc, out = mh.mosquitto_pub(server, table, [mh.value(i, "refused") for i in range(10)],
                               tmp_path / "refused.log", version=version, qos=1, args=args,
                               timeout_s=60)
    connacks = mh.RECEIVED_CONNACK.findall(out)
    # (mosquitto_pub's exit code after a refused CONNECT is its own business: not checked)
    assert rc != "timeout" and connacks == [str(code)], (
        f"mosquitto_pub {case} with a wrong token: exit {rc}, CONNACK {connacks}, expected "
        f"[{code}]\n{mh.tail(out, 10)}\nnobusd log:\n{mh.mqtt_log(server)}")
    assert not mh.SENT_PUBLISH.findall(out), "mosquitto_pub published after a refused CONNECT"
    good = mh.create_table(server, mh.table_name("mosquitto", f"after_refused_{case}"))
    ok_args = (credentials or password)(server.client_token, good)
    rc, out = mh.mosquitto_pub(server, good, [mh.value(i, "after") for i in range(10)],
                               tmp_path / "after.log", version=version, qos=1, args=ok_args)
    assert rc == 0 and len(mh.RECEIVED_PUBACK.findall(out)) == 10, mh.tail(out, 10)
    mh.expect_tables(server, {table: {}, good: {i: mh.row(i, "after") for i in range(10)}})
