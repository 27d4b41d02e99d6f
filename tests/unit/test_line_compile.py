"""Calls to a line: every feature, every precedence case, and the time edges.

Settings go through `parse_document` exactly as a tenant document would, so what is
tested is what users can write. Calls are shaped like FreeSWITCH's requests.
"""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from provisioning.document import parse_document
from tests.conftest import demo_document
from tests.unit.endpoints import without_legs
from tests.unit.test_dialplan_compile import request
from xmlcurl import fsnames as fs
from xmlcurl.decisions import (
    Answer,
    EarlyMedia,
    ExportVariable,
    GatewayEndpoint,
    Hangup,
    LegOptions,
    Prompt,
    RecordName,
    Ring,
    SetVariable,
    Tone,
    Transfer,
    UserEndpoint,
    Voicemail,
)
from xmlcurl.dialplan import compile_call
from xmlcurl.inputs import CallData, TenantData, line_from_document, tenant_from_document

DOMAIN = "127.0.0.1"
REJECTED = (EarlyMedia(), Prompt(fs.PROMPT_REJECTED), Hangup(fs.CALL_REJECTED))
MONDAY_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Paris: office hours
MONDAY_13 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 13:00: lunch break
SUNDAY_10 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
MOBILE = "+33612345678"
OTHER_MOBILE = "+33699887766"


