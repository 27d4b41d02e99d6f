"""Serving the metrics: only GET /metrics, only with the token; a port taken is said so;
nothing is served, and no multiprocess directory made, without the token."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path

import pytest

from centrex import metrics
from centrex.config import Settings

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


def test_a_metrics_port_taken_is_said_so_and_leaves_nothing(monkeypatch):
    made = []

    def mkdtemp(**kwargs: str) -> str:
        made.append(real_mkdtemp(**kwargs))
        return made[-1]

    real_mkdtemp = tempfile.mkdtemp
    monkeypatch.setattr("tempfile.mkdtemp", mkdtemp)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings(metrics_token=TOKEN, metrics_port=port)
        with pytest.raises(OSError, match=f"127.0.0.1:{port} \\(CENTREX_METRICS_PORT\\)"):
            metrics.start_server_exporter(settings)
    assert len(made) == 1 and not Path(made[0]).exists()


def test_the_exporter_names_its_directory_to_the_workers_and_removes_it():
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    exporter = metrics.start_server_exporter(Settings(metrics_token=TOKEN, metrics_port=port))
    directory = Path(exporter.environment[metrics.MULTIPROC_ENV])
    assert directory.is_dir()
    exporter.stop()
    assert not directory.exists()
