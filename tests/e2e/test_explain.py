"""Explain agrees with FreeSWITCH: a handful of calls placed on the real switch, each
checked against `provisioning.explain` for the same time and state — the SIP answer the
caller gets, and the decisions FreeSWITCH's fetches made, as the call record brings
them back (`centrex_route`) — against the fetches explain followed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from provisioning import explain
from provisioning.models import CallRecord, LineState, User
from tests.conftest import apply_raw, demo_document
from tests.e2e.conftest import DOMAIN, Centrex, Node
from tests.e2e.test_freeswitch import call, phone, phone_saw, unregister
from xmlcurl import route_trail
from xmlcurl.decisions import Route

pytestmark = pytest.mark.e2e

UNREGISTERED_TRAIL = "1002: ring 1002 > 1002: after ring USER_NOT_REGISTERED: unavailable tone"


def explained(centrex: Centrex, caller: str, dialled: str, assume: str) -> explain.Explanation:
    with centrex.engine.connect() as conn:
        found, _zone = explain.explain_call(
            conn, DOMAIN, caller, dialled, assume=assume, now=datetime.now(UTC)
        )
    return found


def trail(found: explain.Explanation) -> str:
    """The decisions explain followed, as the dialplan marks them on the channel."""
    entries = [
        route_trail.entry(Route(f.context, f.destination, f.route, ())) for f in found.fetches
    ]
    return route_trail.SEPARATOR.join(entries)


def last_id(centrex: Centrex) -> int:
    with centrex.engine.connect() as conn:
        return conn.execute(select(func.max(CallRecord.id))).scalar() or 0


def logged_route(centrex: Centrex, caller: str, after: int) -> str:
    """The rule applied the caller's call-log entry of the call shows (mod_xml_cdr posts
    the caller's leg as it ends)."""

    def found() -> str | None:
        with centrex.engine.connect() as conn:
            return conn.execute(
                select(CallRecord.route).where(
                    CallRecord.id > after,
                    CallRecord.extension == caller,
                    CallRecord.kind == "placed",
                    CallRecord.route != "",
                )
            ).scalar()

    return until(found)


def until(probe: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError("never came")
        time.sleep(0.2)
    return value


@pytest.fixture
def forward_1000_to_1001(centrex: Centrex) -> Iterator[None]:
    raw = demo_document(DOMAIN)
    raw["gateway"] = {
        "proxy": f"127.0.0.1:{os.environ['CENTREX_E2E_CARRIER_PORT']}",
        "username": "trunk",
    }
    plain = {**raw, "users": [dict(u) for u in raw["users"]]}
    raw["users"][0] = {**raw["users"][0], "call_handling": {"forward_always": {"to": "1001"}}}
    apply_raw(centrex.engine, raw)
    yield
    apply_raw(centrex.engine, plain)


def test_an_answered_call_is_what_explain_says(centrex: Centrex, freeswitch: Node):
    found = explained(centrex, "1001", "1000", "1000=answers")
    assert (found.outcome, found.answered_by) == ("answered", "1000")
    before = last_id(centrex)
    uas = phone(freeswitch, "1000", 200)
    result = call(freeswitch, "1001", "1000", expect=200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, uas, "phone-1000-200", "BYE sip:")
    unregister(freeswitch, "1000")
    assert logged_route(centrex, "1001", before) == trail(found) == "1000: ring 1000"


def test_a_phone_that_declines_goes_to_voicemail_as_explained(centrex: Centrex, freeswitch: Node):
    found = explained(centrex, "1000", "1001", "1001=declines")
    assert [f.destination for f in found.fetches] == ["1001", "1001"]
    assert (found.outcome, found.summary) == ("voicemail", "voicemail of 1001")
    before = last_id(centrex)
    uas = phone(freeswitch, "1001", 486)
    result = call(freeswitch, "1000", "1001", expect=200, callee_hangs_up=True)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, uas, "phone-1001-486", "SIP/2.0 486 Refused")
    unregister(freeswitch, "1001")
    assert logged_route(centrex, "1000", before) == trail(found)


def test_a_line_the_live_state_knows_unregistered_is_refused_as_explained(
    centrex: Centrex, freeswitch: Node, bob_unregistered: None
):
    # No assumption: the live state as stored (what the event listener would keep). The
    # line is rung all the same (the switch says whether a phone is there) and fails.
    found = explained(centrex, "1001", "1002", "")
    assert explain_rows_decided(found) == "9 ring"
    assert found.outcome == "rejected"
    before = last_id(centrex)
    # The unavailable tone in early media, then FreeSWITCH's 480 for USER_NOT_REGISTERED.
    result = call(freeswitch, "1001", "1002", expect=480)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert logged_route(centrex, "1001", before) == trail(found) == UNREGISTERED_TRAIL


def test_an_unknown_registration_assumed_unregistered_is_what_the_switch_finds(
    centrex: Centrex, freeswitch: Node
):
    # Registration unknown: the phones are rung and FreeSWITCH's answer decides; no
    # phone there is what `unregistered` assumes.
    found = explained(centrex, "1001", "1002", "1002=unregistered")
    before = last_id(centrex)
    result = call(freeswitch, "1001", "1002", expect=480)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert logged_route(centrex, "1001", before) == trail(found) == UNREGISTERED_TRAIL


def test_a_forward_is_followed_to_the_colleague_who_answers(
    centrex: Centrex, freeswitch: Node, forward_1000_to_1001: None
):
    found = explained(centrex, "1002", "1000", "1001=answers")
    assert explain_rows_decided(found) == "3 forward always"
    assert (found.outcome, found.answered_by) == ("answered", "1001")
    before = last_id(centrex)
    uas = phone(freeswitch, "1001", 200)
    result = call(freeswitch, "1002", "1000", expect=200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, uas, "phone-1001-200", "BYE sip:")
    unregister(freeswitch, "1001")
    assert logged_route(centrex, "1002", before) == trail(found)
    assert trail(found) == "1000: always forward to 1001 > 1001: ring 1001"


def test_an_unknown_number_is_rejected_at_once_as_explained(centrex: Centrex, freeswitch: Node):
    found = explained(centrex, "1001", "4242", "")
    assert found.outcome == "rejected" and len(found.fetches) == 1
    before = last_id(centrex)
    result = call(freeswitch, "1001", "4242", expect=404)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert logged_route(centrex, "1001", before) == trail(found)


@pytest.fixture
def bob_unregistered(centrex: Centrex) -> Iterator[None]:
    with Session(centrex.engine) as session, session.begin():
        bob = session.scalars(select(User).where(User.extension == "1002")).one()
        session.merge(
            LineState(
                user_id=bob.id, active_calls=0, registered=False, updated_at=datetime.now(UTC)
            )
        )
        bob_id = bob.id
    yield
    with Session(centrex.engine) as session, session.begin():
        session.execute(delete(LineState).where(LineState.user_id == bob_id))


def explain_rows_decided(found: explain.Explanation) -> str:
    (decided,) = [s.rule for s in found.fetches[0].steps if s.stage == "precedence" and s.applied]
    return decided
