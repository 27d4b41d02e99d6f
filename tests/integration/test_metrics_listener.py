"""The listener's metrics, read on its metrics port as Prometheus does, while it follows
a fake FreeSWITCH speaking the real event-socket protocol (tests/fakes): events by
name, the lag from fired to committed, the nodes connected, reconnects; and the call
records imported from FreeSWITCH's err-log-dir.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from centrex import metrics
from centrex.config import Settings
from esl.calllog import SETTLE_SECONDS, import_error_dir
from esl.listener import Listener
from tests.conftest import apply_raw, demo_document
from tests.fakes.freeswitch import FakeFreeSWITCH
from tests.integration.test_call_log import refusing_engine
from tests.integration.test_listener import DOMAIN, in_thread, line, phone_call, settled, until
from tests.postgres_server import free_port
from tests.stack import process_group
from tests.unit.test_cdr import CALL1_A, cdr_xml

TOKEN = "listener-metrics-token-0123456789abcdef"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def fake() -> Iterator[FakeFreeSWITCH]:
    with FakeFreeSWITCH("s3cret") as server:
        yield server


@pytest.fixture
def listening(engine, fake: FakeFreeSWITCH) -> Iterator[tuple[Listener, int]]:
    """The listener following the fake, its metrics served as `centrex esl` serves them."""
    apply_raw(engine, demo_document())
    port = free_port()
    settings = Settings(
        esl_nodes=(f"127.0.0.1:{fake.port}",),
        esl_password="s3cret",
        metrics_token=TOKEN,
        esl_metrics_port=port,
    )
    listener = Listener(
        settings, engine, timeout=1.0, backoff=(0.02, 0.1), keys_every=3600, expire_every=3600
    )
    listener.start()
    server = metrics.serve_listener(settings, listener)
    yield listener, port
    server.stop()
    listener.stop()


def read_metrics(port: int, token: str | None = TOKEN) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def parsed(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def get(port: int, token: str | None = TOKEN) -> tuple[int, str]:
    """GET /metrics from a thread of the pool: the listener serves it meanwhile."""
    result: tuple[int, str] = in_thread(read_metrics, port, token)
    return result


def scrape(port: int) -> Samples:
    status, text = get(port)
    assert status == 200
    return parsed(text)


def gained(before: Samples, after: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        labels: value - before.get((n, labels), 0.0)
        for (n, labels), value in after.items()
        if n == name and value != before.get((n, labels), 0.0)
    }


def test_events_lag_and_nodes_are_served_on_the_metrics_port(engine, fake, listening):
    listener, port = listening
    node = f"127.0.0.1:{fake.port}"
    until(lambda: settled(listener))
    before = scrape(port)
    assert before[("centrex_esl_nodes_connected", ())] == 1
    assert before[("centrex_esl_node_connected", (("node", node),))] == 1
    fake.register("1000", DOMAIN)
    a_leg, b_leg = phone_call(fake, "1001", "1000")
    fake.answer_channel(b_leg)
    fake.hangup_channel(b_leg)
    fake.hangup_channel(a_leg)
    until(lambda: (s := line(engine, "1000")) and s.registered and s.last_call_end is not None)
    until(lambda: line(engine, "1001").active_calls == 0 and listener.idle())
    after = scrape(port)
    events = gained(before, after, "centrex_esl_events_total")
    assert events[(("name", "sofia::register"),)] == 1
    assert events[(("name", "CHANNEL_CREATE"),)] == 2
    assert events[(("name", "CHANNEL_DESTROY"),)] == 2
    # Every event received was committed, its lag observed.
    lags = gained(before, after, "centrex_esl_lag_seconds_count")
    assert lags == {(): sum(events.values())}
    # Processes' own metrics too (memory, CPU), from the one process.
    assert after[("process_resident_memory_bytes", ())] > 0
    # None of the server's.
    assert not any(name.startswith("centrex_xmlcurl_") for name, _ in after)


def test_a_node_lost_and_reconnected_is_counted(fake, listening):
    listener, port = listening
    node = (("node", f"127.0.0.1:{fake.port}"),)
    until(lambda: settled(listener))
    assert ("centrex_esl_reconnects_total", node) not in scrape(port)
    fake.kill()
    until(lambda: not listener.connected())
    down = scrape(port)
    assert down[("centrex_esl_nodes_connected", ())] == 0
    assert down[("centrex_esl_node_connected", node)] == 0
    assert down[("centrex_esl_nodes", ())] == 1
    fake.restart()
    until(lambda: settled(listener))
    up = scrape(port)
    assert up[("centrex_esl_reconnects_total", node)] == 1
    assert up[("centrex_esl_nodes_connected", ())] == 1


def test_the_metrics_port_wants_the_token(listening):
    _listener, port = listening
    for token in (None, "wrong"):
        status, text = get(port, token)
        assert status == 401 and "centrex_" not in text


def imports(outcome: str) -> float:
    labels = {"outcome": outcome}
    return metrics.LISTENER.get_sample_value("centrex_cdr_imports_total", labels) or 0.0


def test_call_records_imported_from_the_error_directory_are_counted(engine, tmp_path):
    apply_raw(engine, demo_document())
    before = {o: imports(o) for o in ("imported", "rejected", "left")}
    (tmp_path / "a_1.cdr.xml").write_bytes(cdr_xml(CALL1_A))
    junk = tmp_path / "a_2.cdr.xml"
    junk.write_bytes(b"not a call record")
    settled_long_ago = time.time() - SETTLE_SECONDS - 1
    os.utime(junk, (settled_long_ago, settled_long_ago))
    (tmp_path / "a_3.cdr.xml").write_bytes(b"<cdr>still being written")
    report = import_error_dir(engine, tmp_path)
    assert (len(report.imported), len(report.rejected), len(report.left)) == (1, 1, 1)
    assert {o: imports(o) - before[o] for o in before} == {"imported": 1, "rejected": 1, "left": 1}
    # The database down: what is there is left for a later run.
    (tmp_path / "a_4.cdr.xml").write_bytes(cdr_xml(CALL1_A))
    import_error_dir(refusing_engine(), tmp_path)
    assert imports("left") - before["left"] == 3


def test_centrex_esl_serves_its_metrics_and_logs_json(engine, fake, database_url, tmp_path):
    """The command itself, as deployed: a process of its own following the fake."""
    apply_raw(engine, demo_document())
    live, port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTREX_")}
    env.update(
        {
            "CENTREX_DATABASE_URL": database_url,
            "CENTREX_ESL_NODES": f"127.0.0.1:{fake.port}",
            "CENTREX_ESL_PASSWORD": "s3cret",
            "CENTREX_LIVE_PORT": str(live),
            "CENTREX_METRICS_TOKEN": TOKEN,
            "CENTREX_ESL_METRICS_PORT": str(port),
            "CENTREX_LOG_FORMAT": "json",
        }
    )
    log = tmp_path / "esl.log"
    with process_group([sys.executable, "-m", "centrex.cli", "esl"], env, log, [live]):
        fake.wait_for_subscription("sofia::register", timeout=10)
        fake.register("1000", DOMAIN)
        deadline = time.monotonic() + 10
        registered = ("centrex_esl_events_total", (("name", "sofia::register"),))
        committed = ("centrex_esl_lag_seconds_count", ())
        # Counted when received, its lag when committed: both, in time.
        while (found := parsed(read_metrics(port)[1])).get(committed, 0) < 1:
            assert time.monotonic() < deadline, "the event was not committed"
            time.sleep(0.05)  # another process: nothing to wait on but its answer
        assert found[registered] == 1
        assert found[("centrex_esl_nodes_connected", ())] == 1
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    messages = {(r["logger"], r["message"]) for r in records}
    assert ("centrex.metrics", f"metrics on http://127.0.0.1:{port}/metrics") in messages
    assert ("esl.connection", f"event socket 127.0.0.1:{fake.port} connected") in messages
