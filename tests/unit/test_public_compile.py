"""Compiling calls to numbers routed by schedule, and speed dial / ##code calls: pure,
requests shaped like FreeSWITCH's, data built from a tenant document."""

from dataclasses import replace
from datetime import date, time

import pytest

from provisioning.calendar import at
from provisioning.number_routing import NumberRouting
from provisioning.numbering import Category
from provisioning.tenant_routing import Destination, NumberRoute
from tests.unit.routing_tenant import DOMAIN, MAIN, tenant_doc
from tests.unit.test_dialplan_compile import request
from tests.unit.test_render import assert_golden
from xmlcurl import fsnames as fs
from xmlcurl import render
from xmlcurl.decisions import (
    Answer,
    ExportVariable,
    GatewayEndpoint,
    Hangup,
    Ring,
    SetVariable,
    Transfer,
    Voicemail,
)
from xmlcurl.dialplan import compile_call
from xmlcurl.inputs import CallData, line_from_document, tenant_from_document

DOC = tenant_doc()
TENANT = tenant_from_document(DOC)
LINES = {u.extension: line_from_document(u) for u in DOC.users}
MONDAY_10 = at(date(2026, 11, 23), time(10, 0), "Europe/Paris")
MONDAY_23 = at(date(2026, 11, 23), time(23, 0), "Europe/Paris")
SATURDAY_10 = at(date(2026, 11, 28), time(10, 0), "Europe/Paris")
FROM_PUBLIC = SetVariable(fs.V_FROM_PUBLIC, "true")


def public_call(routes=(), otherwise=None):
    """The main number, with these routes, called from outside."""
    routing = NumberRouting(tuple(routes), otherwise)
    data = CallData(tenant=TENANT, public_number=MAIN, public_number_routing=routing)
    return request("0184800100", context=fs.PUBLIC_CONTEXT), data


def main_number_call():
    number = DOC.numbers[0]
    return public_call(number.routes, number.otherwise)


def test_route_in_force_hands_the_call_to_its_destination():
    req, data = main_number_call()
    office = compile_call(req, data, MONDAY_10)
    assert office.context == fs.PUBLIC_CONTEXT and office.destination == "0184800100"
    assert office.actions == (
        FROM_PUBLIC,
        SetVariable(fs.V_UNIT_CHAIN, "2000"),
        Transfer("2000", DOMAIN),
    )
    late = compile_call(req, data, MONDAY_23)
    assert late.actions == (FROM_PUBLIC, Transfer("1000", DOMAIN))


def test_outside_every_schedule_the_otherwise_destination_takes_the_call():
    req, data = main_number_call()
    route = compile_call(req, data, SATURDAY_10)
    assert "otherwise" in route.name
    assert route.actions == (
        FROM_PUBLIC,
        SetVariable(fs.V_HANGUP_AFTER_BRIDGE, "true"),
        Ring((GatewayEndpoint(DOMAIN, "+33612345678"),), 60),
        Hangup(fs.NORMAL_CLEARING),
    )


def test_no_route_in_force_and_no_otherwise_is_a_clean_rejection():
    routes = [NumberRoute(schedule="office hours", to=Destination(user="1000"))]
    req, data = public_call(routes)
    assert compile_call(req, data, SATURDAY_10).actions == (Hangup(fs.NO_ROUTE_DESTINATION),)


def test_number_without_routes_rings_its_user_as_before_or_is_rejected():
    req = request("0184800101", context=fs.PUBLIC_CONTEXT)
    data = CallData(
        tenant=TENANT,
        lines={"1001": LINES["1001"]},
        public_number="+33184800101",
        public_number_line="1001",
    )
    ring = compile_call(req, data, MONDAY_10)
    assert any(isinstance(a, Ring) for a in ring.actions)
    # Whoever takes it may transfer it: into the tenant's context, still from outside.
    assert ring.actions[:2] == (SetVariable(fs.V_FORCE_TRANSFER_CONTEXT, DOMAIN), FROM_PUBLIC)
    nowhere = CallData(tenant=TENANT, public_number="+33184800102")
    assert compile_call(
        request("0184800102", context=fs.PUBLIC_CONTEXT), nowhere, MONDAY_10
    ).actions == (Hangup(fs.NO_ROUTE_DESTINATION),)


def test_a_route_to_a_group_that_no_longer_exists_hangs_up():
    routes = [NumberRoute(schedule="office hours", to=Destination(group="Gone"))]
    req, data = public_call(routes)
    assert compile_call(req, data, MONDAY_10).actions == (
        FROM_PUBLIC,
        Hangup(fs.NORMAL_CLEARING),
    )


