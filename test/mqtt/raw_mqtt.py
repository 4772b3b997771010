"""A minimal MQTT wire client for the raw-protocol tests (raw_protocol_test.py): packets built
byte by byte, answers decoded field by field, no client library in between, so a test can send
what real clients never do (an oversized or malformed packet, an unsupported protocol level, a
silent connection). Written from the MQTT 5.0 and 3.1.1 standards (OASIS): fixed header with
its Variable Byte Integer Remaining Length (2.1.4 / 1.5.5), UTF-8 strings and binary data with
two-byte lengths, 5.0 properties (2.2.2, table 2-4). Plaintext or TLS (ca_file)."""
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field

# Packet types (2.1.2)
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = range(8, 16)
TYPE_NAMES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL",
              7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK",
              12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH"}

V311, V5 = 4, 5

# 5.0 reason codes the tests look for (2.4)
SUCCESS = 0x00
NO_SUBSCRIPTION_EXISTED = 0x11
UNSPECIFIED_ERROR = 0x80
MALFORMED_PACKET = 0x81
PROTOCOL_ERROR = 0x82
IMPLEMENTATION_SPECIFIC_ERROR = 0x83
UNSUPPORTED_PROTOCOL_VERSION = 0x84
CLIENT_IDENTIFIER_NOT_VALID = 0x85
BAD_USER_NAME_OR_PASSWORD = 0x86
NOT_AUTHORIZED = 0x87
BAD_AUTHENTICATION_METHOD = 0x8C
KEEP_ALIVE_TIMEOUT = 0x8D
SESSION_TAKEN_OVER = 0x8E
TOPIC_NAME_INVALID = 0x90
PACKET_TOO_LARGE = 0x95
PAYLOAD_FORMAT_INVALID = 0x99
RETAIN_NOT_SUPPORTED = 0x9A
QOS_NOT_SUPPORTED = 0x9B
TOPIC_ALIAS_INVALID = 0x94

# 3.1.1 CONNACK return codes (3.2.2.3)
V311_ACCEPTED, V311_UNACCEPTABLE_PROTOCOL_VERSION, V311_IDENTIFIER_REJECTED = 0, 1, 2
V311_BAD_USER_NAME_OR_PASSWORD, V311_NOT_AUTHORIZED = 4, 5

# 5.0 properties: identifier -> (name, data type) (2.2.2.2)
PROPERTIES = {
    0x01: ("PayloadFormatIndicator", "byte"), 0x02: ("MessageExpiryInterval", "u32"),
    0x03: ("ContentType", "utf8"), 0x08: ("ResponseTopic", "utf8"),
    0x09: ("CorrelationData", "binary"), 0x0B: ("SubscriptionIdentifier", "varint"),
    0x11: ("SessionExpiryInterval", "u32"), 0x12: ("AssignedClientIdentifier", "utf8"),
    0x13: ("ServerKeepAlive", "u16"), 0x15: ("AuthenticationMethod", "utf8"),
    0x16: ("AuthenticationData", "binary"), 0x17: ("RequestProblemInformation", "byte"),
    0x18: ("WillDelayInterval", "u32"), 0x19: ("RequestResponseInformation", "byte"),
    0x1A: ("ResponseInformation", "utf8"), 0x1C: ("ServerReference", "utf8"),
    0x1F: ("ReasonString", "utf8"), 0x21: ("ReceiveMaximum", "u16"),
    0x22: ("TopicAliasMaximum", "u16"), 0x23: ("TopicAlias", "u16"),
    0x24: ("MaximumQoS", "byte"), 0x25: ("RetainAvailable", "byte"),
    0x26: ("UserProperty", "pair"), 0x27: ("MaximumPacketSize", "u32"),
    0x28: ("WildcardSubscriptionAvailable", "byte"),
    0x29: ("SubscriptionIdentifierAvailable", "byte"),
    0x2A: ("SharedSubscriptionAvailable", "byte"),
}
PROPERTY_IDS = {name: (pid, kind) for pid, (name, kind) in PROPERTIES.items()}


# ---------------------------------------------------------------------------------------------
# Encoding (1.5)

def varint(n):
    """Variable Byte Integer, shortest form."""
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def u16(v):
    return struct.pack(">H", v)


def u32(v):
    return struct.pack(">I", v)


def utf8(s):
    b = s.encode() if isinstance(s, str) else s
    return u16(len(b)) + b


binary = utf8


def properties(*items):
    """A 5.0 property section from (name, value) pairs (UserProperty: (key, value))."""
    body = b""
    for name, value in items:
        pid, kind = PROPERTY_IDS[name]
        body += bytes([pid]) + {
            "byte": lambda v: bytes([v]), "u16": u16, "u32": u32, "varint": varint,
            "utf8": utf8, "binary": binary, "pair": lambda kv: utf8(kv[0]) + utf8(kv[1]),
        }[kind](value)
    return varint(len(body)) + body


