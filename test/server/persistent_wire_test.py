"""Persistent streams (exactly-once) on the wire, against a real nobusd, with a raw gRPC client
(grpcio, stubs generated from proto/ at test time: nobusd_process.py), not the nobus SDK.

One test per wire rule of PersistentStream / RetireStream (semantics: the PersistentStream
comments of proto/databricks/zerobus/zerobus.proto and doc/exactly-once.md), each reading the
table back once nobusd committed (flush interval 1 s; the tests poll, they never assert on time):
create and resume (last_committed_offset, absent when nothing is durable), duplicates (acked, not
written, counted in nobus_stream_duplicate_requests_total), a gap (INVALID_ARGUMENT), fencing of
an older connection (ABORTED), RetireStream (idempotent, ends a live connection, resume is
FAILED_PRECONDITION), retention (nobus.streams.retention: resume FAILED_PRECONDITION "expired"),
survival of SIGKILL (W from the WAL, and from the Delta txn actions once the WAL segments are
released), and EphemeralStream unchanged (create_stream.stream_id -> UNIMPLEMENTED).

Every record is a JSON row {"id", "off", "note"}: request offset o carries the ids o*10 .. o*10+k-1
(k = 1, or 3 for every third offset, sent as a batch); "note" tells an original from a resend.
Each table is read by DuckDB (live files from the Delta log, read_parquet) and by delta-rs.

Run: test/server/run_python.sh -m pytest -v -p no:cacheprovider test/server/persistent_wire_test.py
(NOBUS_BIN_DIR: nobusd's folder, default build/bin.)
"""
import re
import sys
import time
from collections import Counter

import grpc
import pytest

import nobusd_process as nb
from nobusd_process import Call, Ended

COLUMNS = [("id", "bigint", False), ("off", "bigint", False), ("note", "string", True)]
COMMIT_TIMEOUT_S = 60   # a flush is 1 s; generous for sanitizer builds
CALL_TIMEOUT_S = 30
RETIRED_TXN_VERSION = 9223372036854775807
DUP_METRIC = "nobus_stream_duplicate_requests_total"

OK = grpc.StatusCode.OK


def records_in(offset):
    return 3 if offset % 3 == 2 else 1


def rows_of(offset, note="orig"):
    return [{"id": offset * 10 + i, "off": offset, "note": note} for i in range(records_in(offset))]


def request_of(offset, note="orig"):
    rows = rows_of(offset, note)
    return nb.p_batch(offset, rows) if len(rows) > 1 else nb.p_record(offset, rows[0])


def ids_of(offsets):
    return sorted(r["id"] for o in offsets for r in rows_of(o))


def send_range(call, first, last, note="orig"):
    for o in range(first, last + 1):
        call.send(request_of(o, note))


# ---------------------------------------------------------------------------------------------
# Fixtures

@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    nb.load_stubs()
    server = nb.Nobusd(tmp_path_factory.mktemp("nobusd") / "data")
    yield server
    code = server.stop()
    nb.keep_tables_for_readers(server.data_dir, "persistent_wire_test")
    assert code == 0, f"nobusd exited {code} after SIGTERM; log:\n{server.log_tail()}"


def _print_log_since(server, offset):
    # Shown by pytest only when the test failed ("Captured stderr teardown").
    text = server.log_text()
    print(f"---- nobusd log ({server.log_path}) during this test:\n{text[offset:][-20000:]}",
          file=sys.stderr)


@pytest.fixture
def server(shared_server):
    start = len(shared_server.log_text())
    yield shared_server
    _print_log_since(shared_server, start)


@pytest.fixture
def own_server(tmp_path):
    """A nobusd of this test alone (it gets SIGKILLed and restarted)."""
    nb.load_stubs()
    server = nb.Nobusd(tmp_path / "data")
    yield server
    _print_log_since(server, 0)
    if server.running():
        server.stop()
    nb.keep_tables_for_readers(server.data_dir, "persistent_wire_test")


@pytest.fixture
def table(request):
    """A fresh table name per test; created on the server fixture the test uses."""
    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:60]
    server = request.getfixturevalue("own_server" if "own_server" in request.fixturenames
                                     else "server")
    full = f"eos.wire.{name}"
    server.create_table(full, COLUMNS)
    return full


# ---------------------------------------------------------------------------------------------
# Helpers

def create_stream(server, table):
    """A PersistentStream call that created a stream; returns (call, stream_id)."""
    call = Call(server.grpc_address)
    call.send(nb.p_create(table))
    response = call.expect("create_stream_response", CALL_TIMEOUT_S)
    assert response.HasField("stream_id") and response.stream_id, \
        f"create_stream_response without a stream id: {response}"
    return call, response.stream_id