DESTINATIONS = {
    "user": Destination(user="1000"),
    "group": Destination(group="Sales"),
    "queue": Destination(queue="Support"),
    "voicemail": Destination(voicemail="1001"),
    "announcement": Destination(announcement="closed"),
    "number": Destination(number="+33612345678"),
    "hangup": Destination(hangup=True),
}


@pytest.mark.parametrize("kind", DESTINATIONS)
def test_number_routed_to_each_destination_kind_golden(kind):
    routes = [NumberRoute(schedule="office hours", to=DESTINATIONS[kind])]
    req, data = public_call(routes)
    assert_golden(f"public-route-{kind}", render.dialplan(compile_call(req, data, MONDAY_10)))


def test_voicemail_route_answers_and_records():
    req, data = public_call(otherwise=Destination(voicemail="1001"))
    actions = compile_call(req, data, MONDAY_10).actions
    assert actions[1:] == (Answer(), Voicemail(DOMAIN, "1001"))


# --- calls handed into the tenant's context from outside ----------------------------------
@pytest.mark.parametrize("dialled", ["0612345678", "550", "##3435", "*318"])
def test_call_handed_in_from_outside_gains_no_rights_of_a_line(dialled):
    # The captured request carries user_name=1001 of the tenant's domain: even so,
    # once marked as from outside it is nobody's call from a line.
    data = CallData(tenant=TENANT, lines=dict(LINES))
    marked = request(dialled, centrex_from_public="true", domain_name=DOMAIN)
    route = compile_call(marked, data, MONDAY_10)
    assert route.actions[-1] == Hangup(fs.UNALLOCATED_NUMBER)
    assert not any(isinstance(a, Ring) for a in route.actions)


def test_call_handed_in_from_outside_still_reaches_lines():
    data = CallData(tenant=TENANT, lines=dict(LINES))
    route = compile_call(request("1000", centrex_from_public="true"), data, MONDAY_10)
    assert any(isinstance(a, Ring) for a in route.actions)


# --- speed dials and directory codes -------------------------------------------------------
def dial(dialled: str, caller: str = "1000", **line_changes):
    lines = dict(LINES)
    lines[caller] = replace(lines[caller], **line_changes)
    data = CallData(tenant=TENANT, lines=lines)
    return compile_call(request(dialled, user_name=caller, domain_name=DOMAIN), data, MONDAY_10)


def test_speed_dial_goes_out_as_if_the_number_was_dialled():
    by_code = dial("550")
    by_number = dial("0970711058")
    assert by_code.destination == "550"
    assert by_code.actions[-3] == Ring((GatewayEndpoint(DOMAIN, "+33970711058"),), 90)
    assert by_code.actions[-1] == Transfer("550", DOMAIN)
    # Same caller ID, same ring; only the destination the route answers for differs.
    differs = [(a, b) for a, b in zip(by_code.actions, by_number.actions, strict=True) if a != b]
    assert all(isinstance(a, SetVariable | Transfer) for a, _ in differs)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, MAIN) in by_code.actions


def test_directory_code_is_dialled_after_two_hashes():
    route = dial("##3435")
    assert route.actions[-3] == Ring((GatewayEndpoint(DOMAIN, "+33145454545"),), 90)
    # Without the hashes it is whatever 3435 is (here a French service number).
    assert "+33145454545" not in repr(dial("3435").actions)
    assert dial("##9999").actions == (Hangup(fs.UNALLOCATED_NUMBER),)


def test_barring_applies_through_a_speed_dial():
    # 551 is a premium number: barred for 1000 (national only), allowed for 1001.
    assert dial("551").actions[-1] == Hangup(fs.OUTGOING_CALL_BARRED)
    allowed = dial("551", caller="1001")
    assert allowed.actions[-3] == Ring((GatewayEndpoint(DOMAIN, "+33899123456"),), 90)
    barred = dial("550", allowed_destinations=frozenset({Category.PREMIUM}))
    assert barred.actions[-1] == Hangup(fs.OUTGOING_CALL_BARRED)


def test_clir_applies_through_a_speed_dial():
    route = dial("550", caller="1001")
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, fs.ANONYMOUS_NUMBER) in route.actions
    assert ExportVariable(fs.H_PRIVACY, "id") in route.actions


def test_speed_dial_golden():
    assert_golden("dialplan-speed-dial", render.dialplan(dial("550")))
