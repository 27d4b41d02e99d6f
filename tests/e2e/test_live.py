"""The event listener and the other live parts on a real FreeSWITCH: registrations and
calls followed over its event socket, lists it gives after a reconnect, presence it
accepts, call records it posts, queues it loads from Centrex's configuration.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import gevent
import pytest
from sqlalchemy import select

from centrex.config import Settings
from esl.listener import Listener
from provisioning.models import CallRecord, LineState, Registration, User
from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp
from tests.e2e.conftest import DOMAIN, ESL_PASSWORD, Centrex, Node, free_port, stop
from tests.e2e.test_freeswitch import PASSWORDS, call, phone, phone_saw, register, unregister

pytestmark = pytest.mark.e2e


def until(condition: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        gevent.sleep(0.05)
    return result


# Its tests apply tenants of their own: the plain demo tenant is put back after each.
pytestmark = pytest.mark.usefixtures("plain_demo_tenant")


@pytest.fixture
def listener(centrex: Centrex, freeswitch: Node) -> Iterator[Listener]:
    settings = Settings(
        database_url=centrex.settings.database_url,
        esl_nodes=(f"127.0.0.1:{freeswitch.esl_port}",),
        esl_password=ESL_PASSWORD,
    )
    listener = Listener(settings, centrex.engine, keys_every=3600, expire_every=3600)
    listener.start()
    until(lambda: listener.connected() and listener.idle())
    yield listener
    listener.stop()


def state(centrex: Centrex, extension: str) -> Any:
    with centrex.engine.connect() as conn:
        return conn.execute(select(LineState).join(User).where(User.extension == extension)).first()


def in_background(function: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking step (SIPp) in a thread, so that the listener keeps reading."""
    return gevent.get_hub().threadpool.apply(function, args)


def held_by_sofia(freeswitch: Node, extension: str) -> set[str]:
    """The Call-IDs of the extension's phones in sofia's own table."""
    listing = freeswitch.api("sofia status profile internal reg")
    found = re.findall(r"^Call-ID:\s*\t(.*)\nUser:\s*\t(.*)$", listing, flags=re.MULTILINE)
    return {call_id for call_id, user in found if user == f"{extension}@{DOMAIN}"}


def test_registrations_are_followed_and_listed_again_after_a_reconnect(
    centrex: Centrex, freeswitch: Node, listener: Listener
):
    """Two phones of 1002 register; while nobody listens one of them is flushed. A new
    listener stores what sofia holds, the other phone, where FreeSWITCH's core
    `registrations` table would give the last phone only, or the flushed one (sofia does
    not tell the core of a flush), or nothing yet (the core writes through a queue)."""
    of_1002 = select(Registration.call_id).join(User).where(User.extension == "1002")

    def stored() -> set[str]:
        with centrex.engine.connect() as conn:
            return set(conn.execute(of_1002).scalars())

    try:
        for _ in range(2):
            result = in_background(register, freeswitch, "1002", free_port(socket.SOCK_DGRAM))
            assert result.returncode == 0
        until(lambda: len(stored()) == 2)
        assert stored() == held_by_sofia(freeswitch, "1002")
        listener.stop()
        flushed, kept = sorted(stored())
        with centrex.engine.begin() as conn:
            conn.execute(Registration.__table__.delete())
        freeswitch.api(f"sofia profile internal flush_inbound_reg {flushed}")
        freeswitch.wait_for("sofia status profile internal reg", lambda out: flushed not in out)
        settings = Settings(
            esl_nodes=(f"127.0.0.1:{freeswitch.esl_port}",), esl_password=ESL_PASSWORD
        )
        again = Listener(settings, centrex.engine)
        again.start()
        try:
            until(lambda: again.connected() and again.idle())
            assert stored() == held_by_sofia(freeswitch, "1002") == {kept}
            assert state(centrex, "1002").registered
        finally:
            again.stop()
    finally:
        in_background(unregister, freeswitch, "1002")


