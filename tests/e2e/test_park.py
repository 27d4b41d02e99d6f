"""Call park on a real FreeSWITCH (mod_valet_parking): a call from outside answered by
a user is transferred to a park slot, waits there (the slot's BLF key lit), and is
taken by a colleague who dials the slot; a parked call nobody takes rings back the
user who parked it.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp
from tests.e2e.conftest import DOMAIN, Centrex, Node, free_port, stop
from tests.e2e.test_freeswitch import (
    PASSWORDS,
    _outside_leg,
    call_in_background,
    phone,
    phone_saw,
    register,
    unregister,
)

pytestmark = pytest.mark.e2e

LOT = f"park@{DOMAIN}"
SLOT = "701"


def _tenant_with_park(centrex: Centrex, timeout: int) -> None:
    raw = demo_document(DOMAIN)
    raw["gateway"] = {"proxy": "127.0.0.1:5999", "username": "trunk"}
    raw["park"] = {"timeout": timeout}
    apply_raw(centrex.engine, raw)


@pytest.fixture
def parking(centrex: Centrex) -> Iterator[None]:
    _tenant_with_park(centrex, timeout=60)
    yield
    raw = demo_document(DOMAIN)
    raw["gateway"] = {"proxy": "127.0.0.1:5999", "username": "trunk"}
    apply_raw(centrex.engine, raw)


def _parked(node: Node) -> dict[str, str]:
    """slot → uuid of the call waiting there, as mod_valet_parking lists them."""
    listing = node.api(f"valet_info {LOT}")
    return {slot: uuid for uuid, slot in re.findall(r'<extension uuid="([^"]+)">(\d+)<', listing)}


def _carrier_call(node: Node, hold_ms: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        sipp.command(
            sipp.carrier_call("+33184800100", "+33612345678", DOMAIN, hold_ms=hold_ms),
            node.workdir,
            f"carrier-park-{hold_ms}",
            f"127.0.0.1:{node.external_port}",
            port=free_port(socket.SOCK_DGRAM),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _answered_by(node: Node, name: str) -> None:
    deadline = time.monotonic() + 10
    trace = node.workdir / f"{name}.messages"
    while not (trace.exists() and "ACK sip:" in trace.read_text()):
        assert time.monotonic() < deadline, f"{name} never took the call"
        time.sleep(0.1)


def _park_the_outside_call(node: Node) -> str:
    """The reception's far leg (the caller) transferred to the slot, as sofia does on
    a blind transfer: the caller's channel hunts the slot number again."""
    leg = _outside_leg(node)
    assert leg, node.api("show channels")
    assert node.api(f"uuid_transfer {leg} {SLOT}").startswith("+OK")
    node.wait_for(f"valet_info {LOT}", lambda out: f">{SLOT}</extension>" in out)
    assert _parked(node) == {SLOT: leg}
    return leg


