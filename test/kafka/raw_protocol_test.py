"""nobusd's Kafka endpoint on the wire, through raw_kafka.py (no client library): what each
request gets back, field by field, where the real clients only show a summary. ApiVersions (and
the KIP-511 answer to a version we do not serve), Metadata (this node as the one broker, one
partition per table, UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION), Produce v8 (offsets
grow; INVALID_RECORD with record_errors and error_message and nothing of that batch written, the
other batches of the request written), and the idempotent producer's rules (a retried batch is
answered with its original offset and not written again; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER; an
epoch bump starts at 0; an older epoch is INVALID_PRODUCER_EPOCH)."""
import json
import threading
import time

import kafka_harness as kh
import nobusd_process as nb
import raw_kafka as rk

# The produce semantics on the wire, without authentication; the SASL exchange and what an
# auth-on node answers are sasl_test.py.
SECURITY = ("plaintext",)


def values(ids, tag):
    return [kh.value(i, tag) for i in ids]


def test_api_versions(server):
    with rk.Connection(server.kafka_address) as c:
        error, keys = c.api_versions(0)
        kh.log(f"ApiVersions v0: error {error}, {keys}")
        assert error == rk.NONE
        for api, need in ((rk.PRODUCE, 8), (rk.METADATA, 4), (rk.API_VERSIONS, 3),
                          (rk.INIT_PRODUCER_ID, 1)):
            assert api in keys, f"API {api} not advertised: {keys}"
            assert keys[api][0] <= need <= keys[api][1], (
                f"API {api}: advertised {keys[api]}, clients need {need}")
        top = keys[rk.API_VERSIONS][1]
        error3, keys3 = c.api_versions(3)
        assert (error3, keys3) == (rk.NONE, keys), f"ApiVersions v3: {error3} {keys3}"
        # KIP-511: a newer ApiVersions than we serve is answered in the v0 form with
        # UNSUPPORTED_VERSION and our range, on the same connection (Java 4.x sends v4).
        error_new, keys_new = c.api_versions(top + 1)
        assert error_new == rk.UNSUPPORTED_VERSION, f"ApiVersions v{top + 1}: error {error_new}"
        assert keys_new.get(rk.API_VERSIONS) == keys[rk.API_VERSIONS], keys_new
        assert c.api_versions(0) == (error, keys), "the connection is not usable afterwards"


def test_metadata(server, table):
    topic = table("raw", "metadata")
    with rk.Connection(server.kafka_address) as c:
        md = c.metadata([topic, "kafka.raw.no_such_table", "not_a_table_name"])
    kh.log(f"Metadata v4: {md}")
    assert len(md["brokers"]) == 1, md["brokers"]
    broker = md["brokers"][0]
    assert f"{broker['host']}:{broker['port']}" == server.kafka_address, broker
    assert md["cluster_id"], "cluster_id is null (librdkafka expects one)"
    by_name = {t["name"]: t for t in md["topics"]}
    t = by_name[topic]
    assert t["error"] == rk.NONE and not t["internal"], t
    assert [(p["index"], p["error"], p["leader"]) for p in t["partitions"]] == [
        (0, rk.NONE, broker["node_id"])], t["partitions"]
    assert by_name["kafka.raw.no_such_table"]["error"] == rk.UNKNOWN_TOPIC_OR_PARTITION
    assert by_name["not_a_table_name"]["error"] == rk.INVALID_TOPIC_EXCEPTION


