"""Star codes dialled from a phone on a real FreeSWITCH: the forward is set and calls
follow it (to the carrier, or to a colleague), turned off calls ring the user again; a
barred number is refused; do-not-disturb lights the colleagues' BLF key."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import wave
from collections.abc import Iterator
from typing import Any

import gevent
import pytest
from sqlalchemy import select

from centrex.config import Settings
from esl.listener import Listener
from provisioning.models import User
from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp
from tests.e2e.conftest import DOMAIN, ESL_PASSWORD, Centrex, Node, free_port, stop
from tests.e2e.test_freeswitch import PASSWORDS, call, phone, phone_saw, unregister
from xmlcurl import fsnames as fs

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo(centrex: Centrex, freeswitch: Node) -> Iterator[None]:
    """The demo tenant as the session started it (trunk to the SIPp carrier), before
    and after: the codes change 1001's settings."""

    def reset() -> None:
        raw = demo_document(DOMAIN)
        port = os.environ["CENTREX_E2E_CARRIER_PORT"]
        raw["gateway"] = {"proxy": f"127.0.0.1:{port}", "username": "trunk"}
        apply_raw(centrex.engine, raw)

    reset()
    yield
    reset()


def call_handling(centrex: Centrex, extension: str = "1001") -> dict[str, Any]:
    with centrex.engine.connect() as conn:
        stored = conn.scalar(select(User.call_handling).where(User.extension == extension))
    return dict(stored or {})


def dial_code(node: Node, caller: str, code: str) -> None:
    """Dial a star code: FreeSWITCH answers, confirms (no prompts installed here: the
    playback ends at once) and hangs up."""
    result = call(node, caller, code, 200, callee_hangs_up=True)
    assert result.returncode == 0, result.stdout.decode()[-2000:]


def carrier(node: Node, name: str) -> subprocess.Popen[bytes]:
    """The carrier answering the next call; its SIP trace is `<name>.messages`."""
    port = int(os.environ["CENTREX_E2E_CARRIER_PORT"])
    return subprocess.Popen(
        sipp.command(sipp.phone(200), node.workdir, name, node.remote, port=port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_forward_always_set_by_code_sends_calls_out_then_off_rings_the_user_again(
    centrex: Centrex, freeswitch: Node, demo: None
):
    freeswitch.wait_for("sofia status gateway", lambda out: DOMAIN in out)
    dial_code(freeswitch, "1001", "*720612345678")
    assert call_handling(centrex)["forward_always"] == {"to": "+33612345678"}

    # 1000 calls Alice: the carrier gets the call, for the forward's number.
    outside = carrier(freeswitch, "carrier-forward")
    result = call(freeswitch, "1000", "1001", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, outside, "carrier-forward", "BYE sip:")
    received = (freeswitch.workdir / "carrier-forward.messages").read_text()
    assert "INVITE sip:+33612345678@" in received

    dial_code(freeswitch, "1001", "*73")
    assert "forward_always" not in call_handling(centrex)
    alice = phone(freeswitch, "1001", 200)
    result = call(freeswitch, "1000", "1001", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, alice, "phone-1001-200", "BYE sip:")
    unregister(freeswitch, "1001")


def test_forward_to_a_colleague_set_by_code_rings_the_colleague(
    centrex: Centrex, freeswitch: Node, demo: None
):
    dial_code(freeswitch, "1001", "*721002")
    bob = phone(freeswitch, "1002", 200)
    result = call(freeswitch, "1000", "1001", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, bob, "phone-1002-200", "BYE sip:")
    unregister(freeswitch, "1002")


def test_the_code_alone_asks_and_with_nothing_typed_reuses_the_last_number(
    centrex: Centrex, freeswitch: Node, demo: None
):
    """play_and_get_digits collects nothing (SIPp types nothing: 10 s), the transfer
    hunts `*72` again with the mark, and the number set before `*73` comes back."""
    dial_code(freeswitch, "1001", "*721002")
    dial_code(freeswitch, "1001", "*73")
    assert "forward_always" not in call_handling(centrex)
    dial_code(freeswitch, "1001", "*72")
    assert call_handling(centrex)["forward_always"] == {"to": "1002"}


def typing_call(caller: str, destination: str, keys: str) -> str:
    """`sipp.call` answered, then `keys` typed (SIP INFO dtmf-relay, which sofia turns
    into DTMF), then the far end's BYE awaited."""
    scenario = sipp.call(caller, DOMAIN, destination, expect=200, callee_hangs_up=True)
    steps = ['<pause milliseconds="1000"/>']
    for cseq, key in enumerate(keys, start=3):
        info = "\n".join(
            [
                "INFO [next_url] SIP/2.0",
                "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
                f"From: <sip:{caller}@{DOMAIN}>;tag=[pid]uac[call_number]",
                "[last_To:]",
                "Call-ID: [call_id]",
                f"CSeq: {cseq} INFO",
                "Max-Forwards: 70",
                "Content-Type: application/dtmf-relay",
                "Content-Length: [len]",
                "",
                f"Signal={key}",
                "Duration=160",
            ]
        )
        steps += [
            f'<send retrans="500"><![CDATA[\n{info}\n]]></send>',
            '<recv response="200"/>',
        ]
    awaited = '<recv request="BYE"/>'
    return scenario.replace(awaited, "\n".join([*steps, awaited]), 1)


def install_prompt(node: Node, sound: str, seconds: float = 3.0) -> None:
    """A silent prompt where FreeSWITCH looks for `sound` (this build has no sound
    files; play_and_get_digits ends at once when its prompt is missing)."""
    path = node.workdir / "sounds" / "en" / "us" / "callie" / sound
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))


