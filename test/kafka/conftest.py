"""pytest fixtures of the Kafka-client tests: one nobusd per test with its Kafka endpoint on a port
of its own, a table per client case, the security variant, and the Java and Go producers built once
per session.

Every test that takes `security` runs under each variant of kafka_harness.SECURITY_VARIANTS that
its module allows (module-level `SECURITY`, default all; the marker `security_variants(...)`
narrows one test) and whose `clients` include the module's `CLIENT` (when it names one)."""
import json

import pytest

import kafka_harness as kh
import nobusd_process as nb
from wiretap import WireTap


def pytest_configure(config):
    config.addinivalue_line("markers", "security_variants(*names): run this test only under "
                            "these security variants (kafka_harness.SECURITY_VARIANTS)")


def pytest_generate_tests(metafunc):
    if "security" not in metafunc.fixturenames:
        return
    allowed = getattr(metafunc.module, "SECURITY", None)
    marker = metafunc.definition.get_closest_marker("security_variants")
    if marker is not None:
        allowed = [n for n in marker.args if allowed is None or n in allowed]
    names = kh.variants_for(getattr(metafunc.module, "CLIENT", None), allowed)
    metafunc.parametrize("security", names, indirect=True, scope="session")


@pytest.fixture(scope="session")
def security(request):
    return kh.SECURITY_VARIANTS[request.param]()


@pytest.fixture
def server(tmp_path, security, request):
    """One nobusd with its Kafka endpoint on a port of its own, started as the security variant
    says (config keys, principals). When the test also takes `tap`, nobusd advertises the tap
    (kafka_advertised), so the client's connections all pass it."""
    extra = []
    security.before_start(tmp_path / "data")
    config = dict(security.nobusd_config())
    tap = request.getfixturevalue("tap") if "tap" in request.fixturenames else None
    if tap is not None:
        config["kafka_advertised"] = tap.address
    if config:
        path = tmp_path / "nobusd.json"
        path.write_text(json.dumps(config))
        extra += ["--config", str(path)]
    s = nb.Nobusd(tmp_path / "data", kafka=True, extra_args=extra, ca_file=security.ca_file)
    if tap is not None:
        tap.upstream = s.kafka_address
    security.prepare(s)
    nb.log(f"nobusd ({security.name}) kafka={s.kafka_address} http={s.http_address} "
           f"log={s.log_path}"
           + (f" (clients through the tap {tap.address})" if tap else ""))
    yield s
    if s.running():
        s.stop()
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        print(f"\n---- nobusd log ({s.log_path}), last lines ----\n{kh.server_log(s, 80)}")
    # The reader corpus (Spark, delta-rs, DuckDB over every table) takes the plaintext variant's
    # tables: the authenticated variants write the same tables the same way.
    if security.name == "plaintext":
        nb.keep_tables_for_readers(s.data_dir, f"kafka-{request.node.name}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def tap(security):
    """A WireTap (wiretap.py) in front of the server; the client bootstraps from tap.address.
    Under a TLS variant it relays the encrypted bytes (and checks they are TLS) unread."""
    t = WireTap(opaque=security.tls)
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
