"""kcat (Debian's kcat 1.7.1 on librdkafka 2.0.2, an old librdkafka as distributions ship it)
producing N JSON lines into nobusd's Kafka endpoint: plain, every codec, idempotent. Each delivery
report is read from kcat's -vv output ("Message delivered to partition P (offset O)"); the table
must hold every id exactly once (DuckDB and delta-rs), and the tap (wiretap.py) must have seen the
codec and, when idempotent, producer ids on the wire."""
import re
import shutil
import subprocess

import pytest

import kafka_harness as kh

CLIENT = "kcat"  # conftest.py: the security variants kcat can take part in

DELIVERED = re.compile(r"Message delivered to partition (-?\d+) \(offset (-?\d+)\)")
FAILED = re.compile(r"Delivery failed for message: (.*)")

CASES = {
    "plain": {},
    **{codec: {"compression.codec": codec} for codec in kh.CODECS},
    "idempotent": {"enable.idempotence": "true"},
    "idempotent_zstd": {"enable.idempotence": "true", "compression.codec": "zstd"},
}


def kcat_version():
    out = subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout
    return " ".join(out.split("\n")[3:4]).strip()


@pytest.mark.parametrize("case", list(CASES))
def test_kcat(server, tap, table, security, case, tmp_path):
    if shutil.which("kcat") is None:
        pytest.fail("kcat is not installed (scripts/setup.sh installs the Debian package)")
    kh.log(f"kcat: {kcat_version()}")
    tag = f"kcat-{case}"
    topic = table("kcat", case)
    conf = {"message.timeout.ms": "60000", "batch.num.messages": "500", **CASES[case],
            **security.librdkafka()}
    cmd = ["kcat", "-P", "-b", tap.address, "-t", topic, "-v", "-v"]
    for k, v in conf.items():
        cmd += ["-X", f"{k}={v}"]
    lines = b"".join(kh.value(i, tag) + b"\n" for i in range(kh.N))
    rc, _, err = kh.run_program(cmd, tmp_path / "kcat.log", stdin_bytes=lines)
    delivered = DELIVERED.findall(err)
    failed = FAILED.findall(err)
    assert rc == 0 and len(delivered) == kh.N and not failed, (
        f"kcat {' '.join(cmd[1:])}: exit {rc}, {len(delivered)} of {kh.N} delivered, "
        f"{len(failed)} failed {sorted(set(failed))[:5]}\nkcat stderr:\n"
        f"{kh.tail(err, 30, grep=('ERROR', 'FAIL', 'rror', 'failed'))}\n"
        f"nobusd log:\n{kh.kafka_log(server)}")
    assert {p for p, _ in delivered} == {"0"}, f"partitions {sorted({p for p, _ in delivered})}"
    # librdkafka reports deliveries of one partition in order: the offsets in report order are
    # those of ids 0..N-1.
    kh.check_offsets([int(o) for _, o in delivered], f"kcat {case}")
    kh.expect_wire(tap, topic, CASES[case].get("compression.codec", "none"),
                   CASES[case].get("enable.idempotence") == "true", kh.N, f"kcat {case}")
    security.expect_wire(tap, f"kcat {case}")
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(kh.N)})
