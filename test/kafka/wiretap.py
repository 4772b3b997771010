"""A TCP proxy between a Kafka client and nobusd that reads the client's requests as they pass
(bytes are forwarded unchanged): which API versions the client used, and for every Produce request
each RecordBatch's header (codec, magic, producer id/epoch, base sequence, record count). nobusd
advertises the tap (`kafka_advertised`), so every connection the client opens after bootstrap goes
through it too. The tests use it to check what the client really sent: the codec they asked for,
an idempotent producer id, RecordBatch v2, the SASL exchange; and, from nobusd's Produce answers,
each partition's error code and base offset. After a SaslHandshake v0 request the client's next
frame is a bare SASL message (no request header): it is counted, not parsed (and its bytes, a
token, are not kept).

With `response_delay_s` the tap holds nobusd's answers that long before passing them on, and drops
what it still holds when nobusd's side of the connection ends: a SIGKILLed nobusd then has batches
durable whose acknowledgements never reach the client, which sends them again after it reconnects
(test/crash/kafka_kill_loop.py).

With `opaque` (the TLS variants) the tap reads nothing: it relays the bytes and notes, per
connection, whether the client's first bytes were a TLS handshake record (a ClientHello) and
nobusd's first bytes one too (its ServerHello)."""
import collections
import socket
import struct
import threading
import time

from raw_kafka import Reader

CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
PRODUCE_FLEXIBLE_FROM = 9
SASL_HANDSHAKE = 17


