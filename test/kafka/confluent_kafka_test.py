"""confluent-kafka (PyPI; librdkafka bundled in its wheel, a current one) producing N JSON records
into nobusd's Kafka endpoint: the default config, idempotence on, every codec, acks=1. Every
delivery report must be a success with an offset; the table must hold every id exactly once
(DuckDB and delta-rs), and the tap (wiretap.py) must have seen the codec and, when idempotent,
producer ids on the wire."""
import confluent_kafka
import pytest

import kafka_harness as kh
from confluent_util import Deliveries, produce, producer

CLIENT = "confluent"

CASES = {
    "default": {},
    "idempotent": {"enable.idempotence": True},
    **{codec: {"compression.type": codec} for codec in kh.CODECS},
    "idempotent_lz4": {"enable.idempotence": True, "compression.type": "lz4"},
    "acks1": {"acks": 1},
}


@pytest.mark.parametrize("case", list(CASES))
def test_confluent_kafka(server, tap, table, security, case):
    kh.log(f"confluent-kafka {confluent_kafka.version()[0]}, librdkafka "
            f"{confluent_kafka.libversion()[0]}")
    tag = f"confluent-{case}"
    topic = table("confluent", case)
    deliveries = Deliveries(kh.N)
    p = producer(tap.address, security, deliveries, {"batch.num.messages": 500, **CASES[case]})
    left = produce(p, deliveries, topic, [(i, kh.value(i, tag)) for i in range(kh.N)])
    fatal = [e for e in deliveries.client_errors if e.fatal()]
    assert left == 0 and not deliveries.errors and not fatal, (
        f"confluent-kafka {CASES[case]}: {left} undelivered after flush, "
        f"{len(deliveries.errors)} failed {deliveries.error_summary()}, fatal errors {fatal}\n"
        f"nobusd log:\n{kh.kafka_log(server)}")
    assert deliveries.partitions == {0}, f"partitions {deliveries.partitions}"
    kh.check_offsets(deliveries.offsets, f"confluent-kafka {case}")
    kh.expect_wire(tap, topic, CASES[case].get("compression.type", "none"),
                   CASES[case].get("enable.idempotence", False), kh.N, f"confluent-kafka {case}")
    security.expect_wire(tap, f"confluent-kafka {case}")
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(kh.N)})
