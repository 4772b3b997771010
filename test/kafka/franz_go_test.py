"""franz-go (Go module github.com/twmb/franz-go, pinned in go/go.mod) producing N JSON records
into nobusd's Kafka endpoint through go/run.sh: its defaults (idempotent, acks=all, snappy), then
no compression, lz4, zstd and gzip. Every record must be acknowledged with an offset; the table
must hold every id exactly once (DuckDB and delta-rs)."""
import pytest

import kafka_harness as kh

CLIENT = "go"

CASES = {
    "default": {},
    "none": {"codec": "none"},
    "lz4": {"codec": "lz4"},
    "zstd": {"codec": "zstd"},
    "gzip": {"codec": "gzip"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_franz_go(server, tap, table, security, go_producer, case, tmp_path):
    tag = f"franz-go-{case}"
    topic = table("franz_go", case)
    rc, result, err = kh.producer_program(go_producer, tap.address, security, topic, tag, kh.N,
                                          {"timeout-s": 120, **CASES[case]}, tmp_path / "go.log")
    assert rc == 0 and result and result["acked"] == kh.N, (
        f"franz-go producer {CASES[case]}: exit {rc}, result "
        f"{ {k: v for k, v in (result or {}).items() if k != 'offsets'} }\nfranz-go stderr:\n"
        f"{kh.tail(err, 40, grep=('WARN', 'ERROR', 'error'))}\n"
        f"nobusd log:\n{kh.kafka_log(server)}")
    kh.log(f"franz-go {result['version']}, {result['seconds']:.2f} s")
    assert result["partitions"] == [0], f"partitions {result['partitions']}"
    kh.check_offsets(result["offsets"], f"franz-go {case}")
    kh.expect_wire(tap, topic, CASES[case].get("codec", "snappy"), True, kh.N, f"franz-go {case}")
    security.expect_wire(tap, f"franz-go {case}")
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(kh.N)})