def resume(server, stream_id):
    """A PersistentStream call on a new connection that resumed; returns (call, W or None)."""
    call = Call(server.grpc_address)
    call.send(nb.p_resume(stream_id))
    response = call.expect("resume_stream_response", CALL_TIMEOUT_S)
    w = response.last_committed_offset if response.HasField("last_committed_offset") else None
    return call, w


def resume_expect_error(server, stream_id):
    """Resumes and expects the call to end with an error; returns the Ended status."""
    with Call(server.grpc_address) as call:
        call.send(nb.p_resume(stream_id))
        try:
            response = call.next(CALL_TIMEOUT_S)
        except Ended as e:
            return e
        raise AssertionError(f"resume of {stream_id} answered {response} instead of failing")


def finish(call):
    """Half-closes and expects the call to end with OK."""
    call.half_close()
    end = call.wait_end(CALL_TIMEOUT_S)
    call.close()
    assert end.code == OK, f"call ended with {end} after the client half-closed"


def table_rows(server, table):
    return nb.read_rows_duckdb(server.table_root(table))


def wait_ids(server, table, want_ids):
    """Polls (DuckDB) until every id of want_ids is in the table; returns the rows."""
    want = set(want_ids)

    def ready():
        rows = table_rows(server, table)
        missing = want - {r["id"] for r in rows}
        return rows if not missing else None

    return nb.wait_for(ready, COMMIT_TIMEOUT_S, f"ids {min(want)}..{max(want)} in {table}")


def assert_exactly(server, table, want_ids, rows=None):
    """The table holds each id of want_ids exactly once, nothing else, no resent row ("dup"
    notes), by DuckDB and by delta-rs."""
    want = Counter(want_ids)
    readers = {"duckdb": rows if rows is not None else table_rows(server, table),
               "deltalake": nb.read_rows_deltalake(server.table_root(table))}
    for reader, got_rows in readers.items():
        got = Counter(r["id"] for r in got_rows)
        dups = sorted(i for i, n in got.items() if n > 1)
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        resent = sorted(r["id"] for r in got_rows if r["note"] != "orig")
        assert not (dups or missing or extra or resent), (
            f"{reader}: {table} holds {sum(got.values())} rows for {len(want)} ids: duplicated "
            f"{dups[:20]}, missing {missing[:20]}, unexpected {extra[:20]}, rows of resent "
            f"requests {resent[:20]}")


# ---------------------------------------------------------------------------------------------
# create / resume

def test_create_returns_stream_id(server, table):
    before_ms = int(time.time() * 1000)
    call, stream_id = create_stream(server, table)
    finish(call)
    # Minted as <catalog.schema.table>/<created unix ms>/<16 hex> (opaque to clients).
    m = re.fullmatch(re.escape(table) + r"/(\d+)/([0-9a-f]{16})", stream_id)
    assert m, f"stream id {stream_id!r} is not <table>/<unix ms>/<16 hex>"
    assert before_ms - 5000 <= int(m.group(1)) <= int(time.time() * 1000) + 5000, stream_id
    _, other = create_stream(server, table)
    assert other != stream_id, "two creates minted the same stream id"


def test_records_acked_then_resume_returns_last_offset(server, table):
    n = 20
    call, stream_id = create_stream(server, table)
    send_range(call, 0, n)
    assert call.wait_ack(n, CALL_TIMEOUT_S) == n, f"acks {call.acks}"
    assert all(a <= n for a in call.acks), f"an ack beyond the last offset sent: {call.acks}"
    finish(call)
    second, w = resume(server, stream_id)
    assert w == n, f"resume on a new connection: last_committed_offset {w}, want {n}"
    finish(second)
    want = ids_of(range(n + 1))
    assert_exactly(server, table, want, wait_ids(server, table, want))


def test_resume_with_nothing_durable_has_no_offset(server, table):
    call, stream_id = create_stream(server, table)
    finish(call)
    second, w = resume(server, stream_id)
    assert w is None, f"nothing was sent, yet resume answered last_committed_offset={w}"
    # Offsets then start at 0.
    send_range(second, 0, 4)
    second.wait_ack(4, CALL_TIMEOUT_S)
    finish(second)
    third, w = resume(server, stream_id)
    assert w == 4, f"after 0..4 on the resumed call: last_committed_offset {w}, want 4"
    finish(third)
    assert_exactly(server, table, ids_of(range(5)), wait_ids(server, table, ids_of(range(5))))


