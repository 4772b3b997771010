"""Starting and stopping the test S3 server (rgw.sh) from Python, with one empty bucket: for the
object-store tests (s3_nodes_test.py, fleet_test.py through its fixture) and bench/nodes_bench.py."""
import os
import random
import socket
import subprocess
from pathlib import Path

RGW_SH = Path(__file__).resolve().parent / "rgw.sh"


def _port_block_free(base):
    for port in range(base, base + 10):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def start(directory, bucket, memstore_bytes=None):
    """Starts RGW in `directory` on a free block of 10 ports, creates `bucket`; returns its
    environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL)."""
    base = next(p for p in random.sample(range(20000, 30000, 10), 50) if _port_block_free(p))
    env = dict(os.environ)
    if memstore_bytes:
        env["RGW_MEMSTORE_BYTES"] = str(memstore_bytes)
    subprocess.run([RGW_SH, "start", str(directory), str(base)], check=True, env=env)
    try:
        aws = dict(line.split("=", 1) for line in (Path(directory) / "env").read_text().split())
        subprocess.run(["curl", "-sf", "-X", "PUT", "--aws-sigv4", "aws:amz:us-east-1:s3",
                        "--user", f"{aws['AWS_ACCESS_KEY_ID']}:{aws['AWS_SECRET_ACCESS_KEY']}",
                        "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                        f"{aws['AWS_ENDPOINT_URL']}/{bucket}"], check=True)
        return aws
    except BaseException:
        stop(directory)
        raise


def stop(directory):
    subprocess.run([RGW_SH, "stop", str(directory), "--clean"], check=False)
