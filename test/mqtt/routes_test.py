"""Topic routing (doc/mqtt.md "Topic routing"): devices publish to fixed topics
("plant/<n>/telemetry"), a rule in nobusd's config (`mqtt_routes`) names the table and copies the
plant level into a column. mosquitto_pub (5.0 and 3.1.1) writes through the rule; DuckDB and
delta-rs read every message back once, with its plant; paho-mqtt (5.0) checks the refusals: a
payload that sets the routed column itself (0x99), a topic no rule matches that is no table name
(0x90), a rule whose table the token may not write (0x87 on an auth node)."""
import json

import mqtt_harness as mh
import nobusd_process as nb

ROUTES = [
    {"filter": "plant/+/telemetry", "table": "mqtt.routes.telemetry", "columns": {"plant": 2}},
    {"filter": "other/#", "table": "other.routes.t"},
]
COLUMNS = [("id", "BIGINT", False), ("plant", "STRING", True), ("temp", "DOUBLE", True)]


def start(tmp_path, auth=False):
    config = {"mqtt_routes": ROUTES}
    if auth:
        config["tokens"] = [{"token": mh.ADMIN_TOKEN, "admin": True},
                            {"token": mh.CLIENT_TOKEN, "tables": ["mqtt.*.*"]}]
    path = tmp_path / "nobusd.json"
    path.write_text(json.dumps(config))
    s = nb.Nobusd(tmp_path / "data", kafka=False, mqtt=True, extra_args=["--config", str(path)])
    if auth:
        s.token = mh.ADMIN_TOKEN
    s.ca_file = None
    s.create_table("mqtt.routes.telemetry", COLUMNS)
    return s


def rows(server, reader):
    root = server.table_root("mqtt.routes.telemetry")
    read = nb.read_rows_duckdb if reader == "duckdb" else nb.read_rows_deltalake
    return sorted((r["id"], r["plant"]) for r in read(root, ("id", "plant")))


def test_a_rule_routes_fixed_topics_to_a_table_with_the_topic_level_in_a_column(tmp_path):
    s = start(tmp_path)
    try:
        expected = []
        for plant, version in ((7, "mqttv5"), (8, "mqttv311")):
            ids = range(plant * 1000, plant * 1000 + 200)
            lines = [json.dumps({"id": i, "temp": 20.5}).encode() for i in ids]
            rc, out = mh.mosquitto_pub(s, f"plant/{plant}/telemetry", lines,
                                       tmp_path / f"pub-{plant}.log", version=version)
            assert rc == 0, mh.tail(out)
            expected += [(i, str(plant)) for i in ids]
        expected.sort()
        for reader in ("duckdb", "deltalake"):
            nb.wait_for(lambda: rows(s, reader) == expected, 60,
                        f"{len(expected)} routed rows in {reader}")
        assert s.stop() == 0
        for reader in ("duckdb", "deltalake"):
            assert rows(s, reader) == expected, reader
    finally:
        if s.running():
            s.stop()
    nb.keep_tables_for_readers(s.data_dir, "mqtt-routes")


def test_routed_messages_are_refused_with_their_reason_codes(tmp_path):
    s = start(tmp_path, auth=True)
    try:
        s.create_table("other.routes.t", COLUMNS)
        c = mh.Paho(s, version=5, username="device", password=mh.CLIENT_TOKEN)
        assert mh.reason_value(c.connect()[0]) == 0
        acks = {
            "own column": c.ack(c.publish("plant/9/telemetry", b'{"id": 1, "plant": "x"}')),
            "no rule": c.ack(c.publish("plant/9/status", b'{"id": 2}')),
            "no grant": c.ack(c.publish("other/a/b", b'{"id": 3}')),
            "good": c.ack(c.publish("plant/9/telemetry", b'{"id": 4, "temp": 1.5}')),
        }
        codes = {k: mh.reason_value(v[0]) if v else None for k, v in acks.items()}
        assert codes == {"own column": 0x99, "no rule": 0x90, "no grant": 0x87, "good": 0}, (
            codes, {k: mh.reason_string(v[1]) if v else None for k, v in acks.items()})
        assert "given more than once" in mh.reason_string(acks["own column"][1])
        assert "matches no routing rule" in mh.reason_string(acks["no rule"][1])
        c.close()
        nb.wait_for(lambda: rows(s, "duckdb") == [(4, "9")], 60, "the one good routed row")
    finally:
        if s.running():
            s.stop()