def test_resume_of_malformed_id_is_invalid_argument(server, table):
    end = resume_expect_error(server, "not a stream id")
    assert end.code == grpc.StatusCode.INVALID_ARGUMENT, f"resume('not a stream id') ended {end}"


# ---------------------------------------------------------------------------------------------
# duplicates and gaps

def test_duplicates_are_acked_and_not_written(server, table):
    w_want = 9
    call, stream_id = create_stream(server, table)
    send_range(call, 0, w_want)
    call.wait_ack(w_want, CALL_TIMEOUT_S)
    finish(call)
    dup_before = server.metric(DUP_METRIC, {"table": table})

    call, w = resume(server, stream_id)
    assert w == w_want, f"resume: last_committed_offset {w}, want {w_want}"
    # Every offset up to W again, with other content: acked, not written.
    send_range(call, 0, w, note="dup")
    acked = call.wait_ack(w, CALL_TIMEOUT_S)
    assert acked == w, f"the acks of resent offsets 0..{w} went to {acked} (acks {call.acks})"
    # Then new offsets.
    send_range(call, w + 1, w + 5)
    call.wait_ack(w + 5, CALL_TIMEOUT_S)
    finish(call)

    want = ids_of(range(w + 6))
    rows = wait_ids(server, table, want)
    assert_exactly(server, table, want, rows)
    sent_dups = w + 1
    dup_after = server.metric(DUP_METRIC, {"table": table})
    assert dup_after - dup_before == sent_dups, (
        f'{DUP_METRIC}{{table="{table}"}} went {dup_before} -> {dup_after}; {sent_dups} duplicate '
        f"requests were sent. Samples:\n" +
        "\n".join(l for l in server.metrics().splitlines() if DUP_METRIC in l))


def test_duplicate_on_the_same_connection_is_acked(server, table):
    """A request resent on the connection that already had it acked (offset below the next
    expected one) gets an ack response too, and is not written."""
    call, stream_id = create_stream(server, table)
    send_range(call, 0, 5)
    call.wait_ack(5, CALL_TIMEOUT_S)
    responses_before = len(call.acks)
    call.send(request_of(3, note="dup"))
    try:
        while len(call.acks) == responses_before:
            call.next(CALL_TIMEOUT_S)
    except TimeoutError:
        raise AssertionError(f"offset 3 resent after the ack of 5 on the same connection got no "
                             f"ack response within {CALL_TIMEOUT_S} s (acks {call.acks})") from None
    assert call.max_ack() == 5, f"acks {call.acks}"
    send_range(call, 6, 7)
    call.wait_ack(7, CALL_TIMEOUT_S)
    finish(call)
    want = ids_of(range(8))
    assert_exactly(server, table, want, wait_ids(server, table, want))


def test_gap_after_resume_is_invalid_argument(server, table):
    call, stream_id = create_stream(server, table)
    send_range(call, 0, 4)
    call.wait_ack(4, CALL_TIMEOUT_S)
    finish(call)
    call, w = resume(server, stream_id)
    assert w == 4, f"resume: last_committed_offset {w}, want 4"
    call.send(request_of(w + 2))
    end = call.wait_end(CALL_TIMEOUT_S)
    call.close()
    assert end.code == grpc.StatusCode.INVALID_ARGUMENT, \
        f"offset {w + 2} after W={w} ended the call with {end} (acks {call.acks})"
    # Nothing of the gap request was written: the stream still resumes at 4, and once offset 5
    # (appended after it in the WAL if it had been written) is committed, offset 6 is not there.
    call, w = resume(server, stream_id)
    assert w == 4, f"resume after the gap: last_committed_offset {w}, want 4"
    send_range(call, 5, 5)
    call.wait_ack(5, CALL_TIMEOUT_S)
    finish(call)
    want = ids_of(range(6))
    assert_exactly(server, table, want, wait_ids(server, table, want))


def test_gap_on_a_new_stream_is_invalid_argument(server, table):
    call, _ = create_stream(server, table)
    call.send(request_of(1))  # the first offset must be 0
    end = call.wait_end(CALL_TIMEOUT_S)
    call.close()
    assert end.code == grpc.StatusCode.INVALID_ARGUMENT, \
        f"offset 1 as the first request of a new stream ended the call with {end}"


# ---------------------------------------------------------------------------------------------
# fencing

