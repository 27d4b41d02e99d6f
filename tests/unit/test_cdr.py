"""esl.cdr: FreeSWITCH's call records read and classified, from the captured records of
FreeSWITCH 1.10.12 (../shared/fixtures/xml_cdr) and variations of them.

The captured calls (vanilla dialplan, context `default`, domain 127.0.0.1):
  call 1: 1001 calls 1000; 1000's phone answers 503; the caller's leg goes to 1000's
          voicemail through a loopback pair.
  call 2: 1001 calls 1002, not registered: no leg to a phone; voicemail over loopback.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from lxml import etree

from esl.cdr import (
    Kind,
    NotACdr,
    TenantLines,
    candidate_extensions,
    classify,
    parse_cdr,
    tenant_hints,
    xml_from_body,
)
from esl.handlers import LineRef
from tests.fsrequests import fixtures_dir

CALL1_A = "cdr-leg-4"  # 1001's leg
CALL1_B = "cdr-leg"  # the leg to 1000's phone
CALL1_LOOPBACK = ("cdr-leg-3", "cdr-leg-2")
CALL2_A = "cdr-leg-7"  # 1001's leg to unregistered 1002
CALL2_LOOPBACK = ("cdr-leg-6", "cdr-leg-5")
CALL1_A_UUID = "7a6a6962-0732-4d96-a8ed-e3d1c79f2ce5"
CALL1_B_UUID = "906ba466-b677-4ff0-809d-24a010f8ea72"

DEMO = TenantLines("127.0.0.1", "FR", frozenset({"1000", "1001", "1002"}))


def cdr_xml(name: str) -> bytes:
    """The record FreeSWITCH posted, as it wrote it (the form field decoded)."""
    data = json.loads((fixtures_dir() / "xml_cdr" / f"{name}.json").read_text())
    return dict(data["fields"])["cdr"].encode()


def micros(text: str) -> str:
    """`2026-11-22T11:00:00` (UTC) as FreeSWITCH's *_uepoch value."""
    return str(int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1_000_000))


def edited(
    xml: bytes,
    variables: dict[str, str | None] | None = None,
    hops: list[tuple[str, str]] | None = None,
    caller: tuple[str, str] | None = None,
) -> bytes:
    """The record with variables set (url-encoded, as FreeSWITCH writes them) or removed
    (None), its hunts replaced by `hops` (context, destination; first hunt first), and
    the caller ID (number, name) of its first hunt replaced."""
    root = etree.fromstring(xml)
    found = root.find("variables")
    for name, value in (variables or {}).items():
        for old in found.findall(name):
            found.remove(old)
        if value is not None:
            etree.SubElement(found, name).text = quote(value, safe="")
    if hops is not None:
        template = root.find("callflow")
        for flow in root.findall("callflow"):
            root.remove(flow)
        for context, destination in reversed(hops):  # FreeSWITCH writes the latest first
            flow = copy.deepcopy(template)
            flow.find("caller_profile/context").text = context
            flow.find("caller_profile/destination_number").text = destination
            root.append(flow)
    if caller is not None:
        profile = root.findall("callflow")[-1].find("caller_profile")
        profile.find("caller_id_number").text, profile.find("caller_id_name").text = caller
    return etree.tostring(root)


def kinds(xml: bytes, lines: TenantLines = DEMO) -> dict[str, Kind]:
    return {e.extension: e.kind for e in classify(parse_cdr(xml), lines)}


# --- bodies -----------------------------------------------------------------------------
def bodies(xml: bytes) -> dict[str, bytes]:
    """The body of each `encode` setting of mod_xml_cdr (switch_url_encode's unsafe set)."""
    unsafe = '\r\n #%&+:;<=>?@[\\]^`{|}"'
    encoded = "".join(f"%{ord(c):02X}" if c in unsafe or ord(c) > 126 else c for c in xml.decode())
    return {
        "true": b"cdr=" + encoded.encode(),
        "unset": b"cdr=" + xml,
        "base64": b"cdr=" + base64.b64encode(xml),
        "textxml": xml,
    }


@pytest.mark.parametrize("encode", ["true", "unset", "base64", "textxml"])
def test_every_encoding_mod_xml_cdr_posts_gives_the_record_back(encode):
    xml = cdr_xml(CALL1_A)
    assert xml_from_body(bodies(xml)[encode]) == xml.strip()


def test_base64_keeps_its_plus_signs():
    xml = b"<cdr>" + bytes(range(0x3E, 0x7E)) * 3 + b"</cdr>"
    body = b"cdr=" + base64.b64encode(xml)
    assert b"+" in body and xml_from_body(body) == xml


@pytest.mark.parametrize(
    "body", [b"", b"hello", b"uuid=1&cdr2=x", b"cdr=!!!not base64!!!", b"cdr=" + b"aGVsbG8="]
)
def test_a_body_that_holds_no_record_is_refused(body):
    with pytest.raises(NotACdr):
        xml_from_body(body)


