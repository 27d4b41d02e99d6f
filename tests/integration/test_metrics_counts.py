"""What the server's metrics count, in one process (the Flask application): fetches of
each section by outcome with their times, the safe fallbacks by reason, refusals, and
call records stored and refused. Requests are FreeSWITCH's own (tests/fsrequests.py).

(`test_metrics_serve.py` reads the same through `centrex serve`, its workers and its
metrics port.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from centrex import metrics
from centrex.app import create_app
from esl.calllog import MAX_RECORD_BYTES
from tests.conftest import basic_auth, post_fetch
from tests.fsrequests import fixture_fields, with_fields
from tests.integration.test_call_log import post_cdr, refusing_engine
from tests.integration.test_xmlcurl import actions, dialplan, is_not_found, xml
from tests.unit.test_cdr import CALL1_A, cdr_xml

TOO_LARGE = 3 * MAX_RECORD_BYTES + 1
BRIDGE = ("bridge", "user/1000@127.0.0.1")
UNAVAILABLE = [("hangup", "NORMAL_TEMPORARY_FAILURE")]
# A context no XML can hold: rendering the call fails, and the safe fallback is answered.
ODD_CONTEXT = {"Hunt-Context": "127.0.0.1\x01", "Caller-Context": "127.0.0.1\x01"}


def fetches(section: str, outcome: str) -> float:
    labels = {"section": section, "outcome": outcome}
    value = metrics.SERVER.get_sample_value("centrex_xmlcurl_fetch_seconds_count", labels)
    return value or 0.0


def fallbacks(section: str, reason: str) -> float:
    labels = {"section": section, "reason": reason}
    return metrics.SERVER.get_sample_value("centrex_xmlcurl_fallbacks_total", labels) or 0.0


def server_value(name: str, labels: dict[str, str] | None = None) -> float:
    return metrics.SERVER.get_sample_value(name, labels or {}) or 0.0


@contextmanager
def counted() -> Iterator[dict[str, float]]:
    """What the server's counters gained meanwhile (every sample, by name and labels)."""
    before = samples()
    gained: dict[str, float] = {}
    yield gained
    after = samples()
    gained.update({k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k)})


def samples() -> dict[str, float]:
    found = {}
    for family in metrics.SERVER.collect():
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


def test_each_section_counted_with_its_outcome_and_time(client, demo_tenant):
    with counted() as gained:
        assert BRIDGE in actions(dialplan(client, "1000"))
        assert b"a1-hash" in post_fetch(client, fixture_fields("directory-sip_auth")).data
        unknown = with_fields(fixture_fields("directory-sip_auth"), {"user": "4999"})
        assert is_not_found(xml(post_fetch(client, unknown)))
        conference = fixture_fields("configuration-conference.conf")
        assert b"<configuration" in post_fetch(client, conference).data
        assert is_not_found(xml(post_fetch(client, fixture_fields("configuration-db.conf"))))
        odd = with_fields(fixture_fields("directory-sip_auth"), {"section": "chatplan"})
        assert is_not_found(xml(post_fetch(client, odd)))
    count = "centrex_xmlcurl_fetch_seconds_count"
    assert {k: v for k, v in gained.items() if k.startswith(count)} == {
        f"{count}{{outcome=answered,section=dialplan}}": 1,
        f"{count}{{outcome=answered,section=directory}}": 1,
        f"{count}{{outcome=not_found,section=directory}}": 1,
        f"{count}{{outcome=answered,section=configuration}}": 1,
        f"{count}{{outcome=not_found,section=configuration}}": 1,
        f"{count}{{outcome=not_found,section=other}}": 1,
    }
    # Each fetch's time went into its bucket: a dialplan fetch takes well under 1 s.
    bucket = "centrex_xmlcurl_fetch_seconds_bucket"
    assert gained[f"{bucket}{{le=1.0,outcome=answered,section=dialplan}}"] == 1
    assert gained["centrex_xmlcurl_fetch_seconds_sum{outcome=answered,section=dialplan}"] > 0


def test_an_odd_request_is_a_fallback_for_an_error(client, demo_tenant):
    before = fetches("dialplan", "fallback"), fallbacks("dialplan", "error")
    odd = with_fields(fixture_fields("dialplan-1000"), ODD_CONTEXT)
    assert is_not_found(xml(post_fetch(client, odd)))  # not even the fallback can echo it
    assert (fetches("dialplan", "fallback"), fallbacks("dialplan", "error")) == (
        before[0] + 1,
        before[1] + 1,
    )


def silent(*_args, **_kwargs):
    time.sleep(30)


def test_a_fetch_past_its_deadline_is_a_fallback_for_the_deadline(
    settings, engine, demo_tenant, monkeypatch
):
    client = create_app(replace(settings, fetch_deadline=100), engine).test_client()
    monkeypatch.setattr("xmlcurl.endpoint.load_call", silent)
    before = fallbacks("dialplan", "deadline"), fetches("dialplan", "fallback")
    assert actions(dialplan(client, "1000")) == UNAVAILABLE
    assert (fallbacks("dialplan", "deadline"), fetches("dialplan", "fallback")) == (
        before[0] + 1,
        before[1] + 1,
    )


def test_a_database_down_is_a_fallback_for_the_database(settings):
    client = create_app(settings, refusing_engine()).test_client()
    before = {s: fallbacks(s, "database") for s in ("dialplan", "directory")}
    assert actions(dialplan(client, "1000")) == UNAVAILABLE
    assert is_not_found(xml(post_fetch(client, fixture_fields("directory-sip_auth"))))
    assert {s: fallbacks(s, "database") for s in before} == {s: before[s] + 1 for s in before}


def test_wrong_credentials_are_counted_as_refusals(client):
    before = server_value("centrex_xmlcurl_refused_total")
    answer = post_fetch(client, fixture_fields("dialplan-1000"), headers=basic_auth("fs:wrong"))
    assert answer.status_code == 401
    assert server_value("centrex_xmlcurl_refused_total") == before + 1


@pytest.mark.parametrize(
    ("send", "status", "reason"),
    [
        (
            lambda c: post_cdr(c, cdr_xml(CALL1_A), headers=basic_auth("fs:wrong")),
            401,
            "credentials",
        ),
        (lambda c: post_cdr(c, b"<cdr>no call</cdr>"), 400, "invalid"),
        (lambda c: c.post("/cdr", data=b"x" * TOO_LARGE, headers=basic_auth()), 413, "too_large"),
    ],
)
def test_refused_call_records_are_counted_by_reason(client, demo_tenant, send, status, reason):
    before = server_value("centrex_cdr_refused_total", {"reason": reason})
    stored = server_value("centrex_cdr_stored_total")
    assert send(client).status_code == status
    assert server_value("centrex_cdr_refused_total", {"reason": reason}) == before + 1
    assert server_value("centrex_cdr_stored_total") == stored


def test_stored_call_records_are_counted_and_a_database_down_refuses_them(
    client, settings, demo_tenant
):
    stored = server_value("centrex_cdr_stored_total")
    assert post_cdr(client, cdr_xml(CALL1_A)).status_code == 200
    assert post_cdr(client, cdr_xml(CALL1_A)).status_code == 200  # again: still stored
    assert server_value("centrex_cdr_stored_total") == stored + 2
    down = create_app(settings, refusing_engine()).test_client()
    before = server_value("centrex_cdr_refused_total", {"reason": "database"})
    assert post_cdr(down, cdr_xml(CALL1_A)).status_code == 503
    assert server_value("centrex_cdr_refused_total", {"reason": "database"}) == before + 1
