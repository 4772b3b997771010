"""pytest fixtures of the MQTT-client tests: one nobusd per test with its MQTT endpoint on a
loopback port of its own (mqtt_harness.start_nobusd), plain, with authentication (static tokens)
or with TLS; each is stopped when the test ends, its log printed when the test failed, and the
tables of the plain nodes join the reader corpus."""
import pytest

import mqtt_harness as mh
import nobusd_process as nb


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def nobusd(tmp_path, request):
    """nobusd(auth=False, tls=False): starts a nobusd (at most one per kind and test)."""
    started = {}

    def start(auth=False, tls=False):
        key = (auth, tls)
        if key not in started:
            work = tmp_path / (f"node{'-auth' if auth else ''}{'-tls' if tls else ''}")
            work.mkdir(parents=True, exist_ok=True)
            started[key] = mh.start_nobusd(work, auth=auth, tls=tls)
        return started[key]

    yield start
    failed = getattr(request.node, "rep_call", None)
    for (auth, tls), s in started.items():
        if s.running():
            s.stop()
        if failed is not None and failed.failed:
            print(f"\n---- nobusd log ({s.log_path}), last lines ----\n{mh.server_log(s, 80)}")
        # The reference readers (delta-rs, Spark; ~3 s a table at the end of ctest) read the
        # tables of mosquitto_pub's cases: 5.0 / 3.1.1 at QoS 0, 1 and 2. The other files' tables
        # come from the same write path (one WAL record per message, the same commits) and are
        # read by DuckDB and delta-rs in the tests themselves.
        if not auth and not tls and request.node.module.__name__ == "mosquitto_pub_test":
            nb.keep_tables_for_readers(s.data_dir, f"mqtt-{request.node.name}")


@pytest.fixture
def server(nobusd):
    """A plain nobusd: no authentication, no TLS."""
    return nobusd()


@pytest.fixture
def auth_server(nobusd):
    """A nobusd with authentication on (mqtt_harness's static tokens)."""
    return nobusd(auth=True)
