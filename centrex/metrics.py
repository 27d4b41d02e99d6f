"""Prometheus metrics of the server and of the listener: every metric is defined here,
and the code paths they count call the small functions below, one line where they are.

- The server (`centrex serve`) answers FreeSWITCH from several worker processes, so
  prometheus_client's multiprocess mode is on when metrics are served: `serve` makes a
  fresh directory and names it to its children in PROMETHEUS_MULTIPROC_DIR (read when
  prometheus_client is first imported, before a worker counts anything); each process
  keeps its counts in a memory-mapped file there, and `serve` itself answers scrapes on
  CENTREX_METRICS_PORT with the sum of every file, so a scrape never takes a worker
  FreeSWITCH waits for, and the counts of a worker that was replaced are kept. (Counting
  in memory and writing the counts out once a second was tried: the write-out of the
  worker's series took milliseconds, a stall for the fetch arriving meanwhile.)
- The listener (`centrex esl`), one gevent process, answers scrapes on a small server
  of its own on CENTREX_ESL_METRICS_PORT.

Both ask for `Authorization: Bearer <CENTREX_METRICS_TOKEN>`; nothing is served
without that setting (counts are then kept in memory only).
Label values are bounded: sections and outcomes are fixed lists, event names those
subscribed to (at most MAX_EVENT_NAMES), nodes those configured.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.process_collector import ProcessCollector

from centrex.config import Settings
from centrex.db import DeadlineExceeded, database_unavailable
from xmlcurl.render import not_found

if TYPE_CHECKING:
    from esl.calllog import ImportReport
    from esl.listener import Listener

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# What each side exports (the listener's metrics are never counted by the server, and
# the other way round).
SERVER = CollectorRegistry(auto_describe=True)
LISTENER = CollectorRegistry(auto_describe=True)

# --- the server: xml_curl fetches and call records ---------------------------------------

SECTIONS = ("dialplan", "directory", "configuration")
OTHER_SECTION = "other"  # no section, or one Centrex does not serve
ANSWERED, NOT_FOUND, FALLBACK = "answered", "not_found", "fallback"
OUTCOMES = (ANSWERED, NOT_FOUND, FALLBACK)
# Why a fetch got the safe fallback.
DEADLINE, DATABASE, ERROR = "deadline", "database", "error"
# Fetches shed under overload (xmlcurl.overload's verdicts, by name).
TURN_AWAY, ABANDON = "turn_away", "abandon"
FALLBACK_REASONS = (DEADLINE, DATABASE, ERROR, TURN_AWAY, ABANDON)

FETCH_SECONDS = Histogram(
    "centrex_xmlcurl_fetch_seconds",
    "xml_curl fetches by section and outcome, and the time each took to answer",
    ["section", "outcome"],
    # A fetch takes a millisecond or two; the deadline is 500 ms by default.
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    registry=SERVER,
)
FALLBACKS = Counter(
    "centrex_xmlcurl_fallbacks_total",
    "xml_curl fetches answered the safe fallback, by section and reason "
    "(deadline: not answered in time; database: down; error: an odd request or a bug; "
    "turn_away: a call beyond capacity; abandon: FreeSWITCH had already given up on it)",
    ["section", "reason"],
    registry=SERVER,
)
REFUSED = Counter(
    "centrex_xmlcurl_refused_total",
    "xml_curl fetches refused for wrong or missing credentials (401)",
    registry=SERVER,
)
CDR_STORED = Counter(
    "centrex_cdr_stored_total",
    "call records FreeSWITCH posted that were stored (or already were, or concern no user)",
    registry=SERVER,
)
# The reason of each refusal, by the status /cdr answers it with.
CDR_REFUSAL_REASONS = {401: "credentials", 400: "invalid", 413: "too_large", 503: "database"}
CDR_REFUSED = Counter(
    "centrex_cdr_refused_total",
    "call records FreeSWITCH posted that were not stored, by reason "
    "(credentials, invalid, too_large, database: FreeSWITCH posts it again later)",
    ["reason"],
    registry=SERVER,
)

# Children made once: a fetch then costs two dictionary look-ups and three additions.
_FETCH = {
    (section, outcome): FETCH_SECONDS.labels(section, outcome)
    for section in (*SECTIONS, OTHER_SECTION)
    for outcome in OUTCOMES
}
_FALLBACK = {
    (section, reason): FALLBACKS.labels(section, reason)
    for section in (*SECTIONS, OTHER_SECTION)
    for reason in FALLBACK_REASONS
}
_CDR_REFUSED = {status: CDR_REFUSED.labels(why) for status, why in CDR_REFUSAL_REASONS.items()}
_NOT_FOUND = not_found()


def fallback_reason(error: BaseException) -> str:
    if isinstance(error, DeadlineExceeded):
        return DEADLINE
    return DATABASE if database_unavailable(error) else ERROR


def fetched(
    section: str, body: bytes, started: float, failure: BaseException | None, shed: str = ""
) -> None:
    """A fetch was answered: `body`, `started` at time.perf_counter(); `failure` is what
    made it the safe fallback, if anything did; `shed`, the overload verdict that did."""
    section = section if section in SECTIONS else OTHER_SECTION
    if failure is not None or shed:
        outcome = FALLBACK
        _FALLBACK[section, fallback_reason(failure) if failure is not None else shed].inc()
    else:
        outcome = NOT_FOUND if body == _NOT_FOUND else ANSWERED
    _FETCH[section, outcome].observe(time.perf_counter() - started)


def fetch_refused() -> None:
    REFUSED.inc()


T = TypeVar("T")


def counted_cdr(answer: Callable[[T], Any]) -> Callable[[T], Any]:
    """The /cdr handler, its answers (with a `status`) counted: 200 stored, the others
    refused."""

    @functools.wraps(answer)
    def counted(request: T) -> Any:
        given = answer(request)
        if given.status == 200:
            CDR_STORED.inc()
        else:
            refused = _CDR_REFUSED.get(given.status)
            (refused or CDR_REFUSED.labels(str(given.status))).inc()
        return given

    return counted


# --- the listener: events, lag, nodes, imported call records --------------------------------

# More distinct event names than this are counted as "other" (FreeSWITCH sends only
# those subscribed to, a dozen or so).
MAX_EVENT_NAMES = 64

EVENTS = Counter(
    "centrex_esl_events_total",
    "events received from FreeSWITCH, by name (a CUSTOM event by its subclass)",
    ["name"],
    registry=LISTENER,
)
LAG = Histogram(
    "centrex_esl_lag_seconds",
    "time from an event fired by FreeSWITCH to its change committed to the live state",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=LISTENER,
)
RECONNECTS = Counter(
    "centrex_esl_reconnects_total",
    "event-socket sessions established with a node after the first",
    ["node"],
    registry=LISTENER,
)
CDR_IMPORTS = Counter(
    "centrex_cdr_imports_total",
    "call-record files of FreeSWITCH's err-log-dir, by outcome "
    "(imported; rejected: moved to rejected/; left: for a later run)",
    ["outcome"],
    registry=LISTENER,
)
IMPORT_OUTCOMES = ("imported", "rejected", "left")
_CDR_IMPORTED = {outcome: CDR_IMPORTS.labels(outcome) for outcome in IMPORT_OUTCOMES}
_EVENTS: dict[str, Any] = {}


def event_received(name: str) -> None:
    counter = _EVENTS.get(name)
    if counter is None:
        if len(_EVENTS) >= MAX_EVENT_NAMES:
            name = "other"
        counter = _EVENTS.setdefault(name, EVENTS.labels(name or "other"))
    counter.inc()


def event_committed(lag: float) -> None:
    """An event's change was committed `lag` seconds after FreeSWITCH fired it."""
    LAG.observe(lag)


