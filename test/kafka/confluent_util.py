"""confluent-kafka helpers shared by confluent_kafka_test.py and bad_input_test.py: a producer on
nobusd's Kafka endpoint, its delivery reports by record index, produce-then-flush."""
import os

import confluent_kafka

import kafka_harness as kh


class Deliveries:
    """Delivery reports and client errors of one producer."""

    def __init__(self, count):
        self.offsets = [None] * count
        self.partition_of = [None] * count
        self.partitions = set()
        self.errors = {}  # index -> KafkaError
        self.client_errors = []  # error_cb

    def callback(self, index):
        def on_delivery(err, msg):
            if err is not None:
                self.errors[index] = err
            else:
                self.offsets[index] = msg.offset()
                self.partition_of[index] = msg.partition()
                self.partitions.add(msg.partition())
        return on_delivery

    def on_error(self, err):
        kh.log(f"confluent-kafka error_cb: {err!r}")
        self.client_errors.append(err)

    def error_summary(self):
        by = {}
        for err in self.errors.values():
            key = f"{err.name()} ({err.code()}): {err.str()}"
            by[key] = by.get(key, 0) + 1
        return by


def producer(bootstrap, security, deliveries, conf):
    """A producer on nobusd's Kafka endpoint; NOBUS_KAFKA_RDKAFKA_DEBUG (e.g. "protocol,msg,eos")
    turns on librdkafka's debug log (stderr)."""
    debug = os.environ.get("NOBUS_KAFKA_RDKAFKA_DEBUG")
    if debug:
        conf = {"debug": debug, **conf}
    return confluent_kafka.Producer({
        "bootstrap.servers": bootstrap,
        "client.id": "nobus-test-confluent",
        "message.timeout.ms": 60000,
        "error_cb": deliveries.on_error,
        **conf, **security.librdkafka()})


def produce(p, deliveries, topic, items, timeout_s=120, extra=None):
    """items: [(index, value bytes)]; produces them all, then flushes. Returns what flush left.
    extra(index): more produce() arguments for that record (key, headers, timestamp)."""
    for index, val in items:
        while True:
            try:
                p.produce(topic, value=val, on_delivery=deliveries.callback(index),
                          **(extra(index) if extra else {}))
                break
            except BufferError:  # local queue full: serve delivery reports, then retry
                p.poll(0.05)
        p.poll(0)
    return p.flush(timeout_s)
