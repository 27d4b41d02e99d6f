"""Conferences on a real FreeSWITCH: a meet-me room with its PIN (mod_conference asks
for it; DTMF sent as SIP INFO), and the ad-hoc conference a user opens with #3 during
a call and grows by calling someone else and pressing *3 again."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp, sipp_transfer
from tests.e2e.conftest import DOMAIN, Centrex, Node, free_port, stop
from tests.e2e.test_freeswitch import PASSWORDS, phone, unregister
from tests.e2e.test_transfers import (  # noqa: F401 (clean: a fixture)
    _carrier_call,
    _registered_phone,
    _wait_for_leg,
    clean,
)
from xmlcurl import fsnames as fs

pytestmark = pytest.mark.e2e

ROOM = f"meet-800-{DOMAIN}"
ADHOC_ROOM = f"adhoc-1000-{DOMAIN}"


@pytest.fixture(scope="module", autouse=True)
def rooms(centrex: Centrex) -> Iterator[None]:
    """The demo tenant with a room at 800 (PIN 4321), its trunk kept."""
    raw = demo_document(DOMAIN)
    raw["gateway"] = {
        "proxy": f"127.0.0.1:{os.environ['CENTREX_E2E_CARRIER_PORT']}",
        "username": "trunk",
    }
    raw["conferences"] = [{"name": "Weekly", "extension": "800", "pin": "4321"}]
    apply_raw(centrex.engine, raw)
    yield
    raw.pop("conferences")
    apply_raw(centrex.engine, raw)


def _message(*lines: str, body: str = "", content_type: str = "application/sdp") -> str:
    text = "\n".join(lines) + "\n"
    if body:
        text += f"Content-Type: {content_type}\nContent-Length: [len]\n\n{body}"
    else:
        text += "Content-Length: 0\n\n"
    return f"<![CDATA[\n{text}]]>"


def dtmf_call(
    caller: str,
    destination: str,
    digits: list[tuple[str, int]],
    hold_ms: int,
    audio: Path,
    cseq: int = 3,
) -> str:
    """INVITE `destination` as `caller` (digest auth), expect 200, send audio (RTP, as
    a phone does: a bridged channel handles what it is told between the frames it
    reads), then each DTMF digit as SIP INFO (application/dtmf-relay) after its pause
    in ms; hold the call `hold_ms`, and hang up — or, should FreeSWITCH hang up first,
    answer its BYE."""
    in_dialog = [
        "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
        f"From: <sip:{caller}@{DOMAIN}>;tag=[pid]uac[call_number]",
        "[last_To:]",
        "Call-ID: [call_id]",
    ]

    def invite(n: int, auth: bool) -> str:
        return _message(
            f"INVITE sip:{destination}@{DOMAIN} SIP/2.0",
            "Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]",
            f"From: <sip:{caller}@{DOMAIN}>;tag=[pid]uac[call_number]",
            f"To: <sip:{destination}@{DOMAIN}>",
            "Call-ID: [call_id]",
            f"CSeq: {n} INVITE",
            f"Contact: <sip:{caller}@[local_ip]:[local_port]>",
            *(["[authentication]"] if auth else []),
            "Max-Forwards: 70",
            body=sipp._SDP,
        )

    ack_407 = _message(
        f"ACK sip:{destination}@{DOMAIN} SIP/2.0",
        "[last_Via:]",
        "[last_From:]",
        "[last_To:]",
        "[last_Call-ID:]",
        "CSeq: 1 ACK",
        "Max-Forwards: 70",
    )
    steps = [
        f'<send retrans="500">{invite(1, False)}</send>',
        '<recv response="100" optional="true"/>',
        '<recv response="407" auth="true"/>',
        f"<send>{ack_407}</send>",
        f'<send retrans="500">{invite(2, True)}</send>',
        '<recv response="100" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="183" optional="true"/>',
        '<recv response="180" optional="true"/>',
        '<recv response="200" rrs="true"/>',
        "<send>"
        + _message("ACK [next_url] SIP/2.0", *in_dialog, "CSeq: 2 ACK", "Max-Forwards: 70")
        + "</send>",
        # Silence (PCMU), looped until the call ends.
        f'<nop><action><exec rtp_stream="{audio},-1,0"/></action></nop>',
    ]
    for digit, pause in digits:
        steps += [
            f'<pause milliseconds="{pause}"/>',
            '<send retrans="500">'
            + _message(
                "INFO [next_url] SIP/2.0",
                *in_dialog,
                f"CSeq: {cseq} INFO",
                "Max-Forwards: 70",
                body=f"Signal={digit}\nDuration=160\n",
                content_type="application/dtmf-relay",
            )
            + "</send>",
            '<recv response="200"/>',
        ]
        cseq += 1
    ok = _message(
        "SIP/2.0 200 OK", "[last_Via:]", "[last_From:]", "[last_To:]", "[last_Call-ID:]",
        "[last_CSeq:]",
    )  # fmt: skip
    steps += [
        # FreeSWITCH's BYE within hold_ms ends the call its way; else we hang up.
        f'<recv request="BYE" timeout="{hold_ms}" ontimeout="hangup" optional="false"/>',
        f'<send next="end">{ok}</send>',
        '<label id="hangup"/>',
        '<send retrans="500">'
        + _message("BYE [next_url] SIP/2.0", *in_dialog, f"CSeq: {cseq} BYE", "Max-Forwards: 70")
        + "</send>",
        '<recv response="200"/>',
        '<label id="end"/>',
    ]
    return (
        sipp._HEADER
        + f'<scenario name="{caller} calling {destination} with DTMF">\n'
        + "\n".join(steps)
        + "\n</scenario>\n"
    )


def start(
    node: Node,
    name: str,
    caller: str,
    destination: str,
    digits: list[tuple[str, int]],
    hold_ms: int,
) -> subprocess.Popen[bytes]:
    audio = node.workdir / "silence.ulaw"
    if not audio.exists():
        audio.write_bytes(b"\xff" * 8000)  # one second of PCMU silence
    argv = sipp.command(
        dtmf_call(caller, destination, digits, hold_ms, audio),
        node.workdir,
        name,
        node.remote,
        port=free_port(socket.SOCK_DGRAM),
        user=caller,
        password=PASSWORDS[caller],
        timeout=90,
    )
    # SIPp's own RTP port (its default, 6000, may be taken by another phone).
    argv += ["-mp", str(free_port(socket.SOCK_DGRAM))]
    return subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def members(node: Node, room: str) -> list[str]:
    """`conference <room> list`: one `id;channel;uuid;name;number;flags;…` line each."""
    out = node.api(f"conference {room} list")
    return [line for line in out.splitlines() if line.count(";") > 4]


def wait_members(node: Node, room: str, predicate, timeout: float = 45) -> list[str]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        found = members(node, room)
        if predicate(found):
            return found
        assert time.monotonic() < deadline, f"{room}: {found}"
        time.sleep(0.2)


def finished(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """The SIPp process ends its scenario successfully within `timeout` seconds."""
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, (output or b"").decode()[-3000:]


def pin(digits: str, first_pause: int = 1500) -> list[tuple[str, int]]:
    return [(d, first_pause if i == 0 else 150) for i, d in enumerate(digits)]


def test_callers_with_the_pin_meet_in_the_room_and_a_wrong_pin_does_not_get_in(freeswitch: Node):
    alice = start(freeswitch, "meet-1001", "1001", "800", pin("4321"), hold_ms=25000)
    bob = start(freeswitch, "meet-1002", "1002", "800", pin("4321"), hold_ms=25000)
    # Three wrong tries (mod_conference's pin-retries), then the room hangs up.
    wrong = pin("9999") + pin("8888", 2500) + pin("7777", 2500)
    intruder = start(freeswitch, "meet-1000", "1000", "800", wrong, hold_ms=40000)
    try:
        found = wait_members(freeswitch, ROOM, lambda m: len(m) >= 2)
        assert any("1001" in m for m in found) and any("1002" in m for m in found)
        # The intruder is hung up by FreeSWITCH (its BYE, long before hold_ms).
        began = time.monotonic()
        finished(intruder)
        assert time.monotonic() - began < 35
        trace = (freeswitch.workdir / "meet-1000.messages").read_text()
        assert "BYE sip:" in trace.split("Signal=7")[-1]
        assert not any("1000" in m.split(";")[1] for m in members(freeswitch, ROOM))
        assert len(members(freeswitch, ROOM)) == 2
    finally:
        for process in (alice, bob, intruder):
            stop(process)


def test_star_3_makes_a_call_a_conference_and_a_third_party_joins_it(freeswitch: Node):
    """1000 calls 1001 and presses #3: both are in 1000's ad-hoc room. 1000 then calls
    1002 (the first call held by the phone) and presses #3 again: 1002 joins. When
    1000's calls have both ended, the room ends and the others are hung up.

    (SIPp's phones send no audio, so a bridged channel may take seconds to act on the
    key: it handles what it is told between the frames it reads. Hence the waits.)"""
    alice = phone(freeswitch, "1001", 200)
    bob = phone(freeswitch, "1002", 200)
    star_3 = [("#", 2000), ("3", 150)]
    first = start(freeswitch, "adhoc-first", "1000", "1001", star_3, 120000)
    second = None
    try:
        found = wait_members(freeswitch, ADHOC_ROOM, lambda m: len(m) == 2)
        channels = " ".join(m.split(";")[1] for m in found)
        assert "/1000@" in channels and "/1001@" in channels, found
        second = start(freeswitch, "adhoc-second", "1000", "1002", star_3, 120000)
        found = wait_members(freeswitch, ADHOC_ROOM, lambda m: len(m) == 4)
        channels = " ".join(m.split(";")[1] for m in found)
        for user in ("1000", "1001", "1002"):
            assert f"/{user}@" in channels, found
        initiator = [m.split(";")[2] for m in found if "/1000@" in m.split(";")[1]]
        # One of 1000's calls ends: the room goes on with the other.
        assert freeswitch.api(f"uuid_kill {initiator[0]}").startswith("+OK")
        found = wait_members(freeswitch, ADHOC_ROOM, lambda m: len(m) == 3)
        assert sum("/1000@" in m.split(";")[1] for m in found) == 1
        # The other ends too: the room ends, and everyone in it is hung up.
        assert freeswitch.api(f"uuid_kill {initiator[1]}").startswith("+OK")
        wait_members(freeswitch, ADHOC_ROOM, lambda m: not m)
        for process in (first, second):
            finished(process, timeout=20)
        for process in (alice, bob):
            assert process.wait(timeout=20) == 0
    finally:
        for process in (first, second, alice, bob):
            if process is not None:
                stop(process)
        unregister(freeswitch, "1001")
        unregister(freeswitch, "1002")


def test_the_conference_key_on_a_received_call_makes_it_the_receiver_s_conference(
    freeswitch: Node,
    clean: list,  # noqa: F811 (the fixture)
) -> None:
    """An outside call rings 1000, who answers and presses #3 (RFC 2833 digits, injected
    as received on 1000's leg, its phone sending audio): the caller and 1000 are both
    in 1000's ad-hoc room."""
    audio = sipp_transfer.silence(freeswitch.workdir / "silence.pcap")
    reception = _registered_phone(
        freeswitch,
        "1000",
        sipp_transfer.held_phone("1000", DOMAIN, audio=str(audio)),
        "conference-key-1000",
    )
    clean.append(reception)
    caller = _carrier_call(freeswitch, hold_ms=20000)
    clean.append(caller)
    leg = _wait_for_leg(freeswitch, "sofia/internal/1000@")
    # The key bound on 1000's leg: the application it runs, not the caller's bridge
    # string, which names it among the variables it sets.
    freeswitch.wait_for("show channels", lambda out: f",{fs.APP_BIND_META_APP}," in out)
    assert freeswitch.api(f"uuid_recv_dtmf {leg} ~#3").startswith("+OK")
    room = f"adhoc-1000-{DOMAIN}"
    found = wait_members(freeswitch, room, lambda m: len(m) == 2)
    assert any("sofia/internal/1000@" in m for m in found), found
    assert any("sofia/external/" in m for m in found), found
    freeswitch.api("hupall NORMAL_CLEARING")
