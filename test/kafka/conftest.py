"""pytest fixtures of the Kafka-client tests: one nobusd per test with its Kafka endpoint on a port
of its own, a table per client case, the security variant (only plaintext today), and the Java and
Go producers built once per session."""
import json

import pytest

import kafka_harness as kh
import nobusd_process as nb
from wiretap import WireTap


@pytest.fixture(params=sorted(kh.SECURITY_VARIANTS), scope="session")
def security(request):
    return kh.SECURITY_VARIANTS[request.param]()


@pytest.fixture
def server(tmp_path, security, request):
    """One nobusd with its Kafka endpoint on a port of its own. When the test also takes `tap`,
    nobusd advertises the tap (kafka_advertised), so the client's connections all pass it."""
    extra = list(security.nobusd_args())
    tap = request.getfixturevalue("tap") if "tap" in request.fixturenames else None
    if tap is not None:
        config = tmp_path / "nobusd.json"
        config.write_text(json.dumps({"kafka_advertised": tap.address}))
        extra += ["--config", str(config)]
    s = nb.Nobusd(tmp_path / "data", kafka=True, extra_args=extra)
    if tap is not None:
        tap.upstream = s.kafka_address
    security.prepare(s)
    nb.log(f"nobusd kafka={s.kafka_address} http={s.http_address} log={s.log_path}"
           + (f" (clients through the tap {tap.address})" if tap else ""))
    yield s
    if s.running():
        s.stop()
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        print(f"\n---- nobusd log ({s.log_path}), last lines ----\n{kh.server_log(s, 80)}")
    nb.keep_tables_for_readers(s.data_dir, f"kafka-{request.node.name}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def tap():
    """A WireTap (wiretap.py) in front of the server; the client bootstraps from tap.address."""
    t = WireTap()
    yield t
    t.close()


@pytest.fixture
def table(server):
    """table(client, case): creates kafka.<client>.<case> and returns its name (the topic)."""
    def make(client, case):
        name = kh.table_name(client, case)
        server.create_table(name, kh.COLUMNS)
        return name
    return make


@pytest.fixture(scope="session")
def java_producer():
    kh.build_program("java")
    return "java"


@pytest.fixture(scope="session")
def go_producer():
    kh.build_program("go")
    return "go"