def test_produce_offsets_and_invalid_record(server, table):
    topic = table("raw", "produce")
    other = table("raw", "produce_other")
    tag = "raw-produce"
    bad_values = values(range(10, 13), tag)
    bad_values[1] = b'{"id": 11, "tag": '  # not JSON: batch_index 1
    with rk.Connection(server.kafka_address) as c:
        a = c.produce({topic: {0: rk.record_batch(values(range(0, 3), tag))}})[(topic, 0)]
        assert (a["error"], a["record_errors"]) == (rk.NONE, []), a
        assert a["base_offset"] >= 0 and a["log_append_time"] == -1, a
        b = c.produce({topic: {0: rk.record_batch(bad_values)}})[(topic, 0)]
        kh.log(f"Produce v8, a batch with a non-JSON record: {b}")
        assert b["error"] == rk.INVALID_RECORD, b
        assert [i for i, _ in b["record_errors"]] == [1], b["record_errors"]
        assert b["error_message"], "INVALID_RECORD without an error_message"
        wrong = values(range(20, 23), tag)
        wrong[2] = b'{"id": "abc", "tag": "x"}'  # wrong type for BIGINT id: batch_index 2
        w = c.produce({topic: {0: rk.record_batch(wrong)}})[(topic, 0)]
        kh.log(f"Produce v8, a batch with a wrong column type: {w}")
        assert w["error"] == rk.INVALID_RECORD and [i for i, _ in w["record_errors"]] == [2], w
        # doc/kafka.md: error_message names the record, the column and the table, with the
        # gRPC JSON path's words (test/server/bad_input_test.cc: "column 'id'").
        assert "column 'id'" in (w["error_message"] or ""), f"error_message names no column: {w}"
        assert topic in w["error_message"], f"error_message names no table: {w}"
        c_ = c.produce({topic: {0: rk.record_batch(values(range(3, 6), tag))}})[(topic, 0)]
        assert c_["error"] == rk.NONE and c_["base_offset"] > a["base_offset"], (a, c_)
        # One request, two tables: the bad batch fails alone.
        both = c.produce({topic: {0: rk.record_batch(values(range(6, 9), tag))},
                          other: {0: rk.record_batch([b"[1, 2]"])}})
        kh.log(f"Produce v8, good batch + bad batch in one request: {both}")
        assert both[(topic, 0)]["error"] == rk.NONE, both
        assert both[(topic, 0)]["base_offset"] > c_["base_offset"], both
        assert both[(other, 0)]["error"] == rk.INVALID_RECORD, both
        # Unknown table, partition other than 0, Produce v7.
        missing = c.produce({"kafka.raw.no_such_table": {0: rk.record_batch(values([99], tag))}})
        assert missing[("kafka.raw.no_such_table", 0)]["error"] == \
            rk.UNKNOWN_TOPIC_OR_PARTITION, missing
        p1 = c.produce({topic: {1: rk.record_batch(values([98], tag))}})
        assert p1[(topic, 1)]["error"] == rk.UNKNOWN_TOPIC_OR_PARTITION, p1
        v7 = c.produce({topic: {0: rk.record_batch(values(range(9, 12), tag))}}, version=7)
        assert v7[(topic, 0)]["error"] == rk.NONE, v7
        assert v7[(topic, 0)]["base_offset"] > both[(topic, 0)]["base_offset"], v7
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(12)})


def test_idempotent_retries_are_deduplicated(server, table):
    topic = table("raw", "idempotent")
    tag = "raw-idempotent"
    with rk.Connection(server.kafka_address) as c:
        pid = c.init_producer_id()
        kh.log(f"InitProducerId v1: {pid}")
        assert pid["error"] == rk.NONE and pid["producer_id"] >= 0 and pid["epoch"] >= 0, pid
        p, e = pid["producer_id"], pid["epoch"]

        def send(ids, epoch, seq, batch=None):
            batch = batch or rk.record_batch(values(ids, tag), p, epoch, seq)
            return c.produce({topic: {0: batch}})[(topic, 0)], batch

        first, first_bytes = send(range(0, 3), e, 0)
        assert first["error"] == rk.NONE, first
        again, _ = send(None, e, 0, first_bytes)  # the byte-identical retry
        assert (again["error"], again["base_offset"]) == (rk.NONE, first["base_offset"]), (
            f"retry of the first batch: {again}, original {first}")
        second, _ = send(range(3, 6), e, 3)
        assert second["error"] == rk.NONE and second["base_offset"] > first["base_offset"], second
        older, _ = send(None, e, 0, first_bytes)  # a retry of a batch before the last one
        assert (older["error"], older["base_offset"]) == (rk.NONE, first["base_offset"]), older
        gap, _ = send(range(100, 103), e, 10)
        assert gap["error"] == rk.OUT_OF_ORDER_SEQUENCE_NUMBER, gap
        bumped, _ = send(range(6, 9), e + 1, 0)  # a local epoch bump (librdkafka, Java)
        assert bumped["error"] == rk.NONE and bumped["base_offset"] > second["base_offset"], bumped
        stale, _ = send(range(200, 203), e, 6)
        assert stale["error"] == rk.INVALID_PRODUCER_EPOCH, stale
        next_, _ = send(range(9, 12), e + 1, 3)
        assert next_["error"] == rk.NONE, next_
    dups = server.metric("nobus_kafka_duplicate_batches_total")
    kh.log(f"nobus_kafka_duplicate_batches_total = {dups}")
    assert dups >= 2, f"nobus_kafka_duplicate_batches_total = {dups} after 2 retried batches"
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(12)})