def session_started(node: str, sessions: int) -> None:
    """`node`'s event socket is connected: its `sessions`-th session."""
    if sessions > 1:
        RECONNECTS.labels(node).inc()


def imported(report: ImportReport) -> None:
    for outcome, names in (
        ("imported", report.imported),
        ("rejected", report.rejected),
        ("left", report.left),
    ):
        if names:
            _CDR_IMPORTED[outcome].inc(len(names))


class NodesCollector:
    """Which nodes the listener is connected to, read when scraped."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener

    def collect(self) -> Iterator[Metric]:
        nodes = list(self.listener.nodes.values())
        connected = GaugeMetricFamily(
            "centrex_esl_node_connected",
            "1 while the listener's event socket to the node is connected, else 0",
            labels=["node"],
        )
        for node in nodes:
            connected.add_metric([node.node], 1.0 if node.connected.is_set() else 0.0)
        yield connected
        yield GaugeMetricFamily(
            "centrex_esl_nodes_connected",
            "nodes the listener is connected to",
            value=sum(node.connected.is_set() for node in nodes),
        )
        yield GaugeMetricFamily(
            "centrex_esl_nodes", "nodes the listener follows (CENTREX_ESL_NODES)", value=len(nodes)
        )


# --- serving -----------------------------------------------------------------------------------


def guarded(app: Callable[..., Iterable[bytes]], token: str) -> Callable[..., Iterable[bytes]]:
    """`app` on GET /metrics, for a client that presents the token only."""
    expected = f"Bearer {token}".encode()

    def guarded_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found; metrics are at /metrics\n"]
        # The header as it came on the wire (WSGI decodes headers as latin-1).
        given = environ.get("HTTP_AUTHORIZATION", "").encode("latin-1")
        if not hmac.compare_digest(given, expected):
            challenge = ("WWW-Authenticate", 'Bearer realm="metrics"')
            start_response("401 Unauthorized", [("Content-Type", "text/plain"), challenge])
            return [b"unauthorised: send Authorization: Bearer <CENTREX_METRICS_TOKEN>\n"]
        return app(environ, start_response)

    return guarded_app


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class ServerExporter:
    """The server's metrics, summed over its processes and served while it runs."""

    def __init__(self, settings: Settings) -> None:
        # In memory (tmpfs) where there is one: the files are written at every fetch.
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self.directory = tempfile.mkdtemp(prefix="centrex-metrics-", dir=shm)
        registry = CollectorRegistry()
        registry.register(_ServerFiles(self.directory))
        app = guarded(make_wsgi_app(registry), settings.metrics_token)
        try:
            self._server = make_server(
                settings.host, settings.metrics_port, app, ThreadingWSGIServer, _Quiet
            )
        except OSError as exc:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise _not_served(settings.host, settings.metrics_port, "METRICS_PORT", exc) from None
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics", daemon=True
        )
        self._thread.start()
        log.info(
            "metrics on http://%s:%d/metrics (counted in %s)",
            settings.host,
            settings.metrics_port,
            self.directory,
        )

    @property
    def environment(self) -> dict[str, str]:
        """What the server's processes need to count in the shared directory."""
        return {MULTIPROC_ENV: self.directory}

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self.directory, ignore_errors=True)