def test_a_parked_call_is_taken_from_its_slot_by_a_colleague(parking: None, freeswitch: Node):
    reception = phone(freeswitch, "1000", 200)
    watch = "blf-1002-park-701"
    watcher = subprocess.Popen(
        sipp.command(
            sipp.watcher("1002", DOMAIN, f"park+{SLOT}", ["confirmed", "terminated"]),
            freeswitch.workdir,
            watch,
            freeswitch.remote,
            port=free_port(socket.SOCK_DGRAM),
            user="1002",
            password=PASSWORDS["1002"],
            answer_notify=False,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    caller = _carrier_call(freeswitch, hold_ms=12000)
    retriever = None
    try:
        _answered_by(freeswitch, "phone-1000-200")
        leg = _park_the_outside_call(freeswitch)
        # The reception's phone is free again; the caller waits in the slot.
        assert phone_saw(freeswitch, reception, "phone-1000-200", "BYE sip:")
        blf = freeswitch.workdir / f"{watch}.messages"
        deadline = time.monotonic() + 10
        while "<state>confirmed</state>" not in (blf.read_text() if blf.exists() else ""):
            assert time.monotonic() < deadline, "the slot's key was never lit"
            time.sleep(0.1)
        # 1001 dials the slot and takes the call.
        retriever = subprocess.Popen(
            sipp.command(
                sipp.call("1001", DOMAIN, SLOT, expect=200, callee_hangs_up=True),
                freeswitch.workdir,
                f"call-1001-{SLOT}",
                freeswitch.remote,
                port=free_port(socket.SOCK_DGRAM),
                user="1001",
                password=PASSWORDS["1001"],
                timeout=60,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        bridged = freeswitch.wait_for(
            "show bridged_calls", lambda out: "1 total." in out and leg in out
        )
        assert "1001" in bridged, bridged
        assert _parked(freeswitch) == {}
        # Dialled again at once, while mod_valet_parking still holds the slot's record
        # (it clears them every 5 s): the caller is let go, not left parked there.
        again = sipp.run(
            sipp.command(
                sipp.call("1002", DOMAIN, SLOT, expect=200, callee_hangs_up=True),
                freeswitch.workdir,
                f"call-1002-{SLOT}-again",
                freeswitch.remote,
                port=free_port(socket.SOCK_DGRAM),
                user="1002",
                password=PASSWORDS["1002"],
                timeout=15,
            ),
            timeout=20,
        )
        assert again.returncode == 0, again.stdout.decode()[-2000:]
        assert _parked(freeswitch) == {}
        # The slot's key goes out; the caller talks to 1001 until they hang up.
        output, _ = watcher.communicate(timeout=20)
        assert watcher.returncode == 0, output.decode()[-2000:]
        output, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, output.decode()[-2000:]
        output, _ = retriever.communicate(timeout=20)
        assert retriever.returncode == 0, output.decode()[-2000:]
    finally:
        for process in (caller, watcher, reception, retriever):
            if process is not None:
                stop(process)
        unregister(freeswitch, "1000")


def _leg_of(node: Node, user: str) -> str | None:
    """The uuid of the channel a line's phone placed (sofia's internal profile)."""
    for line in node.api("show channels").splitlines():
        fields = line.split(",")
        if len(fields) > 5 and any(f.startswith(f"sofia/internal/{user}@") for f in fields):
            return fields[0]
    return None


def test_a_colleague_s_call_is_parked_by_transfer_then_taken(parking: None, freeswitch: Node):
    """A call between two lines: 1002 calls 1000, who transfers 1002 to the slot. The
    transferred hunt comes from 1002's own phone, yet is a transfer (it carries the
    number it came from): 1002 is parked, not taken for a colleague taking a call."""
    reception = phone(freeswitch, "1000", 200)
    caller = call_in_background(freeswitch, "1002", "1000", "call-1002-1000-park", 12000)
    retriever = None
    try:
        _answered_by(freeswitch, "phone-1000-200")
        leg = _leg_of(freeswitch, "1002")
        assert leg, freeswitch.api("show channels")
        assert freeswitch.api(f"uuid_transfer {leg} {SLOT}").startswith("+OK")
        freeswitch.wait_for(f"valet_info {LOT}", lambda out: f">{SLOT}</extension>" in out)
        assert _parked(freeswitch) == {SLOT: leg}
        assert phone_saw(freeswitch, reception, "phone-1000-200", "BYE sip:")
        retriever = subprocess.Popen(
            sipp.command(
                sipp.call("1001", DOMAIN, SLOT, expect=200, callee_hangs_up=True),
                freeswitch.workdir,
                f"call-1001-{SLOT}-internal",
                freeswitch.remote,
                port=free_port(socket.SOCK_DGRAM),
                user="1001",
                password=PASSWORDS["1001"],
                timeout=60,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        freeswitch.wait_for("show bridged_calls", lambda out: "1 total." in out and leg in out)
        output, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, output.decode()[-2000:]
        output, _ = retriever.communicate(timeout=20)
        assert retriever.returncode == 0, output.decode()[-2000:]
    finally:
        for process in (caller, reception, retriever):
            if process is not None:
                stop(process)
        unregister(freeswitch, "1000")


def test_dialling_an_empty_slot_takes_nothing_and_parks_nobody(parking: None, freeswitch: Node):
    result = sipp.run(
        sipp.command(
            sipp.call("1001", DOMAIN, "702", expect=200, callee_hangs_up=True),
            freeswitch.workdir,
            "call-1001-702",
            freeswitch.remote,
            port=free_port(socket.SOCK_DGRAM),
            user="1001",
            password=PASSWORDS["1001"],
            timeout=30,
        ),
        timeout=40,
    )
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert _parked(freeswitch) == {}


def test_a_parked_call_nobody_takes_rings_back_the_user_who_parked_it(
    centrex: Centrex, parking: None, freeswitch: Node
):
    _tenant_with_park(centrex, timeout=5)
    reception = phone(freeswitch, "1000", 200)
    caller = _carrier_call(freeswitch, hold_ms=20000)
    again = None
    try:
        _answered_by(freeswitch, "phone-1000-200")
        _park_the_outside_call(freeswitch)
        parked_at = time.monotonic()
        assert phone_saw(freeswitch, reception, "phone-1000-200", "BYE sip:")
        # The reception's phone, ready for the next call: the ring-back.
        unregister(freeswitch, "1000")
        again = subprocess.Popen(
            sipp.command(
                sipp.phone(200),
                freeswitch.workdir,
                "phone-1000-ringback",
                freeswitch.remote,
                port=(port := free_port(socket.SOCK_DGRAM)),
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert register(freeswitch, "1000", port).returncode == 0
        trace = freeswitch.workdir / "phone-1000-ringback.messages"
        deadline = parked_at + 20
        while "INVITE sip:" not in (trace.read_text() if trace.exists() else ""):
            assert time.monotonic() < deadline, "the parked call never rang back"
            time.sleep(0.1)
        waited = time.monotonic() - parked_at
        print(f"rang back after {waited:.1f} s parked")
        assert 4 <= waited <= 10, waited
        assert _parked(freeswitch) == {}
        # The caller, still there, talks to the reception again until they hang up.
        output, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, output.decode()[-2000:]
        assert phone_saw(freeswitch, again, "phone-1000-ringback", "BYE sip:")
    finally:
        for process in (caller, reception, again):
            if process is not None:
                stop(process)
        unregister(freeswitch, "1000")
