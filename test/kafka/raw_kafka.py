"""A minimal Kafka wire client for the raw-protocol tests (raw_protocol_test.py): exact requests,
exact answers, no client library in between. Written from the protocol guide and the message
schemas (../../../shared/specs/kafka-produce.md section 2): request header v1/v2, ApiVersions
v0/v3+, Metadata v4, Produce v7/v8 (non-flexible), InitProducerId v1, SaslHandshake v0/v1,
SaslAuthenticate v0-2 and the raw SASL frames of SaslHandshake v0, RecordBatch v2 with CRC-32C
(uncompressed)."""
import socket
import ssl
import struct
import time

PRODUCE, METADATA, API_VERSIONS, INIT_PRODUCER_ID = 0, 3, 18, 22
SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36

# Error codes (Errors.java)
NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
TOPIC_AUTHORIZATION_FAILED = 29
UNSUPPORTED_SASL_MECHANISM = 33
ILLEGAL_SASL_STATE = 34
UNSUPPORTED_VERSION = 35
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
DUPLICATE_SEQUENCE_NUMBER = 46
INVALID_PRODUCER_EPOCH = 47
SASL_AUTHENTICATION_FAILED = 58
INVALID_RECORD = 87


# ---------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli), reflected, table-driven

def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the check value of CRC-32C


# ---------------------------------------------------------------------------------------------
# Encoding

def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def string(s):
    if s is None:
        return i16(-1)
    b = s.encode()
    return i16(len(b)) + b


def nbytes(b):
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items):
    if items is None:
        return i32(-1)
    return i32(len(items)) + b"".join(items)


def uvarint(v):
    out = bytearray()
    while True:
        byte = v & 0x7F
        v >>= 7
        if v:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint(v):  # zigzag
    return uvarint((v << 1) ^ (v >> 63))


