"""What the XML does on a real FreeSWITCH: registration against Centrex's directory,
calls routed by its dialplan, failover after a failed ring, trunks from its directory.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from typing import Any

import pytest

from tests.conftest import apply_raw, demo_document
from tests.e2e import sipp
from tests.e2e.conftest import DOMAIN, Centrex, Node, free_port, stop
from xmlcurl import endpoint

pytestmark = pytest.mark.e2e

PASSWORDS = {u["extension"]: u["sip_password"] for u in demo_document(DOMAIN)["users"]}


REGISTRATIONS = "sofia status profile internal reg"


def listed(output: str, user: str) -> bool:
    """sofia lists each registration with a `User: <user>@<domain>` line."""
    return any(
        line.split(":", 1)[-1].strip() == f"{user}@{DOMAIN}"
        for line in output.splitlines()
        if line.startswith("User:")
    )


def registered(node: Node, user: str) -> bool:
    return listed(node.api(REGISTRATIONS), user)


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
    # What the bridge will ring: exactly this phone.
    node.wait_for(f"sofia_contact */{user}@{DOMAIN}", lambda out: out.strip().endswith(f":{port}"))
    return uas


def _call_command(
    node: Node, caller: str, destination: str, expect: int, name: str, **scenario: Any
) -> list[str]:
    """SIPp placing one call from `caller`'s phone (digest on the 407)."""
    return sipp.command(
        sipp.call(caller, DOMAIN, destination, expect=expect, **scenario),
        node.workdir,
        name,
        node.remote,
        port=free_port(socket.SOCK_DGRAM),
        user=caller,
        password=PASSWORDS[caller],
        timeout=60,
    )


def call(
    node: Node, caller: str, destination: str, expect: int, callee_hangs_up: bool = False
) -> subprocess.CompletedProcess[bytes]:
    name = f"call-{caller}-{destination}-{expect}"
    argv = _call_command(node, caller, destination, expect, name, callee_hangs_up=callee_hangs_up)
    return sipp.run(argv, timeout=80)