class WireTap:
    def __init__(self, response_delay_s=0.0, opaque=False):
        self.response_delay_s = response_delay_s
        self.opaque = opaque
        self.tls = {"connections": 0, "client_hellos": 0, "server_hellos": 0}
        self.dropped_answers = 0  # chunks of nobusd's answers dropped (response_delay_s > 0)
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
        self.raw_sasl_frames = 0  # bare SASL frames after SaslHandshake v0
        self.produce_answers = []  # dicts: client_id, topic, partition, error, base_offset
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
            if self.opaque:
                with self.lock:
                    self.tls["connections"] += 1
                for a, b, key in ((client, server, "client_hellos"), (server, client, "server_hellos")):
                    threading.Thread(target=self._relay, args=(a, b, key), daemon=True).start()
                continue
            pending = {}  # correlation id -> (api key, version, client id) of this connection
            threading.Thread(target=self._client_to_server, args=(client, server, pending),
                             daemon=True).start()
            pump = self._pump_delayed if self.response_delay_s > 0 else self._pump
            threading.Thread(target=pump, args=(server, client, pending), daemon=True).start()

    @staticmethod
    def _shutdown(a, b):
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def tls_summary(self):
        with self.lock:
            return dict(self.tls)

    @staticmethod
    def _chunks(src):
        """src's bytes as they arrive, until its end or an error."""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    return
                yield data
        except OSError:
            return

    def _forward(self, src, dst, on_chunk):
        """src -> dst, each chunk seen by on_chunk before it is forwarded; then both ends shut."""
        for data in self._chunks(src):
            on_chunk(data)
            try:
                dst.sendall(data)
            except OSError:
                break
        self._shutdown(src, dst)

    def _relay(self, src, dst, hello_key):
        """Forwards src -> dst unread; counts a first chunk that starts a TLS handshake record
        (content type 22, version 3.x)."""
        first = [True]

        def note(data):
            if first[0] and len(data) >= 3 and data[0] == 0x16 and data[1] == 0x03:
                with self.lock:
                    self.tls[hello_key] += 1
            first[0] = False

        self._forward(src, dst, note)

    def _pump(self, src, dst, pending):
        self._forward(src, dst, _Answers(self, pending).feed)

    def _pump_delayed(self, src, dst, pending):
        """nobusd -> client, each chunk held for response_delay_s; what is still held when
        nobusd's side ends is dropped (the client never sees those answers)."""
        held = collections.deque()
        cv = threading.Condition()
        state = {"open": True}

        def forward():
            while True:
                with cv:
                    while state["open"] and not held:
                        cv.wait()
                    if not state["open"]:
                        return
                    due, data = held[0]
                    wait = due - time.monotonic()
                    if wait > 0:
                        cv.wait(wait)
                        continue
                    held.popleft()
                try:
                    dst.sendall(data)
                except OSError:
                    return

        threading.Thread(target=forward, daemon=True).start()
        answers = _Answers(self, pending)
        for data in self._chunks(src):
            answers.feed(data)
            with cv:
                held.append((time.monotonic() + self.response_delay_s, data))
                cv.notify()
        with cv:
            with self.lock:
                self.dropped_answers += len(held)
            held.clear()
            state["open"] = False
            cv.notify()
        self._shutdown(src, dst)

    def _client_to_server(self, src, dst, pending):
        state = {"buf": b"", "raw_next": False}  # raw_next: after a SaslHandshake v0 request
        # the next frame is a bare SASL message

        def read(data):
            # the requests this chunk completes are read before it is forwarded, so their
            # answers find them in `pending`
            buf = state["buf"] + data
            while len(buf) >= 4:
                size = struct.unpack(">i", buf[:4])[0]
                if len(buf) < 4 + size:
                    break
                if state["raw_next"]:
                    state["raw_next"] = False
                    with self.lock:
                        self.raw_sasl_frames += 1
                else:
                    state["raw_next"] = self._frame(buf[4:4 + size], pending)
                buf = buf[4 + size:]
            state["buf"] = buf

        self._forward(src, dst, read)

    def _frame(self, frame, pending):
        """Reads one request; True when it is a SaslHandshake v0 (a bare frame follows)."""
        try:
            r = Reader(frame)
            api_key, version = r.i16(), r.i16()
            correlation = r.i32()
            client_id = r.string()
            with self.lock:
                self.requests.append((api_key, version, client_id))
                pending[correlation] = (api_key, version, client_id)
            if api_key == SASL_HANDSHAKE:
                return version == 0
            if api_key != 0:
                return False
            flexible = version >= PRODUCE_FLEXIBLE_FROM
            if flexible:
                r.tags()
            batches = self._produce(r, version, flexible)
            for b in batches:
                b["client_id"] = client_id
            with self.lock:
                self.batches += batches
        except Exception as e:  # noqa: BLE001 (a frame we cannot read is reported, not fatal)
            with self.lock:
                self.parse_errors.append(f"{type(e).__name__}: {e}")
        return False

    def _answer(self, frame, pending):
        """Reads one of nobusd's answers: for Produce, each partition's error and base offset."""
        try:
            r = Reader(frame)
            correlation = r.i32()
            with self.lock:
                request = pending.pop(correlation, None)
            if request is None or request[0] != 0:
                return
            _, version, client_id = request
            flexible = version >= PRODUCE_FLEXIBLE_FROM
            if flexible:
                r.tags()

            def count():
                return r.uvarint() - 1 if flexible else r.i32()

            def string():
                return r.compact_string() if flexible else r.string()

            out = []
            for _ in range(count()):
                topic = string()
                for _ in range(count()):
                    partition, error, base_offset = r.i32(), r.i16(), r.i64()
                    if version >= 2:
                        r.i64()  # log_append_time
                    if version >= 5:
                        r.i64()  # log_start_offset
                    if version >= 8:
                        for _ in range(count()):
                            r.i32()
                            string()
                            if flexible:
                                r.tags()
                        string()  # error_message
                    if flexible:
                        r.tags()
                    out.append({"client_id": client_id, "topic": topic, "partition": partition,
                                "error": error, "base_offset": base_offset})
                if flexible:
                    r.tags()
            with self.lock:
                self.produce_answers += out
        except Exception as e:  # noqa: BLE001
            with self.lock:
                self.parse_errors.append(f"answer: {type(e).__name__}: {e}")

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

    def all_batches(self):
        with self.lock:
            return list(self.batches)

    def answer_errors(self, topic):
        """{error code: partitions answered with it} of nobusd's Produce answers for topic."""
        out = {}
        with self.lock:
            for a in self.produce_answers:
                if a["topic"] == topic:
                    out[a["error"]] = out.get(a["error"], 0) + 1
        return out

    def all_answers(self):
        with self.lock:
            return list(self.produce_answers)

    def summary(self, topic):
        batches = self.produce_batches(topic)
        return {"versions": self.versions(), "produce_batches": len(batches),
                "records": sum(b["records"] for b in batches),
                "codecs": sorted({b["codec"] for b in batches}),
                "magic": sorted({b["magic"] for b in batches}),
                "producer_ids": sorted({b["producer_id"] for b in batches})[:5],
                "produce_versions": sorted({b["version"] for b in batches}),
                "raw_sasl_frames": self.raw_sasl_frames,
                "answers": self.answer_errors(topic),
                "parse_errors": self.parse_errors[:3]}


class _Answers:
    """Splits nobusd's byte stream on one connection into answer frames for WireTap._answer (the
    answer to a bare SASL frame is bare too: an empty frame, which has no correlation id)."""

    def __init__(self, tap, pending):
        self.tap, self.pending, self.buf = tap, pending, b""

    def feed(self, data):
        self.buf += data
        while len(self.buf) >= 4:
            size = struct.unpack(">i", self.buf[:4])[0]
            if len(self.buf) < 4 + size:
                return
            if size >= 4:
                self.tap._answer(self.buf[4:4 + size], self.pending)
            self.buf = self.buf[4 + size:]
