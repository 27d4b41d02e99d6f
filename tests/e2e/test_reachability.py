"""Reachability from the switch, not from the listener, on a real FreeSWITCH: with no
event listener running and the live state stale, a phone that registered meanwhile is
reached, and a line whose phone is gone still takes its unreachable forward, because
FreeSWITCH's own answer (USER_NOT_REGISTERED) decides.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from centrex.db import make_session_factory
from provisioning import user_settings
from provisioning.models import LineState, User
from tests.conftest import apply_raw, demo_document
from tests.e2e.conftest import DOMAIN, Centrex, Node
from tests.e2e.test_freeswitch import call, phone, phone_saw, registered, unregister

pytestmark = pytest.mark.e2e


@contextmanager
def stale_state(centrex: Centrex, extension: str, *, registered: bool) -> Iterator[None]:
    """The line's live state as a stopped listener left it."""
    with centrex.engine.begin() as conn:
        user_id = conn.scalar(select(User.id).where(User.extension == extension))
        conn.execute(LineState.__table__.delete().where(LineState.user_id == user_id))
        conn.execute(
            LineState.__table__.insert().values(
                user_id=user_id, active_calls=0, registered=registered
            )
        )
    try:
        yield
    finally:
        with centrex.engine.begin() as conn:
            conn.execute(LineState.__table__.delete().where(LineState.user_id == user_id))


@contextmanager
def call_handling(centrex: Centrex, extension: str, settings: dict) -> Iterator[None]:
    sessions = make_session_factory(centrex.engine)

    def patch(value: dict | None) -> None:
        with sessions.begin() as session:
            user_settings.patch_user(
                session, DOMAIN, extension, {"call_handling": value}, version=None
            )

    patch(settings)
    try:
        yield
    finally:
        patch(None)


def test_a_phone_registered_while_the_listener_was_away_is_reached(
    centrex: Centrex, freeswitch: Node
):
    # The listener last saw 1000 without a phone, then stopped; the phone registers.
    with stale_state(centrex, "1000", registered=False):
        uas = phone(freeswitch, "1000", 200)
        result = call(freeswitch, "1001", "1000", expect=200)
        assert result.returncode == 0, result.stdout.decode()[-2000:]
        assert phone_saw(freeswitch, uas, "phone-1000-200", "BYE sip:")
        unregister(freeswitch, "1000")


def test_a_phone_gone_while_the_listener_was_away_takes_the_unreachable_forward(
    centrex: Centrex, freeswitch: Node
):
    # The listener last saw 1002 registered; no phone is there now. Its forward when
    # unreachable goes to 1001, whose phone answers.
    assert not registered(freeswitch, "1002")
    with (
        stale_state(centrex, "1002", registered=True),
        call_handling(centrex, "1002", {"forward_unreachable": {"to": "1001"}}),
    ):
        uas = phone(freeswitch, "1001", 200)
        result = call(freeswitch, "1000", "1002", expect=200)
        assert result.returncode == 0, result.stdout.decode()[-2000:]
        assert phone_saw(freeswitch, uas, "phone-1001-200", "BYE sip:")
        unregister(freeswitch, "1001")


def test_an_unregistered_line_without_forward_or_voicemail_is_refused(
    centrex: Centrex, freeswitch: Node
):
    # 1002 has no voicemail: the unreachable handling ends in a tone and 480.
    with stale_state(centrex, "1002", registered=True):
        result = call(freeswitch, "1000", "1002", expect=480)
        assert result.returncode == 0, result.stdout.decode()[-2000:]


@contextmanager
def group_of_1000(centrex: Centrex) -> Iterator[None]:
    """The demo tenant with a hunt group 5000 whose only member is 1000."""
    raw = demo_document(DOMAIN)
    raw["gateway"] = {
        "proxy": f"127.0.0.1:{os.environ['CENTREX_E2E_CARRIER_PORT']}",
        "username": "trunk",
    }
    raw["groups"] = [{"name": "Desk", "extension": "5000", "members": ["1000"]}]
    apply_raw(centrex.engine, raw)
    try:
        yield
    finally:
        del raw["groups"]
        apply_raw(centrex.engine, raw)


def test_a_group_member_registered_while_the_listener_was_away_is_rung(
    centrex: Centrex, freeswitch: Node
):
    with group_of_1000(centrex), stale_state(centrex, "1000", registered=False):
        uas = phone(freeswitch, "1000", 200)
        result = call(freeswitch, "1001", "5000", expect=200)
        assert result.returncode == 0, result.stdout.decode()[-2000:]
        assert phone_saw(freeswitch, uas, "phone-1000-200", "BYE sip:")
        unregister(freeswitch, "1000")