def test_an_answered_call_is_followed_and_its_records_are_posted(
    centrex: Centrex, freeswitch: Node, listener: Listener
):
    uas = in_background(phone, freeswitch, "1000", 200)
    result = in_background(call, freeswitch, "1001", "1000", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert in_background(phone_saw, freeswitch, uas, "phone-1000-200", "BYE sip:")
    until(lambda: (s := state(centrex, "1000")) and s.last_call_end and not s.active_calls)

    def logged() -> dict[str, str]:
        with centrex.engine.connect() as conn:
            rows = conn.execute(
                select(User.extension, CallRecord.kind).join(User, CallRecord.user_id == User.id)
            ).all()
        return dict(rows)

    # mod_xml_cdr posts each leg when it ends, to /cdr.
    assert until(lambda: logged().get("1000") == "received" and logged())["1001"] == "placed"
    # The callee's leg was simply answered: its record was left unmade (process_cdr, set
    # by the leg when its bridge ended), and the caller's record alone tells both entries.
    freeswitch.wait_until_no_channels()
    with centrex.engine.connect() as conn:
        entries = conn.execute(
            select(User.extension, CallRecord.call_uuid, CallRecord.leg_uuid)
            .join(User, CallRecord.user_id == User.id)
            .where(User.extension.in_(["1000", "1001"]))
            .order_by(CallRecord.id.desc())
            .limit(2)
        ).all()
    assert {e.extension for e in entries} == {"1000", "1001"}
    assert all(e.leg_uuid == e.call_uuid for e in entries), entries
    in_background(unregister, freeswitch, "1000")


def test_keys_the_listener_lights_are_accepted(
    centrex: Centrex, freeswitch: Node, listener: Listener
):
    from esl import presence
    from esl.keys import Key

    (node,) = listener.nodes.values()
    for on in (True, False):
        node.sendevent("PRESENCE_IN", presence.key_presence(Key("dnd", "1001", DOMAIN), on))
        node.sendevent("PRESENCE_IN", presence.key_presence(Key("grp", "5000-1001", DOMAIN), on))


def test_a_phone_watching_a_colleague_s_dnd_key_sees_it_lit_then_put_out(
    centrex: Centrex, freeswitch: Node, listener: Listener
):
    """A BLF key on 1002's phone subscribed to `dnd+1001`: lit (a dialog `confirmed`) by
    the listener's answer to FreeSWITCH's probe while 1001 is in do-not-disturb, put out
    (`terminated`) once 1001 turns it off and the listener publishes the change."""

    def do_not_disturb(on: bool) -> None:
        raw = demo_document(DOMAIN)
        (user,) = [u for u in raw["users"] if u["extension"] == "1001"]
        user.setdefault("call_handling", {})["do_not_disturb"] = {"enabled": on}
        apply_raw(centrex.engine, raw)
        listener.refresh_keys()

    do_not_disturb(True)
    name = "blf-1002-dnd-1001"
    watching = subprocess.Popen(
        sipp.command(
            sipp.watcher("1002", DOMAIN, "dnd+1001", ["confirmed", "terminated"]),
            freeswitch.workdir,
            name,
            freeswitch.remote,
            port=free_port(socket.SOCK_DGRAM),
            user="1002",
            password=PASSWORDS["1002"],
            answer_notify=False,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    trace = freeswitch.workdir / f"{name}.messages"

    def seen(state: str) -> bool:
        return f"<state>{state}</state>" in (trace.read_text() if trace.exists() else "")

    try:
        until(lambda: seen("confirmed"))
        do_not_disturb(False)
        until(lambda: seen("terminated"))
        output, _ = in_background(watching.communicate, None, 20)
        assert watching.returncode == 0, output.decode()[-2000:]
    finally:
        stop(watching)


def test_queues_load_from_centrex_and_agents_are_set(centrex: Centrex, freeswitch: Node):
    raw = demo_document(DOMAIN)
    raw["gateway"] = {"proxy": "127.0.0.1:5999", "username": "trunk"}
    raw["queues"] = [{"name": "Support", "extension": "5100", "agents": ["1000", "1001"]}]
    apply_raw(centrex.engine, raw)
    queue = f"5100@{DOMAIN}"
    assert freeswitch.api(f"callcenter_config queue load {queue}").startswith("+OK")
    agents = freeswitch.api("callcenter_config agent list")
    assert f"1000@{DOMAIN}" in agents and f"1001@{DOMAIN}" in agents
    tiers = freeswitch.api(f"callcenter_config tier list {queue}")
    assert f"1000@{DOMAIN}" in tiers
    reply = freeswitch.api(f"callcenter_config agent set status 1000@{DOMAIN} 'Logged Out'")
    assert reply.startswith("+OK")
    assert "Logged Out" in freeswitch.api(f"callcenter_config agent get status 1000@{DOMAIN}")


def test_a_group_call_skips_a_busy_member_and_remembers_who_answered(
    centrex: Centrex, freeswitch: Node, listener: Listener
):
    from provisioning.models import HuntGroup

    raw = demo_document(DOMAIN)
    raw["gateway"] = {"proxy": "127.0.0.1:5999", "username": "trunk"}
    raw["groups"] = [
        {
            "name": "Sales",
            "extension": "5000",
            "members": ["1000", "1001"],
            "distribution": "cyclic",
            "rings": 2,
        }
    ]
    apply_raw(centrex.engine, raw)
    busy = in_background(phone, freeswitch, "1000", 486)
    answering = in_background(phone, freeswitch, "1001", 200)
    result = in_background(call, freeswitch, "1002", "5000", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert in_background(phone_saw, freeswitch, answering, "phone-1001-200", "BYE sip:")
    assert in_background(phone_saw, freeswitch, busy, "phone-1000-486", "SIP/2.0 486")

    def last_answerer() -> str | None:
        with centrex.engine.connect() as conn:
            return conn.scalar(
                select(User.extension).join(HuntGroup, HuntGroup.last_answerer_id == User.id)
            )

    assert until(last_answerer) == "1001"
    in_background(unregister, freeswitch, "1000")
    in_background(unregister, freeswitch, "1001")


def test_a_group_member_rings_exactly_its_rings_then_the_next_one_does(
    centrex: Centrex, freeswitch: Node
):
    raw = demo_document(DOMAIN)
    raw["gateway"] = {"proxy": "127.0.0.1:5999", "username": "trunk"}
    raw["groups"] = [
        {
            "name": "Desk",
            "extension": "5001",
            "members": ["1000", "1001"],
            "distribution": "hierarchical",
            "rings": 1,
        }
    ]
    apply_raw(centrex.engine, raw)
    silent = phone(freeswitch, "1000", 0)
    answering = phone(freeswitch, "1001", 200)
    started = time.monotonic()
    result = call(freeswitch, "1002", "5001", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, answering, "phone-1001-200", "BYE sip:")
    assert phone_saw(freeswitch, silent, "phone-1000-0", "CANCEL sip:")
    # One ring is 5 s: 1000 rang that long (leg_timeout), then 1001 answered at once.
    trace = (freeswitch.workdir / "phone-1001-200.messages").read_text()
    assert "INVITE sip:1001" in trace
    elapsed = time.monotonic() - started
    assert 5 <= elapsed < 15, elapsed
    unregister(freeswitch, "1000")
    unregister(freeswitch, "1001")


def test_a_queue_call_reaches_an_agent_and_else_overflows(centrex: Centrex, freeswitch: Node):
    raw = demo_document(DOMAIN)
    raw["gateway"] = {"proxy": "127.0.0.1:5999", "username": "trunk"}
    raw["queues"] = [
        {"name": "Desk", "extension": "5200", "agents": ["1000"], "wrap_up": 0},
        {
            "name": "Empty",
            "extension": "5201",
            "max_wait": 5,
            "overflow": {"voicemail": "1001"},
        },
    ]
    apply_raw(centrex.engine, raw)
    for queue in ("5200", "5201"):
        assert freeswitch.api(f"callcenter_config queue load {queue}@{DOMAIN}").startswith("+OK")
    agent = phone(freeswitch, "1000", 200)
    result = call(freeswitch, "1002", "5200", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, agent, "phone-1000-200", "BYE sip:")
    unregister(freeswitch, "1000")
    # Nobody answers the empty queue: after its 5 s the call goes to 1001's voicemail,
    # which answers (and hangs up, having no prompts to play).
    started = time.monotonic()
    result = call(freeswitch, "1002", "5201", 200, callee_hangs_up=True)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    # mod_callcenter counts the wait in whole seconds: up to one second early.
    assert time.monotonic() - started >= 4
    log = (freeswitch.workdir / "log" / "freeswitch.log").read_text()
    (waited,) = [
        line.split()[0] for line in log.splitlines() if f"callcenter(5201@{DOMAIN})" in line
    ]
    assert (
        f"{waited} EXECUTE [depth=0] sofia/internal/1002@{DOMAIN} voicemail(default {DOMAIN} 1001)"
        in log
    )


def test_a_group_hands_its_call_to_a_member_s_own_forward(centrex: Centrex, freeswitch: Node):
    raw = demo_document(DOMAIN)
    raw["gateway"] = {"proxy": "127.0.0.1:5999", "username": "trunk"}
    raw["users"][0]["call_handling"] = {"forward_always": {"to": "1001"}}
    raw["groups"] = [
        {
            "name": "Own",
            "extension": "5300",
            "members": ["1000"],
            "members_call_handling": True,
            "rings": 2,
        }
    ]
    apply_raw(centrex.engine, raw)
    colleague = phone(freeswitch, "1001", 200)
    result = call(freeswitch, "1002", "5300", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, colleague, "phone-1001-200", "BYE sip:")
    unregister(freeswitch, "1001")