def tenant_with(call_handling: dict, ext: str = "1001", **user_changes) -> tuple[TenantData, dict]:
    raw = demo_document()
    raw["schedules"] = [{"name": "Weekends", "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}]
    for user in raw["users"]:
        if user["extension"] == ext:
            user["call_handling"] = call_handling
            user.update(user_changes)
            user.setdefault("contacts", [{"name": "Mum", "numbers": ["0611111111"]}])
    doc = parse_document(raw)
    tenant = tenant_from_document(doc)
    return tenant, {u.extension: line_from_document(u) for u in doc.users}


def call(
    call_handling: dict,
    *,
    caller: str = "0655555555",
    caller_user: str | None = None,
    now: datetime = MONDAY_10,
    state: dict | None = None,
    withheld: bool = False,
    ext: str = "1001",
    after: tuple[str, str] | None = None,
    context: str = DOMAIN,
    chain: str | None = None,
    via_group: str | None = None,
    **user_changes,
):
    tenant, lines = tenant_with(call_handling, ext, **user_changes)
    if state:
        lines[ext] = replace(lines[ext], **state)
    variables = {"domain_name": DOMAIN}
    if caller_user:
        variables["user_name"] = caller_user
    if after:
        variables.update(
            centrex_failover_for=ext, centrex_stage=after[0], originate_disposition=after[1]
        )
    if chain:
        variables["centrex_forward_chain"] = chain
    if via_group:
        variables["centrex_via_group"] = via_group
    req = request(ext, context=context, **variables)
    # The captured call comes from 1001: the caller is whoever the test says instead.
    req = replace(
        req,
        caller_id_number="anonymous" if withheld else caller,
        caller_withheld=withheld,
        context=context,
        caller_user=caller_user,
    )
    return compile_call(req, CallData(tenant=tenant, lines=lines), now)


def ring_of(route) -> Ring | None:
    ring = next((a for a in route.actions if isinstance(a, Ring)), None)
    return without_legs(ring) if ring is not None else None


def rings_own_line(route) -> bool:
    ring = ring_of(route)
    return ring is not None and ring.endpoints[0] == UserEndpoint(
        "1001", DOMAIN, ring.endpoints[0].options
    )


def forwards_to(route, number: str) -> bool:
    ring = ring_of(route)
    return ring is not None and any(
        isinstance(e, GatewayEndpoint) and e.number == number for e in ring.endpoints
    )


def goes_to_voicemail(route) -> bool:
    return route.actions[-1] == Voicemail(DOMAIN, "1001")


# --- plain ringing --------------------------------------------------------------
def test_no_settings_rings_the_line_for_20_seconds():
    route = call({})
    assert ring_of(route) == Ring((UserEndpoint("1001", DOMAIN),), 20)
    assert route.actions[-1] == Transfer("1001", DOMAIN)


# --- forward always ---------------------------------------------------------------
def test_forward_always_to_a_number_rings_it_with_diversion_and_comes_back_on_failure():
    route = call({"forward_always": {"to": "0612345678"}})
    assert forwards_to(route, MOBILE)
    assert (
        ExportVariable(fs.H_DIVERSION, "<sip:+33184800101@127.0.0.1>;reason=unconditional")
        in route.actions
    )
    assert SetVariable(fs.V_STAGE, fs.STAGE_FORWARD) in route.actions
    assert route.actions[-1] == Transfer("1001", DOMAIN)


def test_forward_always_to_voicemail_and_to_an_extension():
    assert goes_to_voicemail(call({"forward_always": {"to": "voicemail"}}))
    route = call({"forward_always": {"to": "1000"}})
    assert route.actions == (SetVariable(fs.V_FORWARD_CHAIN, "1001"), Transfer("1000", DOMAIN))


@pytest.mark.parametrize("now, forwarded", [(SUNDAY_10, True), (MONDAY_10, False)])
def test_forward_always_only_during_its_schedule(now, forwarded):
    route = call({"forward_always": {"to": "0612345678", "schedule": "Weekends"}}, now=now)
    assert forwards_to(route, MOBILE) is forwarded


def test_forward_always_overrides_every_other_forward_and_dnd():
    route = call(
        {
            "forward_always": {"to": "0612345678"},
            "do_not_disturb": {"enabled": True},
            "forward_busy": {"to": "0699887766"},
            "simultaneous_ring": {"numbers": ["0699887766"]},
        }
    )
    assert forwards_to(route, MOBILE) and not forwards_to(route, OTHER_MOBILE)


def test_forward_with_confirmation_asks_the_forwarded_party_to_press_1():
    route = call({"forward_always": {"to": "0612345678", "confirm": True}})
    assert ring_of(route).endpoints[0].options == LegOptions(confirm=True)


def test_direct_only_forward_does_not_apply_to_group_calls():
    settings = {"forward_always": {"to": "0612345678", "direct_only": True}}
    assert forwards_to(call(settings), MOBILE)
    assert rings_own_line(call(settings, via_group="sales"))


def test_group_call_never_ends_in_the_members_voicemail():
    route = call({}, via_group="sales", after=(fs.STAGE_RING, fs.NO_ANSWER))
    assert not goes_to_voicemail(route) and route.actions[-1] == Hangup(fs.NO_ANSWER)


def test_forward_internal_caller_presents_their_public_number_outside():
    route = call({"forward_always": {"to": "0612345678"}}, caller_user="1000", caller="1000")
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800100") in route.actions


def _from_withholding_colleague(callee_handling: dict):
    """1000, who withholds their number, calls 1001 (whose settings are given)."""
    tenant, lines = tenant_with({"caller_id": {"withhold": True}}, "1000")
    _, callee = tenant_with(callee_handling, "1001")
    lines["1001"] = callee["1001"]
    req = replace(
        request("1001", user_name="1000", domain_name=DOMAIN),
        caller_id_number="1000",
        caller_user="1000",
    )
    return compile_call(req, CallData(tenant=tenant, lines=lines), MONDAY_10)


def test_a_colleague_who_withholds_their_number_is_shown_anonymous():
    """Seed 003: every outgoing call of a line that withholds its number is presented
    withheld, calls to colleagues included."""
    route = _from_withholding_colleague({})
    assert rings_own_line(route)
    assert SetVariable(fs.V_EFFECTIVE_CID_NAME, fs.ANONYMOUS_NAME) in route.actions
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, fs.ANONYMOUS_NUMBER) in route.actions


def test_a_withholding_colleague_is_an_anonymous_caller_to_the_callee_s_rules():
    assert _from_withholding_colleague({"selective": {"reject_anonymous": True}}).actions[
        -1
    ] == Hangup(fs.CALL_REJECTED)
    # Their number matches no list any more.
    listed = {"selective": {"reject": {"numbers": ["0184800100"]}}}
    assert rings_own_line(_from_withholding_colleague(listed))


def test_a_withholding_colleague_forwarded_outside_stays_private():
    route = _from_withholding_colleague({"forward_always": {"to": "0612345678"}})
    assert forwards_to(route, MOBILE)
    assert ExportVariable(fs.H_PRIVACY, "id") in route.actions
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, fs.ANONYMOUS_NUMBER) in route.actions
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800100") not in route.actions


# --- loops ------------------------------------------------------------------------
def test_forward_back_into_the_chain_is_not_followed():
    route = call({"forward_always": {"to": "1000"}}, chain="1000")
    assert rings_own_line(route)