def compact_string(s):
    if s is None:
        return uvarint(0)
    b = s.encode()
    return uvarint(len(b) + 1) + b


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError(f"response too short: need {n} bytes at {self.pos} of {len(self.data)}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def boolean(self):
        return self.take(1) != b"\x00"

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def array(self, item):
        n = self.i32()
        return None if n < 0 else [item(self) for _ in range(n)]

    def uvarint(self):
        shift = result = 0
        while True:
            b = self.take(1)[0]
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def bytes(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def compact_string(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1).decode()

    def compact_bytes(self):
        n = self.uvarint()
        return None if n == 0 else self.take(n - 1)

    def compact_array(self, item):
        n = self.uvarint()
        return None if n == 0 else [item(self) for _ in range(n - 1)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())

    def done(self):
        return self.pos == len(self.data)


# ---------------------------------------------------------------------------------------------
# RecordBatch v2

def record_batch(values, producer_id=-1, producer_epoch=-1, base_sequence=-1, timestamp_ms=None):
    """An uncompressed RecordBatch v2 holding `values` (bytes each; no keys, no headers)."""
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    records = b""
    for delta, v in enumerate(values):
        body = (i8(0) + varint(0) + varint(delta) + varint(-1) + varint(len(v)) + v + varint(0))
        records += varint(len(body)) + body
    after_crc = (i16(0) + i32(len(values) - 1) + i64(ts) + i64(ts) + i64(producer_id)
                 + i16(producer_epoch) + i32(base_sequence) + i32(len(values)) + records)
    after_length = i32(-1) + i8(2) + struct.pack(">I", crc32c(after_crc)) + after_crc
    return i64(0) + i32(len(after_length)) + after_length


# ---------------------------------------------------------------------------------------------
# Connection

class Connection:
    def __init__(self, address, client_id="nobus-raw-test", timeout_s=30, ca_file=None):
        """ca_file: TLS, trusting that CA (the certificate and host name are checked)."""
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout_s)
        if ca_file is not None:
            self.sock = ssl.create_default_context(cafile=str(ca_file)).wrap_socket(
                self.sock, server_hostname=host)
        self.client_id = client_id
        self.correlation = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError(f"connection closed by nobusd after {len(out)} of {n} bytes")
            out += chunk
        return out

    def request(self, api_key, version, body, flexible_header=False):
        """Sends one request; returns a Reader over the response body (after the correlation id,
        and after the header's tag buffer when flexible_header)."""
        self.correlation += 1
        header = i16(api_key) + i16(version) + i32(self.correlation) + string(self.client_id)
        if flexible_header:
            header += uvarint(0)
        frame = header + body
        self.sock.sendall(i32(len(frame)) + frame)
        size = struct.unpack(">i", self._recv_exact(4))[0]
        r = Reader(self._recv_exact(size))
        corr = r.i32()
        if corr != self.correlation:
            raise ValueError(f"correlation id {corr}, expected {self.correlation}")
        return r

    # ApiVersions ------------------------------------------------------------------------------

    def api_versions(self, version=0):
        """{api_key: (min, max)} and the error code. v0-2 plain; v3+ flexible request (the
        response header stays v0, KIP-511); an error answer comes in the v0 form."""
        if version >= 3:
            body = compact_string("nobus-raw-test") + compact_string("1") + uvarint(0)
            r = self.request(API_VERSIONS, version, body, flexible_header=True)
        else:
            r = self.request(API_VERSIONS, version, b"")
        error = r.i16()
        if version >= 3 and error == NONE:
            keys = r.compact_array(lambda x: (x.i16(), x.i16(), x.i16(), x.tags())[:3])
        else:
            keys = r.array(lambda x: (x.i16(), x.i16(), x.i16()))
        return error, {k: (lo, hi) for k, lo, hi in keys or []}

    # SASL -------------------------------------------------------------------------------------

    def sasl_handshake(self, mechanism, version=1):
        """SaslHandshake v0/v1: {"error", "mechanisms"}."""
        r = self.request(SASL_HANDSHAKE, version, string(mechanism))
        return {"error": r.i16(), "mechanisms": r.array(lambda x: x.string())}

    def sasl_authenticate(self, auth_bytes, version=0):
        """SaslAuthenticate v0-2 (v2 flexible): {"error", "error_message", "auth_bytes",
        "session_lifetime_ms" (v1+)}."""
        flexible = version >= 2
        if flexible:
            body = uvarint(len(auth_bytes) + 1) + auth_bytes + uvarint(0)
        else:
            body = nbytes(auth_bytes)
        r = self.request(SASL_AUTHENTICATE, version, body, flexible_header=flexible)
        if flexible:
            r.tags()  # response header v1
        out = {"error": r.i16(),
               "error_message": r.compact_string() if flexible else r.string(),
               "auth_bytes": r.compact_bytes() if flexible else r.bytes()}
        if version >= 1:
            out["session_lifetime_ms"] = r.i64()
        if flexible:
            r.tags()
        return out

    def sasl_raw(self, auth_bytes):
        """After SaslHandshake v0: the SASL message as a bare frame (INT32 length + bytes, no
        request header); returns the bare frame that answers it."""
        self.sock.sendall(i32(len(auth_bytes)) + auth_bytes)
        size = struct.unpack(">i", self._recv_exact(4))[0]
        return self._recv_exact(size)

    def closed_by_peer(self, timeout_s=10):
        """True when nobusd closes the connection (EOF or reset) within timeout_s without sending
        anything more; False when the connection stays open; bytes it sent instead."""
        self.sock.settimeout(timeout_s)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return False
        except ConnectionError:
            return True
        return True if data == b"" else data

    # Metadata v4 -----------------------------------------------------------------------------

    def metadata(self, topics):
        body = array([string(t) for t in topics]) + i8(0)  # allow_auto_topic_creation false
        r = self.request(METADATA, 4, body)
        r.i32()  # throttle
        brokers = r.array(lambda x: {"node_id": x.i32(), "host": x.string(), "port": x.i32(),
                                     "rack": x.string()})
        cluster_id = r.string()
        controller = r.i32()

        def partition(x):
            return {"error": x.i16(), "index": x.i32(), "leader": x.i32(),
                    "replicas": x.array(lambda y: y.i32()), "isr": x.array(lambda y: y.i32())}

        topics_out = r.array(lambda x: {"error": x.i16(), "name": x.string(),
                                        "internal": x.boolean(), "partitions": x.array(partition)})
        return {"brokers": brokers, "cluster_id": cluster_id, "controller": controller,
                "topics": topics_out}

    # InitProducerId v1 -----------------------------------------------------------------------

    def init_producer_id(self):
        r = self.request(INIT_PRODUCER_ID, 1, string(None) + i32(-1))
        r.i32()  # throttle
        return {"error": r.i16(), "producer_id": r.i64(), "epoch": r.i16()}

    # Produce v7/v8 ---------------------------------------------------------------------------

    def produce(self, topic_batches, acks=-1, version=8, timeout_ms=30000):
        """topic_batches: {topic: {partition: records bytes}}. Returns {(topic, partition):
        {"error", "base_offset", "log_append_time", "log_start_offset", "record_errors",
        "error_message"}}."""
        topics = []
        for topic, parts in topic_batches.items():
            topics.append(string(topic) + array([i32(p) + nbytes(b) for p, b in parts.items()]))
        body = string(None) + i16(acks) + i32(timeout_ms) + array(topics)
        r = self.request(PRODUCE, version, body)
        out = {}
        for _ in range(r.i32()):
            name = r.string()
            for _ in range(r.i32()):
                index = r.i32()
                p = {"error": r.i16(), "base_offset": r.i64(), "log_append_time": r.i64(),
                     "log_start_offset": r.i64()}
                if version >= 8:
                    p["record_errors"] = r.array(lambda x: (x.i32(), x.string()))
                    p["error_message"] = r.string()
                out[(name, index)] = p
        r.i32()  # throttle
        return out