# --- parsing ------------------------------------------------------------------------------
def test_the_callers_leg_is_read_with_its_user_times_and_hunts():
    leg = parse_cdr(cdr_xml(CALL1_A))
    assert leg.uuid == leg.call_uuid == CALL1_A_UUID
    assert leg.other_uuid == "a1603b9b-1b3b-4cdc-9614-3010186dfdd1"  # the loopback it bridged
    assert (leg.direction, leg.originated, leg.loopback) == ("inbound", False, False)
    assert leg.calling_user == LineRef("1001", "127.0.0.1")
    assert leg.rung_user == LineRef("1000", "127.0.0.1")
    assert leg.started_at == datetime(2026, 11, 22, 11, 57, 5, 490040, tzinfo=UTC)
    assert leg.answered_at == datetime(2026, 11, 22, 11, 57, 5, 509988, tzinfo=UTC)
    assert leg.ended_at == datetime(2026, 11, 22, 11, 57, 6, 930050, tzinfo=UTC)
    assert (leg.duration, leg.billsec, leg.hangup_cause) == (1, 1, "NORMAL_CLEARING")
    assert (leg.caller_number, leg.destination, leg.node) == ("1001", "1000", "vm")
    assert leg.bridge_channel == "loopback/voicemail-a"


def test_a_leg_to_a_phone_belongs_to_its_caller_s_call():
    leg = parse_cdr(cdr_xml(CALL1_B))
    assert (leg.uuid, leg.call_uuid, leg.other_uuid) == (CALL1_B_UUID, CALL1_A_UUID, CALL1_A_UUID)
    assert (leg.direction, leg.originated) == ("outbound", True)
    assert leg.calling_user is None and leg.rung_user == LineRef("1000", "127.0.0.1")
    assert leg.answered_at is None and leg.hangup_cause == "NORMAL_TEMPORARY_FAILURE"
    assert (leg.caller_number, leg.caller_name) == ("1001", "Extension 1001")
    assert leg.node == "vm"  # from the root's switchname: B legs carry no FreeSWITCH-Hostname


@pytest.mark.parametrize("name", [*CALL1_LOOPBACK, *CALL2_LOOPBACK])
def test_loopback_legs_are_recognised(name):
    leg = parse_cdr(cdr_xml(name))
    assert leg.loopback and leg.other_uuid


def test_where_to_look_for_the_tenant():
    a_leg = parse_cdr(cdr_xml(CALL1_A))
    assert tenant_hints(a_leg).domains == ("127.0.0.1", "default")
    assert candidate_extensions(a_leg) == {"1000", "1001"}
    carrier = parse_cdr(edited(cdr_xml(CALL2_A), hops=[("public", "0184800100")]))
    assert tenant_hints(carrier).public_destinations == ("0184800100",)


@pytest.mark.parametrize(
    "xml",
    [
        b"not xml",
        b"<document/>",
        b"<cdr><variables><uuid>x</uuid></variables></cdr>",  # no times
        b"<cdr><variables><uuid>bad uuid!</uuid><start_uepoch>1</start_uepoch>"
        b"<end_uepoch>1</end_uepoch></variables></cdr>",
    ],
)
def test_what_is_no_record_is_refused(xml):
    with pytest.raises(NotACdr):
        parse_cdr(xml)


def test_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    xml = cdr_xml(CALL1_A).replace(
        b"<cdr ", f'<!DOCTYPE cdr [<!ENTITY e SYSTEM "file://{secret}">]><cdr '.encode(), 1
    )
    xml = xml.replace(
        b"<caller_id_name>1001</caller_id_name>", b"<caller_id_name>&e;</caller_id_name>"
    )
    leg = parse_cdr(xml.replace(b'<?xml version="1.0"?>', b""))
    assert "s3cret" not in leg.caller_name


def test_a_sip_header_name_that_makes_the_xml_invalid_is_repaired():
    # sofia turns `X-A!: b` into the variable sip_h_X-A!, written as an element name.
    xml = cdr_xml(CALL1_A).replace(b"<variables>", b"<variables><sip_h_X-A!>b</sip_h_X-A!>", 1)
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(xml)
    leg = parse_cdr(xml)
    assert leg.uuid == CALL1_A_UUID and leg.hangup_cause == "NORMAL_CLEARING"


