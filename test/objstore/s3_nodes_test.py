"""nobusd with its tables on a real S3 server (Ceph RGW, test/objstore/rgw.sh): two nodes, each
with its own WAL (--data-dir), share one --table-root s3://... . A table created through one node
is served by the other; both append to it at once (their commits race for each version with
conditional PUTs and rebase); one node is SIGKILLed mid-run and restarted (WAL replay commits
what it had acked). Every acked id must land exactly once, read back by delta-rs straight from
the object store. Run through run_python.sh (pytest)."""
import os
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import nobusd_process as nb  # noqa: E402
import rgw_env  # noqa: E402

BUCKET = "nobus-nodes"
TABLE = "main.s3.events"
BATCH = 20
PACE_S = 0.03
# Batches of the first two writers (about 16 a second each): NOBUS_S3_NODES_BATCHES=4000 makes
# it a run of minutes (the CI run is about 25 s).
BATCHES = int(os.environ.get("NOBUS_S3_NODES_BATCHES", "400"))


@pytest.fixture(scope="module")
def rgw():
    """A running RGW with an empty bucket; yields its environment (AWS_*)."""
    directory = Path(f"/tmp/nobus-rgw-{os.getpid()}")
    env = rgw_env.start(directory, BUCKET)
    try:
        yield env
    finally:
        rgw_env.stop(directory)


def start_node(tmp_path, name, rgw):
    for k, v in rgw.items():
        os.environ[k] = v  # nobusd reads its S3 credentials from the environment
    return nb.Nobusd(tmp_path / name, flush_interval_ms=100, kafka=False, mqtt=False,
                     extra_args=["--table-root", f"s3://{BUCKET}/warehouse", "--no-maintenance"])


class Writer(threading.Thread):
    """Sends batches of ids first, first+1, ... on one ephemeral stream, each batch waiting for
    its ack, one batch every PACE_S (so that both nodes commit, 10 times a second, through the
    whole run), until `batches` are acked or the call ends (its node was killed)."""

    def __init__(self, node, first, batches):
        super().__init__(daemon=True)
        self.address, self.first, self.batches = node.grpc_address, first, batches
        self.acked = []
        self.ended = None

    def run(self):
        with nb.Call(self.address, "EphemeralStream") as call:
            call.send(nb.e_create(TABLE))
            try:
                call.expect("create_stream_response")
                for k in range(self.batches):
                    ids = range(self.first + k * BATCH, self.first + (k + 1) * BATCH)
                    call.send(nb.e_batch(k, [nb.record_row(i, "s3") for i in ids]))
                    call.wait_ack(k)
                    self.acked.extend(ids)
                    time.sleep(PACE_S)
            except (nb.Ended, TimeoutError) as e:
                self.ended = e


def s3_ids(rgw):
    from deltalake import DeltaTable

    options = {k: rgw[k] for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                                   "AWS_SECRET_ACCESS_KEY", "AWS_REGION")}
    options["AWS_ALLOW_HTTP"] = "true"
    table = DeltaTable(f"s3://{BUCKET}/warehouse/main/s3/events", storage_options=options)
    return table.version(), table.to_pyarrow_table(columns=["id"]).column("id").to_pylist()


def test_two_nodes_append_to_one_table_on_s3_and_every_acked_id_lands_once(rgw, tmp_path):
    a = start_node(tmp_path, "node-a", rgw)
    b = start_node(tmp_path, "node-b", rgw)
    try:
        created = a.create_table(TABLE, nb.RECORD_COLUMNS)
        assert created["storage_location"] == f"s3://{BUCKET}/warehouse/main/s3/events"
        status, seen = b.http("GET", f"/api/2.1/unity-catalog/tables/{TABLE}")
        assert status == 200 and seen["table_id"] == created["table_id"], seen

        first = [Writer(a, 0, BATCHES), Writer(b, 1_000_000, BATCHES)]
        for w in first:
            w.start()
        while len(first[0].acked) < BATCHES // 4 * BATCH:
            time.sleep(0.01)
        a.kill()  # mid-run: acked rows of node a may still be only in its WAL
        first[0].join(60)
        a.start()
        second = Writer(a, 2_000_000, BATCHES * 3 // 8)
        second.start()
        for w in (first[1], second):
            w.join(120 + BATCHES / 4)
            assert w.ended is None and not w.is_alive(), w.ended
        conflicts = sum(n.metric("nobus_table_commit_conflicts_total") for n in (a, b))
        nb.log(f"commit conflicts (a version taken by the other node, rebased): {conflicts}")
        assert conflicts > 0, "two nodes committing 10 times a second never raced for a version"
        assert a.stop() == 0 and b.stop() == 0
    finally:
        for n in (a, b):
            n.kill()

    acked = first[0].acked + first[1].acked + second.acked
    version, ids = s3_ids(rgw)
    nb.log(f"delta-rs read version {version}: {len(ids)} rows; {len(acked)} acked "
           f"({len(first[0].acked)} before the kill)")
    assert len(ids) == len(set(ids)), "an id landed twice"
    missing = set(acked) - set(ids)
    assert not missing, f"{len(missing)} acked ids missing, e.g. {sorted(missing)[:5]}"
