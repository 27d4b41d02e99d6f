"""Serving the metrics: only GET /metrics, only with the token; a port taken is said so;
nothing is served, and no multiprocess directory made, without the token."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from prometheus_client import multiprocess

from centrex import metrics
from centrex.config import Settings
from centrex.db import DeadlineExceeded

TOKEN = "exporter-token-for-the-tests-0123456789"


def call(path: str, authorization: str | None) -> tuple[str, bytes]:
    app = metrics.guarded(metrics.make_wsgi_app(metrics.SERVER), TOKEN)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": ""}
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    status = []
    body = b"".join(app(environ, lambda s, _headers: status.append(s)))
    return status[0], body


@pytest.mark.parametrize(
    ("path", "authorization", "status"),
    [
        ("/metrics", f"Bearer {TOKEN}", "200 OK"),
        ("/metrics", None, "401 Unauthorized"),
        ("/metrics", f"Bearer {TOKEN[:-1]}", "401 Unauthorized"),
        ("/metrics", f"Basic {TOKEN}", "401 Unauthorized"),
        ("/metrics", f"Bearer {TOKEN}\u00e9", "401 Unauthorized"),
        ("/", f"Bearer {TOKEN}", "404 Not Found"),
    ],
)
def test_only_the_token_reads_the_metrics(path, authorization, status):
    answer, body = call(path, authorization)
    assert answer == status
    assert (b"centrex_xmlcurl_fetch_seconds_count" in body) == (status == "200 OK")


def test_without_the_token_nothing_is_served():
    exporter = metrics.start_server_exporter(Settings())
    assert exporter.environment == {}
    exporter.stop()


def test_a_metrics_port_taken_is_said_so_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(metrics_token=TOKEN, metrics_port=port)
        with pytest.raises(OSError, match=f"127.0.0.1:{port} \\(CENTREX_METRICS_PORT\\)"):
            metrics.start_server_exporter(settings)
    assert list(Path(tmp_path).iterdir()) == []


def test_the_exporter_names_its_directory_to_the_workers_and_removes_it():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    exporter = metrics.start_server_exporter(Settings(metrics_token=TOKEN, metrics_port=port))
    directory = Path(exporter.environment[metrics.WORKERS_DIR_ENV])
    assert directory.is_dir()
    exporter.stop()
    assert not directory.exists()


def written(directory: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """What `centrex serve` reads from its workers' files."""
    collector = multiprocess.MultiProcessCollector(None, path=str(directory))
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in collector.collect()
        for s in family.samples
    }


def in_memory() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in metrics.SERVER.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_a_worker_writes_out_what_it_counted_at_most_once_a_second(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics, "_workers_dir", str(tmp_path))
    monkeypatch.setattr(metrics, "_files", {})
    monkeypatch.setattr(metrics, "_unwritten", metrics._Unwritten())
    started = time.perf_counter() - 0.003
    metrics.fetched("dialplan", b"<document/>", started, None)
    metrics.fetched("other", metrics._NOT_FOUND, started, None)
    metrics.write_out()
    # Read back as `centrex serve` sums them: the same values, buckets cumulated again.
    assert written(tmp_path) == in_memory()
    # Counted again at once: written out only when due (a worker idle meanwhile wakes
    # for it), or when the worker exits.
    metrics.fetched("dialplan", b"<document/>", started, DeadlineExceeded())
    metrics.write_out()
    assert written(tmp_path) != in_memory()
    assert 0 < metrics.next_write(15.0) <= metrics.WRITE_EVERY
    metrics.worker_exited(None, None)
    assert written(tmp_path) == in_memory()
    assert metrics.next_write(15.0) == 15.0  # nothing left to write
