"""Transfers on a real FreeSWITCH: a carrier's call taken by 1000 (reception) and handed
on by REFER (blind, and attended with Replaces) or by DTMF (#1, att_xfer), routed by
Centrex as a call from 1000: to a colleague, to an allowed outside number (with 1000's
caller ID), and refused for a barred number with the caller kept."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

import xmlcurl.endpoint
from provisioning.models import CallRecord
from tests.e2e import sipp, sipp_transfer
from tests.e2e.conftest import DOMAIN, Centrex, Node, free_port, stop
from tests.e2e.test_freeswitch import (
    PASSWORDS,
    call_in_background,
    phone,
    phone_saw,
    register,
    unregister,
)
from xmlcurl import fsnames as fs
from xmlcurl.decisions import Ring, Route

pytestmark = pytest.mark.e2e

RECEPTION_NUMBER = "+33184800100"
OUTSIDE_CALLER = "+33612345678"


@pytest.fixture
def routes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, str], Route]]:
    """Every dialplan fetch Centrex answers during the test: its fields and the route."""
    seen: list[tuple[dict[str, str], Route]] = []
    compile_call = xmlcurl.endpoint.compile_call
    fields: dict[str, str] = {}
    parse_fields = xmlcurl.endpoint.parse_fields

    def parse(body: bytes) -> dict[str, str]:
        fields.clear()
        fields.update(parse_fields(body))
        return fields

    def compile_and_keep(request, data, now):  # type: ignore[no-untyped-def]
        route = compile_call(request, data, now)
        seen.append((dict(fields), route))
        return route

    monkeypatch.setattr(xmlcurl.endpoint, "parse_fields", parse)
    monkeypatch.setattr(xmlcurl.endpoint, "compile_call", compile_and_keep)
    return seen


def _registered_phone(
    node: Node, user: str, scenario: str, name: str, calls: int = 1
) -> subprocess.Popen[bytes]:
    """A phone running `scenario` for `calls` calls, registered as `user` with its port
    as contact; its RTP (when the scenario sends some) on a port of its own."""
    port = free_port(socket.SOCK_DGRAM)
    argv = sipp.command(scenario, node.workdir, name, node.remote, port=port)
    argv[argv.index("-m") + 1] = str(calls)
    process = subprocess.Popen(
        [*argv, "-mp", str(free_port(socket.SOCK_DGRAM))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert register(node, user, port).returncode == 0
    node.wait_for(f"sofia_contact */{user}@{DOMAIN}", lambda out: f":{port}" in out)
    return process


def _second_phone(node: Node, user: str, name: str) -> subprocess.Popen[bytes]:
    """Another phone of `user` that rings without answering, twice: the first call is
    taken by the user's other phone, the second is the caller rung back."""
    return _registered_phone(node, user, sipp.phone(0), name, calls=2)


def _invites(node: Node, name: str) -> int:
    trace = node.workdir / f"{name}.messages"
    return (trace.read_text() if trace.exists() else "").count("INVITE sip:")


