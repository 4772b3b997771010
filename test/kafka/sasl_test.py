"""SASL on nobusd's Kafka endpoint when the node has auth on (doc/kafka.md "Authentication"), under
both SASL variants of kafka_harness (PLAIN with a static token, OAUTHBEARER with a service
principal's access token); the client cases of the other files run authenticated under them too.

- On the wire (raw_kafka.py): SaslHandshake v1 + SaslAuthenticate v0, v1 and v2, and SaslHandshake
  v0 + the bare SASL frame, each followed by Metadata and Produce on that connection; a wrong token
  is SASL_AUTHENTICATION_FAILED (58) with a message and the connection closes (a bare frame gets
  no answer, just the close); a mechanism nobus does not offer is UNSUPPORTED_SASL_MECHANISM (33)
  naming PLAIN and OAUTHBEARER; SaslAuthenticate before SaslHandshake is ILLEGAL_SASL_STATE (34); a
  connection without SASL gets TOPIC_AUTHORIZATION_FAILED (29) on Metadata and Produce, and so does
  an authenticated one for a table its token does not cover.
- Real clients with a wrong token: confluent-kafka (error_cb _AUTHENTICATION), kcat (PLAIN), the
  Java producer (SaslAuthenticationException), kafka-python (SaslAuthenticationFailedError in its
  log); nothing is written.
- A token without a grant for the topic (a table in another catalog: the static token covers
  kafka.*.*, the principal holds MODIFY on CATALOG kafka only): confluent-kafka, Java and franz-go
  get TOPIC_AUTHORIZATION_FAILED (29) for it while the same producer's records for a covered table
  land.
- A plaintext client on the auth-on node: confluent-kafka and kcat get 29 for every record.
- librdkafka fetching its own token: confluent-kafka with sasl.oauthbearer.method=oidc against
  nobusd's POST /oidc/v1/token (client credentials of the principal).

Every table a test creates is read back once (kafka_harness.expect_tables): the records that were
acknowledged exactly once, the refused tables empty."""
import logging
import shutil

import pytest
from confluent_kafka import KafkaError

import kafka_harness as kh
import raw_kafka as rk
from confluent_util import Deliveries, produce, producer

SECURITY = ("sasl_plain", "sasl_oauthbearer")
MECHANISMS = {"PLAIN", "OAUTHBEARER"}


def wrong_token(security):
    """A token nobus refuses: an unknown static token (PLAIN), or the access token with its
    signature changed (OAUTHBEARER: a forged JWT)."""
    if security.mechanism == "PLAIN":
        return "wrong-" + security.token
    head, payload, signature = security.token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}"


def uncovered_table(server):
    """A table in a catalog the clients' token does not cover (kafka.*.* / MODIFY ON CATALOG
    kafka), created with the harness's admin token."""
    name = "other.sasl.denied"
    server.create_table(name, kh.COLUMNS)
    return name


def records(tag, ids):
    return [(i, kh.value(i, tag)) for i in ids]


def authenticated(server, security, handshake_version=1, authenticate_version=0):
    """A raw connection authenticated the way the variant's clients do."""
    c = rk.Connection(server.kafka_address)
    hs = c.sasl_handshake(security.mechanism, handshake_version)
    assert hs["error"] == rk.NONE and MECHANISMS <= set(hs["mechanisms"]), hs
    if handshake_version == 0:
        answer = c.sasl_raw(security.auth_bytes())
        assert answer == b"", f"bare SASL frame answered {answer!r}, want an empty frame"
    else:
        a = c.sasl_authenticate(security.auth_bytes(), authenticate_version)
        assert a["error"] == rk.NONE and a["error_message"] is None and a["auth_bytes"] == b"", a
        if authenticate_version >= 1:
            assert a["session_lifetime_ms"] == 0, a
    return c


def test_raw_sasl_exchange(server, table, security):
    topic = table("sasl", "raw")
    tag = "sasl-raw"
    with rk.Connection(server.kafka_address) as c:
        _, keys = c.api_versions(0)
    assert keys.get(rk.SASL_HANDSHAKE) == (0, 1), keys
    assert keys.get(rk.SASL_AUTHENTICATE) == (0, 2), keys
    expected = {}
    ways = [(1, 0), (1, 1), (1, 2), (0, None)]
    for n, (handshake, authenticate) in enumerate(ways):
        ids = range(n * 10, n * 10 + 10)
        with authenticated(server, security, handshake, authenticate) as c:
            md = c.metadata([topic])
            assert [(t["name"], t["error"]) for t in md["topics"]] == [(topic, rk.NONE)], md
            out = c.produce({topic: {0: rk.record_batch([kh.value(i, tag) for i in ids])}})
            assert out[(topic, 0)]["error"] == rk.NONE, (
                f"SaslHandshake v{handshake}, SaslAuthenticate v{authenticate}: {out}")
        expected.update({i: kh.row(i, tag) for i in ids})
    kh.expect_table(server, topic, expected)


