"""Live state written from the captured events, as every Centrex server reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from esl.handlers import ChannelSeen, LineRef, Registered, changes
from esl.store import LiveStore
from provisioning.models import Channel, LineState, Registration, User
from tests.esl_capture import captured_events

NODE = "fs1:8021"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def line_states(engine) -> dict[str, tuple[int, int, bool | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                User.extension,
                LineState.active_calls,
                LineState.ringing_calls,
                LineState.registered,
            ).join(LineState, LineState.user_id == User.id)
        )
        return {ext: (active, ringing, registered) for ext, active, ringing, registered in rows}


def test_the_capture_leaves_lines_idle_and_the_phone_registered(engine, demo_tenant):
    store = LiveStore(engine)
    busy_seen = False
    for event in captured_events():
        statuses = store.apply(changes(event, NODE, NOW), NOW)
        busy_seen |= any(s.line.extension == "1001" and s.state == "busy" for s in statuses)
    assert busy_seen
    states = line_states(engine)
    assert states["1000"] == (0, 0, True)
    assert states["1001"] == (0, 0, False)
    with engine.connect() as conn:
        assert conn.scalar(select(Channel.uuid)) is None
        ended = conn.scalar(
            select(LineState.last_call_end).join(User).where(User.extension == "1001")
        )
    assert ended is not None


def test_ringing_then_answered(engine, demo_tenant):
    store = LiveStore(engine)
    line = LineRef("1000", "127.0.0.1")
    ringing = ChannelSeen(NODE, "u1", line, "outbound", False, False, "1001", "Bob", NOW)
    (status,) = store.apply([ringing], NOW)
    assert (status.state, status.ringing_calls) == ("ringing", 1)
    answered = ChannelSeen(NODE, "u1", None, "outbound", True, False, "1001", "Bob", NOW)
    (status,) = store.apply([answered], NOW)
    assert status.state == "busy"
    assert line_states(engine)["1000"][:2] == (1, 0)


def test_unknown_lines_and_tenants_are_ignored(engine, demo_tenant):
    store = LiveStore(engine)
    stranger = LineRef("1000", "other.example")
    assert (
        store.apply([ChannelSeen(NODE, "u9", stranger, "inbound", True, False, "", "", NOW)], NOW)
        == []
    )
    assert (
        store.apply([ChannelSeen(NODE, "u8", None, "inbound", True, False, "", "", NOW)], NOW) == []
    )


def test_a_node_listing_replaces_what_was_known_of_it(engine, demo_tenant):
    store = LiveStore(engine)
    line = LineRef("1000", "127.0.0.1")
    later = NOW + timedelta(hours=1)
    stale = [
        Registered(NODE, "old", line, "", "", "", 0, later),
        ChannelSeen(NODE, "gone", line, "inbound", True, False, "", "", NOW),
        ChannelSeen("fs2:8021", "elsewhere", line, "outbound", True, False, "", "", NOW),
    ]
    store.apply(stale, NOW)
    assert line_states(engine)["1000"] == (2, 0, True)
    store.replace_node(NODE, [Registered(NODE, "new", line, "", "", "", 0, later)], [], NOW)
    with engine.connect() as conn:
        assert set(conn.scalars(select(Registration.call_id))) == {"new"}
        assert set(conn.scalars(select(Channel.uuid))) == {"elsewhere"}
    assert line_states(engine)["1000"] == (1, 0, True)


def test_expired_registrations_make_the_line_unreachable(engine, demo_tenant):
    store = LiveStore(engine)
    line = LineRef("1002", "127.0.0.1")
    store.apply([Registered(NODE, "c", line, "", "", "", 0, NOW + timedelta(seconds=60))], NOW)
    assert line_states(engine)["1002"][2] is True
    assert store.expire(NOW) == []
    (status,) = store.expire(NOW + timedelta(seconds=61))
    assert status.registered is False
    assert line_states(engine)["1002"][2] is False


def test_a_listing_longer_than_one_in_holds_is_written_whole(engine, demo_tenant, monkeypatch):
    """A node's listing names all its phones and legs at once: the lookups go by parts of
    at most _MOST_PLACES values (here 2), and none is left out."""
    monkeypatch.setattr("esl.store._MOST_PLACES", 2)
    store = LiveStore(engine)
    lines = [LineRef(extension, "127.0.0.1") for extension in ("1000", "1001", "1002")]
    phones = [
        Registered(
            NODE,
            f"call-{n}",
            line,
            f"<sip:{n}@10.0.0.{n}>",
            "",
            f"10.0.0.{n}",
            5060,
            NOW + timedelta(hours=1),
        )
        for n, line in enumerate(lines)
    ]
    legs = [
        ChannelSeen(NODE, f"leg-{n}", line, "inbound", True, False, "", "", NOW)
        for n, line in enumerate(lines * 2)
    ]
    try:
        statuses = store.replace_node(NODE, phones, legs, NOW)
        assert {s.line.extension: (s.active_calls, s.registered) for s in statuses} == {
            "1000": (2, True),
            "1001": (2, True),
            "1002": (2, True),
        }
        assert line_states(engine) == {e: (2, 0, True) for e in ("1000", "1001", "1002")}
        statuses = store.replace_node(NODE, [], [], NOW)  # the node restarted: all gone
        assert {s.line.extension: (s.active_calls, s.registered) for s in statuses} == {
            "1000": (0, False),
            "1001": (0, False),
            "1002": (0, False),
        }
    finally:
        store.close()
