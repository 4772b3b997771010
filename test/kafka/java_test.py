"""The Java client, org.apache.kafka:kafka-clients 4.x (Maven Central, pinned in java/pom.xml),
producing N JSON records into nobusd's Kafka endpoint through java/run.sh: its defaults
(enable.idempotence=true, acks=all, no compression), then lz4, zstd, snappy (xerial framing) and
gzip. Every record must be acknowledged with an offset; the table must hold every id exactly once
(DuckDB and delta-rs)."""
import pytest

import kafka_harness as kh

CLIENT = "java"

CASES = {
    "default": {},
    "lz4": {"codec": "lz4"},
    "zstd": {"codec": "zstd"},
    "snappy": {"codec": "snappy"},
    "gzip": {"codec": "gzip"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_java_kafka_clients(server, tap, table, security, java_producer, case, tmp_path):
    tag = f"java-{case}"
    topic = table("java", case)
    rc, result, err = kh.producer_program(java_producer, tap.address, security, topic, tag, kh.N,
                                          {"max-block-ms": 60000, **CASES[case]},
                                          tmp_path / "java.log")
    assert rc == 0 and result and result["acked"] == kh.N, (
        f"java producer {CASES[case]}: exit {rc}, result "
        f"{ {k: v for k, v in (result or {}).items() if k != 'offsets'} }\njava stderr:\n"
        f"{kh.tail(err, 40, grep=('WARN', 'ERROR', 'Exception', 'error'))}\n"
        f"nobusd log:\n{kh.kafka_log(server)}")
    kh.log(f"java: kafka-clients {result['version']}, {result['seconds']} s")
    assert result["partitions"] == [0], f"partitions {result['partitions']}"
    kh.check_offsets(result["offsets"], f"java {case}")
    if "codec" not in CASES[case]:  # the defaults: an idempotent producer got its producer id
        assert "ProducerId set to" in err, "the Java producer never got a producer id"
    kh.expect_wire(tap, topic, CASES[case].get("codec", "none"), True, kh.N, f"java {case}")
    security.expect_wire(tap, f"java {case}")
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(kh.N)})