def test_line_reached_again_ignores_its_forwards():
    route = call({"forward_always": {"to": "0612345678"}}, chain="1000,1001")
    assert rings_own_line(route)


def test_too_many_hops_stop_forwarding():
    route = call({"forward_always": {"to": "0612345678"}}, chain="2001,2002,2003,2004,2005")
    assert rings_own_line(route)


# --- no answer, busy, unreachable ---------------------------------------------------
def test_no_answer_delay_sets_the_ring_time():
    assert ring_of(call({"forward_no_answer": {"to": "voicemail", "rings": 6}})).timeout == 30
    assert ring_of(call({"forward_no_answer": {"to": "0612345678", "after": 45}})).timeout == 45


def test_no_answer_to_voicemail_after_zero_is_straight_to_voicemail():
    assert goes_to_voicemail(call({"forward_no_answer": {"to": "voicemail", "after": 0}}))


@pytest.mark.parametrize(
    "disposition, target",
    [
        (fs.NO_ANSWER, "no_answer"),
        (fs.NO_USER_RESPONSE, "no_answer"),
        (fs.USER_BUSY, "busy"),
        (fs.CALL_REJECTED, "busy"),
        (fs.USER_NOT_REGISTERED, "unreachable"),
        (fs.SUBSCRIBER_ABSENT, "unreachable"),
    ],
)
def test_failure_picks_the_forward_of_its_kind(disposition, target):
    numbers = {"no_answer": "0611111111", "busy": "0622222222", "unreachable": "0633333333"}
    settings = {f"forward_{k}": {"to": v} for k, v in numbers.items()}
    route = call(settings, after=(fs.STAGE_RING, disposition))
    expected = "+33" + numbers[target][1:]
    assert forwards_to(route, expected)
    assert [n for n in numbers.values() if forwards_to(route, "+33" + n[1:])] == [numbers[target]]


@pytest.mark.parametrize("disposition", [fs.NO_ANSWER, fs.USER_BUSY, fs.USER_NOT_REGISTERED])
def test_failure_without_forward_goes_to_voicemail(disposition):
    assert goes_to_voicemail(call({}, after=(fs.STAGE_RING, disposition)))


def test_unreachable_default_target_is_voicemail():
    assert goes_to_voicemail(call({}, after=(fs.STAGE_RING, fs.USER_NOT_REGISTERED)))


@pytest.mark.parametrize("disposition", ["SUCCESS", "call accepted"])
def test_answered_calls_never_fall_into_voicemail_or_forward(disposition):
    route = call({"forward_no_answer": {"to": "0612345678"}}, after=(fs.STAGE_RING, disposition))
    assert route.actions[-1] == Hangup(fs.NORMAL_CLEARING)


@pytest.mark.parametrize("disposition", [fs.NO_ANSWER, fs.USER_BUSY, "CALL_REJECTED"])
def test_failed_forward_ends_in_voicemail_never_silence(disposition):
    route = call({"forward_always": {"to": "0612345678"}}, after=(fs.STAGE_FORWARD, disposition))
    assert goes_to_voicemail(route)


def test_failed_forward_without_voicemail_ends_with_a_tone():
    route = call(
        {"forward_always": {"to": "0612345678"}}, ext="1002", after=(fs.STAGE_FORWARD, fs.NO_ANSWER)
    )
    assert isinstance(route.actions[-2], Tone) and route.actions[-1] == Hangup(fs.NO_ANSWER)


@pytest.mark.parametrize(
    "state, call_waiting, busy",
    [
        ({"active_calls": 0}, True, False),
        ({"active_calls": 4}, True, False),
        ({"active_calls": 5}, True, True),  # the default limit is 5
        ({"active_calls": 1}, False, True),  # call waiting off and on a call
        ({"active_calls": 0}, False, False),
    ],
)
def test_busy_means_limit_reached_or_on_a_call_without_call_waiting(state, call_waiting, busy):
    route = call({"forward_busy": {"to": "0622222222"}}, state=state, call_waiting=call_waiting)
    assert forwards_to(route, "+33622222222") is busy


def test_a_line_the_listener_thinks_unregistered_is_rung_all_the_same():
    # FreeSWITCH answers USER_NOT_REGISTERED at once if no phone is there (the
    # after-failure hunt then takes the unreachable forward: test_reachability).
    route = call({"forward_unreachable": {"to": "0633333333"}}, state={"registered": False})
    assert rings_own_line(route) and not forwards_to(route, "+33633333333")
    assert rings_own_line(call({}, state={"registered": None}))