def test_second_connection_fences_the_first(server, table):
    a, stream_id = create_stream(server, table)
    send_range(a, 0, 9)
    a.wait_ack(9, CALL_TIMEOUT_S)
    send_range(a, 10, 19)  # in flight (or just acked) when B resumes
    b, w = resume(server, stream_id)
    end = a.wait_end(CALL_TIMEOUT_S)
    a.close()
    assert end.code == grpc.StatusCode.ABORTED, f"the fenced connection ended with {end}"
    assert "fenc" in end.details.lower(), f"ABORTED without saying fenced: {end.details!r}"
    assert w is not None and 9 <= w <= 19, f"B resumed at {w}; A had 0..9 acked and sent 10..19"
    assert w >= a.max_ack(), f"B resumed at {w} below A's last ack {a.max_ack()}"
    send_range(b, w + 1, 24)
    b.wait_ack(24, CALL_TIMEOUT_S)
    finish(b)
    want = ids_of(range(25))
    assert_exactly(server, table, want, wait_ids(server, table, want))


# ---------------------------------------------------------------------------------------------
# retire

def test_retire_is_idempotent_and_ends_the_stream(server, table):
    live, stream_id = create_stream(server, table)
    send_range(live, 0, 4)
    live.wait_ack(4, CALL_TIMEOUT_S)
    code, details = nb.retire(server.grpc_address, table, stream_id)
    assert code == OK, f"RetireStream: {code.name} {details}"
    end = live.wait_end(CALL_TIMEOUT_S)
    live.close()
    assert end.code == grpc.StatusCode.ABORTED, f"the live connection of a retired stream: {end}"
    code, details = nb.retire(server.grpc_address, table, stream_id)
    assert code == OK, f"RetireStream again: {code.name} {details} (must be idempotent)"
    end = resume_expect_error(server, stream_id)
    assert end.code == grpc.StatusCode.FAILED_PRECONDITION and "retired" in end.details.lower(), \
        f"resume of a retired stream ended with {end}"
    want = ids_of(range(5))
    assert_exactly(server, table, want, wait_ids(server, table, want))


def test_retired_stream_txn_is_max_version(server, table):
    call, stream_id = create_stream(server, table)
    send_range(call, 0, 2)
    call.wait_ack(2, CALL_TIMEOUT_S)
    finish(call)
    code, details = nb.retire(server.grpc_address, table, stream_id)
    assert code == OK, f"RetireStream: {code.name} {details}"
    root = server.table_root(table)
    nb.wait_for(lambda: nb.delta_txns(root).get(stream_id) == RETIRED_TXN_VERSION,
                COMMIT_TIMEOUT_S, f"txn{{appId={stream_id}}} = {RETIRED_TXN_VERSION} in the log")
    assert nb.deltalake_txn(root, stream_id) == RETIRED_TXN_VERSION


def test_retire_errors(server, table):
    call, stream_id = create_stream(server, table)
    finish(call)
    code, details = nb.retire(server.grpc_address, "eos.wire.no_such_table", stream_id)
    assert code == grpc.StatusCode.NOT_FOUND, \
        f"RetireStream on an unknown table: {code.name} {details}"
    other = "eos.wire.retire_errors_other"
    server.create_table(other, COLUMNS)
    code, details = nb.retire(server.grpc_address, other, stream_id)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, \
        f"RetireStream of {stream_id} on another table: {code.name} {details}"
    # The stream is still usable.
    call, w = resume(server, stream_id)
    assert w is None
    finish(call)


# ---------------------------------------------------------------------------------------------
# retention

def test_expired_stream_cannot_resume(server, table):
    status, body = server.set_properties(table, {"nobus.streams.retention": "interval 1 second"})
    assert status == 200, f"setting nobus.streams.retention: {status} {body}"
    call, stream_id = create_stream(server, table)
    send_range(call, 0, 2)
    call.wait_ack(2, CALL_TIMEOUT_S)
    finish(call)
    wait_ids(server, table, ids_of(range(3)))
    # Idle past the retention. (A sleep, not a poll: a resume would be activity.)
    time.sleep(3)
    end = resume_expect_error(server, stream_id)
    assert end.code == grpc.StatusCode.FAILED_PRECONDITION and "expired" in end.details.lower(), \
        f"resume of a stream idle past nobus.streams.retention=1 s ended with {end}"


# ---------------------------------------------------------------------------------------------
# restarts