def test_raw_sasl_refusals(server, table, security):
    topic = table("sasl", "raw_refused")
    denied = uncovered_table(server)
    tag = "sasl-raw-refused"
    bad = security.auth_bytes(wrong_token(security))
    for version in (0, 1, 2):
        with rk.Connection(server.kafka_address) as c:
            assert c.sasl_handshake(security.mechanism, 1)["error"] == rk.NONE
            a = c.sasl_authenticate(bad, version)
            kh.log(f"wrong token, SaslAuthenticate v{version}: {a}")
            assert a["error"] == rk.SASL_AUTHENTICATION_FAILED and a["error_message"], a
            assert c.closed_by_peer() is True, "the connection stayed open after a failed SASL"
    with rk.Connection(server.kafka_address) as c:  # v0: the bare frame gets no answer
        assert c.sasl_handshake(security.mechanism, 0)["error"] == rk.NONE
        with pytest.raises(ConnectionError):
            c.sasl_raw(bad)
    with rk.Connection(server.kafka_address) as c:  # a malformed SASL message
        assert c.sasl_handshake(security.mechanism, 1)["error"] == rk.NONE
        a = c.sasl_authenticate(b"garbage", 1)
        assert a["error"] == rk.SASL_AUTHENTICATION_FAILED and a["error_message"], a
        assert c.closed_by_peer() is True
    with rk.Connection(server.kafka_address) as c:
        hs = c.sasl_handshake("SCRAM-SHA-256", 1)
        assert hs["error"] == rk.UNSUPPORTED_SASL_MECHANISM, hs
        assert set(hs["mechanisms"]) == MECHANISMS, hs
        assert c.closed_by_peer() is True
    with rk.Connection(server.kafka_address) as c:
        a = c.sasl_authenticate(security.auth_bytes(), 1)
        assert a["error"] == rk.ILLEGAL_SASL_STATE, a
        assert c.closed_by_peer() is True
    batch = {0: rk.record_batch([kh.value(i, tag) for i in range(5)])}
    with rk.Connection(server.kafka_address) as c:  # no SASL on an auth-on node
        md = c.metadata([topic])
        assert [(t["name"], t["error"]) for t in md["topics"]] == [
            (topic, rk.TOPIC_AUTHORIZATION_FAILED)], md
        p = c.produce({topic: batch})[(topic, 0)]
        kh.log(f"Produce without SASL: {p}")
        assert p["error"] == rk.TOPIC_AUTHORIZATION_FAILED and p["error_message"], p
    with authenticated(server, security) as c:  # a table the token does not cover
        md = c.metadata([topic, denied])
        assert [(t["name"], t["error"]) for t in md["topics"]] == [
            (topic, rk.NONE), (denied, rk.TOPIC_AUTHORIZATION_FAILED)], md
        out = c.produce({denied: batch, topic: batch})
        kh.log(f"Produce to a table the token does not cover: {out[(denied, 0)]}")
        assert out[(denied, 0)]["error"] == rk.TOPIC_AUTHORIZATION_FAILED, out
        assert out[(denied, 0)]["error_message"], out
        assert out[(topic, 0)]["error"] == rk.NONE, out
    kh.expect_tables(server, {topic: {i: kh.row(i, tag) for i in range(5)}, denied: {}})


# ---------------------------------------------------------------------------------------------
# A wrong token

def test_confluent_wrong_token(server, table, security):
    topic = table("sasl", "confluent_wrong_token")
    deliveries = Deliveries(10)
    p = producer(server.kafka_address, kh.Plaintext(), deliveries, {
        "message.timeout.ms": 5000, "reconnect.backoff.ms": 500,
        "reconnect.backoff.max.ms": 1000, **security.librdkafka(wrong_token(security))})
    left = produce(p, deliveries, topic, records("sasl-wrong", range(10)), timeout_s=30)
    auth = [e for e in deliveries.client_errors if e.code() == KafkaError._AUTHENTICATION]
    kh.log(f"confluent-kafka, wrong token: client errors "
           f"{sorted({e.str() for e in deliveries.client_errors})[:3]}; deliveries "
           f"{deliveries.error_summary()}")
    assert left == 0 and auth, (
        f"expected an authentication error (_AUTHENTICATION) from librdkafka, got "
        f"{[(e.code(), e.str()) for e in deliveries.client_errors][:5]}\n"
        f"nobusd log:\n{kh.kafka_log(server)}")
    assert len(deliveries.errors) == 10, f"delivered with a wrong token: {deliveries.offsets}"
    assert "authentication failed" in server.log_text()
    kh.expect_table(server, topic, {})