# --- do not disturb ---------------------------------------------------------------
def test_dnd_sends_to_busy_forward_else_voicemail_else_busy_tone():
    assert forwards_to(
        call({"do_not_disturb": {}, "forward_busy": {"to": "0622222222"}}), "+33622222222"
    )
    assert goes_to_voicemail(call({"do_not_disturb": {}}))
    route = call({"do_not_disturb": {}}, ext="1002")
    assert route.actions[-2] == Tone("%(500,500,425)", 5) and route.actions[-1] == Hangup(
        fs.USER_BUSY
    )


def test_dnd_priority_callers_ring_through():
    settings = {
        "do_not_disturb": {"priority_callers": {"contacts": ["Mum"], "extensions": ["1000"]}}
    }
    assert rings_own_line(call(settings, caller="0611111111"))
    assert rings_own_line(call(settings, caller="1000", caller_user="1000"))
    assert goes_to_voicemail(call(settings, caller="0655555555"))


def test_dnd_off_is_ignored():
    assert rings_own_line(call({"do_not_disturb": {"enabled": False}}))


# --- simultaneous and sequential ring ------------------------------------------------
def test_simultaneous_ring_rings_the_line_and_the_numbers_together():
    ring = ring_of(call({"simultaneous_ring": {"numbers": ["0612345678", "1000"]}}))
    assert not ring.sequential
    assert ring.endpoints == (
        UserEndpoint("1001", DOMAIN),
        GatewayEndpoint(DOMAIN, MOBILE),
        UserEndpoint("1000", DOMAIN),
    )


def test_simultaneous_ring_skipped_while_on_a_call_when_asked():
    settings = {"simultaneous_ring": {"numbers": ["0612345678"], "skip_when_on_call": True}}
    assert not forwards_to(call(settings, state={"active_calls": 1}), MOBILE)
    assert forwards_to(call(settings, state={"active_calls": 0}), MOBILE)


@pytest.mark.parametrize(
    "criteria, caller, now, extra",
    [
        ({"schedule": "office hours"}, "0655555555", MONDAY_10, True),
        ({"schedule": "office hours"}, "0655555555", MONDAY_13, False),
        ({"callers": {"contacts": ["Mum"]}}, "0611111111", MONDAY_10, True),
        ({"callers": {"contacts": ["Mum"]}}, "0655555555", MONDAY_10, False),
        ({"callers": {"numbers": ["0655555555"]}}, "+33655555555", MONDAY_10, True),
    ],
)
def test_simultaneous_ring_criteria(criteria, caller, now, extra):
    route = call(
        {"simultaneous_ring": {"numbers": ["0612345678"], **criteria}}, caller=caller, now=now
    )
    assert forwards_to(route, MOBILE) is extra


def test_sequential_ring_own_line_first_then_each_number_for_its_rings():
    ring = ring_of(
        call(
            {
                "sequential_ring": {
                    "own_rings": 2,
                    "steps": [{"number": "0612345678", "rings": 4}, {"number": "0699887766"}],
                }
            }
        )
    )
    assert ring.sequential
    assert [e.options.timeout for e in ring.endpoints] == [10, 20, 15]
    assert ring.endpoints[0].extension == "1001"
    assert ring.timeout == 20


def test_extra_numbers_beyond_allowed_destinations_are_dropped():
    tenant, lines = tenant_with({"simultaneous_ring": {"numbers": ["0612345678"]}})
    narrowed = replace(lines["1001"], allowed_destinations=frozenset())
    route = compile_call(
        request("1001", domain_name=DOMAIN),
        CallData(tenant=tenant, lines={**lines, "1001": narrowed}),
        MONDAY_10,
    )
    assert ring_of(route).endpoints == (UserEndpoint("1001", DOMAIN),)


# --- selective handling -------------------------------------------------------------
def test_selective_reject_comes_first_and_never_reaches_voicemail():
    settings = {
        "selective": {"reject": {"contacts": ["Mum"]}},
        "forward_always": {"to": "voicemail"},
    }
    assert call(settings, caller="0611111111").actions == REJECTED
    assert goes_to_voicemail(call(settings, caller="0655555555"))


