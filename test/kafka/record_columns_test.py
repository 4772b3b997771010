"""The opt-in record columns (doc/kafka.md "Key, headers, timestamp") and partitions, with a real
client: confluent-kafka (idempotent, lz4) produces keyed records with headers and timestamps into
a table of 4 partitions (nobus.kafka.partitions) that has _kafka_key, _kafka_timestamp,
_kafka_headers and _kafka_partition columns. DuckDB and delta-rs must read back, for every id
exactly once, the key, headers, timestamp and the partition the delivery report named; the keys
must have spread over several partitions. A key that is not UTF-8 for a STRING key column fails
its batch with INVALID_RECORD naming the key, and nothing of it is written."""
import datetime

import confluent_kafka

import kafka_harness as kh
import nobusd_process as nb
from confluent_util import Deliveries, produce, producer

CLIENT = "confluent"
SECURITY = ("plaintext",)
PARTITIONS = 4
EXTRA_COLUMNS = [("_kafka_key", "STRING", True), ("_kafka_timestamp", "TIMESTAMP", True),
                 ("_kafka_headers", "MAP<STRING, STRING>", True), ("_kafka_partition", "INT", True)]
BASE_MS = 1764892800000  # 2025-12-05T00:00:00Z


def key(i):
    return f"device-{i % 13}"


def headers(i):
    return [("trace", f"t{i}".encode()), ("src", b"x"), ("src", b"test")]  # "src": last wins


def as_map(v):
    """DuckDB gives a MAP as a dict (or {'key': [...], 'value': [...]}), delta-rs as pairs."""
    if isinstance(v, dict) and set(v) == {"key", "value"}:
        return dict(zip(v["key"], v["value"]))
    if isinstance(v, list):
        return dict(v)
    return dict(v)


def as_ms(ts):
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=datetime.timezone.utc)
    return int(ts.timestamp() * 1000)


def test_record_columns_and_partitions(server, security):
    topic = kh.table_name("confluent", "record_columns")
    server.create_table(topic, kh.COLUMNS + EXTRA_COLUMNS)
    status, body = server.http("POST", f"/admin/v1/tables/{topic}/properties",
                               {"properties": {"nobus.kafka.partitions": str(PARTITIONS)}})
    assert status == 200, body
    tag = "record-columns"
    n = 400
    deliveries = Deliveries(n)
    p = producer(server.kafka_address, security, deliveries,
                 {"enable.idempotence": True, "compression.type": "lz4", "linger.ms": 5})
    left = produce(p, deliveries, topic, [(i, kh.value(i, tag)) for i in range(n)],
                   extra=lambda i: {"key": key(i).encode(), "headers": headers(i),
                                    "timestamp": BASE_MS + i})
    assert left == 0 and not deliveries.errors, deliveries.error_summary()
    assert len(deliveries.partitions) >= 2, f"keys went to partitions {deliveries.partitions}"
    assert deliveries.partitions <= set(range(PARTITIONS)), deliveries.partitions

    # A key that is not UTF-8 for the STRING key column: that batch fails, nothing of it lands.
    bad = Deliveries(1)
    p2 = producer(server.kafka_address, security, bad, {"enable.idempotence": True})
    produce(p2, bad, topic, [(0, kh.value(10_000, tag))], extra=lambda i: {"key": b"\xff\xfe"})
    assert 0 in bad.errors, "a non-UTF-8 key for a STRING column was delivered"
    err = bad.errors[0]
    assert err.code() == confluent_kafka.KafkaError.INVALID_RECORD, f"{err.name()}: {err.str()}"
    assert "not UTF-8" in server.log_text(), kh.server_log(server, 20)

    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(n)})
    names = kh.COLUMN_NAMES + tuple(c[0] for c in EXTRA_COLUMNS)
    root = server.table_root(topic)
    for reader, rows in (("duckdb", nb.read_rows_duckdb(root, names)),
                         ("deltalake", nb.read_rows_deltalake(root, names))):
        assert sorted(r["id"] for r in rows) == list(range(n)), f"{reader}: ids"
        for r in rows:
            i = r["id"]
            got = (r["_kafka_key"], as_ms(r["_kafka_timestamp"]), as_map(r["_kafka_headers"]),
                   r["_kafka_partition"])
            want = (key(i), BASE_MS + i, {"trace": f"t{i}", "src": "test"},
                    deliveries.partition_of[i])
            assert got == want, f"{reader}, id {i}: got {got}, want {want}"
    kh.log(f"record columns: {n} rows over partitions {sorted(deliveries.partitions)}, "
           f"read back by DuckDB and delta-rs")