def packet(ptype, flags, body):
    """Fixed header (type, flags, Remaining Length) + body."""
    return bytes([(ptype << 4) | flags]) + varint(len(body)) + body


def connect(client_id="raw", version=V5, keep_alive=60, clean=True, username=None,
            password=None, props=(), will=None, protocol_name="MQTT", level=None):
    """CONNECT (3.1). will: (topic, payload) with QoS 0. level: the protocol level byte (default:
    the version)."""
    flags = (0x80 if username is not None else 0) | (0x40 if password is not None else 0) | (
        0x04 if will else 0) | (0x02 if clean else 0)
    body = utf8(protocol_name) + bytes([version if level is None else level, flags])
    body += u16(keep_alive)
    if version == V5:
        body += properties(*props)
    body += utf8(client_id)
    if will:
        if version == V5:
            body += properties()
        body += utf8(will[0]) + binary(will[1])
    if username is not None:
        body += utf8(username)
    if password is not None:
        body += binary(password)
    return packet(CONNECT, 0, body)


def publish(topic, payload, qos=1, packet_id=1, version=V5, retain=False, dup=False, props=()):
    body = utf8(topic) + (u16(packet_id) if qos else b"")
    if version == V5:
        body += properties(*props)
    body += payload.encode() if isinstance(payload, str) else payload
    return packet(PUBLISH, (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0), body)


def pubrel(packet_id):
    """PUBREL (flags 0b0010), the short form of both versions."""
    return packet(PUBREL, 0x02, u16(packet_id))


def subscribe(packet_id, filters, version=V5):
    body = u16(packet_id) + (properties() if version == V5 else b"")
    for f in filters:
        body += utf8(f) + b"\x01"
    return packet(SUBSCRIBE, 0x02, body)


def unsubscribe(packet_id, filters, version=V5):
    body = u16(packet_id) + (properties() if version == V5 else b"")
    for f in filters:
        body += utf8(f)
    return packet(UNSUBSCRIBE, 0x02, body)


def pingreq():
    return packet(PINGREQ, 0, b"")


def disconnect(reason=SUCCESS, version=V5):
    if version == V5 and reason != SUCCESS:
        return packet(DISCONNECT, 0, bytes([reason]))
    return packet(DISCONNECT, 0, b"")


def auth(reason=0x18, props=()):
    """AUTH (5.0 only; 0x18 Continue authentication)."""
    return packet(AUTH, 0, bytes([reason]) + properties(*props))


# ---------------------------------------------------------------------------------------------
# Decoding

class Malformed(Exception):
    pass