def call_in_background(
    node: Node, caller: str, destination: str, name: str, talk_ms: int
) -> subprocess.Popen[bytes]:
    """A call that is answered and lasts `talk_ms`, placed while the test goes on."""
    return subprocess.Popen(
        _call_command(node, caller, destination, 200, name, talk_ms=talk_ms),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def phone_saw(node: Node, uas: subprocess.Popen[bytes], name: str, text: str) -> bool:
    """Whether the phone's SIP trace comes to hold `text` (FreeSWITCH ends the phone's
    leg after the caller's: wait for it, up to a deadline), then stop the phone."""
    trace = node.workdir / f"{name}.messages"
    deadline = time.monotonic() + 15
    try:
        while text not in (trace.read_text() if trace.exists() else ""):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True
    finally:
        stop(uas)


def unregister(node: Node, user: str) -> None:
    node.api(f"sofia profile internal flush_inbound_reg {user}@{DOMAIN}")
    node.wait_for(REGISTRATIONS, lambda out: not listed(out, user))
    node.wait_for(f"sofia_contact */{user}@{DOMAIN}", lambda out: "not_registered" in out)


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
    assert phone_saw(freeswitch, uas, "phone-1000-200", "BYE sip:")
    unregister(freeswitch, "1000")


def test_a_colleague_who_withholds_their_number_rings_anonymous(centrex: Centrex, freeswitch: Node):
    """1001 withholds their number: 1000's phone is offered the call from anonymous,
    not from 1001's name and extension (seed 003: every outgoing call is withheld)."""
    raw = demo_document(DOMAIN)
    raw["gateway"] = {"proxy": f"127.0.0.1:{os.environ['CENTREX_E2E_CARRIER_PORT']}"}
    raw["gateway"]["username"] = "trunk"
    (user,) = [u for u in raw["users"] if u["extension"] == "1001"]
    user["call_handling"] = {"caller_id": {"withhold": True}}
    apply_raw(centrex.engine, raw)
    try:
        uas = phone(freeswitch, "1000", 200)
        result = call(freeswitch, "1001", "1000", expect=200)
        assert result.returncode == 0, result.stdout.decode()[-2000:]
        assert phone_saw(freeswitch, uas, "phone-1000-200", "BYE sip:")
        invite = (freeswitch.workdir / "phone-1000-200.messages").read_text()
        invite = invite[invite.index("INVITE sip:") :]
        sender = next(line for line in invite.splitlines() if line.startswith("From:"))
        assert "anonymous" in sender.lower() and "1001" not in sender
    finally:
        user.pop("call_handling")
        apply_raw(centrex.engine, raw)
        unregister(freeswitch, "1000")


def test_a_line_named_with_apostrophes_is_rung_without_asking_for_its_entry(
    centrex: Centrex, freeswitch: Node, monkeypatch: pytest.MonkeyPatch
):
    """French names carry apostrophes: 1000 named "Standard d'accueil de l'été" is still
    rung by the bridge itself (no fetch of its entry), and its answered leg carries the
    name exactly as the entry would have set it."""
    name = "Standard d'accueil de l'été"
    raw = demo_document(DOMAIN)
    (user,) = [u for u in raw["users"] if u["extension"] == "1000"]
    user["name"] = name
    apply_raw(centrex.engine, raw)
    lookups: list[str] = []
    asked = endpoint.directory_request
    monkeypatch.setattr(
        endpoint, "directory_request", lambda f: lookups.append(f.get("action", "")) or asked(f)
    )
    uas = None
    caller = None
    try:
        uas = phone(freeswitch, "1000", 200)
        lookups.clear()
        caller = call_in_background(freeswitch, "1001", "1000", "call-apostrophes", 3000)
        deadline = time.monotonic() + 10
        while not _legs(freeswitch, "outbound", "ACTIVE"):
            assert time.monotonic() < deadline, freeswitch.api("show channels")
            time.sleep(0.1)
        (answered,) = _legs(freeswitch, "outbound", "ACTIVE")
        got = freeswitch.api(f"uuid_getvar {answered} effective_caller_id_name").strip()
        assert got == name
        assert freeswitch.api(f"uuid_getvar {answered} dialed_user").strip() == "1000"
        output, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, output.decode()[-2000:]
        assert lookups == ["sip_auth"]
    finally:
        for process in (caller, uas):
            if process is not None:
                stop(process)
        freeswitch.api("hupall NORMAL_CLEARING")
        user["name"] = "Reception"
        apply_raw(centrex.engine, raw)
        unregister(freeswitch, "1000")


def _outside_leg(node: Node) -> str | None:
    """The uuid of the channel a carrier's call came in on (sofia's external profile)."""
    for line in node.api("show channels").splitlines():
        fields = line.split(",")
        if len(fields) > 5 and any(f.startswith("sofia/external/") for f in fields):
            return fields[0]
    return None


def test_an_outside_call_taken_by_a_user_is_transferred_to_a_colleague(freeswitch: Node):
    """A call from the carrier to 1000's number, answered by 1000, then blind-transferred
    to 1002 the way sofia does on a REFER (a new hunt of the target on the caller's
    channel, in its force_transfer_context): 1002's phone takes it and the caller stays
    connected until they hang up themselves."""
    reception = phone(freeswitch, "1000", 200)
    colleague = phone(freeswitch, "1002", 200)
    caller = subprocess.Popen(
        sipp.command(
            sipp.carrier_call("+33184800100", "+33612345678", DOMAIN, hold_ms=8000),
            freeswitch.workdir,
            "carrier-in",
            f"127.0.0.1:{freeswitch.external_port}",
            port=free_port(socket.SOCK_DGRAM),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        trace = freeswitch.workdir / "phone-1000-200.messages"
        while not (trace.exists() and "ACK sip:" in trace.read_text()):
            assert time.monotonic() < deadline, "the reception never took the call"
            time.sleep(0.1)
        leg = _outside_leg(freeswitch)
        assert leg, freeswitch.api("show channels")
        assert freeswitch.api(f"uuid_transfer {leg} 1002").startswith("+OK")
        assert phone_saw(freeswitch, reception, "phone-1000-200", "BYE sip:")
        output, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, output.decode()[-2000:]
        assert phone_saw(freeswitch, colleague, "phone-1002-200", "BYE sip:")
    finally:
        stop(caller)
        stop(reception)
        stop(colleague)
        unregister(freeswitch, "1000")
        unregister(freeswitch, "1002")


def test_busy_extension_falls_over_to_its_voicemail(freeswitch: Node):
    # 1001 answers 486; Centrex's failover hunt sends the call to 1001's voicemail,
    # which answers, and ends the call once it hears nothing (or has no prompts).
    uas = phone(freeswitch, "1001", 486)
    result = call(freeswitch, "1000", "1001", expect=200, callee_hangs_up=True)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, uas, "phone-1001-486", "SIP/2.0 486 Refused")
    unregister(freeswitch, "1001")


def test_unregistered_extension_without_voicemail_is_refused_after_a_tone(freeswitch: Node):
    # 1002: voicemail off, no phone: early-media tone, then FreeSWITCH's answer for
    # USER_NOT_REGISTERED.
    result = call(freeswitch, "1001", "1002", expect=480)
    assert result.returncode == 0, result.stdout.decode()[-2000:]


def test_unknown_number_is_rejected_at_once(freeswitch: Node):
    result = call(freeswitch, "1001", "4242", expect=404)
    assert result.returncode == 0, result.stdout.decode()[-2000:]


def test_a_dialled_preprocessor_word_is_refused_as_a_bad_number(freeswitch: Node):
    """A number FreeSWITCH's preprocessor reads as a directive: refused as a bad number
    (INVALID_NUMBER_FORMAT, 484), not with the whole answer (a temporary failure, 503)."""
    result = call(freeswitch, "1001", "x-pre-process", expect=484)
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
    assert phone_saw(freeswitch, carrier, "carrier", "BYE sip:")
    received = (freeswitch.workdir / "carrier.messages").read_text()
    assert "INVITE sip:+33612345678@" in received
    assert "+33184800101" in received  # Alice's public number as caller ID


def _legs(node: Node, direction: str, state: str = "") -> list[str]:
    """The uuids of the channels up in `direction`, in call state `state` if given."""
    rows = json.loads(node.api("show channels as json")).get("rows") or []
    return [
        row["uuid"]
        for row in rows
        if row["direction"] == direction and (not state or row["callstate"] == state)
    ]


def test_a_line_s_phones_are_rung_without_asking_for_its_entry(
    centrex: Centrex, freeswitch: Node, monkeypatch: pytest.MonkeyPatch
):
    """1001 calls 1000, which has two phones registered. FreeSWITCH asks Centrex for the
    caller's entry (the INVITE's digest) and the dialplan, never for 1000's entry:
    the bridge dials 1000's contacts itself. Both phones ring, the desk phone answers,
    the other is cancelled; the answered leg carries what 1000's entry would have set
    and the caller's leg names the line, as `user/` does."""
    lookups: list[str] = []
    # The e2e server is the Flask application in this process.
    asked = endpoint.directory_request
    monkeypatch.setattr(
        endpoint, "directory_request", lambda f: lookups.append(f.get("action", "")) or asked(f)
    )
    ports = [free_port(socket.SOCK_DGRAM) for _ in range(2)]
    phones = [
        subprocess.Popen(
            sipp.command(
                sipp.phone(answer),
                freeswitch.workdir,
                f"two-{answer}",
                freeswitch.remote,
                port=port,
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for answer, port in zip((200, 0), ports, strict=True)
    ]
    caller = None
    try:
        for port in ports:
            assert register(freeswitch, "1000", port).returncode == 0
        freeswitch.wait_for(
            f"sofia_contact */1000@{DOMAIN}", lambda out: all(f":{p}" in out for p in ports)
        )
        lookups.clear()
        caller = call_in_background(freeswitch, "1001", "1000", "call-two-phones", 4000)
        deadline = time.monotonic() + 10
        # The desk phone's leg answered (the other one's may still be being cancelled).
        while not (_legs(freeswitch, "outbound", "ACTIVE") and _legs(freeswitch, "inbound")):
            assert time.monotonic() < deadline, freeswitch.api("show channels")
            time.sleep(0.1)
        (answered,) = _legs(freeswitch, "outbound", "ACTIVE")
        (calling,) = _legs(freeswitch, "inbound")

        def var(uuid: str, name: str) -> str:
            return freeswitch.api(f"uuid_getvar {uuid} {name}").strip()

        assert var(answered, "dialed_user") == "1000"
        assert var(answered, "dialed_domain") == DOMAIN
        assert var(answered, "presence_id") == f"1000@{DOMAIN}"
        assert var(answered, "user_context") == DOMAIN
        assert var(answered, "force_transfer_context") == DOMAIN
        assert var(answered, "effective_caller_id_name") == "Reception"
        assert var(answered, "effective_caller_id_number") == "1000"
        assert var(answered, "nolocal:centrex_peer_line") == f"1000@{DOMAIN}"
        assert var(answered, "execute_on_pre_bridge_centrex_transfer").startswith(
            "bind_meta_app 1 a s execute_extension::"
        )
        # Copied over at the bridge from the answered leg (bridge_export_vars).
        assert var(calling, "centrex_peer_line") == f"1000@{DOMAIN}"
        assert var(calling, "dialed_user") == "1000"
        output, _ = caller.communicate(timeout=30)
        assert caller.returncode == 0, output.decode()[-2000:]
        assert lookups == ["sip_auth"]
        assert phone_saw(freeswitch, phones[0], "two-200", "BYE sip:")
        assert phone_saw(freeswitch, phones[1], "two-0", "CANCEL sip:")
    finally:
        for process in (caller, *phones):
            if process is not None:
                stop(process)
        # No call of this test left up on the node for the next ones.
        freeswitch.api("hupall NORMAL_CLEARING")
        unregister(freeswitch, "1000")
