"""Bad input through a real client, confluent-kafka (its delivery reports carry Kafka error
codes):

- a batch holding a value that is not JSON, and a batch holding a value whose column has the wrong
  type, each fail with INVALID_RECORD (87) for every record of that batch, and nothing of them is
  written; the good batches before and after them land, exactly once. Plain and idempotent
  producers (after a failed batch librdkafka's idempotent producer bumps its epoch locally and
  starts the sequence again at 0: the next batch must be taken).
- a topic that names no table fails with UNKNOWN_TOPIC_OR_PARTITION (3), which librdkafka
  reports as the broker's code or as its local _UNKNOWN_TOPIC (-188) once Metadata said so; the
  same producer's records for an existing table still land.
"""
import pytest
from confluent_kafka import KafkaError

import kafka_harness as kh
from confluent_util import Deliveries, produce, producer

CLIENT = "confluent"

BAD_VALUES = {
    "not_json": lambda i, tag: b'{"id": ' + str(i).encode() + b', "tag": "' + tag.encode() + b'",',
    "wrong_type": lambda i, tag: (b'{"id": "abc", "tag": "' + tag.encode() + b'", "payload": "'
                                  + kh.payload(i).encode() + b'"}'),
}


@pytest.mark.parametrize("idempotent", [False, True], ids=["plain", "idempotent"])
def test_bad_batches_fail_alone(server, table, security, idempotent):
    variant = "idempotent" if idempotent else "plain"
    tag = f"bad-{variant}"
    topic = table("bad", variant)
    deliveries = Deliveries(60)
    # linger.ms: the 10 records of each phase, produced in one go, travel as one batch.
    p = producer(server.kafka_address, security, deliveries, {
        "linger.ms": 200, "batch.num.messages": 1000, "enable.idempotence": idempotent,
        "message.timeout.ms": 30000})
    expected = {}
    phases = [("good", None), ("not_json", 15), ("good", None), ("wrong_type", 35), ("good", None),
              ("good", None)]
    for phase, (kind, bad_id) in enumerate(phases):
        first = phase * 10
        items = []
        for i in range(first, first + 10):
            if i == bad_id:
                items.append((i, BAD_VALUES[kind](i, tag)))
            else:
                items.append((i, kh.value(i, tag)))
        left = produce(p, deliveries, topic, items, timeout_s=60)
        assert left == 0, f"phase {phase} ({kind}): {left} records without a delivery report"
        ids = range(first, first + 10)
        got = {i: deliveries.errors.get(i) for i in ids}
        if kind == "good":
            failed = {i: f"{e.name()} ({e.code()}): {e.str()}" for i, e in got.items() if e}
            assert not failed, (f"phase {phase}: good records after the bad batches failed: "
                                f"{failed}\nnobusd log:\n{kh.kafka_log(server)}")
            expected.update({i: kh.row(i, tag) for i in ids})
        else:
            codes = {i: (e.code() if e else None) for i, e in got.items()}
            assert set(codes.values()) == {KafkaError.INVALID_RECORD}, (
                f"phase {phase} ({kind}, bad id {bad_id}): expected INVALID_RECORD (87) for all 10 "
                f"records of the batch, got {codes}; messages "
                f"{sorted({e.str() for e in got.values() if e})}\n"
                f"nobusd log:\n{kh.kafka_log(server)}")
            kh.log(f"{kind}: librdkafka reports {sorted({e.str() for e in got.values()})}")
            assert not any(e.retriable() for e in got.values())
    fatal = [e for e in deliveries.client_errors if e.fatal()]
    assert not fatal, f"fatal producer errors: {fatal}"
    good = [i for i in expected]
    kh.check_offsets([deliveries.offsets[i] for i in good], f"bad input {variant}, good records")
    kh.expect_table(server, topic, expected)


def test_unknown_topic(server, table, security):
    topic = table("bad", "unknown_topic_witness")
    missing = "kafka.bad.no_such_table"
    deliveries = Deliveries(20)
    p = producer(server.kafka_address, security, deliveries, {
        "message.timeout.ms": 15000, "topic.metadata.propagation.max.ms": 1000})
    tag = "unknown-topic"
    left = produce(p, deliveries, missing, [(i, kh.value(i, tag)) for i in range(10)],
                   timeout_s=60)
    assert left == 0
    codes = {i: (deliveries.errors[i].code() if i in deliveries.errors else None)
             for i in range(10)}
    accepted = {KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC}
    assert set(codes.values()) <= accepted, (
        f"records for {missing}: expected UNKNOWN_TOPIC_OR_PARTITION (3, or librdkafka's local "
        f"-188 from Metadata), got {codes}; "
        f"{sorted({e.str() for e in deliveries.errors.values()})}\n"
        f"nobusd log:\n{kh.kafka_log(server)}")
    kh.log(f"unknown topic: librdkafka reports "
           f"{sorted({(e.code(), e.str()) for e in deliveries.errors.values()})}")
    assert not server.table_root(missing).exists(), "a table was created for an unknown topic"
    # the same producer, same connection: an existing table still takes records
    left = produce(p, deliveries, topic, [(i, kh.value(i, tag)) for i in range(10, 20)])
    failed = {i: deliveries.errors[i].str() for i in range(10, 20) if i in deliveries.errors}
    assert left == 0 and not failed, f"records for {topic} after the unknown topic: {failed}"
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(10, 20)})
