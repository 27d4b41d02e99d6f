"""Directed pickup: `**<extension>` takes the call ringing that colleague's phone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from esl.handlers import ChannelSeen, LineRef
from esl.store import LiveStore
from tests.integration.test_xmlcurl import actions, dialplan

DOMAIN = "127.0.0.1"
CALLER_LEG = "7a6a6962-0732-4d96-a8ed-e3d1c79f2ce5"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def ringing(engine, extension: str = "1000", answered: bool = False) -> None:
    leg = ChannelSeen(
        "fs1:8021",
        "906ba466-b677-4ff0-809d-24a010f8ea72",
        LineRef(extension, DOMAIN),
        "outbound",
        answered,
        False,
        "0612345678",
        "",
        NOW,
        CALLER_LEG,
    )
    LiveStore(engine).apply([leg], NOW)


NOTHING = [
    ("answer", None),
    ("playback", "ivr/ivr-no_user_response.wav"),
    ("hangup", "NORMAL_CLEARING"),
]


def test_a_ringing_colleague_s_call_is_intercepted(client, engine, demo_tenant):
    ringing(engine)
    # The captured request is placed by 1001, authenticated.
    assert actions(dialplan(client, "**1000")) == [
        ("set", "intercept_unanswered_only=true"),
        ("intercept", CALLER_LEG),
        *NOTHING,
    ]


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("nothing rings", "**1000"),
        ("answered", "**1000"),
        ("own line", "**1001"),
        ("not a line", "**4242"),
    ],
)
def test_nothing_to_pick_up_is_said_so(client, engine, demo_tenant, setup, code):
    if setup == "answered":
        ringing(engine, answered=True)
    if setup == "own line":
        ringing(engine, "1001")
    assert actions(dialplan(client, code)) == NOTHING


def test_calls_from_outside_cannot_pick_up(client, engine, demo_tenant):
    ringing(engine)
    assert [a for a, _ in actions(dialplan(client, "**1000", context="public"))] == ["hangup"]