def test_the_code_alone_takes_the_number_typed_on_the_keypad(
    centrex: Centrex, freeswitch: Node, demo: None
):
    install_prompt(freeswitch, fs.PROMPT_ENTER_NUMBER)
    argv = sipp.command(
        typing_call("1001", "*72", "1002#"),
        freeswitch.workdir,
        "typing-1001",
        freeswitch.remote,
        port=free_port(socket.SOCK_DGRAM),
        user="1001",
        password=PASSWORDS["1001"],
        timeout=60,
    )
    result = sipp.run(argv, timeout=80)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert call_handling(centrex)["forward_always"] == {"to": "1002"}


@pytest.mark.parametrize(
    ("dialled", "withheld"),
    # Phones send `#` escaped in the Request-URI (RFC 3261: not allowed in a user part).
    [("%2331%230612345678", True), ("0612345678", False)],
)
def test_the_withhold_code_keeps_the_number_from_that_call_only(
    centrex: Centrex, freeswitch: Node, demo: None, dialled: str, withheld: bool
):
    freeswitch.wait_for("sofia status gateway", lambda out: DOMAIN in out)
    name = f"carrier-{'withheld' if withheld else 'shown'}"
    outside = carrier(freeswitch, name)
    result = call(freeswitch, "1001", dialled, 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, outside, name, "BYE sip:")
    invite = (freeswitch.workdir / f"{name}.messages").read_text()
    invite = invite[invite.index("INVITE sip:+33612345678@") :]
    from_header = next(line for line in invite.splitlines() if line.startswith("From:"))
    # Alice's public number shown, or kept from the called party (anonymous From).
    assert ("+33184800101" in from_header) is not withheld
    assert ("anonymous" in from_header.lower()) is withheld


def test_a_barred_forward_number_is_refused_and_nothing_changes(
    centrex: Centrex, freeswitch: Node, demo: None
):
    before = call_handling(centrex)
    # International: Alice may call national numbers only. An error tone in early
    # media, then the refusal (CALL_REJECTED: 603).
    result = call(freeswitch, "1001", "*7200442071234567", 603)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert call_handling(centrex) == before


def test_do_not_disturb_by_code_lights_the_colleagues_key(
    centrex: Centrex, freeswitch: Node, demo: None
):
    settings = Settings(
        database_url=centrex.settings.database_url,
        esl_nodes=(f"127.0.0.1:{freeswitch.esl_port}",),
        esl_password=ESL_PASSWORD,
    )
    # Keys follow the database every second here (every 5 s by default).
    listener = Listener(settings, centrex.engine, keys_every=1.0, expire_every=3600)
    listener.start()
    name = "blf-1002-dnd-1001-code"
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
        deadline = time.monotonic() + 20
        while f"<state>{state}</state>" not in (trace.read_text() if trace.exists() else ""):
            if time.monotonic() > deadline:
                return False
            listener_sleep(0.1)
        return True

    try:
        listener_sleep(1.0)  # subscribed before the change
        in_thread(dial_code, freeswitch, "1001", "*78")
        assert call_handling(centrex)["do_not_disturb"] == {}
        assert seen("confirmed")
        in_thread(dial_code, freeswitch, "1001", "*79")
        assert seen("terminated")
    finally:
        stop(watching)
        listener.stop()


def listener_sleep(seconds: float) -> None:
    """Sleep letting the listener's greenlets run (it runs on gevent)."""
    gevent.sleep(seconds)


def in_thread(function: Any, *args: Any) -> Any:
    """A blocking step (SIPp) in a thread, so that the listener keeps running."""
    return gevent.get_hub().threadpool.apply(function, args)
