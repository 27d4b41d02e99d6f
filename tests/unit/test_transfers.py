"""Transfers: pure decisions and their XML, from requests shaped exactly like the ones
FreeSWITCH 1.10.12 posted in the end-to-end setup (tests/fixtures/xml_curl/): a REFER's
hunt on the transferred caller, the DTMF transfer code on a line's own leg, and the hunt
of the number dialled on att_xfer's loopback leg."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from esl.cdr import Kind
from provisioning.call_handling import CallHandling
from provisioning.feature_codes import TRANSFER_CODE
from provisioning.numbering import Category
from tests.fsrequests import fs_body, with_fields
from tests.unit.endpoints import without_legs
from tests.unit.test_cdr import ANSWERED, CALL1_B, cdr_xml, edited, kinds
from tests.unit.test_dialplan_compile import GATEWAY, line
from xmlcurl import fsnames as fs
from xmlcurl import handover, render, transfer
from xmlcurl.decisions import (
    CollectNumber,
    ConsultTransfer,
    ExportVariable,
    GatewayEndpoint,
    Hangup,
    ReleaseTransferKeys,
    Ring,
    Route,
    SetVariable,
    Tone,
    Transfer,
    UnsetVariable,
    UserEndpoint,
)
from xmlcurl.dialplan import TenantLookup, compile_call, lookup_for
from xmlcurl.directory import compile_directory
from xmlcurl.inputs import CallData, TenantData
from xmlcurl.request import CallRequest, call_request, directory_request, parse_fields
from xmlcurl.safe import UnsafeValue

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xml_curl"
NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
DOMAIN = "127.0.0.1"
TENANT = TenantData(
    domain=DOMAIN,
    name="Demo",
    timezone="Europe/Paris",
    country="FR",
    main_number="+33184800100",
    gateway=GATEWAY,
)
RECEPTION = line("1000", public_number="+33184800100", display_name="Reception")
COLLEAGUE = line("1002", display_name="Bob Durand")
DATA = CallData(tenant=TENANT, lines={"1000": RECEPTION, "1002": COLLEAGUE})
UNAVAILABLE = "%(250,250,425)"


def captured(name: str, **values: str) -> CallRequest:
    """A captured request, with some fields replaced (exact names), as FreeSWITCH
    would have posted it."""
    fields = [(k, v) for k, v in json.loads((FIXTURES / f"{name}.json").read_text())["fields"]]
    return call_request(parse_fields(fs_body(with_fields(fields, values))))


def referred(target: str, **values: str) -> CallRequest:
    """The carrier's caller, REFERred by 1000 to `target` (sofia's hunt)."""
    return captured(
        "dialplan-refer-transfer",
        **{"Hunt-Destination-Number": target, "Caller-Destination-Number": target},
        **values,
    )


def with_barring(*allowed: Category) -> CallData:
    reception = replace(RECEPTION, allowed_destinations=frozenset(allowed))
    return replace(DATA, lines={**DATA.lines, "1000": reception})


# --- what the captured requests say ----------------------------------------------------
def test_a_refer_hunt_names_its_transferor_as_freeswitch_copied_it_at_the_bridge():
    req = referred("1002")
    assert (req.context, req.destination, req.peer_line, req.referred) == (
        DOMAIN,
        "1002",
        f"1000@{DOMAIN}",
        True,
    )
    # The caller's own leg is no line's: a carrier's call.
    assert req.own_line is None and req.from_public and req.caller_user is None


def test_the_dtmf_transfer_code_runs_on_the_line_s_own_leg_within_its_call():
    req = captured("dialplan-dtmf-transfer-code")
    assert (req.destination, req.own_line, req.bridged) == (TRANSFER_CODE, f"1000@{DOMAIN}", True)


def test_the_number_dialled_for_a_dtmf_transfer_is_hunted_on_a_leg_carrying_the_user():
    req = captured(
        "dialplan-dtmf-transfer-target",
        # Set by the consultation's originate (captured before Centrex marked it).
        variable_centrex_consultation="true",
    )
    assert (req.destination, req.peer_line, req.referred) == ("1002", f"1000@{DOMAIN}", False)


def test_the_loader_is_told_to_fetch_the_transferor_and_the_own_line():
    assert lookup_for(referred("0612345678"), "FR") == TenantLookup(DOMAIN, ("0612345678", "1000"))
    code = lookup_for(captured("dialplan-dtmf-transfer-code"), "FR")
    assert isinstance(code, TenantLookup) and "1000" in code.extensions


@pytest.mark.parametrize(
    "value", ["1000@other.example", "1000", "10,00@127.0.0.1", "${x}@127.0.0.1", "", "@"]
)
def test_a_peer_line_of_another_tenant_or_junk_names_nobody(value):
    assert handover.decode_line(value, DOMAIN) is None


# --- a REFER is routed as a call from the transferor ------------------------------------
def test_a_refer_to_a_colleague_rings_them_as_a_call_of_the_transferor():
    route = compile_call(referred("1002"), DATA, NOW)
    ring = without_legs(next(a for a in route.actions if isinstance(a, Ring)))
    assert ring.endpoints == (UserEndpoint("1002", DOMAIN),)
    assert route.actions[-1] == Transfer("1002", DOMAIN)


def test_a_refer_to_an_allowed_outside_number_goes_out_with_the_transferor_s_caller_id():
    route = compile_call(referred("0698765432"), DATA, NOW)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800100") in route.actions
    assert SetVariable(fs.V_EFFECTIVE_CID_NAME, "Reception") in route.actions
    ring = next(a for a in route.actions if isinstance(a, Ring))
    assert ring.endpoints == (GatewayEndpoint(DOMAIN, "+33698765432"),)


def test_the_transferor_who_withholds_their_number_transfers_out_withheld():
    handling = CallHandling.model_validate({"caller_id": {"withhold": True}})
    data = replace(DATA, lines={**DATA.lines, "1000": replace(RECEPTION, call_handling=handling)})
    route = compile_call(referred("0698765432"), data, NOW)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800100") not in route.actions
    assert ExportVariable(fs.H_ASSERTED_IDENTITY, f"<sip:+33184800100@{DOMAIN}>") in route.actions
    assert any(isinstance(a, Ring) for a in route.actions)


def test_a_refer_to_a_barred_number_rings_the_caller_back_to_the_transferor():
    route = compile_call(referred("00442079460000"), DATA, NOW)
    assert route.actions == (
        Tone(UNAVAILABLE, 1),
        UnsetVariable(fs.V_PEER_LINE),
        Transfer("1000", DOMAIN),
    )
    assert "OUTGOING_CALL_BARRED" in route.name


def test_the_transferor_s_own_barring_decides_not_the_caller_s():
    allowed = compile_call(referred("00442079460000"), with_barring(Category.INTERNATIONAL), NOW)
    assert any(isinstance(a, Ring) for a in allowed.actions)
    barred = compile_call(referred("0698765432"), with_barring(), NOW)
    assert barred.actions[-1] == Transfer("1000", DOMAIN)


@pytest.mark.parametrize(
    "junk", ["1002,user/x", "${system(id)}", "1002;a=b", "1002|sofia/x", "1002 x", "1002@evil"]
)
def test_a_refer_to_junk_is_refused_as_an_invalid_number_and_the_caller_rung_back(junk):
    route = compile_call(referred(junk), DATA, NOW)
    assert "INVALID_NUMBER_FORMAT" in route.name
    assert route.actions[-1] == Transfer("1000", DOMAIN)
    xml = render.dialplan(route)
    assert junk.encode() not in xml.replace(b"&lt;", b"<")  # never in any action


def test_a_refer_to_a_feature_code_is_refused():
    for code in ("*318", "**1002", "*551000", TRANSFER_CODE):
        route = compile_call(referred(code), DATA, NOW)
        assert route.actions[-1] == Transfer("1000", DOMAIN) or route.actions[-1] == Tone(
            transfer.DIAL_TONE, 1
        ), code


def test_without_a_transferor_a_caller_from_outside_never_calls_out():
    """A channel whose peer line is not of this tenant, or absent (the call as it was
    before this feature): an outside number is refused, nobody is rung back."""
    for values in ({"variable_centrex_peer_line": "1000@other.example"}, {}):
        req = referred("0698765432", **values)
        if not values:
            req = replace(req, peer_line=None)
        route = compile_call(req, DATA, NOW)
        assert route.actions == (Hangup(fs.UNALLOCATED_NUMBER),)


def test_a_peer_line_in_the_public_context_is_ignored():
    req = replace(referred("0698765432"), context=fs.PUBLIC_CONTEXT)
    assert compile_call(req, DATA, NOW).actions == (Hangup(fs.NO_ROUTE_DESTINATION),)


# --- DTMF transfer ---------------------------------------------------------------------
def test_the_transfer_code_on_a_line_s_leg_collects_the_number_and_consults_it():
    route = compile_call(captured("dialplan-dtmf-transfer-code"), DATA, NOW)
    assert route.actions == (
        ReleaseTransferKeys(),
        CollectNumber(transfer.DIAL_TONE, fs.V_TRANSFER_TARGET, 20, 5000),
        SetVariable(fs.V_TRANSFERRING, "true"),
        ConsultTransfer(fs.V_TRANSFER_TARGET, DOMAIN, f"1000@{DOMAIN}"),
        UnsetVariable(fs.V_TRANSFERRING),
    )


@pytest.mark.parametrize(
    "values",
    [
        {"variable_nolocal:centrex_peer_line": ""},  # no line's leg (a forward's outside party)
        {"variable_bridge_to": ""},  # dialled, not within a call
        {"variable_nolocal:centrex_peer_line": "1000@other.example"},
    ],
)
def test_the_transfer_code_elsewhere_only_beeps_and_the_call_goes_on(values):
    route = compile_call(captured("dialplan-dtmf-transfer-code", **values), DATA, NOW)
    assert route.actions == (Tone(transfer.DIAL_TONE, 1),)


def test_the_number_dialled_is_routed_as_the_user_s_call_and_refused_without_ring_back():
    leg = captured(
        "dialplan-dtmf-transfer-target",
        # Set by the consultation's originate (captured before Centrex marked it).
        variable_centrex_consultation="true",
    )
    to_colleague = compile_call(leg, DATA, NOW)
    assert any(isinstance(a, Ring) for a in to_colleague.actions)
    out = replace(leg, destination="0698765432")
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800100") in (
        compile_call(out, DATA, NOW).actions
    )
    # att_xfer gives the user back their caller when the consultation fails: the user
    # hears why (the barred-call announcement), and nobody is rung back.
    barred = compile_call(replace(leg, destination="00442079460000"), DATA, NOW).actions
    assert barred[-1] == Hangup(fs.OUTGOING_CALL_BARRED)
    assert not any(isinstance(a, Transfer) for a in barred)


def actions(xml: bytes) -> list[tuple[str, str]]:
    root = etree.fromstring(xml)
    return [(a.get("application"), a.get("data", "")) for a in root.iter("action")]


def test_the_dtmf_transfer_renders_read_and_att_xfer_through_loopback():
    route = compile_call(captured("dialplan-dtmf-transfer-code"), DATA, NOW)
    assert actions(render.dialplan(route)) == [
        ("unbind_meta_app", ""),
        ("read", f"1 20 tone_stream://{transfer.DIAL_TONE} centrex_transfer_target 5000 #"),
        ("set", "centrex_transferring=true"),
        (
            "att_xfer",
            f"{{centrex_peer_line=1000@{DOMAIN},centrex_consultation=true,loopback_bowout=false}}"
            f"loopback/${{centrex_transfer_target}}/{DOMAIN}",
        ),
        ("unset", "centrex_transferring"),
    ]


@pytest.mark.parametrize(
    "action",
    [
        ConsultTransfer(fs.V_TRANSFER_TARGET, DOMAIN, "1000@x,api_on_answer=system"),
        ConsultTransfer("x}y", DOMAIN, f"1000@{DOMAIN}"),
        ConsultTransfer(fs.V_TRANSFER_TARGET, "a/b", f"1000@{DOMAIN}"),
        CollectNumber("%(1,0,440);x", fs.V_TRANSFER_TARGET, 20, 5000),
    ],
)
def test_nothing_but_our_own_values_reaches_att_xfer_or_read(action):
    with pytest.raises(UnsafeValue):
        render.dialplan(Route(DOMAIN, TRANSFER_CODE, "x", (action,)))


def test_every_line_s_legs_name_it_and_bind_the_transfer_keys_while_bridged():
    request = directory_request(
        {"section": "directory", "action": "user_call", "user": "1000", "domain": DOMAIN}
    )
    answer = compile_directory(request, DATA)
    root = etree.fromstring(render.directory(answer))
    user = next(u for u in root.iter("user") if u.get("id") == "1000")
    variables = {v.get("name"): v.get("value") for v in user.iter("variable")}
    assert variables["nolocal:centrex_peer_line"] == f"1000@{DOMAIN}"
    assert variables["bridge_export_vars"] == "nolocal:centrex_peer_line"
    assert variables["bind_meta_key"] == "#"
    assert variables["execute_on_pre_bridge_centrex_transfer"] == (
        f"bind_meta_app 1 a s execute_extension::{TRANSFER_CODE} XML {DOMAIN}"
    )
    assert variables["execute_on_post_bridge_centrex_transfer"] == "unbind_meta_app"


def test_a_ring_waits_a_moment_before_its_failover_so_att_xfer_can_hand_the_call_over():
    route = compile_call(referred("1002"), DATA, NOW)
    assert actions(render.dialplan(route))[-2:] == [
        ("sleep", str(transfer.HAND_OVER_MS)),
        ("transfer", f"1002 XML {DOMAIN}"),
    ]


# --- the call log ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"endpoint_disposition": "BLIND_TRANSFER"}, Kind.TRANSFERRED),
        ({"endpoint_disposition": "ATTENDED_TRANSFER"}, Kind.TRANSFERRED),
        (
            {"centrex_transferring": "true", "bridge_channel": "loopback/1002-a"},
            Kind.TRANSFERRED,
        ),
        # Taken back: the leg ended bridged to its caller again.
        (
            {"centrex_transferring": "true", "bridge_channel": "sofia/external/+336@x"},
            Kind.RECEIVED,
        ),
        ({"centrex_transferring": "yes", "bridge_channel": "loopback/1002-a"}, Kind.RECEIVED),
        ({"endpoint_disposition": "ANSWER"}, Kind.RECEIVED),
    ],
)
def test_the_call_log_shows_a_call_the_user_took_and_transferred(variables, expected):
    xml = edited(cdr_xml(CALL1_B), ANSWERED | {"hangup_cause": "NORMAL_CLEARING"} | variables)
    assert kinds(xml) == {"1000": expected}


def test_a_record_holding_the_line_s_name_variable_is_read():
    """FreeSWITCH writes `nolocal:centrex_peer_line` as an element name: not well-formed
    XML, repaired like any odd variable name."""
    xml = edited(cdr_xml(CALL1_B), ANSWERED | {"endpoint_disposition": "BLIND_TRANSFER"})
    odd = b"<nolocal:centrex_peer_line>1000%40127.0.0.1</nolocal:centrex_peer_line>"
    xml = xml.replace(b"<variables>", b"<variables>" + odd, 1)
    assert kinds(xml) == {"1000": Kind.TRANSFERRED}
