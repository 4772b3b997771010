"""kafka-python (PyPI, pure Python; it probes the broker's API versions itself) producing N JSON
records into nobusd's Kafka endpoint: its defaults (3.x: idempotent, acks=all), gzip, a plain
non-idempotent acks=1 producer, and `api_version=(0, 11)`: kafka-python clamps every API to what a
0.11 broker had, i.e. Produce v3 (the oldest RecordBatch v2 one) and, under SASL, SaslHandshake v0
with the SASL message as a bare frame (how kafka-python 2.x always authenticated). Every send's
future must resolve to a RecordMetadata with an offset; the table must hold every id exactly once
(DuckDB and delta-rs)."""
import logging

import kafka
import pytest
from kafka import KafkaProducer

import kafka_harness as kh

CLIENT = "kafka_python"
CASES = {
    "default": {},
    "gzip": {"compression_type": "gzip"},
    "plain_acks1": {"enable_idempotence": False, "acks": 1},
    "broker_0_11": {"api_version": (0, 11)},
}


@pytest.mark.parametrize("case", list(CASES))
def test_kafka_python(server, tap, table, security, case):
    logging.getLogger("kafka").setLevel(logging.INFO)
    kh.log(f"kafka-python {kafka.__version__}")
    tag = f"kafka-python-{case}"
    topic = table("kafka_python", case)
    producer = KafkaProducer(bootstrap_servers=tap.address,
                             client_id="nobus-test-kafka-python",
                             request_timeout_ms=30000, max_block_ms=60000,
                             **CASES[case], **security.kafka_python())
    try:
        inferred = producer.config.get("api_version")
        kh.log(f"kafka-python: broker version inferred {inferred}, idempotence "
               f"{producer.config['enable_idempotence']}")
        if "api_version" in CASES[case]:
            assert tuple(inferred) == CASES[case]["api_version"], inferred
        else:
            # Produce v7 / RecordBatch v2 (the only format nobus takes) needs an inferred broker
            # of at least 2.1 (spec 2.10: advertise Produce >= 8 and kafka-python infers 2.4).
            assert inferred is not None and tuple(inferred) >= (2, 1), (
                f"kafka-python inferred broker version {inferred} from nobusd's ApiVersions")
        idempotent = producer.config["enable_idempotence"]
        if "enable_idempotence" not in CASES[case]:
            assert idempotent, "kafka-python turned idempotence off"
        futures = [producer.send(topic, value=kh.value(i, tag)) for i in range(kh.N)]
        producer.flush(timeout=120)
        offsets, partitions, errors = [None] * kh.N, set(), {}
        for i, f in enumerate(futures):
            try:
                md = f.get(timeout=60)
                offsets[i] = md.offset
                partitions.add(md.partition)
            except Exception as e:  # noqa: BLE001
                key = f"{type(e).__name__}: {e}"
                errors[key] = errors.get(key, 0) + 1
    finally:
        producer.close(timeout=30)
    assert not errors, (f"kafka-python {CASES[case]}: {sum(errors.values())} of {kh.N} failed: "
                        f"{errors}\nnobusd log:\n{kh.kafka_log(server)}")
    assert partitions == {0}, f"partitions {partitions}"
    kh.check_offsets(offsets, f"kafka-python {case}")
    kh.expect_wire(tap, topic, CASES[case].get("compression_type", "none"), idempotent, kh.N,
                   f"kafka-python {case}")
    security.expect_wire(tap, f"kafka-python {case}")
    if "api_version" in CASES[case] and not tap.opaque:
        versions = tap.versions()
        assert versions[0] == [3], f"kafka-python {case}: Produce versions {versions[0]}, want v3"
        if security.mechanism:
            assert versions[kh.SASL_HANDSHAKE] == [0] and tap.raw_sasl_frames, (
                f"kafka-python {case}: expected SaslHandshake v0 and bare SASL frames: {versions}, "
                f"{tap.raw_sasl_frames} bare frames")
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(kh.N)})