@pytest.mark.parametrize("presented", ["0611111111", "+33611111111", "33611111111"])
def test_a_listed_caller_is_recognised_in_every_form_carriers_present(presented):
    """The same reading of a caller's number as the call log's (numbering.to_e164):
    some carriers send international digits without their +."""
    settings = {"selective": {"reject": {"contacts": ["Mum"]}}}
    assert call(settings, caller=presented).actions == REJECTED


def test_anonymous_callers_rejected_when_asked():
    settings = {"selective": {"reject_anonymous": True}}
    assert call(settings, withheld=True).actions == (
        EarlyMedia(),
        Prompt(fs.PROMPT_NO_ANONYMOUS),
        Hangup(fs.CALL_REJECTED),
    )
    assert rings_own_line(call(settings))


def test_anonymous_list_entry_matches_withheld_callers_only():
    settings = {"selective": {"forward": [{"callers": {"anonymous": True}, "to": "voicemail"}]}}
    assert goes_to_voicemail(call(settings, withheld=True))
    assert rings_own_line(call(settings))


def test_selective_forward_applies_to_listed_callers_after_dnd():
    settings = {
        "selective": {"forward": [{"callers": {"numbers": ["0611111111"]}, "to": "0612345678"}]}
    }
    assert forwards_to(call(settings, caller="0611111111"), MOBILE)
    assert rings_own_line(call(settings, caller="0655555555"))
    with_dnd = {**settings, "do_not_disturb": {}}
    assert goes_to_voicemail(call(with_dnd, caller="0611111111"))


def test_distinctive_ring_sets_alert_info_for_listed_callers():
    settings = {
        "selective": {
            "distinctive_ring": [{"callers": {"extensions": ["1000"]}, "ring": "Bellcore-dr2"}]
        }
    }
    route = call(settings, caller="1000", caller_user="1000")
    assert (
        ExportVariable(fs.V_ALERT_INFO, "<http://127.0.0.1/Bellcore-dr2>;info=Bellcore-dr2")
        in route.actions
    )
    assert not any(isinstance(a, ExportVariable) for a in call(settings).actions)


def test_call_screening_records_the_name_and_the_callee_accepts():
    route = call({"selective": {"screening": {"numbers": ["0655555555"]}}})
    assert route.actions[:2] == (Answer(), RecordName())
    assert ring_of(route).endpoints[0].options == LegOptions(screening=True)


# --- rule lists and planner ---------------------------------------------------------
PLANNER = {
    "rule_lists": [
        {
            "name": "Work",
            "rules": [
                {"callers": {"contacts": ["Mum"]}, "action": "forward", "to": "0612345678"},
                {"callers": {"anonymous": True}, "action": "reject"},
            ],
            "default": {"action": "ring"},
        },
        {"name": "Evening", "default": {"action": "voicemail"}},
        {"name": "Holidays", "default": {"action": "ring_all", "numbers": ["0699887766"]}},
    ],
    "planner": {
        "periods": [
            {"name": "Day", "rule_list": "Work", "mon": ["08:00-18:00"]},
            {"name": "Evening", "rule_list": "Evening", "mon": ["18:00-23:00"]},
        ],
        "special_days": {"rule_list": "Holidays", "dates": ["2026-11-24"]},
    },
}


@pytest.mark.parametrize(
    "now, caller, withheld, expect",
    [
        (MONDAY_10, "0611111111", False, "forward"),
        (MONDAY_10, "anonymous", True, "reject"),
        (MONDAY_10, "0655555555", False, "ring"),
        (datetime(2026, 11, 23, 18, 0, tzinfo=UTC), "0611111111", False, "voicemail"),  # 19:00
        (datetime(2026, 11, 23, 22, 0, tzinfo=UTC), "0611111111", False, "ring"),  # 23:00: none
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), "0655555555", False, "ring_all"),  # special
    ],
)
def test_planner_applies_the_rule_list_in_force(now, caller, withheld, expect):
    route = call(PLANNER, caller=caller, withheld=withheld, now=now)
    match expect:
        case "forward":
            assert forwards_to(route, MOBILE)
        case "reject":
            assert route.actions == REJECTED
        case "ring":
            assert ring_of(route).endpoints == (UserEndpoint("1001", DOMAIN),)
        case "voicemail":
            assert goes_to_voicemail(route)
        case "ring_all":
            assert forwards_to(route, OTHER_MOBILE) and rings_own_line(route)