def _carrier_call(node: Node, hold_ms: int) -> subprocess.Popen[bytes]:
    """The carrier's call to the reception's number, held `hold_ms` then hung up: the
    scenario fails if FreeSWITCH ends it first."""
    return subprocess.Popen(
        sipp.command(
            sipp.carrier_call(RECEPTION_NUMBER, OUTSIDE_CALLER, DOMAIN, hold_ms=hold_ms),
            node.workdir,
            "carrier-in",
            f"127.0.0.1:{node.external_port}",
            port=free_port(socket.SOCK_DGRAM),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _caller_stayed(caller: subprocess.Popen[bytes]) -> None:
    output, _ = caller.communicate(timeout=60)
    assert caller.returncode == 0, output.decode()[-2000:]


def _leg(node: Node, prefix: str) -> str | None:
    for line in node.api("show channels").splitlines():
        fields = line.split(",")
        if len(fields) > 5 and fields[4].startswith(prefix):
            return fields[0]
    return None


def _wait_for_leg(node: Node, prefix: str) -> str:
    deadline = time.monotonic() + 15
    while (leg := _leg(node, prefix)) is None:
        assert time.monotonic() < deadline, node.api("show channels")
        time.sleep(0.1)
    return leg


def _transfer_fetch(routes: list[tuple[dict[str, str], Route]], target: str) -> dict[str, str]:
    hunts = [f for f, _ in routes if f.get(fs.HUNT_DESTINATION) == target]
    assert hunts, [f.get(fs.HUNT_DESTINATION) for f, _ in routes]
    return hunts[0]


@pytest.fixture
def clean(freeswitch: Node) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        stop(process)
    for user in ("1000", "1002"):
        if "not_registered" not in freeswitch.api(f"sofia_contact */{user}@{DOMAIN}"):
            unregister(freeswitch, user)


def _reception_referring_to_1002(
    node: Node, name: str, clean: list
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """1000's phone, which takes one call and REFERs it to 1002, and 1002's phone, which
    answers (both stopped by `clean`)."""
    reception = _registered_phone(
        node, "1000", sipp_transfer.transferring_phone("1000", DOMAIN, f"<sip:1002@{DOMAIN}>"), name
    )
    colleague = phone(node, "1002", 200)
    clean += [reception, colleague]
    return reception, colleague


def _kinds(centrex: Centrex, extension: str) -> list[str]:
    """The kinds of the call-log entries stored for `extension`, oldest first."""
    with centrex.engine.connect() as conn:
        rows = conn.execute(
            select(CallRecord.kind).where(CallRecord.extension == extension).order_by(CallRecord.id)
        )
        return [kind for (kind,) in rows]


def _new_kind(centrex: Centrex, extension: str, before: int) -> str:
    """The kind of the first entry stored for `extension` after the `before` it had
    (mod_xml_cdr posts a leg's record as the leg ends, just after its BYE)."""
    deadline = time.monotonic() + 15
    while len(kinds := _kinds(centrex, extension)) <= before:
        assert time.monotonic() < deadline, kinds
        time.sleep(0.2)
    return kinds[before]


def test_a_blind_refer_hands_an_outside_call_to_a_colleague(
    centrex: Centrex,
    freeswitch: Node,
    routes: list[tuple[dict[str, str], Route]],
    clean: list,
) -> None:
    """1000 takes the carrier's call and REFERs it to 1002: sofia hunts 1002 on the
    caller's channel, which carries 1000's name (copied at the bridge), and 1002's
    phone takes the call while the caller stays connected."""
    before = len(_kinds(centrex, "1000"))
    reception, colleague = _reception_referring_to_1002(freeswitch, "refer-1000", clean)
    caller = _carrier_call(freeswitch, hold_ms=6000)
    clean.append(caller)
    _caller_stayed(caller)
    assert reception.wait(timeout=20) == 0
    assert phone_saw(freeswitch, colleague, "phone-1002-200", "BYE sip:")
    fetch = _transfer_fetch(routes, "1002")
    assert fetch[fs.VAR_PREFIX + fs.V_PEER_LINE] == f"1000@{DOMAIN}"
    assert fetch[fs.VAR_PREFIX + fs.V_SIP_REFER_TO] == f"<sip:1002@{DOMAIN}>"
    # The call log (mod_xml_cdr posted each leg as it ended): 1000 transferred it.
    assert _new_kind(centrex, "1000", before) == "transferred"


def test_a_colleague_s_call_handed_on_by_refer_is_logged_as_transferred(
    centrex: Centrex,
    freeswitch: Node,
    routes: list[tuple[dict[str, str], Route]],
    clean: list,
) -> None:
    """1001 calls 1000, whose line is rung alone from 1001's own leg: 1000's leg carries
    what leaves its record unmade if it is simply answered. 1000 REFERs the call to
    1002: the leg's record is made all the same, and says 1000 transferred it (the
    caller's record alone would say 1000 received it)."""
    before = len(_kinds(centrex, "1000"))
    reception, colleague = _reception_referring_to_1002(freeswitch, "refer-1000-colleague", clean)
    caller = call_in_background(freeswitch, "1001", "1000", "call-1001-refer", talk_ms=6000)
    clean.append(caller)
    output, _ = caller.communicate(timeout=60)
    assert caller.returncode == 0, output.decode()[-2000:]
    assert reception.wait(timeout=20) == 0
    assert phone_saw(freeswitch, colleague, "phone-1002-200", "BYE sip:")
    ring = next(
        a for f, r in routes if r.destination == "1000" for a in r.actions if isinstance(a, Ring)
    )
    assert ring.endpoints[0].reported_by_caller
    assert _new_kind(centrex, "1000", before) == "transferred"


def test_a_refer_to_a_barred_number_rings_the_caller_back_to_the_transferor(
    freeswitch: Node, routes: list[tuple[dict[str, str], Route]], clean: list
) -> None:
    """1000 may not call abroad: a REFER to a UK number is refused and the caller,
    kept, is rung back to 1000 (whose voicemail takes the call when no phone answers)."""
    reception = _registered_phone(
        freeswitch,
        "1000",
        sipp_transfer.transferring_phone("1000", DOMAIN, f"<sip:00442079460000@{DOMAIN}>"),
        "refer-barred-1000",
    )
    desk = _second_phone(freeswitch, "1000", "desk-barred-1000")
    clean += [reception, desk]
    caller = _carrier_call(freeswitch, hold_ms=6000)
    clean.append(caller)
    _caller_stayed(caller)
    refused = [r for f, r in routes if f.get(fs.HUNT_DESTINATION) == "00442079460000"]
    assert len(refused) == 1 and refused[0].name.startswith("transfer refused")
    assert "OUTGOING_CALL_BARRED" in refused[0].name
    # The ring back: the caller's channel hunts 1000 again, as the call it was, and
    # 1000's other phone rings a second time.
    again = [f for f, _ in routes if f.get(fs.HUNT_DESTINATION) == "1000"]
    assert again and fs.VAR_PREFIX + fs.V_PEER_LINE not in again[0]
    assert _invites(freeswitch, "desk-barred-1000") == 2


def test_a_refer_with_junk_in_the_target_is_refused_and_the_caller_kept(
    freeswitch: Node, routes: list[tuple[dict[str, str], Route]], clean: list
) -> None:
    """A Refer-To whose user part is no number (`1002,user/x`) is refused as an invalid
    number: nothing of it reaches a dial string, and the caller is rung back."""
    reception = _registered_phone(
        freeswitch,
        "1000",
        sipp_transfer.transferring_phone("1000", DOMAIN, f"<sip:1002,user/x@{DOMAIN}>"),
        "refer-junk-1000",
    )
    desk = _second_phone(freeswitch, "1000", "desk-junk-1000")
    clean += [reception, desk]
    caller = _carrier_call(freeswitch, hold_ms=6000)
    clean.append(caller)
    _caller_stayed(caller)
    refused = [r for _, r in routes if r.name.startswith("transfer refused")]
    assert refused and "INVALID_NUMBER_FORMAT" in refused[0].name
    assert _invites(freeswitch, "desk-junk-1000") == 2


def test_a_refer_to_an_allowed_outside_number_goes_out_with_the_transferors_caller_id(
    freeswitch: Node, routes: list[tuple[dict[str, str], Route]], clean: list
) -> None:
    """A caller from outside never calls out by itself, but 1000 may call a French
    mobile: the REFER reaches the carrier, presented with 1000's number."""
    freeswitch.wait_for("sofia status gateway", lambda out: DOMAIN in out)
    carrier_port = int(os.environ["CENTREX_E2E_CARRIER_PORT"])
    carrier = subprocess.Popen(
        sipp.command(
            sipp.phone(200), freeswitch.workdir, "carrier-out", freeswitch.remote, port=carrier_port
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    reception = _registered_phone(
        freeswitch,
        "1000",
        sipp_transfer.transferring_phone("1000", DOMAIN, f"<sip:0698765432@{DOMAIN}>"),
        "refer-out-1000",
    )
    clean += [carrier, reception]
    caller = _carrier_call(freeswitch, hold_ms=7000)
    clean.append(caller)
    _caller_stayed(caller)
    assert phone_saw(freeswitch, carrier, "carrier-out", "BYE sip:")
    trace = (freeswitch.workdir / "carrier-out.messages").read_text()
    invite = trace[trace.index("INVITE sip:") :]
    assert invite.startswith("INVITE sip:+33698765432@")
    sender = next(line for line in invite.splitlines() if line.startswith("From:"))
    assert RECEPTION_NUMBER in sender and OUTSIDE_CALLER not in sender


def test_an_attended_transfer_joins_the_caller_and_the_colleague(
    freeswitch: Node, routes: list[tuple[dict[str, str], Route]], clean: list
) -> None:
    """1000 holds the carrier's call, calls 1002, then REFERs the consultation with
    Replaces naming the held call: sofia joins the caller and 1002 itself."""
    reception = _registered_phone(
        freeswitch, "1000", sipp_transfer.held_phone("1000", DOMAIN), "held-1000"
    )
    colleague = phone(freeswitch, "1002", 200)
    clean += [reception, colleague]
    caller = _carrier_call(freeswitch, hold_ms=9000)
    clean.append(caller)
    held = _wait_for_leg(freeswitch, "sofia/internal/1000@")
    freeswitch.wait_for(f"uuid_getvar {held} sip_to_tag", lambda out: bool(out.strip()))
    call_id = freeswitch.api(f"uuid_getvar {held} sip_call_id").strip()
    ours = freeswitch.api(f"uuid_getvar {held} sip_from_tag").strip()
    theirs = freeswitch.api(f"uuid_getvar {held} sip_to_tag").strip()
    refer_to = f"<sip:1002@{DOMAIN}?{sipp_transfer.replaces(call_id, ours, theirs)}>"
    consult = subprocess.run(
        sipp.command(
            sipp_transfer.consulting_call("1000", DOMAIN, "1002", refer_to),
            freeswitch.workdir,
            "consult-1000",
            freeswitch.remote,
            port=free_port(socket.SOCK_DGRAM),
            user="1000",
            password=PASSWORDS["1000"],
        ),
        capture_output=True,
        timeout=60,
    )
    assert consult.returncode == 0, consult.stdout.decode()[-2000:]
    _caller_stayed(caller)
    assert phone_saw(freeswitch, colleague, "phone-1002-200", "BYE sip:")


def test_a_dtmf_transfer_hands_the_caller_over_when_the_user_hangs_up(
    centrex: Centrex,
    freeswitch: Node,
    routes: list[tuple[dict[str, str], Route]],
    clean: list,
) -> None:
    """#1 from 1000's phone in the call: the caller hears hold music, 1000 dials 1002
    and # (RFC 2833 digits, injected as received on 1000's leg), talks to 1002 and
    hangs up: the caller is connected to 1002 until they hang up."""
    before = len(_kinds(centrex, "1000"))
    audio = sipp_transfer.silence(freeswitch.workdir / "silence.pcap")
    reception = _registered_phone(
        freeswitch,
        "1000",
        sipp_transfer.held_phone("1000", DOMAIN, audio=str(audio)),
        "dtmf-1000",
    )
    colleague = phone(freeswitch, "1002", 200)
    clean += [reception, colleague]
    caller = _carrier_call(freeswitch, hold_ms=25000)
    clean.append(caller)
    leg = _wait_for_leg(freeswitch, "sofia/internal/1000@")
    # The key bound on 1000's leg: the application it runs, not the caller's bridge
    # string, which names it among the variables it sets.
    freeswitch.wait_for("show channels", lambda out: f",{fs.APP_BIND_META_APP}," in out)
    # `~`: the digits go through the leg's DTMF hooks, as a phone's do.
    assert freeswitch.api(f"uuid_recv_dtmf {leg} ~#1").startswith("+OK")
    freeswitch.wait_for("show channels", lambda out: f",{fs.APP_READ}," in out, timeout=30)
    assert freeswitch.api(f"uuid_recv_dtmf {leg} ~1002#").startswith("+OK")
    freeswitch.wait_for("show channels", lambda out: "sofia/internal/1002@" in out)
    trace = freeswitch.workdir / "phone-1002-200.messages"
    deadline = time.monotonic() + 15
    while "ACK sip:" not in (trace.read_text() if trace.exists() else ""):
        assert time.monotonic() < deadline, "1002 never took the consultation"
        time.sleep(0.1)
    assert freeswitch.api(f"uuid_kill {leg}").startswith("+OK")
    # 1000 is gone; the caller and 1002 are still talking.
    time.sleep(2)
    channels = freeswitch.api("show channels")
    assert "sofia/external/" in channels and "sofia/internal/1002@" in channels, channels
    assert "sofia/internal/1000@" not in channels
    consultation = _transfer_fetch(routes, "1002")
    assert consultation[fs.VAR_PREFIX + fs.V_PEER_LINE] == f"1000@{DOMAIN}"
    _caller_stayed(caller)
    assert phone_saw(freeswitch, colleague, "phone-1002-200", "BYE sip:")
    assert _new_kind(centrex, "1000", before) == "transferred"


def test_a_dtmf_transfer_taken_back_with_hash_reconnects_the_user_and_the_caller(
    centrex: Centrex,
    freeswitch: Node,
    routes: list[tuple[dict[str, str], Route]],
    clean: list,
) -> None:
    """#1, 1002 and #: 1002 answers; # ends the consultation and 1000 is back with the
    caller, who is still connected when they hang up."""
    before = len(_kinds(centrex, "1000"))
    audio = sipp_transfer.silence(freeswitch.workdir / "silence.pcap")
    reception = _registered_phone(
        freeswitch,
        "1000",
        sipp_transfer.held_phone("1000", DOMAIN, audio=str(audio)),
        "dtmf-back-1000",
    )
    colleague = phone(freeswitch, "1002", 200)
    clean += [reception, colleague]
    caller = _carrier_call(freeswitch, hold_ms=25000)
    clean.append(caller)
    leg = _wait_for_leg(freeswitch, "sofia/internal/1000@")
    # The key bound on 1000's leg: the application it runs, not the caller's bridge
    # string, which names it among the variables it sets.
    freeswitch.wait_for("show channels", lambda out: f",{fs.APP_BIND_META_APP}," in out)
    assert freeswitch.api(f"uuid_recv_dtmf {leg} ~#1").startswith("+OK")
    freeswitch.wait_for("show channels", lambda out: f",{fs.APP_READ}," in out, timeout=30)
    assert freeswitch.api(f"uuid_recv_dtmf {leg} ~1002#").startswith("+OK")
    trace = freeswitch.workdir / "phone-1002-200.messages"
    deadline = time.monotonic() + 15
    while "ACK sip:" not in (trace.read_text() if trace.exists() else ""):
        assert time.monotonic() < deadline, "1002 never took the consultation"
        time.sleep(0.1)
    assert freeswitch.api(f"uuid_recv_dtmf {leg} ~#").startswith("+OK")
    assert phone_saw(freeswitch, colleague, "phone-1002-200", "BYE sip:")
    freeswitch.wait_for("show channels", lambda out: "sofia/internal/1002@" not in out)
    channels = freeswitch.api("show channels")
    assert "sofia/internal/1000@" in channels and "sofia/external/" in channels, channels
    _caller_stayed(caller)
    assert phone_saw(freeswitch, reception, "dtmf-back-1000", "BYE sip:")
    # Taken back: a call 1000 received, not one they transferred.
    assert _new_kind(centrex, "1000", before) == "received"


def test_a_call_the_user_placed_outside_is_transferred_to_a_colleague(
    freeswitch: Node, routes: list[tuple[dict[str, str], Route]], clean: list
) -> None:
    """1000 calls a mobile through the carrier, then REFERs it to 1002: the carrier's
    leg, which carries 1000's name from 1000's own leg, is hunted as 1000's call and
    1002's phone takes it."""
    freeswitch.wait_for("sofia status gateway", lambda out: DOMAIN in out)
    carrier = subprocess.Popen(
        sipp.command(
            sipp.phone(200),
            freeswitch.workdir,
            "carrier-placed",
            freeswitch.remote,
            port=int(os.environ["CENTREX_E2E_CARRIER_PORT"]),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    colleague = phone(freeswitch, "1002", 200)
    clean += [carrier, colleague]
    placed = subprocess.run(
        sipp.command(
            sipp_transfer.consulting_call("1000", DOMAIN, "0698765432", f"<sip:1002@{DOMAIN}>"),
            freeswitch.workdir,
            "placed-1000",
            freeswitch.remote,
            port=free_port(socket.SOCK_DGRAM),
            user="1000",
            password=PASSWORDS["1000"],
        ),
        capture_output=True,
        timeout=60,
    )
    assert placed.returncode == 0, placed.stdout.decode()[-2000:]
    answered = _wait_for_leg(freeswitch, "sofia/internal/1002@")
    channels = freeswitch.api("show channels")
    assert "sofia/gateway/" in channels or "sofia/external/" in channels, channels
    fetch = _transfer_fetch(routes, "1002")
    assert fetch[fs.VAR_PREFIX + fs.V_PEER_LINE] == f"1000@{DOMAIN}"
    assert freeswitch.api(f"uuid_kill {answered}").startswith("+OK")
    assert phone_saw(freeswitch, carrier, "carrier-placed", "BYE sip:")
