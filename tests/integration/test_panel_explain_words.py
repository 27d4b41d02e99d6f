"""The "Test a call" page says the whole trace in the reader's language: the compiler's
rules and reasons (`xmlcurl.trace` phrases), what each fetch does and how the call ends,
worded by `admin.explain.words` — French on the French page, English on the English
one, with what users typed (names, numbers) shown as typed, escaped."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import lxml.html
import pytest
from flask_babel import force_locale

from admin.explain.words import VERBATIM, say
from admin.languages import COOKIE, use_catalogues
from provisioning import explain as ex
from tests.conftest import apply_raw
from tests.integration.test_explain import tenant as routing_tenant
from tests.integration.test_panel import PASSWORDS, log_in, panel  # noqa: F401
from xmlcurl.trace import Phrase

DOMAIN = "127.0.0.1"
NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
# Calls that weigh most rules: a line whose call handling passes over row after row,
# then rings, forwards on no answer to a busy colleague; the main number by schedule on
# a holiday; a group whose members are all unavailable, overflowing to a queue; a
# barred number; a number that is no number.
CALLS = [
    {"caller": "1000", "to": "1003", "at": "2026-12-02 10:30", "assume": "1003=free,1002=busy"},
    {"caller": "1001", "to": "1003", "at": "2026-12-05 11:00", "assume": "1003=declines"},
    {"caller": "1000", "to": "1003", "at": "2026-12-05 11:00", "assume": "1003=declines"},
    {"caller": "1000", "to": "1003", "at": "2026-12-01 23:00", "assume": "1002=answers"},
    {"caller": "0611111111", "to": "0184800102", "at": "2026-12-02 10:30", "assume": ""},
    {"caller": "0612345678", "to": "0184800100", "at": "2026-12-24 12:45", "assume": ""},
    {"caller": "0612345678", "to": "0184800100", "at": "2026-12-02 10:30", "assume": "1000=busy"},
    {"caller": "1001", "to": "0044207946000", "at": "2026-12-02 10:30", "assume": ""},
    {"caller": "1000", "to": "2000", "at": "2026-12-02 10:30", "assume": "1001=answers"},
    {"caller": "1000", "to": "1099", "at": "2026-12-02 10:30", "assume": ""},
]


CAROL_HANDLING: dict[str, Any] = {
    "selective": {
        "reject": {"contacts": ["Mum"]},
        "reject_anonymous": True,
        "forward": [{"callers": {"contacts": ["Mum"]}, "to": "1002"}],
    },
    "forward_always": {"to": "1002", "schedule": "Late"},
    "do_not_disturb": {"enabled": False},
    "simultaneous_ring": {"numbers": ["0612345678"], "schedule": "Early"},
    "sequential_ring": {
        "steps": [{"number": "1000"}],
        "callers": {"extensions": ["1001"]},
    },
    "forward_no_answer": {"to": "1002", "after": 20},
    "forward_busy": {"to": "voicemail"},
    "rule_lists": [
        {"name": "Weekend", "rules": [], "default": {"action": "ring"}},
    ],
    "planner": {"periods": [{"name": "Weekend", "rule_list": "Weekend", "sat": ["08:00-20:00"]}]},
}


def tenant() -> dict[str, Any]:
    """The explain tests' routing tenant on the panel's domain, its reception a panel
    admin, its group named with a character to escape, and Carol's call handling
    weighing every row."""
    raw = routing_tenant(copy.deepcopy(CAROL_HANDLING))
    raw["domain"] = DOMAIN
    raw["users"][0]["panel_admin"] = True
    raw["groups"][0]["name"] = "Sales & Co"
    raw["numbers"][0]["routes"][0]["to"] = {"group": "Sales & Co"}
    raw["users"][-1]["contacts"] = [{"name": "Mum", "numbers": ["+33611111111"]}]
    return raw


@pytest.fixture
def admin(panel, engine):  # noqa: F811
    apply_raw(engine, tenant())
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    return panel


def phrases_of(found: ex.Explanation) -> Iterator[Phrase]:
    """Every phrase the page words for this call: rules, reasons, what each fetch does,
    the ending, the legs' own."""
    for fetch in found.fetches:
        for step in fetch.steps:
            yield step.what
            if step.because is not None:
                yield step.because
        yield from fetch.doing
        for leg in fetch.legs:
            yield from phrases_of(leg)
    yield found.ending


def codes_in(said: Phrase) -> set[str]:
    nested = [codes_in(v) for _name, v in said.values if isinstance(v, Phrase)]
    return {said.code}.union(*nested)


def explained(engine, call: dict[str, str]) -> ex.Explanation:
    with engine.connect() as conn:
        found, _zone = ex.explain_call(
            conn,
            DOMAIN,
            call["caller"],
            call["to"],
            at=call["at"],
            assume=call["assume"] or None,
            default_country="FR",
            now=NOW,
        )
    return found


def page_text(client, call: dict[str, str], language: str) -> tuple[str, str]:
    """The page's trace as a reader sees it (the routing's names of its decisions, in
    <code>, left out: FreeSWITCH's own), and its HTML."""
    client.set_cookie(COOKIE, language)
    answer = client.get("/panel/explain", query_string=call)
    assert answer.status_code == 200, answer.text
    tree = lxml.html.fromstring(answer.text)
    for code in tree.xpath("//ol[@class='fetches']//code"):
        code.drop_tree()
    (main,) = tree.xpath("//main")
    return " ".join(main.text_content().split()), answer.text


def worded(client, said: Phrase, language: str) -> str:
    """The phrase as the panel words it in `language`."""
    with client.application.test_request_context(), force_locale(language):
        use_catalogues()
        return say(said)


def test_every_phrase_of_the_trace_is_french_on_the_french_page(admin, engine):
    seen: set[str] = set()
    for call in CALLS:
        found = explained(engine, call)
        text, html = page_text(admin, call, "fr")
        for said in phrases_of(found):
            seen |= codes_in(said)
            french = worded(admin, said, "fr")
            assert french in text, (said, french)
            if said.code in VERBATIM:
                continue
            # Worded in French, not left in English (the panel's, or the compiler's).
            assert french != worded(admin, said, "en"), said
            english = str(said)
            if english != french and " " in english:
                assert english not in text, (said, english)
        assert "Sales &amp; Co" in html or "Sales" not in text  # a name typed, escaped
    # The calls weigh many kinds of rule and reason, not a handful.
    assert len(seen) >= 60, sorted(seen)


def test_every_phrase_of_the_trace_is_english_on_the_english_page(admin, engine):
    for call in CALLS:
        found = explained(engine, call)
        text, _html = page_text(admin, call, "en")
        for said in phrases_of(found):
            english = worded(admin, said, "en")
            assert english in text, (said, english)
        assert "Résultat" not in text