def test_a_line_s_own_leg_variable_is_read_in_one_parse(monkeypatch):
    # Every leg of a line carries `nolocal:centrex_peer_line`, an element with an
    # undeclared prefix: renamed before the parse, never repaired after a failed one.
    xml = cdr_xml(CALL1_A).replace(
        b"<variables>",
        b"<variables><nolocal:centrex_peer_line>1001%40127.0.0.1</nolocal:centrex_peer_line>",
        1,
    )
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(xml)

    class NoRepair:
        def sub(self, *_args: object) -> bytes:
            raise AssertionError("the record was parsed twice")

    monkeypatch.setattr("esl.cdr._TAG", NoRepair())
    leg = parse_cdr(xml)
    assert leg.uuid == CALL1_A_UUID and leg.hangup_cause == "NORMAL_CLEARING"


# --- classifying the captured calls ---------------------------------------------------------
def test_call_1_the_caller_placed_it_and_the_callee_missed_it():
    assert kinds(cdr_xml(CALL1_A)) == {"1001": Kind.PLACED, "1000": Kind.MISSED}
    assert kinds(cdr_xml(CALL1_B)) == {"1000": Kind.MISSED}
    told_by_caller = classify(parse_cdr(cdr_xml(CALL1_A)), DEMO)[1]
    (told_by_phone,) = classify(parse_cdr(cdr_xml(CALL1_B)), DEMO)
    # The same miss: the phone's own leg is the more telling report of it.
    assert told_by_phone.precedence > told_by_caller.precedence


def test_call_2_to_an_unregistered_line_is_missed_from_the_caller_s_leg_alone():
    entries = {e.extension: e for e in classify(parse_cdr(cdr_xml(CALL2_A)), DEMO)}
    assert {x: e.kind for x, e in entries.items()} == {"1001": Kind.PLACED, "1002": Kind.MISSED}
    placed, missed = entries["1001"], entries["1002"]
    assert (placed.peer_number, placed.direction, placed.billsec) == ("1002", "outgoing", 1)
    assert (missed.peer_number, missed.direction, missed.answered_at) == ("1001", "incoming", None)


@pytest.mark.parametrize("name", [*CALL1_LOOPBACK, *CALL2_LOOPBACK])
def test_loopback_legs_give_no_entry(name):
    assert kinds(cdr_xml(name)) == {}


def test_legs_of_another_tenant_or_unknown_lines_give_no_entry():
    other = TenantLines("acme.example", "FR", frozenset({"1000", "1001", "1002"}))
    assert kinds(cdr_xml(CALL1_A), other) == {}
    assert kinds(cdr_xml(CALL1_B), other) == {}
    assert kinds(cdr_xml(CALL1_A), TenantLines("127.0.0.1", "FR", frozenset())) == {}


# --- classifying: what else a call can become ----------------------------------------------------
ANSWERED = {
    "answer_uepoch": micros("2026-11-22T11:57:10"),
    "bridge_uepoch": micros("2026-11-22T11:57:10"),
}
CENTREX_HOPS = [("127.0.0.1", "1000")]


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        (ANSWERED | {"hangup_cause": "NORMAL_CLEARING"}, Kind.RECEIVED),
        ({"hangup_cause": "CALL_REJECTED"}, Kind.REJECTED),  # declined on the phone
        ({"hangup_cause": "NO_ANSWER"}, Kind.MISSED),
        ({"hangup_cause": "LOSE_RACE"}, Kind.MISSED),  # another phone took it
        # Answered, never connected: the callee did not confirm (group_confirm_key).
        ({"answer_uepoch": micros("2026-11-22T11:57:10")}, Kind.MISSED),
    ],
)
def test_the_leg_to_a_phone_says_how_its_user_took_the_call(variables, expected):
    assert kinds(edited(cdr_xml(CALL1_B), variables)) == {"1000": expected}


def test_a_received_call_counts_its_talk_time_from_the_answer():
    xml = edited(cdr_xml(CALL1_B), ANSWERED | {"end_uepoch": micros("2026-11-22T11:59:10")})
    (entry,) = classify(parse_cdr(xml), DEMO)
    assert (entry.kind, entry.billsec) == (Kind.RECEIVED, 120)


def story(variables: dict[str, str | None], hops=CENTREX_HOPS) -> dict[str, Kind]:
    """What the caller's leg says, dialplan hunts as Centrex makes them."""
    base = {"bridge_channel": "sofia/internal/1000@192.0.2.7:5060"} | variables
    return kinds(edited(cdr_xml(CALL1_A), base, hops=hops))


def test_the_caller_s_leg_tells_what_happened_at_the_line():
    assert story({"centrex_stage": "ring"}) == {"1001": Kind.PLACED, "1000": Kind.RECEIVED}
    assert story({"bridge_uepoch": None}) == {"1001": Kind.PLACED, "1000": Kind.MISSED}
    # Answered by a forward of the line's (to a mobile): forwarded.
    assert story({"centrex_stage": "forward"})["1000"] is Kind.FORWARDED
    # Centrex rejected it under 1000's rules, in early media: never answered.
    rejected = {"answer_uepoch": None, "bridge_uepoch": None, "hangup_cause": "CALL_REJECTED"}
    assert story(rejected)["1000"] is Kind.REJECTED