def test_partitions(server, table):
    """nobus.kafka.partitions = 3 (a table property, set while the node runs): Metadata lists
    partitions 0-2, each takes batches, partition 3 is UNKNOWN_TOPIC_OR_PARTITION naming the count
    and the property; an idempotent producer's sequences are per partition, so sequence 0 on two
    partitions is two batches, and a retry on either is recognised."""
    topic = table("raw", "partitions")
    tag = "raw-partitions"
    status, body = server.http("POST", f"/admin/v1/tables/{topic}/properties",
                               {"properties": {"nobus.kafka.partitions": "3"}})
    assert status == 200, body
    with rk.Connection(server.kafka_address) as c:
        md = c.metadata([topic])
        parts = md["topics"][0]["partitions"]
        assert [(p["index"], p["error"], p["leader"]) for p in parts] == [
            (i, rk.NONE, md["brokers"][0]["node_id"]) for i in range(3)], parts
        pid = c.init_producer_id()
        p, e = pid["producer_id"], pid["epoch"]
        batches = {i: rk.record_batch(values(range(10 * i, 10 * i + 5), tag), p, e, 0)
                   for i in range(3)}
        first = c.produce({topic: batches})
        assert all(first[(topic, i)]["error"] == rk.NONE for i in range(3)), first
        retry = c.produce({topic: {1: batches[1]}})[(topic, 1)]
        assert (retry["error"], retry["base_offset"]) == (rk.NONE, first[(topic, 1)]["base_offset"]), (
            f"retry on partition 1: {retry}, original {first[(topic, 1)]}")
        out = c.produce({topic: {3: rk.record_batch(values([99], tag))}})[(topic, 3)]
        assert out["error"] == rk.UNKNOWN_TOPIC_OR_PARTITION, out
        assert "3 partitions" in out["error_message"] and "nobus.kafka.partitions" in (
            out["error_message"]), out
    bad_status, bad = server.http("POST", f"/admin/v1/tables/{topic}/properties",
                                  {"properties": {"nobus.kafka.partitions": "0"}})
    assert bad_status == 400 and "nobus.kafka.partitions" in str(bad), (bad_status, bad)
    kh.expect_table(server, topic, {i: kh.row(i, tag) for part in range(3)
                                    for i in range(10 * part, 10 * part + 5)})


def test_metrics_per_table_and_client_software(server, table):
    """nobus_kafka_clients_total by the software ApiVersions v3 names (and "unknown" before v3),
    nobus_kafka_batches_total{table, result} and nobus_kafka_records_total{table, software}."""
    topic = table("raw", "metrics")
    tag = "raw-metrics"
    with rk.Connection(server.kafka_address) as c:
        c.api_versions(3)  # client_software_name "nobus-raw-test", version "1"
        pid = c.init_producer_id()
        batch = rk.record_batch(values(range(5), tag), pid["producer_id"], pid["epoch"], 0)
        assert c.produce({topic: {0: batch}})[(topic, 0)]["error"] == rk.NONE
        assert c.produce({topic: {0: batch}})[(topic, 0)]["error"] == rk.NONE  # a retry
        bad = c.produce({topic: {0: rk.record_batch([b"not json"])}})[(topic, 0)]
        assert bad["error"] == rk.INVALID_RECORD, bad
    with rk.Connection(server.kafka_address) as c:
        c.api_versions(0)  # no software name
        assert c.produce({topic: {0: rk.record_batch(values(range(5, 8), tag))}})[
            (topic, 0)]["error"] == rk.NONE
    m = server.metric
    assert m("nobus_kafka_clients_total", {"software": "nobus-raw-test", "version": "1"}) == 1
    assert m("nobus_kafka_clients_total", {"software": "unknown"}) >= 1
    assert m("nobus_kafka_batches_total", {"table": topic, "result": "written"}) == 2
    assert m("nobus_kafka_batches_total", {"table": topic, "result": "duplicate"}) == 1
    assert m("nobus_kafka_batches_total", {"table": topic, "result": "rejected"}) == 1
    assert m("nobus_kafka_records_total", {"table": topic, "software": "nobus-raw-test"}) == 5
    assert m("nobus_kafka_records_total", {"table": topic, "software": "unknown"}) == 3
    assert m("nobus_ingest_records_total", {"table": topic}) == 8
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(8)})


