"""Metrics on a real FreeSWITCH: a registration and an answered call between two SIPp
phones are counted by the server (the fetches FreeSWITCH made, the call records it
posted) and by the listener (the events it sent, their lag, the node connected), the
listener's read on its metrics port as Prometheus reads them.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from centrex import metrics
from centrex.config import Settings
from esl.listener import Listener
from tests.e2e.conftest import ESL_PASSWORD, Centrex, Node, free_port
from tests.e2e.test_freeswitch import call, phone, phone_saw, unregister
from tests.e2e.test_live import in_background, state, until

pytestmark = pytest.mark.e2e

TOKEN = "e2e-metrics-token-0123456789abcdefghij"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def watched(centrex: Centrex, freeswitch: Node) -> Iterator[tuple[Listener, int]]:
    """The listener following the node, its metrics served as `centrex esl` serves them."""
    port = free_port()
    settings = Settings(
        database_url=centrex.settings.database_url,
        esl_nodes=(f"127.0.0.1:{freeswitch.esl_port}",),
        esl_password=ESL_PASSWORD,
        metrics_token=TOKEN,
        esl_metrics_port=port,
    )
    listener = Listener(settings, centrex.engine, keys_every=3600, expire_every=3600)
    listener.start()
    server = metrics.serve_listener(settings, listener)
    until(lambda: listener.connected() and listener.idle())
    yield listener, port
    server.stop()
    listener.stop()


def listener_metrics(port: int) -> Samples:
    def read() -> str:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            return conn.getresponse().read().decode()
        finally:
            conn.close()

    return samples(text_string_to_metric_families(in_background(read)))


def server_metrics() -> Samples:
    # The e2e server is the Flask application in this process: its counts are here.
    return samples(metrics.SERVER.collect())


def samples(families) -> Samples:  # type: ignore[no-untyped-def]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def gained(before: Samples, after: Samples, metric: str, /, **labels: str) -> float:
    key = (metric, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_a_call_is_counted_by_the_server_and_the_listener(
    centrex: Centrex, freeswitch: Node, watched: tuple[Listener, int]
):
    _, port = watched
    server_before, listener_before = server_metrics(), listener_metrics(port)
    assert listener_before[("centrex_esl_nodes_connected", ())] == 1
    uas = in_background(phone, freeswitch, "1000", 200)
    result = in_background(call, freeswitch, "1001", "1000", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert in_background(phone_saw, freeswitch, uas, "phone-1000-200", "BYE sip:")
    until(lambda: (s := state(centrex, "1000")) and s.last_call_end and not s.active_calls)
    # mod_xml_cdr posts the caller's leg as it ends; the callee's, simply answered,
    # leaves its record unmade.
    cdrs = "centrex_cdr_stored_total"
    until(lambda: gained(server_before, server_metrics(), cdrs) >= 1)
    freeswitch.wait_until_no_channels()
    assert gained(server_before, server_metrics(), cdrs) == 1
    server = server_metrics()
    fetches = "centrex_xmlcurl_fetch_seconds_count"
    # The phone's registration and the caller's INVITE (digest): directory fetches (the
    # callee's phones are dialled without one); the call itself: a dialplan fetch. All
    # answered.
    assert gained(server_before, server, fetches, section="dialplan", outcome="answered") >= 1
    assert gained(server_before, server, fetches, section="directory", outcome="answered") >= 2
    fallbacks = [k for k in server if k[0] == "centrex_xmlcurl_fallbacks_total"]
    assert all(gained(server_before, server, k[0], **dict(k[1])) == 0 for k in fallbacks)

    events = "centrex_esl_events_total"

    def settled() -> Samples | None:
        """The listener's metrics once both legs' ends came and every event received
        was committed, its lag observed."""
        now = listener_metrics(port)
        received = sum(
            gained(listener_before, now, events, **dict(labels))
            for name, labels in now
            if name == events
        )
        ended = gained(listener_before, now, events, name="CHANNEL_DESTROY") >= 2
        lags = gained(listener_before, now, "centrex_esl_lag_seconds_count")
        return now if ended and lags == received else None

    after = until(settled)
    assert gained(listener_before, after, events, name="sofia::register") >= 1
    assert gained(listener_before, after, events, name="CHANNEL_CREATE") >= 2
    assert gained(listener_before, after, events, name="CHANNEL_ANSWER") >= 2
    lags = gained(listener_before, after, "centrex_esl_lag_seconds_count")
    # FreeSWITCH's own timestamps: every event committed within a second here.
    within = gained(listener_before, after, "centrex_esl_lag_seconds_bucket", le="1.0")
    assert within == lags
    in_background(unregister, freeswitch, "1000")