class _NoExporter:
    environment: ClassVar[dict[str, str]] = {}

    def stop(self) -> None:
        pass


def start_server_exporter(settings: Settings) -> ServerExporter | _NoExporter:
    """Serve the server's metrics when CENTREX_METRICS_TOKEN is set."""
    return ServerExporter(settings) if settings.metrics_token else _NoExporter()


class _ServerFiles:
    """The multiprocess files' sums, of the server's own metrics only."""

    def __init__(self, directory: str) -> None:
        self._files = multiprocess.MultiProcessCollector(None, path=directory)
        self._names = {metric.name for metric in SERVER.collect()}

    def collect(self) -> Iterator[Metric]:
        return (m for m in self._files.collect() if m.name in self._names)


def _not_served(host: str, port: int, setting: str, error: OSError) -> OSError:
    return OSError(f"metrics not served on {host}:{port} (CENTREX_{setting}): {error.strerror}")


def worker_exited(_arbiter: Any, worker: Any) -> None:
    """gunicorn's child_exit: a worker's live gauges (if any) leave with it."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(worker.pid)


def serve_listener(settings: Settings, listener: Listener) -> Any:
    """The listener's metrics on CENTREX_ESL_METRICS_PORT when CENTREX_METRICS_TOKEN is
    set: its gevent server, started (None otherwise)."""
    if not settings.metrics_token:
        return None
    from gevent.pywsgi import WSGIServer

    registry = CollectorRegistry()
    registry.register(LISTENER)
    registry.register(NodesCollector(listener))
    registry.register(ProcessCollector(registry=None))
    app = guarded(make_wsgi_app(registry), settings.metrics_token)
    host, port = settings.host, settings.esl_metrics_port
    server = WSGIServer((host, port), app, log=None)
    try:
        server.start()
    except OSError as exc:
        raise _not_served(host, port, "ESL_METRICS_PORT", exc) from None
    log.info("metrics on http://%s:%d/metrics", host, port)
    return server
