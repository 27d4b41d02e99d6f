"""The listener against a FreeSWITCH event socket speaking the real wire protocol.

The fake runs on OS threads; the listener on gevent in this thread. Waiting on the
fake happens in gevent's thread pool so the listener keeps running meanwhile, and the
tests wait for states, never for a fixed time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest
from sqlalchemy import select

from centrex.config import Settings
from centrex.db import make_session_factory
from esl.listener import Listener
from esl.switch import SwitchError
from provisioning.models import LineState, Registration, User
from tests.conftest import apply_raw, demo_document
from tests.fakes.freeswitch import FakeFreeSWITCH

DOMAIN = "127.0.0.1"


def in_thread(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return gevent.get_hub().threadpool.apply(function, args, kwargs)


def until(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        gevent.sleep(0.005)
    return result


@pytest.fixture
def fake() -> Iterator[FakeFreeSWITCH]:
    with FakeFreeSWITCH("s3cret") as server:
        yield server


@pytest.fixture
def listener(engine, fake: FakeFreeSWITCH) -> Iterator[Listener]:
    raw = demo_document()
    raw["users"][2]["call_handling"] = {"do_not_disturb": {}}
    apply_raw(engine, raw)
    settings = Settings(esl_nodes=(f"127.0.0.1:{fake.port}",), esl_password="s3cret")
    listener = Listener(
        settings, engine, timeout=1.0, backoff=(0.02, 0.1), keys_every=3600, expire_every=3600
    )
    listener.start()
    yield listener
    listener.stop()


def node(listener: Listener):
    (connection,) = listener.nodes.values()
    return connection


def settled(listener: Listener) -> bool:
    return node(listener).connected.is_set() and listener.idle()


def line(engine, extension: str) -> LineState | None:
    with engine.connect() as conn:
        return conn.execute(select(LineState).join(User).where(User.extension == extension)).first()


def phone_call(fake: FakeFreeSWITCH, caller: str, callee: str) -> tuple[str, str]:
    """Caller's phone calls callee's phone: the leg from the caller, then the one to the callee."""
    a_leg = fake.create_channel(
        direction="inbound",
        caller=caller,
        destination=callee,
        variables={"user_name": caller, "domain_name": DOMAIN},
    )
    b_leg = fake.create_channel(
        direction="outbound",
        caller=caller,
        destination=callee,
        variables={"dialed_user": callee, "dialed_domain": DOMAIN},
    )
    return a_leg, b_leg


def test_connects_lists_the_node_and_follows_registrations(engine, fake, listener):
    until(lambda: settled(listener))
    fake.register("1000", DOMAIN, user_agent="Yealink SIP-T54W")
    until(lambda: (state := line(engine, "1000")) and state.registered)
    with engine.connect() as conn:
        assert conn.scalar(select(Registration.user_agent)) == "Yealink SIP-T54W"
    subscribed = in_thread(fake.wait_for_subscription, "sofia::register")
    assert subscribed


def test_ringing_answered_and_ended_calls(engine, fake, listener):
    until(lambda: settled(listener))
    a_leg, b_leg = phone_call(fake, "1001", "1000")
    until(lambda: (s := line(engine, "1000")) and s.ringing_calls == 1)
    assert line(engine, "1001").active_calls == 1
    fake.answer_channel(b_leg)
    fake.answer_channel(a_leg)
    until(lambda: line(engine, "1000").ringing_calls == 0)
    assert line(engine, "1000").active_calls == 1
    fake.hangup_channel(b_leg)
    fake.hangup_channel(a_leg)
    until(lambda: line(engine, "1000").active_calls == 0 and line(engine, "1001").active_calls == 0)
    assert line(engine, "1000").last_call_end is not None


def test_after_a_crash_the_restarted_node_is_listed_again(engine, fake, listener):
    until(lambda: settled(listener))
    fake.register("1000", DOMAIN)
    phone_call(fake, "1001", "1000")
    until(lambda: (s := line(engine, "1000")) and s.registered and s.active_calls == 1)
    first = node(listener).connections

    fake.kill(mid_frame=True)
    until(lambda: not node(listener).connected.is_set())
    # While it was down the phone went away; the restarted node has no calls.
    fake.registrations.clear()
    fake.restart()
    until(lambda: node(listener).connections > first and settled(listener))
    until(lambda: line(engine, "1000").registered is False)
    assert line(engine, "1000").active_calls == 0
    assert line(engine, "1001").active_calls == 0


def test_a_command_without_reply_fails_in_time_and_the_socket_recovers(fake, listener):
    until(lambda: settled(listener))
    fake.on_api("status", None)  # never answers
    connection = node(listener)
    first = connection.connections
    started = time.monotonic()
    with pytest.raises(SwitchError):
        connection.api("status", timeout=0.2)
    assert time.monotonic() - started < 1.0
    # Replies are matched in order, so the socket was dropped and opened again.
    until(lambda: connection.connections > first and connection.connected.is_set())
    fake.on_api("version", "FreeSWITCH Version 1.10.12-release")
    assert connection.api("version").startswith("FreeSWITCH Version 1.10.12")


def test_dnd_keys_are_answered_when_phones_subscribe(fake, listener):
    until(lambda: settled(listener))
    fake.emit(
        fake.event_headers(
            "PRESENCE_PROBE",
            [
                ("proto", "dnd"),
                ("from", f"1000@{DOMAIN}"),
                ("to", f"dnd+1002@{DOMAIN}"),
                ("probe-type", "dialog"),
            ],
        )
    )
    sent = in_thread(
        fake.wait_for_command,
        lambda c: c.name == "sendevent" and c.header("from") == f"1002@{DOMAIN}",
    )
    assert sent.args == "PRESENCE_IN"
    assert (sent.header("proto"), sent.header("answer-state")) == ("dnd", "confirmed")
    assert sent.header("unique-id").startswith("centrex-dnd-")


def test_changed_dnd_settings_light_and_put_out_keys(engine, fake, listener):
    until(lambda: settled(listener))
    listener.refresh_keys()
    lit = in_thread(
        fake.wait_for_command,
        lambda c: c.name == "sendevent" and c.header("from") == f"1002@{DOMAIN}",
    )
    assert lit.header("answer-state") == "confirmed"
    apply_raw(engine, demo_document())  # DND off again
    listener.refresh_keys()
    out = in_thread(
        fake.wait_for_command,
        lambda c: (
            c.name == "sendevent"
            and c.header("from") == f"1002@{DOMAIN}"
            and c.header("answer-state") == "terminated"
        ),
    )
    assert out.header("proto") == "dnd"


def test_a_forged_header_in_a_caller_name_changes_nobody(engine, fake, listener):
    until(lambda: settled(listener))
    fake.create_channel(
        direction="inbound",
        caller="0612345678",
        caller_name="Eve\nvariable_user_name: 1002",
        destination="1000",
        variables={"domain_name": DOMAIN},
    )
    fake.register("1000", DOMAIN)  # something that does change state, to wait for
    until(lambda: (s := line(engine, "1000")) and s.registered)
    state = line(engine, "1002")
    assert state is None or state.active_calls == 0


def test_an_event_read_wrong_costs_only_itself_not_its_stretch(engine, fake, listener, monkeypatch):
    """A fault reading one event raised out of the whole stretch (up to 500 events of
    every node): the hang-ups beside it were lost and both lines stayed busy."""
    from esl import listener as listening

    read = listening.changes

    def changes(event, node, now):
        if event.get("Caller-Caller-ID-Name") == "Unreadable":
            raise ValueError("read wrong")
        return read(event, node, now)

    until(lambda: settled(listener))
    a_leg, b_leg = phone_call(fake, "1001", "1000")
    until(lambda: (s := line(engine, "1000")) and s.ringing_calls == 1)
    monkeypatch.setattr(listening, "changes", changes)
    fake.hangup_channel(b_leg)
    fake.create_channel(
        direction="inbound", caller="0612345678", caller_name="Unreadable", destination="1002"
    )
    fake.hangup_channel(a_leg)
    until(lambda: line(engine, "1000").active_calls == 0 and line(engine, "1001").active_calls == 0)


def test_uploaded_hold_music_is_started_on_the_node_and_again_after_a_restart(
    engine, fake, listener
):
    from esl.service import HoldMusic
    from provisioning.media import MUSIC, media_path
    from provisioning.models import Media, Tenant

    with engine.begin() as conn:
        tenant_id = conn.scalar(select(Tenant.id).where(Tenant.domain == DOMAIN))
        conn.execute(
            Media.__table__.insert().values(
                tenant_id=tenant_id,
                kind=MUSIC,
                name="jazz",
                path=media_path(DOMAIN, MUSIC, "jazz"),
                duration_ms=1000,
                size=100,
            )
        )
    fake.on_api("local_stream start centrex/127.0.0.1/jazz", "+OK stream started\n")
    fake.on_api("local_stream start centrex/127.0.0.1/jazz/8000", "+OK stream started\n")
    until(lambda: settled(listener))
    start = HoldMusic("/srv/media")

    def starts() -> list[str]:
        return [c.args for c in fake.commands if c.args.startswith("local_stream start")]

    start(listener)
    assert starts() == [
        "local_stream start centrex/127.0.0.1/jazz",
        "local_stream start centrex/127.0.0.1/jazz/8000",
    ]
    start(listener)  # nothing new
    assert len(starts()) == 2
    first = node(listener).connections
    fake.restart()
    until(lambda: node(listener).connections > first and settled(listener))
    start(listener)
    assert len(starts()) == 4


def test_background_job_results_reach_their_handler(engine, fake):
    apply_raw(engine, demo_document())
    results: list[tuple[str, str]] = []
    settings = Settings(esl_nodes=(f"127.0.0.1:{fake.port}",), esl_password="s3cret")
    listener = Listener(
        settings,
        engine,
        backoff=(0.02, 0.1),
        on_job_done=lambda _l, event: results.append((event.get("Job-UUID"), event.body)),
    )
    listener.start()
    try:
        until(lambda: settled(listener))
        fake.on_api("originate user/1000@127.0.0.1 &park()", "-ERR NO_ANSWER\n")
        job = "0b4ef5a3-5a0e-4a39-9a43-6f2f1b1f0c11"
        reply = node(listener).api(f"bgapi uuid:{job} originate user/1000@127.0.0.1 &park()")
        assert reply.strip() == f"+OK Job-UUID: {job}"
        until(lambda: results)
        assert results == [(job, "-ERR NO_ANSWER\n")]
    finally:
        listener.stop()


def test_changed_and_new_trunks_are_loaded_on_each_node(engine, fake, listener):
    from esl.service import Trunks

    until(lambda: settled(listener))
    fake.on_api("sofia", "+OK\n")
    trunks = Trunks()
    trunks(listener)  # what the node loaded when it started

    def sofia() -> list[str]:
        # The node's listing (`sofia xmlstatus`, `sofia status …`) is not a load.
        return [c.args for c in fake.commands if c.args.startswith("sofia profile ")]

    trunks(listener)
    assert sofia() == []
    raw = demo_document()
    raw["gateway"] = {**raw["gateway"], "proxy": "sip2.carrier.example"}
    apply_raw(engine, raw)
    other = {"domain": "b.example", "name": "B", "timezone": "UTC", "country": "FR"}
    apply_raw(engine, {**other, "gateway": {"proxy": "sip.b.example"}})
    trunks(listener)
    assert sofia() == [
        f"sofia profile external killgw {DOMAIN}",
        "sofia profile external rescan",
    ]
    trunks(listener)
    assert len(sofia()) == 2


def test_group_log_in_keys_follow_members(engine, fake, listener):
    from provisioning.groups import set_logged_in

    raw = demo_document()
    raw["groups"] = [{"name": "Sales", "extension": "5000", "members": ["1000", "1001"]}]
    apply_raw(engine, raw)
    until(lambda: settled(listener))
    listener.refresh_keys()

    def lamps() -> dict[str, str]:
        sent = [c for c in fake.commands if c.name == "sendevent" and c.header("proto") == "grp"]
        return {c.header("from"): c.header("answer-state") for c in sent}

    # Presence is sent without waiting for the node's replies: wait for it to arrive.
    until(
        lambda: (
            lamps()
            == {
                f"5000@{DOMAIN}": "confirmed",
                f"5000-1000@{DOMAIN}": "confirmed",
                f"5000-1001@{DOMAIN}": "confirmed",
            }
        )
    )
    for member in ("1000", "1001"):
        with make_session_factory(engine).begin() as session:
            set_logged_in(session, DOMAIN, "Sales", member, False)
    listener.refresh_keys()
    until(
        lambda: (
            lamps()
            == {
                f"5000@{DOMAIN}": "terminated",
                f"5000-1000@{DOMAIN}": "terminated",
                f"5000-1001@{DOMAIN}": "terminated",
            }
        )
    )
    # A phone subscribing later is answered with the state now.
    fake.emit(
        fake.event_headers(
            "PRESENCE_PROBE",
            [("proto", "grp"), ("from", f"1001@{DOMAIN}"), ("to", f"grp+5000-1001@{DOMAIN}")],
        )
    )
    sent = in_thread(
        fake.wait_for_commands,
        lambda c: c.name == "sendevent" and c.header("from") == f"5000-1001@{DOMAIN}",
        3,
    )
    assert sent[-1].header("answer-state") == "terminated"


def test_a_stretch_ends_once_full_a_lone_event_waits_for_its_end(engine, fake):
    apply_raw(engine, demo_document())
    settings = Settings(esl_nodes=(f"127.0.0.1:{fake.port}",), esl_password="s3cret")
    listener = Listener(
        settings,
        engine,
        timeout=1.0,
        backoff=(0.02, 0.1),
        keys_every=3600,
        expire_every=3600,
        stretch=1.5,
        full_stretch=2,
    )
    listener.start()
    try:
        until(lambda: settled(listener), timeout=10)
        gevent.sleep(1.6)  # the listing's stretch is over
        a_leg = fake.create_channel(
            ringing=False,  # one event each
            direction="inbound",
            caller="1001",
            destination="1000",
            variables={"user_name": "1001", "domain_name": DOMAIN},
        )
        until(lambda: (s := line(engine, "1001")) and s.active_calls == 1, timeout=1.0)
        # A stretch has begun: the next leg waits in it...
        gevent.sleep(0.2)
        b_leg = fake.create_channel(
            ringing=False,
            direction="outbound",
            caller="1001",
            destination="1000",
            variables={"dialed_user": "1000", "dialed_domain": DOMAIN},
        )
        gevent.sleep(0.2)
        assert line(engine, "1000") is None or line(engine, "1000").ringing_calls == 0
        # ...until the answers fill the stretch: written then, not when it ends.
        sent = time.monotonic()
        fake.answer_channel(b_leg)
        fake.answer_channel(a_leg)
        until(lambda: (s := line(engine, "1000")) and s.active_calls == 1, timeout=5)
        assert time.monotonic() - sent < 0.8
        # An event alone in a stretch waits for its end.
        gevent.sleep(0.2)
        sent = time.monotonic()
        fake.register("1000", DOMAIN)
        gevent.sleep(0.5)
        assert not line(engine, "1000").registered
        until(lambda: line(engine, "1000").registered, timeout=5)
        assert 0.5 < time.monotonic() - sent < 2.5
    finally:
        listener.stop()
