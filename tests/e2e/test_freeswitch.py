"""What the XML does on a real FreeSWITCH: registration against Centrex's directory,
calls routed by its dialplan, failover after a failed ring, trunks from its directory.
"""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from tests.conftest import demo_document
from tests.e2e import sipp
from tests.e2e.conftest import DOMAIN, Node, free_port

pytestmark = pytest.mark.e2e

PASSWORDS = {u["extension"]: u["sip_password"] for u in demo_document(DOMAIN)["users"]}


def registered(node: Node, user: str) -> bool:
    return f"{user}@{DOMAIN}" in node.api("show registrations")


def register(
    node: Node, user: str, contact_port: int, *, password: str | None = None, expect: int = 200
) -> subprocess.CompletedProcess[bytes]:
    argv = sipp.command(
        sipp.register(user, DOMAIN, contact_port, expect=expect),
        node.workdir,
        f"register-{user}-{expect}",
        node.remote,
        port=free_port(socket.SOCK_DGRAM),
        user=user,
        password=password or PASSWORDS[user],
    )
    return sipp.run(argv)


def phone(node: Node, user: str, answer: int) -> subprocess.Popen[bytes]:
    """A registered phone that takes the next call with `answer`."""
    port = free_port(socket.SOCK_DGRAM)
    uas = subprocess.Popen(
        sipp.command(
            sipp.phone(answer), node.workdir, f"phone-{user}-{answer}", node.remote, port=port
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result = register(node, user, port)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    node.wait_for("show registrations", lambda out: f"{user}@{DOMAIN}" in out)
    return uas


def call(
    node: Node, caller: str, destination: str, expect: int
) -> subprocess.CompletedProcess[bytes]:
    argv = sipp.command(
        sipp.call(caller, DOMAIN, destination, expect=expect),
        node.workdir,
        f"call-{caller}-{destination}-{expect}",
        node.remote,
        port=free_port(socket.SOCK_DGRAM),
        user=caller,
        password=PASSWORDS[caller],
        timeout=60,
    )
    return sipp.run(argv, timeout=80)


def finished(uas: subprocess.Popen[bytes]) -> int:
    try:
        return uas.wait(timeout=30)
    finally:
        if uas.poll() is None:
            uas.kill()


def unregister(node: Node, user: str) -> None:
    node.api(f"sofia profile internal flush_inbound_reg {user}@{DOMAIN}")
    node.wait_for("show registrations", lambda out: f"{user}@{DOMAIN}" not in out)


def test_phone_registers_with_its_password_and_not_without(freeswitch: Node):
    port = free_port(socket.SOCK_DGRAM)
    assert register(freeswitch, "1000", port).returncode == 0
    assert registered(freeswitch, "1000")
    wrong = register(freeswitch, "1001", port, password="Wrong-Password-2026", expect=403)
    assert wrong.returncode == 0, wrong.stdout.decode()[-2000:]
    assert not registered(freeswitch, "1001")
    unregister(freeswitch, "1000")


def test_call_to_a_registered_extension_is_answered(freeswitch: Node):
    uas = phone(freeswitch, "1000", 200)
    result = call(freeswitch, "1001", "1000", expect=200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert finished(uas) == 0
    unregister(freeswitch, "1000")


def test_busy_extension_falls_over_to_its_voicemail(freeswitch: Node):
    # 1000 answers 486; Centrex's failover hunt sends the call to 1000's voicemail,
    # which answers.
    uas = phone(freeswitch, "1000", 486)
    result = call(freeswitch, "1001", "1000", expect=200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert finished(uas) == 0
    unregister(freeswitch, "1000")


def test_unregistered_extension_without_voicemail_is_refused_after_a_tone(freeswitch: Node):
    # 1002: voicemail off, no phone: early-media tone, then FreeSWITCH's answer for
    # USER_NOT_REGISTERED.
    result = call(freeswitch, "1001", "1002", expect=480)
    assert result.returncode == 0, result.stdout.decode()[-2000:]


def test_unknown_number_is_rejected_at_once(freeswitch: Node):
    result = call(freeswitch, "1001", "4242", expect=404)
    assert result.returncode == 0, result.stdout.decode()[-2000:]


def test_outbound_call_goes_out_through_the_tenants_trunk(freeswitch: Node):
    freeswitch.wait_for("sofia status gateway", lambda out: DOMAIN in out)
    port = int(os.environ["CENTREX_E2E_CARRIER_PORT"])
    carrier = subprocess.Popen(
        sipp.command(sipp.phone(200), freeswitch.workdir, "carrier", freeswitch.remote, port=port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    result = call(freeswitch, "1001", "0612345678", expect=200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert finished(carrier) == 0
    received = (freeswitch.workdir / "carrier.messages").read_text()
    assert "INVITE sip:+33612345678@" in received
    assert "+33184800101" in received  # Alice's public number as caller ID