def test_api_not_served_closes_only_that_connection(server, table):
    """An API nobus never advertises (CreateTopics v0, ListOffsets v1) or a version outside the
    advertised range (Metadata v13): that connection is closed at once with a log line naming the
    API and version (as Kafka brokers do; clients check ApiVersions first and raise
    UnsupportedVersionException themselves), never left hanging; a connection opened before it
    keeps working."""
    topic = table("raw", "not_served")
    tag = "raw-not-served"
    with rk.Connection(server.kafka_address) as keep:
        keep.api_versions(0)
        for api_key, version, body in ((19, 0, rk.array([]) + rk.i32(1000)),
                                       (2, 1, rk.i32(-1) + rk.array([])),
                                       (rk.METADATA, 13, b"")):
            with rk.Connection(server.kafka_address) as c:
                c.correlation += 1
                header = rk.i16(api_key) + rk.i16(version) + rk.i32(c.correlation) + rk.string("x")
                c.sock.sendall(rk.i32(len(header) + len(body)) + header + body)
                assert c.closed_by_peer(10) is True, f"API {api_key} v{version}: not closed"
        # the log line is rate-limited per second: the first one is there
        line = "API key 19 version 0 is not served here"
        assert line in server.log_text(), f"no log line '{line}'"
        out = keep.produce({topic: {0: rk.record_batch(values(range(3), tag))}})
        assert out[(topic, 0)]["error"] == rk.NONE, out
    kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(3)})


def test_a_produce_waiting_for_room_holds_no_event_loop(tmp_path):
    """With room for one request in the whole node and the next commit an hour away, a produce
    waits in the admission queue (nobus_admission_waiting 1) without its answer; meanwhile the
    endpoint's one event-loop thread still answers another connection. A commit (the admin retry)
    lets it in: answered NONE, every row in the table once."""
    config = tmp_path / "nobusd.json"
    config.write_text(json.dumps({"max_buffered_bytes": 1, "flush_interval_ms": 3600000}))
    server = nb.Nobusd(tmp_path / "data", kafka=True, extra_args=["--config", str(config)])
    try:
        topic = kh.table_name("raw", "full_buffers")
        server.create_table(topic, kh.COLUMNS)
        tag = "raw-full"
        answers = {}
        with rk.Connection(server.kafka_address) as a, rk.Connection(server.kafka_address) as b:
            first = a.produce({topic: {0: rk.record_batch(values(range(0, 3), tag))}})
            assert first[(topic, 0)]["error"] == rk.NONE, first  # the room there was
            waiting = threading.Thread(target=lambda: answers.update(
                a.produce({topic: {0: rk.record_batch(values(range(3, 6), tag))}})))
            waiting.start()
            for _ in range(600):
                if server.metric("nobus_admission_waiting") == 1:
                    break
                time.sleep(0.05)
            assert server.metric("nobus_admission_waiting") == 1, "the produce did not queue"
            error, _ = b.api_versions(0)  # the event loop is free
            assert error == rk.NONE
            assert waiting.is_alive() and not answers, answers
            status, body = server.http("POST", f"/admin/v1/tables/{topic}/retry")
            assert status == 200, body
            waiting.join(60)
            assert not waiting.is_alive(), "the waiting produce was never answered"
        assert answers[(topic, 0)]["error"] == rk.NONE, answers
        kh.expect_table(server, topic, {i: kh.row(i, tag) for i in range(6)})
    finally:
        server.stop()
