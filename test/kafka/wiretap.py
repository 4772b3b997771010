"""A TCP proxy between a Kafka client and nobusd that reads the client's requests as they pass
(bytes are forwarded unchanged): which API versions the client used, and for every Produce request
each RecordBatch's header (codec, magic, producer id/epoch, base sequence, record count). nobusd
advertises the tap (`kafka_advertised`), so every connection the client opens after bootstrap goes
through it too. The tests use it to check what the client really sent: the codec they asked for,
an idempotent producer id, RecordBatch v2."""
import socket
import struct
import threading

from raw_kafka import Reader

CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
PRODUCE_FLEXIBLE_FROM = 9


class WireTap:
    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.upstream = None  # nobusd's Kafka address, set once nobusd runs
        self.lock = threading.Lock()
        self.requests = []  # (api_key, api_version, client_id)
        self.batches = []  # dicts, one per RecordBatch of every Produce request
        self.parse_errors = []
        self.closed = False
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.closed = True
        for s in [self.listener, *self.sockets]:
            try:
                s.close()
            except OSError:
                pass

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                host, port = self.upstream.rsplit(":", 1)
                server = socket.create_connection((host, int(port)), timeout=10)
                server.settimeout(None)
            except (OSError, AttributeError):
                client.close()
                continue
            self.sockets += [client, server]
            threading.Thread(target=self._client_to_server, args=(client, server),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    @staticmethod
    def _shutdown(a, b):
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        self._shutdown(src, dst)

    def _client_to_server(self, src, dst):
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                buf += data
                while len(buf) >= 4:
                    size = struct.unpack(">i", buf[:4])[0]
                    if len(buf) < 4 + size:
                        break
                    self._frame(buf[4:4 + size])
                    buf = buf[4 + size:]
        except OSError:
            pass
        self._shutdown(src, dst)

    def _frame(self, frame):
        try:
            r = Reader(frame)
            api_key, version = r.i16(), r.i16()
            r.i32()  # correlation id
            client_id = r.string()
            with self.lock:
                self.requests.append((api_key, version, client_id))
            if api_key != 0:
                return
            flexible = version >= PRODUCE_FLEXIBLE_FROM
            if flexible:
                r.tags()
            batches = self._produce(r, version, flexible)
            with self.lock:
                self.batches += batches
        except Exception as e:  # noqa: BLE001 (a frame we cannot read is reported, not fatal)
            with self.lock:
                self.parse_errors.append(f"{type(e).__name__}: {e}")

    @staticmethod
    def _produce(r, version, flexible):
        def string():
            if flexible:
                n = r.uvarint()
                return None if n == 0 else r.take(n - 1).decode()
            return r.string()

        def count():
            return r.uvarint() - 1 if flexible else r.i32()

        out = []
        if version >= 3:
            string()  # transactional_id
        acks = r.i16()
        r.i32()  # timeout
        for _ in range(count()):
            topic = string()
            for _ in range(count()):
                partition = r.i32()
                if flexible:
                    n = r.uvarint()
                    records = None if n == 0 else r.take(n - 1)
                else:
                    n = r.i32()
                    records = None if n < 0 else r.take(n)
                if flexible:
                    r.tags()
                pos = 0
                while records is not None and pos + 61 <= len(records):
                    (_, length, _, magic, _, attributes, last_delta, _, _, pid, epoch, seq,
                     n_records) = struct.unpack(">qiibIhiqqqhii", records[pos:pos + 61])
                    out.append({"version": version, "acks": acks, "topic": topic,
                                "partition": partition, "magic": magic,
                                "codec": CODECS.get(attributes & 7, f"codec-{attributes & 7}"),
                                "producer_id": pid, "epoch": epoch, "base_sequence": seq,
                                "records": n_records, "last_offset_delta": last_delta})
                    pos += 12 + length
            if flexible:
                r.tags()
        return out

    # -----------------------------------------------------------------------------------------

    def produce_batches(self, topic):
        with self.lock:
            return [b for b in self.batches if b["topic"] == topic]

    def versions(self):
        """{api_key: sorted versions used}"""
        with self.lock:
            out = {}
            for key, version, _ in self.requests:
                out.setdefault(key, set()).add(version)
            return {k: sorted(v) for k, v in sorted(out.items())}

    def summary(self, topic):
        batches = self.produce_batches(topic)
        return {"versions": self.versions(), "produce_batches": len(batches),
                "records": sum(b["records"] for b in batches),
                "codecs": sorted({b["codec"] for b in batches}),
                "magic": sorted({b["magic"] for b in batches}),
                "producer_ids": sorted({b["producer_id"] for b in batches})[:5],
                "produce_versions": sorted({b["version"] for b in batches}),
                "parse_errors": self.parse_errors[:3]}
