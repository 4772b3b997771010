"""REST insert with an Idempotency-Key against a real nobusd (doc/exactly-once.md "REST").

A retry with the same key and body is answered 200 again (Idempotent-Replayed: true) and writes
nothing; the same key with another body is 422; the key survives a SIGKILL of nobusd (WAL replay)
and a restart after its rows were committed (the Delta txn). Rows are read back with DuckDB and
delta-rs (deltalake)."""
import json
import urllib.error
import urllib.request

import pytest

import nobusd_process as nb

COLUMNS = [("id", "BIGINT", False), ("off", "BIGINT", True), ("note", "STRING", True)]
TABLE = "eos.rest.idem"


def insert(server, rows, key=None):
    """(status, headers, body) of POST /zerobus/v1/tables/TABLE/insert."""
    req = urllib.request.Request(f"http://{server.http_address}/zerobus/v1/tables/{TABLE}/insert",
                                 data=json.dumps(rows).encode(), method="POST")
    req.add_header("content-type", "application/json")
    if key is not None:
        req.add_header("Idempotency-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"{}")


def rows(first, n, note="a"):
    return [{"id": i, "off": i, "note": note} for i in range(first, first + n)]


def ids_in_table(server):
    root = server.table_root(TABLE)
    duck = sorted(r["id"] for r in nb.read_rows_duckdb(root))
    delta = sorted(r["id"] for r in nb.read_rows_deltalake(root))
    assert duck == delta, "DuckDB and delta-rs disagree"
    return duck


@pytest.fixture
def server(tmp_path):
    nb.load_stubs()
    s = nb.Nobusd(tmp_path / "data")
    s.create_table(TABLE, COLUMNS)
    yield s
    if s.running():
        assert s.stop() == 0
    nb.keep_tables_for_readers(s.data_dir, "rest_idempotency_test")


def test_retry_with_the_same_key_writes_once(server):
    status, headers, _ = insert(server, rows(0, 3), key="k-1")
    assert status == 200
    assert "Idempotent-Replayed" not in headers
    status, headers, body = insert(server, rows(0, 3), key="k-1")
    assert (status, headers.get("Idempotent-Replayed")) == (200, "true"), body
    assert insert(server, rows(3, 2), key="k-2")[0] == 200
    assert insert(server, rows(5, 1))[0] == 200  # no key: as before
    nb.wait_for(lambda: len(ids_in_table(server)) >= 6, 30, "6 rows committed")
    assert ids_in_table(server) == list(range(6))
    assert server.metric("nobus_stream_duplicate_requests_total", {"table": TABLE}) == 1


def test_same_key_other_body_is_422_and_writes_nothing(server):
    assert insert(server, rows(0, 2), key="k")[0] == 200
    status, _, body = insert(server, rows(100, 2), key="k")
    assert status == 422, body
    assert body["error_code"] == "IDEMPOTENCY_KEY_REUSED" and "'k'" in body["message"]
    nb.wait_for(lambda: len(ids_in_table(server)) >= 2, 30, "2 rows committed")
    assert ids_in_table(server) == [0, 1]


def test_bad_keys_and_bad_rows(server):
    status, _, body = insert(server, rows(0, 1), key="x" * 256)
    assert status == 400 and "Idempotency-Key" in body["message"], body
    # A body that fails to decode records nothing: the same key works with a good body.
    status, _, body = insert(server, [{"id": "not a number"}], key="k")
    assert status == 400 and "id" in body["message"], body
    assert insert(server, rows(0, 1), key="k")[0] == 200
    assert insert(server, rows(0, 1), key="k")[1].get("Idempotent-Replayed") == "true"


def test_keys_survive_a_crash_and_a_restart(server):
    assert insert(server, rows(0, 2), key="before-crash")[0] == 200
    server.kill()  # SIGKILL: the key is only in the WAL
    server.start()
    status, headers, _ = insert(server, rows(0, 2), key="before-crash")
    assert (status, headers.get("Idempotent-Replayed")) == (200, "true")
    nb.wait_for(lambda: len(ids_in_table(server)) >= 2, 30, "2 rows committed")
    assert server.stop() == 0  # committed and the WAL released: the key is in the Delta txn
    server.start()
    assert insert(server, rows(0, 2), key="before-crash")[1].get("Idempotent-Replayed") == "true"
    assert insert(server, rows(50, 1), key="before-crash")[0] == 422
    assert ids_in_table(server) == [0, 1]
