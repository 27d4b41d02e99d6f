"""The dialplan compiler, pure: requests shaped like FreeSWITCH's, data built here."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from provisioning.numbering import Category
from tests.fsrequests import fixture_fields, fs_body, with_fields
from tests.unit.endpoints import actions_without_legs
from xmlcurl import fsnames as fs
from xmlcurl.decisions import (
    Answer,
    BindConferenceKey,
    EarlyMedia,
    GatewayEndpoint,
    Hangup,
    Ring,
    SetVariable,
    Tone,
    Transfer,
    UnsetVariable,
    UserEndpoint,
    Voicemail,
    Wait,
)
from xmlcurl.dialplan import (
    PublicNumberLookup,
    TenantLookup,
    compile_call,
    lookup_for,
    public_number_candidates,
)
from xmlcurl.inputs import CallData, GatewayData, LineData, TenantData
from xmlcurl.line import NO_ANSWER_SECONDS
from xmlcurl.request import call_request, parse_fields
from xmlcurl.transfer import HAND_OVER_MS

NOW = datetime(2026, 11, 22, 11, 56, tzinfo=UTC)
DOMAIN = "acme.example"
GATEWAY = GatewayData(
    proxy="sip.carrier.example",
    username="acme",
    password="Secret-123456",
    register=False,
    transport="udp",
    number_format="e164",
)
TENANT = TenantData(
    domain=DOMAIN,
    name="ACME",
    timezone="Europe/Paris",
    country="FR",
    main_number="+33184800100",
    gateway=GATEWAY,
)


def line(ext: str, **kw) -> LineData:
    values = dict(
        extension=ext,
        display_name=f"User {ext}",
        sip_password="Xx-123456789-yY",
        public_number=None,
        voicemail_enabled=True,
        voicemail_pin="190872",
        voicemail_emails=(),
        max_concurrent_calls=5,
        call_waiting=True,
    )
    values.update(kw)
    return LineData(**values)


def request(destination: str = "1000", context: str = DOMAIN, **variables: str):
    """The captured call from 1001, re-aimed at `destination` in `context`."""
    values = {
        "Hunt-Destination-Number": destination,
        "Caller-Destination-Number": destination,
        "Hunt-Context": context,
        "Caller-Context": context,
        "variable_domain_name": DOMAIN,
    }
    values.update({f"variable_{k}": v for k, v in variables.items()})
    body = fs_body(with_fields(fixture_fields("dialplan-1000"), values))
    return call_request(parse_fields(body))


def data(*lines: LineData, tenant: TenantData = TENANT) -> CallData:
    return CallData(tenant=tenant, lines={x.extension: x for x in lines})


def test_fixture_request_is_read_from_the_hunt_fields():
    req = call_request(parse_fields(fs_body(fixture_fields("dialplan-1000"))))
    assert (req.context, req.destination, req.caller_user, req.caller_domain) == (
        "default",
        "1000",
        "1001",
        "127.0.0.1",
    )
    assert req.disposition is None and req.failover_for is None


def test_internal_extension_when_dialled_then_ring_it_then_hunt_again_on_failure():
    route = compile_call(request("1000"), data(line("1000"), line("1001")), NOW)
    assert actions_without_legs(route.actions) == (
        BindConferenceKey("3", "*3", DOMAIN),
        SetVariable(fs.V_HANGUP_AFTER_BRIDGE, "true"),
        SetVariable(fs.V_CONTINUE_ON_FAIL, "true"),
        SetVariable(fs.V_FAILOVER_FOR, "1000"),
        SetVariable(fs.V_STAGE, fs.STAGE_RING),
        Ring((UserEndpoint("1000", DOMAIN),), NO_ANSWER_SECONDS),
        Wait(HAND_OVER_MS),
        Transfer("1000", DOMAIN),
    )
    assert NO_ANSWER_SECONDS == 20


@pytest.mark.parametrize(
    "disposition",
    [
        fs.USER_BUSY,
        fs.NO_ANSWER,
        fs.USER_NOT_REGISTERED,
        fs.NO_USER_RESPONSE,
        fs.CALL_REJECTED,
        fs.SUBSCRIBER_ABSENT,
    ],
)
def test_failed_ring_when_voicemail_on_then_voicemail_whatever_the_cause(disposition):
    req = request("1000", centrex_failover_for="1000", originate_disposition=disposition)
    route = compile_call(req, data(line("1000")), NOW)
    assert route.actions == (
        UnsetVariable(fs.V_FAILOVER_FOR),
        UnsetVariable(fs.V_STAGE),
        Answer(),
        Voicemail(DOMAIN, "1000"),
    )


@pytest.mark.parametrize(
    "disposition, tone, cause",
    [
        (fs.USER_BUSY, "%(500,500,425)", fs.USER_BUSY),
        (fs.NO_ANSWER, "%(250,250,425)", fs.NO_ANSWER),
        (fs.USER_NOT_REGISTERED, "%(250,250,425)", fs.USER_NOT_REGISTERED),
        ("", "%(250,250,425)", fs.NORMAL_TEMPORARY_FAILURE),
        ("weird value; rm", "%(250,250,425)", fs.NORMAL_TEMPORARY_FAILURE),
    ],
)
def test_failed_ring_when_voicemail_off_then_matching_tone_and_cause(disposition, tone, cause):
    req = request("1000", centrex_failover_for="1000", originate_disposition=disposition)
    route = compile_call(req, data(line("1000", voicemail_enabled=False)), NOW)
    assert route.actions == (
        UnsetVariable(fs.V_FAILOVER_FOR),
        UnsetVariable(fs.V_STAGE),
        EarlyMedia(),
        Tone(tone, 5),
        Hangup(cause),
    )


def test_busy_tone_follows_the_tenant_country():
    req = request("1000", centrex_failover_for="1000", originate_disposition=fs.USER_BUSY)
    us = replace(TENANT, country="US")
    route = compile_call(req, data(line("1000", voicemail_enabled=False), tenant=us), NOW)
    assert Tone("%(500,500,480,620)", 5) in route.actions


@pytest.mark.parametrize("disposition", ["SUCCESS", "call accepted"])
def test_answered_call_never_falls_into_voicemail(disposition):
    req = request("1000", centrex_failover_for="1000", originate_disposition=disposition)
    route = compile_call(req, data(line("1000")), NOW)
    assert route.actions[-1] == Hangup(fs.NORMAL_CLEARING)
    assert not any(isinstance(a, Voicemail) for a in route.actions)


def test_caller_hung_up_while_ringing_then_nothing_more():
    req = request("1000", centrex_failover_for="1000", originate_disposition=fs.ORIGINATOR_CANCEL)
    assert compile_call(req, data(line("1000")), NOW).actions[-1] == Hangup(fs.ORIGINATOR_CANCEL)


def test_marker_for_another_destination_is_ignored():
    # A call transferred by a person after a failed ring keeps the old marker.
    req = request("1002", centrex_failover_for="1000", originate_disposition=fs.NO_ANSWER)
    route = compile_call(req, data(line("1002"), line("1001")), NOW)
    assert Ring((UserEndpoint("1002", DOMAIN),), NO_ANSWER_SECONDS) in actions_without_legs(
        route.actions
    )


def test_voicemail_access_code_opens_the_callers_own_box():
    route = compile_call(request("*318"), data(line("1001")), NOW)
    assert route.actions == (Answer(), Voicemail(DOMAIN, "1001", check=True))


def test_voicemail_access_code_without_a_box_is_rejected():
    route = compile_call(request("*318"), data(line("1001", voicemail_enabled=False)), NOW)
    assert route.actions == (Hangup(fs.UNALLOCATED_NUMBER),)


@pytest.mark.parametrize(
    "dialled, sent",
    [
        ("0612345678", "+33612345678"),
        ("112", "112"),
        ("15", "15"),
        # A trailing # is the phone's "dial now" key, not part of the number.
        ("112#", "112"),
        ("0612345678#", "+33612345678"),
    ],
)
def test_outbound_number_goes_to_the_gateway_in_e164_with_the_callers_number(dialled, sent):
    caller = line("1001", display_name="Alice", public_number="+33184800101")
    route = compile_call(request(dialled), data(caller), NOW)
    assert route.actions[:2] == (
        SetVariable(fs.V_EFFECTIVE_CID_NAME, "Alice"),
        SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800101"),
    )
    assert Ring((GatewayEndpoint(DOMAIN, sent),), 90) in route.actions
    assert route.actions[-1] == Transfer(dialled, DOMAIN)


def test_outbound_without_own_number_presents_the_tenant_main_number():
    route = compile_call(request("0612345678"), data(line("1001")), NOW)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800100") in route.actions


@pytest.mark.parametrize("fmt, sent", [("e164-digits", "33612345678"), ("national", "0612345678")])
def test_outbound_number_format_follows_the_gateway(fmt, sent):
    tenant = replace(TENANT, gateway=replace(GATEWAY, number_format=fmt))
    route = compile_call(request("0612345678"), data(line("1001"), tenant=tenant), NOW)
    assert Ring((GatewayEndpoint(DOMAIN, sent),), 90) in route.actions


def test_failed_outbound_call_then_tone_and_cause():
    req = request(
        "0612345678", centrex_failover_for="0612345678", originate_disposition="USER_BUSY"
    )
    route = compile_call(req, data(line("1001")), NOW)
    assert route.actions[-2:] == (Tone("%(500,500,425)", 5), Hangup(fs.USER_BUSY))


@pytest.mark.parametrize(
    "dialled, cause",
    [
        ("0612", fs.UNALLOCATED_NUMBER),
        ("999999999999999", fs.UNALLOCATED_NUMBER),
        ("1000,user/2000", fs.INVALID_NUMBER_FORMAT),
        ("sip:x@evil", fs.INVALID_NUMBER_FORMAT),
        ("", fs.INVALID_NUMBER_FORMAT),
    ],
)
def test_unknown_or_malformed_destination_is_rejected_cleanly(dialled, cause):
    route = compile_call(request(dialled), data(line("1001")), NOW)
    assert route.actions == (Hangup(cause),)


@pytest.mark.parametrize("dialled", ["1*5", "#15", "*112", "1#12", "11*2", "06*12345678", "15##"])
def test_star_or_hash_inside_a_number_is_no_number_never_an_emergency_call(dialled):
    """phonenumbers skips `*` and `#` (`1*5` reads as 15, the SAMU): such a dial string
    must neither pass as an emergency number nor reach the carrier with them."""
    route = compile_call(request(dialled), data(line("1001")), NOW)
    assert route.actions == (Hangup(fs.UNALLOCATED_NUMBER),)


def test_outbound_without_gateway_is_rejected():
    route = compile_call(
        request("0612345678"), data(line("1001"), tenant=replace(TENANT, gateway=None)), NOW
    )
    assert route.actions == (Hangup(fs.NO_ROUTE_DESTINATION),)


def test_caller_of_another_tenant_cannot_call_out_through_this_one():
    req = request("0612345678", domain_name="other.example")
    assert compile_call(req, data(line("1001")), NOW).actions == (Hangup(fs.UNALLOCATED_NUMBER),)


def test_unknown_context_is_rejected():
    assert compile_call(request("1000"), None, NOW).actions == (Hangup(fs.NO_ROUTE_DESTINATION),)


def test_public_number_reaches_its_line_and_fails_over_in_the_public_context():
    found = CallData(
        tenant=TENANT,
        lines={"1001": line("1001")},
        public_number="+33184800101",
        public_number_line="1001",
    )
    route = compile_call(request("0184800101", fs.PUBLIC_CONTEXT), found, NOW)
    assert Ring((UserEndpoint("1001", DOMAIN),), NO_ANSWER_SECONDS) in actions_without_legs(
        route.actions
    )
    assert route.actions[-1] == Transfer("0184800101", fs.PUBLIC_CONTEXT)
    again = request(
        "0184800101",
        fs.PUBLIC_CONTEXT,
        centrex_failover_for="0184800101",
        originate_disposition=fs.NO_ANSWER,
    )
    assert compile_call(again, found, NOW).actions[-1] == Voicemail(DOMAIN, "1001")


def test_public_context_never_calls_out():
    assert compile_call(request("0612345678", fs.PUBLIC_CONTEXT), None, NOW).actions == (
        Hangup(fs.UNALLOCATED_NUMBER),
    )
    unrouted = CallData(tenant=TENANT, public_number="+33184800100")
    assert compile_call(request("0184800100", fs.PUBLIC_CONTEXT), unrouted, NOW).actions == (
        Hangup(fs.NO_ROUTE_DESTINATION),
    )


def test_lookup_names_exactly_what_the_call_needs():
    assert lookup_for(request("1000"), "FR") == TenantLookup(DOMAIN, ("1000", "1001"))
    assert lookup_for(request("1000,1001"), "FR") is None
    public = lookup_for(request("0184800101", fs.PUBLIC_CONTEXT), "FR")
    assert isinstance(public, PublicNumberLookup) and "+33184800101" in public.candidates


@pytest.mark.parametrize("dialled", ["+33184800101", "0033184800101", "33184800101", "0184800101"])
def test_public_number_candidates_cover_every_carrier_form(dialled):
    assert "+33184800101" in public_number_candidates(dialled, "FR")


@pytest.mark.parametrize("dialled", ["+41446681800", "0041446681800", "0899123456", "3949"])
def test_outbound_beyond_allowed_destinations_is_barred(dialled):
    route = compile_call(request(dialled), data(line("1001")), NOW)
    assert route.actions[-1] == Hangup(fs.OUTGOING_CALL_BARRED)


def test_outbound_international_when_allowed():
    caller = line(
        "1001", allowed_destinations=frozenset({Category.NATIONAL, Category.INTERNATIONAL})
    )
    route = compile_call(request("0041446681800"), data(caller), NOW)
    assert Ring((GatewayEndpoint(DOMAIN, "+41446681800"),), 90) in route.actions


def test_what_was_dialled_is_classified_in_precedence_order():
    from xmlcurl.dialplan import (
        Refused,
        ToLine,
        ToOutside,
        ToOwnVoicemail,
        ToPickup,
        classify_dialled,
    )

    lines = data(line("1000"), line("1001"))
    refused = classify_dialled(request("1000,1001"), lines)
    assert isinstance(refused, Refused)
    assert (refused.cause, str(refused.why)) == (fs.INVALID_NUMBER_FORMAT, "not a dialable number")
    unknown = classify_dialled(request("1000"), None)
    assert isinstance(unknown, Refused)
    assert (unknown.cause, str(unknown.why)) == (fs.NO_ROUTE_DESTINATION, "unknown context")
    assert isinstance(classify_dialled(request("1000"), lines), ToLine)
    assert isinstance(classify_dialled(request("*318"), lines), ToOwnVoicemail)
    assert isinstance(classify_dialled(request("**1000"), lines), ToPickup)
    assert classify_dialled(request("0612345678"), lines) == ToOutside(
        lines.lines["1001"], "0612345678"
    )
