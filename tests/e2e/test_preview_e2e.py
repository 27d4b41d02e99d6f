"""A preview is what the switch then does: the dry run of a forward changes nothing on
FreeSWITCH (the line still rings itself), and once the document is applied for real
the call takes the route the preview's "after" explained (the decisions the call
record brings back, `centrex_route`)."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from centrex.db import make_session_factory
from provisioning import preview, service
from provisioning.document import parse_document
from tests.conftest import apply_raw, demo_document
from tests.e2e.conftest import DOMAIN, Centrex, Node
from tests.e2e.test_explain import last_id, logged_route
from tests.e2e.test_freeswitch import call, phone, phone_saw, unregister
from xmlcurl import route_trail

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo(centrex: Centrex) -> Iterator[dict]:
    raw = demo_document(DOMAIN)
    raw["gateway"] = {
        "proxy": f"127.0.0.1:{os.environ['CENTREX_E2E_CARRIER_PORT']}",
        "username": "trunk",
    }
    apply_raw(centrex.engine, raw)
    yield raw
    apply_raw(centrex.engine, raw)


def names(trail: str) -> list[str]:
    """The decisions' names of a call record's trail (each entry is `destination: name`)."""
    return [e.split(": ", 1)[1] for e in route_trail.decode(trail)]


def test_the_preview_of_a_forward_is_what_the_switch_does_once_applied(
    centrex: Centrex, freeswitch: Node, demo: dict
):
    forwarded = copy.deepcopy(demo)
    forwarded["users"][0]["call_handling"] = {"forward_always": {"to": "1001"}}
    doc = parse_document(forwarded)
    with make_session_factory(centrex.engine).begin() as session:
        report, effects = preview.preview(
            session,
            doc,
            lambda: service.apply_document(session, doc),
            default_country="FR",
            now=datetime.now(UTC),
        )
        session.rollback()
    assert report.updated == ["user 1000"]
    (change, *_) = [c for c in effects.changes if c.target.number == "1000"]
    before, after = change.before.route.split(" → "), change.after.route.split(" → ")

    # The dry run told the switch nothing: 1000 is rung as before (no phone: voicemail).
    first = last_id(centrex)
    result = call(freeswitch, "1002", "1000", expect=200, callee_hangs_up=True)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    # A ring with no phone fails USER_NOT_REGISTERED on the switch; unassumed, explain
    # takes it as unanswered: the same decisions, the same end.
    rung = names(logged_route(centrex, "1002", first))
    assert rung[0] == before[0] == "ring 1000"
    assert rung[-1].endswith("voicemail of 1000") and before[-1].endswith("voicemail of 1000")

    # Applied: the forward the preview announced, to 1001 who answers.
    apply_raw(centrex.engine, forwarded)
    second = last_id(centrex)
    uas = phone(freeswitch, "1001", 200)
    result = call(freeswitch, "1002", "1000", expect=200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, uas, "phone-1001-200", "BYE sip:")
    unregister(freeswitch, "1001")
    switched = names(logged_route(centrex, "1002", second))
    assert switched == ["always forward to 1001", "ring 1001"]
    assert after[: len(switched)] == switched