def test_special_days_include_tenant_holidays():
    raw_doc = dict(PLANNER)
    tenant, lines = tenant_with(raw_doc)
    from datetime import date

    from provisioning.calendar import Holiday

    holiday = replace(
        tenant, holidays=(Holiday("Closing", date(2026, 11, 23), date(2026, 11, 23)),)
    )
    route = compile_call(
        request("1001", domain_name=DOMAIN), CallData(tenant=holiday, lines=lines), MONDAY_10
    )
    assert forwards_to(route, OTHER_MOBILE)


def test_cfu_takes_precedence_over_the_planner():
    route = call({**PLANNER, "forward_always": {"to": "voicemail"}}, caller="0611111111")
    assert goes_to_voicemail(route)


# --- caller ID ------------------------------------------------------------------------
def test_hide_incoming_caller_id():
    route = call({"caller_id": {"hide_incoming": True}})
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, fs.ANONYMOUS_NUMBER) in route.actions


def outbound(call_handling: dict, dialled: str = "0612345678"):
    tenant, lines = tenant_with(call_handling)
    req = request(dialled, user_name="1001", domain_name=DOMAIN)
    return compile_call(req, CallData(tenant=tenant, lines=lines), MONDAY_10)


def test_withheld_number_is_anonymous_with_privacy_headers_for_the_carrier():
    route = outbound({"caller_id": {"withhold": True}})
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, fs.ANONYMOUS_NUMBER) in route.actions
    assert ExportVariable(fs.H_PRIVACY, "id") in route.actions
    assert ExportVariable(fs.H_ASSERTED_IDENTITY, "<sip:+33184800101@127.0.0.1>") in route.actions


def test_emergency_calls_always_present_the_number():
    route = outbound({"caller_id": {"withhold": True}}, "112")
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800101") in route.actions
    assert ExportVariable(fs.H_PRIVACY, "id") not in route.actions


def test_chosen_outgoing_number_is_presented():
    route = outbound({"caller_id": {"outgoing_number": "+33184800100"}})
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800100") in route.actions


# --- time edges through the whole path ------------------------------------------------
@pytest.mark.parametrize(
    "now, forwarded",
    [
        (datetime(2026, 11, 27, 22, 59, tzinfo=UTC), False),  # Friday 23:59 Paris
        (datetime(2026, 11, 27, 23, 0, tzinfo=UTC), True),  # Saturday 00:00 Paris
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), True),  # Sunday before the DST change
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), True),  # 03:00 CEST, after it
        (datetime(2026, 12, 31, 22, 59, tzinfo=UTC), False),  # Thursday 23:59
        (datetime(2027, 1, 2, 0, 0, tzinfo=UTC), True),  # Saturday after year end
    ],
)
def test_schedules_are_read_in_the_tenants_zone_at_call_time(now, forwarded):
    route = call({"forward_always": {"to": "0612345678", "schedule": "Weekends"}}, now=now)
    assert forwards_to(route, MOBILE) is forwarded


# --- what the switchboard shows: routing's own rule ------------------------------------
@pytest.mark.parametrize(
    "forward, changes, shown",
    [
        ({"to": "0612345678"}, {}, "+33612345678"),
        ({"to": "1002"}, {}, "1002"),
        ({"to": "voicemail"}, {}, "voicemail"),
        ({"to": "0612345678", "schedule": "Weekends"}, {}, None),  # Monday 10:00
        ({"to": "0612345678", "direct_only": True}, {}, "+33612345678"),
    ],
)
def test_forwarded_now_is_what_a_direct_call_would_do(forward, changes, shown):
    from xmlcurl.line import forwarded_now

    tenant, lines = tenant_with({"forward_always": forward}, **changes)
    assert forwarded_now(tenant, lines["1001"], MONDAY_10) == shown


def test_forwarded_now_is_none_where_routing_would_not_follow_the_forward():
    from xmlcurl.line import forwarded_now

    tenant, lines = tenant_with({"forward_always": {"to": "0612345678"}})
    # The line may no longer call mobiles (its barring changed since), no trunk any
    # more, its voicemail turned off: each time the call rings the line instead.
    barred = replace(lines["1001"], allowed_destinations=frozenset())
    assert forwarded_now(tenant, barred, MONDAY_10) is None
    assert forwarded_now(replace(tenant, gateway=None), lines["1001"], MONDAY_10) is None
    tenant, lines = tenant_with({"forward_always": {"to": "voicemail"}})
    silent = replace(lines["1001"], voicemail_enabled=False)
    assert forwarded_now(tenant, silent, MONDAY_10) is None
