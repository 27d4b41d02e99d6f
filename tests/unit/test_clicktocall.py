"""Click-to-call, pure: which destinations are refused, the originate command, and what
Centrex's own dialplan compiler makes of the leg once the user answers."""

import re
from datetime import UTC, datetime

import pytest

from esl.clicktocall import (
    CallingLine,
    DestinationRefused,
    check_destination,
    click_to_call_command,
)
from esl.originate import accepted, failure_cause, in_background
from provisioning.document import parse_document
from provisioning.numbering import Category
from tests.conftest import demo_document
from tests.fsrequests import fs_body
from tests.unit.endpoints import without_legs
from xmlcurl import fsnames as fs
from xmlcurl.decisions import GatewayEndpoint, Hangup, Ring, SetVariable, UserEndpoint
from xmlcurl.dialplan import compile_call, lookup_for
from xmlcurl.inputs import CallData, line_from_document, tenant_from_document
from xmlcurl.request import call_request, parse_fields

DOMAIN = "acme.example"
CALL_UUID = "0b7c4a3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ALICE = CallingLine("1001", DOMAIN, "FR", frozenset({Category.NATIONAL}))
TENANT_EXTENSIONS = {"1000", "1001", "1002"}


@pytest.mark.parametrize(
    ("typed", "routed"),
    [
        ("1002", "1002"),  # a colleague
        ("0612345678", "+33612345678"),  # national, normalised
        ("+33184800100", "+33184800100"),
        ("112", "112"),  # emergency numbers are never barred
    ],
)
def test_allowed_destinations_are_routed_in_canonical_form(typed, routed):
    assert check_destination(typed, ALICE, TENANT_EXTENSIONS) == routed


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("+442079460000", "barred for this line (international calls)"),
        ("0899123456", "barred for this line (premium calls)"),
        ("1001", "the line itself"),
        ("9999", "neither an extension of acme.example nor a valid phone number"),
        ("", "must be digits"),
        ("06 12 34 56 78", "must be digits"),
        ("0612345678,user/1002@acme.example", "must be digits"),
        ("0612345678|sofia/gateway/x/0899123456", "must be digits"),
        ("1002@evil.example", "must be digits"),
        ("{api_on_answer=system}1002", "must be digits"),
        ("${system(id)}", "must be digits"),
        ("1002 XML public", "must be digits"),
        ("0612345678\n", "must be digits"),
        ("+" + "1" * 21, "must be digits"),
    ],
)
def test_refused_destinations_say_why(typed, why):
    with pytest.raises(DestinationRefused, match=re.escape(why)):
        check_destination(typed, ALICE, TENANT_EXTENSIONS)


def test_international_calls_go_through_for_a_line_allowed_them():
    world = CallingLine(
        "1001", DOMAIN, "FR", frozenset({Category.NATIONAL, Category.INTERNATIONAL})
    )
    assert check_destination("+442079460000", world, TENANT_EXTENSIONS) == "+442079460000"


def test_the_command_rings_the_user_then_routes_in_the_tenant_context():
    assert click_to_call_command(ALICE, "+33612345678", CALL_UUID) == (
        "originate {origination_uuid=0b7c4a3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c,originate_timeout=30,"
        "origination_caller_id_name=+33612345678,origination_caller_id_number=+33612345678,"
        "origination_callee_id_name=1001,origination_callee_id_number=1001,"
        "user_name=1001,domain_name=acme.example}user/1001@acme.example "
        "+33612345678 XML acme.example"
    )


def test_the_command_runs_in_the_background_under_our_job_uuid():
    job = "5f0c2b9e-8a41-4c6d-9e3f-2a1b0c9d8e7f"
    command = in_background(click_to_call_command(ALICE, "1002", CALL_UUID), job)
    assert command.startswith(f"bgapi uuid:{job} originate {{")
    assert accepted(f"+OK Job-UUID: {job}\n", job)
    assert not accepted("-ERR no such command\n", job)
    assert failure_cause("+OK 0b7c4a3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c\n") is None
    assert failure_cause("-ERR USER_NOT_REGISTERED\n") == "USER_NOT_REGISTERED"


# What the dialplan sees of the answered leg --------------------------------------------
_ORIGINATE = re.compile(r"originate \{(?P<vars>[^}]*)\}user/\S+ (?P<dest>\S+) XML (?P<ctx>\S+)")


def dialplan_fetch(command: str) -> list[tuple[str, str]]:
    """The dialplan request FreeSWITCH posts for the originated leg once it is answered
    and transferred: its `{}` variables are channel variables, and entering the dialplan
    swaps its caller and callee IDs (switch_channel_sort_cid)."""
    match = _ORIGINATE.fullmatch(command)
    assert match, command
    variables = dict(pair.split("=", 1) for pair in match["vars"].split(","))
    return [
        ("section", "dialplan"),
        ("Hunt-Context", match["ctx"]),
        ("Hunt-Destination-Number", match["dest"]),
        ("Hunt-Caller-ID-Number", variables[fs.V_ORIGINATION_CALLEE_ID_NUMBER]),
        ("Hunt-Caller-ID-Name", variables[fs.V_ORIGINATION_CALLEE_ID_NAME]),
        ("Unique-ID", variables[fs.V_ORIGINATION_UUID]),
        *((fs.VAR_PREFIX + k, v) for k, v in variables.items()),
    ]


def route_for(destination: str, bob: dict | None = None, **alice_changes):
    raw = demo_document(DOMAIN)
    users = {u["extension"]: u for u in raw["users"]}
    users["1001"].update(alice_changes)
    users["1002"].update(bob or {})
    doc = parse_document(raw)
    lines = {u.extension: line_from_document(u) for u in doc.users}
    line = CallingLine("1001", DOMAIN, "FR", lines["1001"].allowed_destinations)
    command = click_to_call_command(line, destination, CALL_UUID)
    request = call_request(parse_fields(fs_body(dialplan_fetch(command))))
    lookup = lookup_for(request, "FR")
    wanted = {e: lines[e] for e in getattr(lookup, "extensions", ()) if e in lines}
    return compile_call(request, CallData(tenant=tenant_from_document(doc), lines=wanted), NOW)


def test_answered_leg_goes_out_as_the_users_own_call_with_their_number():
    route = route_for("+33612345678")
    assert route.name == "outbound +33612345678"
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800101") in route.actions
    assert SetVariable(fs.V_EFFECTIVE_CID_NAME, "Alice Martin") in route.actions
    ring = next(a for a in route.actions if isinstance(a, Ring))
    assert ring.endpoints == (GatewayEndpoint(DOMAIN, "+33612345678"),)


def test_answered_leg_withholds_the_number_when_the_user_does():
    route = route_for("+33612345678", call_handling={"caller_id": {"withhold": True}})
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, fs.ANONYMOUS_NUMBER) in route.actions


def test_the_dialplan_bars_what_the_user_may_not_call_too():
    route = route_for("+442079460000")
    assert route.actions[-1] == Hangup(fs.OUTGOING_CALL_BARRED)


def test_answered_leg_to_a_colleague_rings_them_as_a_call_from_the_user():
    route = route_for("1002")
    ring = without_legs(next(a for a in route.actions if isinstance(a, Ring)))
    assert ring.endpoints[0] == UserEndpoint("1002", DOMAIN)
    assert route.name.startswith("ring 1002")


def test_a_colleague_rejecting_the_user_rejects_their_click_to_call_too():
    bob = {"call_handling": {"selective": {"reject": {"extensions": ["1001"]}}}}
    route = route_for("1002", bob=bob)
    assert route.actions[-1] == Hangup(fs.CALL_REJECTED)
