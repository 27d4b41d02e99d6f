"""The dialling policy on a real FreeSWITCH: with the tenant's outside-line prefix on,
`0` + a number reaches the carrier without the 0; a barred international call is
refused with OUTGOING_CALL_BARRED and never reaches the carrier; 112 always goes out.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp
from tests.e2e.conftest import DOMAIN, Centrex, Node, free_port, stop
from tests.e2e.test_freeswitch import PASSWORDS, call, phone, phone_saw, unregister

pytestmark = pytest.mark.e2e


@pytest.fixture
def prefix_on(centrex: Centrex, freeswitch: Node) -> Iterator[None]:
    """The demo tenant with "dial 0 for an outside line" on; its users' barring is the
    default (international, premium, operator and directory numbers barred)."""
    raw = demo_document(DOMAIN)
    raw["gateway"] = {
        "proxy": f"127.0.0.1:{os.environ['CENTREX_E2E_CARRIER_PORT']}",
        "username": "trunk",
    }
    raw["outside_line_prefix"] = True
    apply_raw(centrex.engine, raw)
    freeswitch.wait_for("sofia status gateway", lambda out: DOMAIN in out)
    try:
        yield
    finally:
        raw["outside_line_prefix"] = False
        apply_raw(centrex.engine, raw)


def carrier(node: Node, name: str) -> subprocess.Popen[bytes]:
    """The SIPp carrier on the trunk's address, answering the next call with 200."""
    port = int(os.environ["CENTREX_E2E_CARRIER_PORT"])
    return subprocess.Popen(
        sipp.command(sipp.phone(200), node.workdir, name, node.remote, port=port, timeout=20),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def received(node: Node, name: str) -> str:
    trace = node.workdir / f"{name}.messages"
    return trace.read_text() if trace.exists() else ""


def test_0_and_a_national_number_reach_the_carrier_without_the_0(freeswitch: Node, prefix_on):
    trunk = carrier(freeswitch, "carrier-prefix")
    result = call(freeswitch, "1001", "00612345678", expect=200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, trunk, "carrier-prefix", "BYE sip:")
    invite = received(freeswitch, "carrier-prefix")
    assert "INVITE sip:+33612345678@" in invite
    assert "+33184800101" in invite  # Alice's number presented, as without the prefix


def test_a_barred_international_call_is_refused_and_never_reaches_the_carrier(
    freeswitch: Node, prefix_on
):
    trunk = carrier(freeswitch, "carrier-barred")
    try:
        # 0 + 0041…: an international number, barred for 1001 by default. FreeSWITCH
        # answers OUTGOING_CALL_BARRED with 403 after the announcement and tone.
        result = call(freeswitch, "1001", "00041446681800", expect=403)
        assert result.returncode == 0, result.stdout.decode()[-2000:]
        trace = received(freeswitch, "call-1001-00041446681800-403")
        assert "SIP/2.0 183" in trace  # the announcement and tone, in early media
        time.sleep(1)
        assert "INVITE" not in received(freeswitch, "carrier-barred")
    finally:
        stop(trunk)


@pytest.mark.parametrize("dialled", ["112", "0112"])
def test_112_always_goes_out(freeswitch: Node, centrex: Centrex, prefix_on, dialled):
    """With the prefix or without, and whatever the user's barring."""
    raw = demo_document(DOMAIN)
    raw["gateway"] = {
        "proxy": f"127.0.0.1:{os.environ['CENTREX_E2E_CARRIER_PORT']}",
        "username": "trunk",
    }
    raw["outside_line_prefix"] = True
    (user,) = [u for u in raw["users"] if u["extension"] == "1001"]
    user["call_barring"] = [
        "local",
        "national",
        "international",
        "premium",
        "operator",
        "directory",
        "access_codes",
        "setting_codes",
    ]
    apply_raw(centrex.engine, raw)
    name = f"carrier-emergency-{dialled}"
    trunk = carrier(freeswitch, name)
    result = call(freeswitch, "1001", dialled, expect=200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, trunk, name, "BYE sip:")
    assert "INVITE sip:112@" in received(freeswitch, name)


def _leg_of(node: Node, user: str) -> str | None:
    """The uuid of the channel `user`'s phone placed its call on."""
    for line in node.api("show channels").splitlines():
        fields = line.split(",")
        if len(fields) > 5 and any(f.startswith(f"sofia/internal/{user}@") for f in fields):
            return fields[0]
    return None


@pytest.mark.parametrize("refer", [True, False])
def test_a_colleague_cannot_transfer_a_call_beyond_their_own_barring(
    freeswitch: Node, centrex: Centrex, refer: bool
):
    """1001 may call anything; 1000 (international barred) takes 1001's call and
    transfers it to an international number, the way sofia does on a REFER (sets
    sip_refer_to on 1001's channel, then hunts the target there): refused, the carrier
    never sees it. The same hunt without a REFER is 1001's own call, and goes out."""
    raw = demo_document(DOMAIN)
    raw["gateway"] = {
        "proxy": f"127.0.0.1:{os.environ['CENTREX_E2E_CARRIER_PORT']}",
        "username": "trunk",
    }
    (user,) = [u for u in raw["users"] if u["extension"] == "1001"]
    user["call_barring"] = []
    apply_raw(centrex.engine, raw)
    # No call of an earlier test left on the switch: the leg transferred must be this one.
    freeswitch.api("hupall NORMAL_CLEARING")
    freeswitch.wait_until_no_channels()
    freeswitch.wait_for("sofia status gateway", lambda out: DOMAIN in out)
    trace = freeswitch.workdir / "phone-1000-200.messages"
    trace.unlink(missing_ok=True)  # an earlier test's call must not count as this one
    reception = phone(freeswitch, "1000", 200)
    name = f"carrier-transfer-{refer}"
    trunk = carrier(freeswitch, name)
    placed = subprocess.Popen(
        sipp.command(
            sipp.call("1001", DOMAIN, "1000", expect=200, talk_ms=6000),
            freeswitch.workdir,
            f"call-1001-transferred-{refer}",
            freeswitch.remote,
            port=free_port(socket.SOCK_DGRAM),
            user="1001",
            password=PASSWORDS["1001"],
            timeout=60,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while not (trace.exists() and "ACK sip:" in trace.read_text()):
            assert time.monotonic() < deadline, "1000 never took the call"
            time.sleep(0.1)
        leg = _leg_of(freeswitch, "1001")
        assert leg, freeswitch.api("show channels")
        if refer:
            freeswitch.api(f"uuid_setvar {leg} sip_refer_to <sip:0041446681800@{DOMAIN}>")
        assert freeswitch.api(f"uuid_transfer {leg} 0041446681800").startswith("+OK")
        time.sleep(3)
        invite = received(freeswitch, name)
        if refer:
            assert "INVITE" not in invite
        else:
            assert "INVITE sip:+41446681800@" in invite
    finally:
        # The phones are stopped mid-call: end the calls they leave on the switch.
        freeswitch.api("hupall NORMAL_CLEARING")
        freeswitch.wait_until_no_channels()
        stop(placed)
        stop(trunk)
        stop(reception)
        user.pop("call_barring")
        apply_raw(centrex.engine, raw)
        unregister(freeswitch, "1000")


def test_the_tenant_s_caller_id_policy_decides_the_number_the_carrier_sees(
    freeswitch: Node, centrex: Centrex
):
    """1001 is in the Sales group, whose members present the tenant's main number
    instead of their direct line (operator guide: "Affichage des numéros")."""
    raw = demo_document(DOMAIN)
    raw["gateway"] = {
        "proxy": f"127.0.0.1:{os.environ['CENTREX_E2E_CARRIER_PORT']}",
        "username": "trunk",
    }
    raw["groups"] = [{"name": "Sales", "extension": "300", "members": ["1001"]}]
    raw["outgoing_caller_ids"] = [{"present": "main", "groups": ["Sales"]}]
    apply_raw(centrex.engine, raw)
    freeswitch.wait_for("sofia status gateway", lambda out: DOMAIN in out)
    try:
        trunk = carrier(freeswitch, "carrier-policy")
        result = call(freeswitch, "1001", "0612345678", expect=200)
        assert result.returncode == 0, result.stdout.decode()[-2000:]
        assert phone_saw(freeswitch, trunk, "carrier-policy", "BYE sip:")
        invite = received(freeswitch, "carrier-policy")
        invite = invite[invite.index("INVITE sip:") :]
        sender = next(line for line in invite.splitlines() if line.startswith("From:"))
        assert "+33184800100" in sender and "+33184800101" not in sender
    finally:
        raw.pop("groups")
        raw.pop("outgoing_caller_ids")
        apply_raw(centrex.engine, raw)