def test_resume_after_sigkill_returns_last_ack(own_server, table):
    server = own_server
    call, stream_id = create_stream(server, table)
    send_range(call, 0, 19)
    assert call.wait_ack(19, CALL_TIMEOUT_S) == 19
    server.restart()  # SIGKILL right after the ack: the rows may be in the WAL only
    call.close()
    call, w = resume(server, stream_id)
    assert w == 19, f"after SIGKILL: last_committed_offset {w}, last ack was 19"
    # Resent offsets are still recognized (W from the WAL), new ones written.
    send_range(call, 10, 19, note="dup")
    send_range(call, 20, 29)
    call.wait_ack(29, CALL_TIMEOUT_S)
    # Kill with requests in flight: W is between the last ack and the last offset sent.
    send_range(call, 30, 59)
    server.kill()
    call.wait_end(CALL_TIMEOUT_S)  # every ack that left nobusd was read
    last_ack = call.max_ack()
    call.close()
    server.start()
    call, w = resume(server, stream_id)
    assert w is not None and last_ack <= w <= 59, \
        f"after SIGKILL with 30..59 in flight: last_committed_offset {w}, last ack {last_ack}"
    send_range(call, w + 1, 64)
    call.wait_ack(64, CALL_TIMEOUT_S)
    finish(call)
    want = ids_of(range(65))
    assert_exactly(server, table, want, wait_ids(server, table, want))
    root = server.table_root(table)
    nb.wait_for(lambda: nb.delta_txns(root).get(stream_id) == 64, COMMIT_TIMEOUT_S,
                f"txn{{appId={stream_id}}} = 64 in the log (highest offset committed)")


def test_dedupe_after_wal_released_uses_delta_txn(own_server, table):
    server = own_server
    call, stream_id = create_stream(server, table)
    send_range(call, 0, 29)
    call.wait_ack(29, CALL_TIMEOUT_S)
    finish(call)
    want = ids_of(range(30))
    wait_ids(server, table, want)
    root = server.table_root(table)
    txn = nb.wait_for(lambda: nb.delta_txns(root).get(stream_id) == 29 or None, COMMIT_TIMEOUT_S,
                      f"txn{{appId={stream_id}}} = 29 in the Delta log")
    assert txn and nb.deltalake_txn(root, stream_id) == 29
    # Release the WAL segments holding the stream: a restart starts a new segment; records of
    # another table through it let the flusher commit and release the old ones.
    old_segments = set(server.wal_segments())
    server.restart()
    other = table[:40] + "_other"
    server.create_table(other, COLUMNS)
    eph = Call(server.grpc_address, method="EphemeralStream")
    eph.send(nb.e_create(other))
    eph.expect("create_stream_response", CALL_TIMEOUT_S)
    for o in range(5):
        eph.send(nb.e_record(o, {"id": o, "off": o, "note": "orig"}))
    eph.wait_ack(4, CALL_TIMEOUT_S)
    eph.half_close()
    eph.wait_end(CALL_TIMEOUT_S)
    eph.close()
    nb.wait_for(lambda: not (old_segments & set(server.wal_segments())), COMMIT_TIMEOUT_S,
                f"WAL segments {sorted(old_segments)} released (now {server.wal_segments()})")
    server.restart()
    call, w = resume(server, stream_id)
    assert w == 29, f"with the WAL released: last_committed_offset {w}, want 29 (Delta txn)"
    send_range(call, 0, 29, note="dup")
    send_range(call, 30, 34)
    call.wait_ack(34, CALL_TIMEOUT_S)
    finish(call)
    want = ids_of(range(35))
    assert_exactly(server, table, want, wait_ids(server, table, want))


# ---------------------------------------------------------------------------------------------
# EphemeralStream

def test_ephemeral_stream_unchanged(server, table):
    call = Call(server.grpc_address, method="EphemeralStream")
    call.send(nb.e_create(table))
    created = call.expect("create_stream_response", CALL_TIMEOUT_S)
    assert created.stream_id
    for o in range(6):
        rows = rows_of(o)
        call.send(nb.e_batch(o, rows) if len(rows) > 1 else nb.e_record(o, rows[0]))
    assert call.wait_ack(5, CALL_TIMEOUT_S) == 5
    finish(call)
    want = ids_of(range(6))
    assert_exactly(server, table, want, wait_ids(server, table, want))


def test_ephemeral_create_with_stream_id_is_unimplemented(server, table):
    well_formed = f"{table}/{int(time.time() * 1000)}/0123456789abcdef"
    for sid in (well_formed, "anything"):
        eph = Call(server.grpc_address, method="EphemeralStream")
        eph.send(nb.e_create(table, stream_id=sid))
        try:
            response = eph.next(CALL_TIMEOUT_S)
            raise AssertionError(
                f"EphemeralStream create with stream_id={sid!r} answered {response}")
        except Ended as end:
            assert end.code == grpc.StatusCode.UNIMPLEMENTED, \
                f"EphemeralStream create with stream_id={sid!r} ended with {end}"
        finally:
            eph.close()