@pytest.mark.security_variants("sasl_plain")
def test_kcat_wrong_token(server, table, security, tmp_path):
    if shutil.which("kcat") is None:
        pytest.fail("kcat is not installed (scripts/setup.sh installs the Debian package)")
    topic = table("sasl", "kcat_wrong_token")
    cmd = ["kcat", "-P", "-b", server.kafka_address, "-t", topic, "-v", "-v"]
    for k, v in {"message.timeout.ms": "5000",
                 **security.librdkafka(wrong_token(security))}.items():
        cmd += ["-X", f"{k}={v}"]
    lines = b"".join(kh.value(i, "sasl-kcat-wrong") + b"\n" for i in range(10))
    rc, _, err = kh.run_program(cmd, tmp_path / "kcat.log", stdin_bytes=lines, timeout_s=60)
    kh.log("kcat, wrong token:\n" + kh.tail(err, 5, grep=("rror", "ailed")))
    assert "SASL authentication error" in err, kh.tail(err, 20)
    assert "Message delivered" not in err
    kh.expect_table(server, topic, {})


def test_java_wrong_token(server, table, security, java_producer, tmp_path):
    topic = table("sasl", "java_wrong_token")
    rc, result, err = kh.producer_program(
        java_producer, server.kafka_address, security, topic, "sasl-java-wrong", 10,
        {"max-block-ms": 10000}, tmp_path / "java.log", token=wrong_token(security))
    kh.log(f"java, wrong token: exit {rc}, errors {(result or {}).get('errors')}")
    assert rc == 1 and result and result["acked"] == 0, (rc, result, kh.tail(err, 20))
    assert any("SaslAuthenticationException" in e for e in result["errors"]), result["errors"]
    kh.expect_table(server, topic, {})


def test_kafka_python_wrong_token(server, table, security, caplog):
    import kafka

    topic = table("sasl", "kafka_python_wrong_token")
    failures = []
    producer_ = None
    with caplog.at_level(logging.INFO, logger="kafka"):
        try:
            # kafka-python bootstraps in its constructor: a failed SASL exchange fails the
            # bootstrap connection (logged with the broker's message) until bootstrap_timeout_ms
            producer_ = kafka.KafkaProducer(bootstrap_servers=server.kafka_address,
                                            bootstrap_timeout_ms=5000, request_timeout_ms=5000,
                                            max_block_ms=5000,
                                            **security.kafka_python(wrong_token(security)))
            futures = [producer_.send(topic, value=kh.value(i, "x")) for i in range(10)]
            producer_.flush(timeout=20)
            for f in futures:
                try:
                    f.get(timeout=10)
                except Exception as e:  # noqa: BLE001
                    failures.append(e)
        except Exception as e:  # noqa: BLE001
            failures.append(e)
        finally:
            if producer_ is not None:
                producer_.close(timeout=5)
    sasl_errors = [r.getMessage() for r in caplog.records
                   if "SaslAuthenticationFailedError" in r.getMessage()]
    kh.log(f"kafka-python, wrong token: {sorted({f'{type(e).__name__}: {e}' for e in failures})[:3]}"
           f"; its log: {sasl_errors[:1]}")
    assert failures, "kafka-python delivered with a wrong token"
    assert "authentication failed" in server.log_text()
    kh.expect_table(server, topic, {})
    # nobusd keeps the connection 100 ms after the SASL_AUTHENTICATION_FAILED answer, as Kafka
    # brokers do: kafka-python 3.0.12 drops bytes that arrive together with the EOF, and would
    # report a bare "socket disconnected" instead of the broker's error.
    assert sasl_errors, ("kafka-python saw no SaslAuthenticationFailedError, only "
                         f"{[r.getMessage() for r in caplog.records if 'disconnected' in r.getMessage()][:1]}")


# ---------------------------------------------------------------------------------------------
# A token without a grant for the topic; no SASL at all