def test_a_forward_to_a_colleague_shows_for_both():
    hops = [("127.0.0.1", "1000"), ("127.0.0.1", "1002")]
    got = story({"centrex_forward_chain": "1000", "centrex_stage": "ring"}, hops)
    assert got == {"1001": Kind.PLACED, "1000": Kind.FORWARDED, "1002": Kind.RECEIVED}
    unanswered = story({"centrex_forward_chain": "1000", "bridge_uepoch": None}, hops)
    assert unanswered == {"1001": Kind.PLACED, "1000": Kind.FORWARDED, "1002": Kind.MISSED}


def test_a_call_from_a_carrier_reaches_the_line_of_the_public_number():
    lines = TenantLines("127.0.0.1", "FR", frozenset({"1000"}), {"0184800100": "1000"})
    xml = edited(
        cdr_xml(CALL2_A),
        {"user_name": None, "domain_name": None, "dialed_user": None, "dialed_domain": None},
        hops=[("public", "0184800100")],
        caller=("0612345678", "MOBILE"),
    )
    (entry,) = classify(parse_cdr(xml), lines)
    assert (entry.extension, entry.kind) == ("1000", Kind.MISSED)
    assert (entry.peer_number, entry.peer_name) == ("+33612345678", "MOBILE")


@pytest.mark.parametrize("withheld", ["anonymous", "Anonymous", "", "unknown"])
def test_a_withheld_caller_number_is_kept_empty(withheld):
    xml = edited(cdr_xml(CALL1_B), caller=(withheld, "Anonymous"))
    (entry,) = classify(parse_cdr(xml), DEMO)
    assert (entry.peer_number, entry.peer_name) == ("", "")


def test_a_reminder_call_is_no_call_log_entry():
    assert kinds(edited(cdr_xml(CALL1_B), {"centrex_reminder": "12"})) == {}


def test_a_click_to_call_leg_is_its_user_s_placed_call():
    # Centrex originates it to the user's phone, marked as their own call.
    xml = edited(
        cdr_xml(CALL1_B),
        {"originator": None, "originating_leg_uuid": None, "user_name": "1000",
         "domain_name": "127.0.0.1", **ANSWERED},
        hops=[("127.0.0.1", "0612345678")],
    )  # fmt: skip
    (entry,) = classify(parse_cdr(xml), DEMO)
    assert (entry.extension, entry.kind, entry.peer_number) == ("1000", Kind.PLACED, "+33612345678")


def test_kinds_rank_so_that_the_most_telling_report_wins():
    def precedence(xml: bytes, extension: str = "1000") -> int:
        return next(
            e.precedence for e in classify(parse_cdr(xml), DEMO) if e.extension == extension
        )

    missed = precedence(cdr_xml(CALL1_B))
    rejected = precedence(edited(cdr_xml(CALL1_B), {"hangup_cause": "CALL_REJECTED"}))
    to_mobile = {"centrex_stage": "forward", "bridge_channel": "sofia/external/0612345678"}
    forwarded = precedence(edited(cdr_xml(CALL1_A), ANSWERED | to_mobile, hops=CENTREX_HOPS))
    received = precedence(edited(cdr_xml(CALL1_B), ANSWERED))
    placed = precedence(cdr_xml(CALL1_A), "1001")
    assert missed < rejected < forwarded < received < placed


def test_every_variable_a_leg_is_read_from_is_picked_out_in_one_pass():
    """parse_cdr's reads are all in `_READ` (a name missing there is still read, looked
    for one by one: slower, not wrong)."""
    import re
    from pathlib import Path

    from esl import cdr
    from xmlcurl import fsnames as fs

    source = Path(cdr.__file__).read_text()
    read = {getattr(fs, n) for n in re.findall(r"var\.get\(fs\.([A-Z_]+)\)", source)}
    assert read and read <= set(cdr._READ)


def test_an_array_variable_gives_its_first_item_and_values_are_decoded():
    xml = cdr_xml(CALL1_A).replace(
        b"<variables>",
        b"<variables><sip_hangup_disposition>x</sip_hangup_disposition>"
        b"<hangup_cause>FIRST%20ONE</hangup_cause><hangup_cause>SECOND</hangup_cause>",
        1,
    )
    assert parse_cdr(xml).hangup_cause == "FIRST ONE"


def test_a_nul_a_variable_spells_is_dropped_not_stored():
    """`%00` decodes to NUL, which PostgreSQL's text refuses: the record was never
    stored, FreeSWITCH retrying it for ever."""
    leg = parse_cdr(edited(cdr_xml(CALL1_A), variables={"hangup_cause": "NORMAL\x00CLEARING"}))
    assert leg.hangup_cause == "NORMALCLEARING"
