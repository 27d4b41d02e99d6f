"""The dialling policy on a real FreeSWITCH: with the tenant's outside-line prefix on,
`0` + a number reaches the carrier without the 0; a barred international call is
refused with OUTGOING_CALL_BARRED and never reaches the carrier; 112 always goes out.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp
from tests.e2e.conftest import DOMAIN, Centrex, Node, stop
from tests.e2e.test_freeswitch import call, phone_saw

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
