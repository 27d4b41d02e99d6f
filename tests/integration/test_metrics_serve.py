"""`centrex serve` with metrics and JSON logs on: several worker processes count, the
server's metrics port answers their sums to whoever presents the token, and every line
the server writes is one JSON object.

One server stack for the module (tests/stack.py), with the demo tenant; FreeSWITCH's
own requests (tests/fsrequests.py) sent from several threads at once, so that every
worker serves some.
"""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from provisioning.models import Base
from tests.conftest import apply_raw, demo_document
from tests.fsrequests import fixture_fields, fs_body, with_fields
from tests.integration.test_metrics_counts import ODD_CONTEXT
from tests.postgres_server import free_port
from tests.stack import Stack, running_stack

TOKEN = "metrics-token-for-the-tests-0123456789"
DIALPLANS = 40
DIRECTORIES = 10
CONFIGURATIONS = 5
ODD = 2
CDRS = 3


@dataclass(frozen=True)
class Served:
    stack: Stack
    metrics_port: int

    def log(self) -> list[str]:
        """What the server wrote so far (each record is flushed as it is written)."""
        return [line for line in self.stack.log.read_text().splitlines() if line.strip()]


def fetch(stack: Stack, fields: list[tuple[str, str]]) -> int:
    return stack.fetch(fs_body(fields)).status


def at_once(stack: Stack, requests: list[list[tuple[str, str]]]) -> None:
    """The requests, eight at a time (more than the workers: each serves some)."""
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(lambda fields: fetch(stack, fields), requests)) == {200}


@pytest.fixture(scope="module")
def served(migrated_engine: Engine, database_url: str) -> Iterator[Served]:
    apply_raw(migrated_engine, demo_document())
    port = free_port()
    settings = {"metrics_token": TOKEN, "metrics_port": str(port), "log_format": "json"}
    try:
        with running_stack(database_url, **settings) as stack:
            requests = [fixture_fields("dialplan-1000")] * DIALPLANS
            requests += [fixture_fields("directory-sip_auth")] * DIRECTORIES
            requests += [fixture_fields("configuration-conference.conf")] * CONFIGURATIONS
            requests += [with_fields(fixture_fields("dialplan-1000"), ODD_CONTEXT)] * ODD
            at_once(stack, requests)
            for _ in range(CDRS):
                assert stack.post_cdr().status == 200
            yield Served(stack, port)
    finally:
        with migrated_engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


def scrape(port: int, token: str | None = TOKEN, path: str = "/metrics") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_metrics_port_sums_every_worker_s_counts(served):
    status, text = scrape(served.metrics_port)
    assert status == 200
    found = values(text)

    def count(section: str, outcome: str) -> float:
        labels = (("outcome", outcome), ("section", section))
        return found[("centrex_xmlcurl_fetch_seconds_count", labels)]

    assert count("dialplan", "answered") == DIALPLANS
    assert count("directory", "answered") == DIRECTORIES
    assert count("configuration", "answered") == CONFIGURATIONS
    assert count("dialplan", "fallback") == ODD
    fallbacks = (("reason", "error"), ("section", "dialplan"))
    assert found[("centrex_xmlcurl_fallbacks_total", fallbacks)] == ODD
    assert found[("centrex_cdr_stored_total", ())] == CDRS
    # Every fetch answered in its bucket, all within the deadline.
    le = (("le", "0.5"), ("outcome", "answered"), ("section", "dialplan"))
    assert found[("centrex_xmlcurl_fetch_seconds_bucket", le)] == DIALPLANS
    # Only the server's own metrics: none of the listener's.
    assert not any(name.startswith("centrex_esl_") for name, _ in found)


def test_the_counts_came_from_several_workers(served):
    started = [json.loads(line)["message"] for line in served.log()]
    (directory,) = {
        m.group(1) for line in started if (m := re.search(r"\(counted in (\S+)\)", line))
    }
    # A worker still starting when the first fetches came served none: more fetches
    # then, of a section the other tests do not count.
    unserved = with_fields(fixture_fields("directory-sip_auth"), {"section": "chatplan"})
    deadline = time.monotonic() + 30
    while len(serving := fetches_by_worker(Path(directory))) < 2:
        assert time.monotonic() < deadline, f"one worker served every fetch: {serving}"
        at_once(served.stack, [unserved] * 16)
    found = values(scrape(served.metrics_port)[1])
    total = sum(
        v for (name, _), v in found.items() if name == "centrex_xmlcurl_fetch_seconds_count"
    )
    assert sum(serving) == total >= DIALPLANS + DIRECTORIES + CONFIGURATIONS + ODD


def fetches_by_worker(directory: Path) -> list[float]:
    """The fetches each process counted in its own file, for those that counted some."""
    serving = []
    for path in sorted(directory.glob("histogram_*.db")):
        merged = MultiProcessCollector.merge([str(path)])
        fetches = sum(
            s.value
            for family in merged
            for s in family.samples
            if s.name == "centrex_xmlcurl_fetch_seconds_count"
        )
        if fetches:
            serving.append(fetches)
    return serving


@pytest.mark.parametrize(
    ("token", "path", "status"),
    [(None, "/metrics", 401), ("wrong-" + TOKEN, "/metrics", 401), (TOKEN, "/", 404)],
)
def test_the_metrics_port_wants_the_token(served, token, path, status):
    answer, text = scrape(served.metrics_port, token, path)
    assert answer == status and "centrex_" not in text


def test_every_line_the_server_writes_is_a_json_record(served):
    records = [json.loads(line) for line in served.log()]
    assert all(set(r) == {"time", "level", "logger", "message", "exception"} for r in records)
    loggers = {r["logger"] for r in records}
    # The server's own lines, gunicorn's (arbiter and workers), the application's.
    assert {"centrex.metrics", "gunicorn.error", "xmlcurl.endpoint"} <= loggers
    failed = [r for r in records if "answering the safe fallback" in r["message"]]
    assert len(failed) == ODD
    assert {(r["logger"], r["level"]) for r in failed} == {("xmlcurl.endpoint", "ERROR")}
    assert failed[0]["exception"].startswith("Traceback") and "ValueError" in failed[0]["exception"]
    assert all(r["exception"] is None for r in records if r["level"] == "INFO")