class _Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise Malformed(f"truncated at byte {self.at}: need {n} of {len(self.data) - self.at}")
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def byte(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack(">H", self.take(2))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def varint(self):
        value, mult = 0, 1
        for _ in range(4):
            b = self.byte()
            value += (b & 0x7F) * mult
            if not b & 0x80:
                return value
            mult *= 128
        raise Malformed("Variable Byte Integer longer than 4 bytes")

    def utf8(self):
        return self.take(self.u16()).decode("utf-8")

    def binary(self):
        return self.take(self.u16())

    def left(self):
        return len(self.data) - self.at

    def properties(self):
        """{name: value}; UserProperty: a list of (key, value) pairs."""
        end = self.varint() + self.at
        out = {}
        while self.at < end:
            pid = self.varint()
            if pid not in PROPERTIES:
                raise Malformed(f"unknown property 0x{pid:02x}")
            name, kind = PROPERTIES[pid]
            value = (lambda: (self.utf8(), self.utf8())) if kind == "pair" else getattr(self, {
                "byte": "byte", "u16": "u16", "u32": "u32", "varint": "varint", "utf8": "utf8",
                "binary": "binary"}[kind])
            if kind == "pair":
                out.setdefault(name, []).append(value())
            else:
                if name in out:
                    raise Malformed(f"property {name} twice")
                out[name] = value()
        if self.at != end:
            raise Malformed("property section overrun")
        return out


@dataclass
class Packet:
    type: int
    flags: int
    body: bytes
    reason: int = None          # reason code (5.0) or CONNACK return code (3.1.1)
    props: dict = field(default_factory=dict)
    packet_id: int = None
    session_present: bool = None
    reasons: list = None        # SUBACK / UNSUBACK

    @property
    def name(self):
        return TYPE_NAMES.get(self.type, f"type {self.type}")

    @property
    def reason_string(self):
        return self.props.get("ReasonString")

    def __str__(self):
        parts = [self.name]
        if self.reason is not None:
            parts.append(f"0x{self.reason:02x}")
        if self.reasons is not None:
            parts.append(str([f"0x{r:02x}" for r in self.reasons]))
        if self.packet_id is not None:
            parts.append(f"id={self.packet_id}")
        if self.props:
            parts.append(str(self.props))
        return " ".join(parts)


def decode(ptype, flags, body, version):
    """The fields of a packet a server sends, per version."""
    p = Packet(ptype, flags, body)
    r = _Reader(body)
    if ptype == CONNACK:
        p.session_present = bool(r.byte() & 1)
        p.reason = r.byte()
        if version == V5 and r.left():
            p.props = r.properties()
    elif ptype in (PUBACK, PUBREC, PUBREL, PUBCOMP):
        p.packet_id = r.u16()
        p.reason = SUCCESS
        if version == V5 and r.left():
            p.reason = r.byte()
            if r.left():
                p.props = r.properties()
    elif ptype == DISCONNECT:
        p.reason = SUCCESS
        if r.left():
            p.reason = r.byte()
            if r.left():
                p.props = r.properties()
    elif ptype in (SUBACK, UNSUBACK):
        p.packet_id = r.u16()
        if version == V5:
            p.props = r.properties()
        p.reasons = list(r.take(r.left()))
    elif ptype == AUTH:
        p.reason = r.byte() if r.left() else SUCCESS
        if r.left():
            p.props = r.properties()
    if r.left():
        raise Malformed(f"{p.name}: {r.left()} bytes after the end: {body!r}")
    return p


# ---------------------------------------------------------------------------------------------
# A connection

class Closed(Exception):
    """The server closed the connection (EOF or reset) before a whole packet came."""


class Connection:
    """One TCP (or TLS, with ca_file) connection to an MQTT server; `version` decides how answers
    are decoded."""

    def __init__(self, address, version=V5, ca_file=None, timeout=10):
        host, port = address.rsplit(":", 1)
        self.version = version
        sock = socket.create_connection((host, int(port)), timeout=timeout)
        if ca_file:
            ctx = ssl.create_default_context(cafile=str(ca_file))
            sock = ctx.wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.buf = b""
        self.eof = False
        self.next_id = 1

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no packet in time")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no packet in time") from None
        except OSError:  # reset, broken pipe, a TLS alert: the connection is over
            chunk = b""
        if not chunk:
            self.eof = True
            raise Closed(f"connection closed ({len(self.buf)} bytes of a packet buffered)")
        self.buf += chunk

    def read(self, timeout=10):
        """The next packet (decoded); Closed at EOF, TimeoutError when none came in time."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                length, mult, at = 0, 1, 1
                complete = False
                while at < len(self.buf) and at <= 4:
                    b = self.buf[at]
                    length += (b & 0x7F) * mult
                    mult *= 128
                    at += 1
                    if not b & 0x80:
                        complete = True
                        break
                if complete and len(self.buf) >= at + length:
                    head, body = self.buf[0], self.buf[at:at + length]
                    self.buf = self.buf[at + length:]
                    return decode(head >> 4, head & 0x0F, body, self.version)
            self._fill(deadline)

    def expect(self, ptype, timeout=10):
        p = self.read(timeout)
        if p.type != ptype:
            raise AssertionError(f"expected {TYPE_NAMES[ptype]}, got {p}")
        return p

    def connect(self, timeout=10, **kwargs):
        """CONNECT (raw_mqtt.connect arguments, version from the connection) and its CONNACK."""
        kwargs.setdefault("version", self.version)
        self.send(connect(**kwargs))
        return self.expect(CONNACK, timeout)

    def packet_id(self):
        pid = self.next_id
        self.next_id = pid % 65535 + 1
        return pid

    def publish(self, topic, payload, qos=1, **kwargs):
        """Sends one PUBLISH; returns its packet id (None for QoS 0)."""
        pid = self.packet_id() if qos else None
        self.send(publish(topic, payload, qos=qos, packet_id=pid or 0, version=self.version,
                          **kwargs))
        return pid

    def publish_acked(self, topic, payload, timeout=30, **kwargs):
        """QoS 1 PUBLISH and its PUBACK (checked to be for this packet id)."""
        pid = self.publish(topic, payload, qos=1, **kwargs)
        ack = self.expect(PUBACK, timeout)
        if ack.packet_id != pid:
            raise AssertionError(f"PUBACK for packet id {ack.packet_id}, sent {pid}")
        return ack

    def closed_within(self, timeout):
        """(closed, packets read before the end): reads until EOF or timeout."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                got.append(self.read(max(0.0, deadline - time.monotonic())))
            except Closed:
                return True, got
            except TimeoutError:
                return False, got

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