def test_topic_not_covered(server, table, security, java_producer, go_producer, tmp_path):
    granted = table("sasl", "granted")
    denied = uncovered_table(server)
    tag = "sasl-granted"
    # confluent-kafka: one producer, both topics
    deliveries = Deliveries(20)
    p = producer(server.kafka_address, security, deliveries, {"message.timeout.ms": 15000})
    left = produce(p, deliveries, denied, records("denied", range(10)), timeout_s=60)
    left += produce(p, deliveries, granted, records(tag, range(10, 20)), timeout_s=60)
    codes = {i: (deliveries.errors[i].code() if i in deliveries.errors else None)
             for i in range(20)}
    kh.log(f"confluent-kafka, uncovered topic: {deliveries.error_summary()}")
    assert left == 0
    assert {codes[i] for i in range(10)} == {KafkaError.TOPIC_AUTHORIZATION_FAILED}, (
        f"records for {denied}: {codes}; {deliveries.error_summary()}\n"
        f"nobusd log:\n{kh.kafka_log(server)}")
    assert {codes[i] for i in range(10, 20)} == {None}, deliveries.error_summary()
    expected = {i: kh.row(i, tag) for i in range(10, 20)}
    # the Java and franz-go producers: all refused for the uncovered table, all acked for the
    # covered one
    for kind, first in ((java_producer, 100), (go_producer, 200)):
        options = {"max-block-ms": 15000} if kind == "java" else {"timeout-s": 15}
        rc, result, err = kh.producer_program(kind, server.kafka_address, security, denied,
                                              f"denied-{kind}", 10, options,
                                              tmp_path / f"{kind}.log", first=first)
        kh.log(f"{kind}, uncovered topic: exit {rc}, error codes "
               f"{(result or {}).get('error_codes')}, errors {(result or {}).get('errors')}")
        assert rc == 1 and result and result["acked"] == 0, (kind, rc, result, kh.tail(err, 20))
        assert result["error_codes"] == {"29": 10}, (kind, result["errors"])
        rc, result, err = kh.producer_program(kind, server.kafka_address, security, granted,
                                              f"{tag}-{kind}", 10, options,
                                              tmp_path / f"{kind}-granted.log", first=first)
        assert rc == 0 and result["acked"] == 10, (kind, rc, result, kh.tail(err, 20))
        expected.update({i: kh.row(i, f"{tag}-{kind}") for i in range(first, first + 10)})
    kh.expect_tables(server, {granted: expected, denied: {}})


def test_no_sasl_on_auth_node(server, table, security, tmp_path):
    topic = table("sasl", "no_sasl")
    deliveries = Deliveries(10)
    p = producer(server.kafka_address, kh.Plaintext(), deliveries, {"message.timeout.ms": 15000})
    left = produce(p, deliveries, topic, records("no-sasl", range(10)), timeout_s=60)
    codes = {(e.code(), e.str()) for e in deliveries.errors.values()}
    kh.log(f"confluent-kafka without SASL: {deliveries.error_summary()}")
    assert left == 0 and len(deliveries.errors) == 10, deliveries.error_summary()
    assert {c for c, _ in codes} == {KafkaError.TOPIC_AUTHORIZATION_FAILED}, codes
    if shutil.which("kcat"):
        cmd = ["kcat", "-P", "-b", server.kafka_address, "-t", topic, "-v", "-v",
               "-X", "message.timeout.ms=15000"]
        lines = b"".join(kh.value(i, "no-sasl-kcat") + b"\n" for i in range(10))
        rc, _, err = kh.run_program(cmd, tmp_path / "kcat.log", stdin_bytes=lines, timeout_s=60)
        failed = [line for line in err.splitlines() if "Delivery failed" in line]
        kh.log(f"kcat without SASL: exit {rc}; {sorted(set(failed))[:2]}")
        # librdkafka refuses each message in its delivery report, or, when the topic's refusal
        # (Metadata) arrived before kcat queued them, at once: kcat then exits on the first one
        # ("Failed to produce message ...: Broker: Topic authorization failed").
        refused_at_once = rc != 0 and any(
            "Failed to produce message" in line and "authorization failed" in line.lower()
            for line in err.splitlines())
        refused_each = len(failed) == 10 and all("authorization failed" in f.lower()
                                                 for f in failed)
        assert refused_each or refused_at_once, kh.tail(err, 20)
        assert "Message delivered" not in err
    kh.expect_table(server, topic, {})


# ---------------------------------------------------------------------------------------------
# librdkafka's own OIDC client against nobusd's token endpoint

@pytest.mark.security_variants("sasl_oauthbearer")
def test_confluent_oidc_token_endpoint(server, table, security):
    topic = table("sasl", "confluent_oidc")
    tag = "sasl-oidc"
    deliveries = Deliveries(kh.N)
    p = producer(server.kafka_address, kh.Plaintext(), deliveries, {
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "OAUTHBEARER",
        "sasl.oauthbearer.method": "oidc", "sasl.oauthbearer.client.id": kh.WRITER,
        "sasl.oauthbearer.client.secret": security.secret,
        "sasl.oauthbearer.token.endpoint.url": f"http://{server.http_address}/oidc/v1/token",
        "enable.idempotence": True})
    left = produce(p, deliveries, topic, records(tag, range(kh.N)))
    assert left == 0 and not deliveries.errors, (
        f"{deliveries.error_summary()}; client errors "
        f"{[(e.code(), e.str()) for e in deliveries.client_errors][:5]}\n"
        f"nobusd log:\n{kh.kafka_log(server)}")
    kh.check_offsets(deliveries.offsets, "confluent-kafka oidc")
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(kh.N)})
