"""TLS on nobusd's Kafka listener (doc/kafka.md "TLS"): with --tls-cert / --tls-key every Kafka
connection is TLS, with the certificate of the other listeners. The five real clients prove the
working path under the sasl_ssl variant (their own tests); here, on the wire: a raw TLS client
authenticates and produces; a client speaking plaintext Kafka to the TLS port and a client that
never starts its handshake are each closed (no hang, no answer in the clear), and neither disturbs
the node."""
import socket
import time

import kafka_harness as kh
import raw_kafka as rk
from sasl_test import MECHANISMS

SECURITY = ("sasl_ssl",)


def tls_connection(server, security):
    """A raw TLS connection (the variant's CA), authenticated with SASL PLAIN."""
    c = rk.Connection(server.kafka_address, ca_file=security.ca_file)
    hs = c.sasl_handshake(security.mechanism, 1)
    assert hs["error"] == rk.NONE and MECHANISMS <= set(hs["mechanisms"]), hs
    a = c.sasl_authenticate(security.auth_bytes(), 1)
    assert a["error"] == rk.NONE, a
    return c


def closed_within(sock, timeout_s):
    """(closed, bytes read before the EOF): reads until EOF or timeout_s."""
    sock.settimeout(timeout_s)
    got = b""
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                return True, got
            got += chunk
    except ConnectionResetError:
        return True, got
    except socket.timeout:
        pass
    return False, got


def test_raw_tls_produce(server, table, security):
    topic = table("tls", "raw")
    tag = "tls-raw"
    with tls_connection(server, security) as c:
        out = c.produce({topic: {0: rk.record_batch([kh.value(i, tag) for i in range(20)])}})
        assert out[(topic, 0)]["error"] == rk.NONE, out
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(20)})


def test_plaintext_client_on_tls_port(server, table, security):
    topic = table("tls", "after_plaintext")
    host, port = server.kafka_address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        # an ApiVersions v0 request in the clear, where nobusd expects a ClientHello
        s.sendall(rk.i32(20) + rk.i16(rk.API_VERSIONS) + rk.i16(0) + rk.i32(1) + rk.string("plain")
                  + b"\0" * 5)
        closed, got = closed_within(s, 10)
    assert closed, "nobusd kept a plaintext connection open on its TLS port"
    # nothing, or a TLS alert record (content type 21): never a Kafka answer in the clear
    assert got == b"" or got[0] == 0x15, (
        f"nobusd answered a plaintext request on its TLS port with {got[:40]!r}")
    assert "TLS handshake" in server.log_text(), kh.server_log(server, 20)
    with tls_connection(server, security) as c:  # the node is undisturbed
        out = c.produce({topic: {0: rk.record_batch([kh.value(0, "after")])}})
        assert out[(topic, 0)]["error"] == rk.NONE, out
    kh.expect_table(server, topic, {0: kh.row(0, "after")})


def test_silent_client_is_closed(server, security):
    """A connection that never sends its ClientHello is closed by the handshake deadline (10 s)."""
    host, port = server.kafka_address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        closed, got = closed_within(s, 30)
    assert closed and got == b"", f"closed {closed}, got {got[:40]!r}"
    assert "no TLS handshake within" in server.log_text(), kh.server_log(server, 20)
