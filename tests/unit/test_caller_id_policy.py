"""The tenant's outgoing caller ID policy: its rules in the document, what they make of
each user, and what an outside call then presents."""

from dataclasses import replace

import pytest

from provisioning.call_handling import CallerId, CallHandling
from provisioning.caller_id_policy import (
    MAIN,
    OWN,
    WITHHELD,
    OutgoingCallerId,
    policy_by_extension,
    presented,
)
from provisioning.document import DocumentInvalid, dump_document, parse_document
from tests.conftest import demo_document
from tests.unit.test_dialplan_compile import DOMAIN, NOW, TENANT, data, line, request
from tests.unit.test_line_compile import DOMAIN as DEMO_DOMAIN
from tests.unit.test_line_compile import MONDAY_10, tenant_with
from xmlcurl import fsnames as fs
from xmlcurl.decisions import ExportVariable, SetVariable
from xmlcurl.dialplan import compile_call
from xmlcurl.inputs import CallData

SALES = "+33184800102"


def with_rules(*rules: dict, **changes) -> dict:
    raw = demo_document(**changes)
    raw["numbers"].append({"number": SALES, "label": "Sales"})
    raw["groups"] = [{"name": "Sales", "extension": "300", "members": ["1001", "1002"]}]
    raw["outgoing_caller_ids"] = list(rules)
    return raw


def problems(raw: dict) -> dict[str, str]:
    with pytest.raises(DocumentInvalid) as refused:
        parse_document(raw)
    return {p.path: p.message for p in refused.value.problems}


def test_rules_are_read_in_canonical_form_and_round_trip():
    doc = parse_document(with_rules({"present": "01 84 80 01 02", "groups": ["sales"]}))
    assert doc.outgoing_caller_ids == [OutgoingCallerId(present=SALES, groups=["sales"])]
    again = parse_document(dump_document(doc))
    assert again.outgoing_caller_ids == doc.outgoing_caller_ids


def test_bad_rules_are_refused_with_their_paths():
    found = problems(
        with_rules(
            {"present": "+33999999999", "users": ["1001"]},
            {"present": "main", "users": ["4242"], "groups": ["Nobody"]},
            {"present": "own"},
            {"present": "withheld", "users": ["1001"]},
        )
    )
    assert found["outgoing_caller_ids[0].present"] == (
        "must be own, main, withheld or a tenant's number"
    )
    assert found["outgoing_caller_ids[1].users[0]"] == "no user has extension 4242"
    assert found["outgoing_caller_ids[1].groups[0]"] == "no group is named 'Nobody'"
    assert found["outgoing_caller_ids[2]"] == "names no user and no group"
    assert found["outgoing_caller_ids[3].users[0]"] == "1001 is already in rule 0"


def test_main_needs_a_main_number():
    raw = with_rules({"present": "main", "users": ["1002"]})
    raw.pop("main_number")
    assert problems(raw) == {"outgoing_caller_ids[0].present": "the tenant has no main_number"}


def test_a_user_named_in_a_rule_wins_over_their_group():
    rules = [
        OutgoingCallerId(present=SALES, groups=["Sales"]),
        OutgoingCallerId(present=OWN, users=["1002"]),
        OutgoingCallerId(present=WITHHELD, groups=["Support"]),
    ]
    members = {"sales": ["1001", "1002"], "support": ["1001", "1003"]}
    assert policy_by_extension(rules, members) == {
        "1001": SALES,  # the first rule naming one of their groups
        "1002": OWN,
        "1003": WITHHELD,
    }


@pytest.mark.parametrize(
    "chosen, policy, public, shown",
    [
        (None, None, "+33184800101", "+33184800101"),
        (None, None, None, "+33184800100"),
        (None, OWN, "+33184800101", "+33184800101"),
        (None, MAIN, "+33184800101", "+33184800100"),
        (None, SALES, "+33184800101", SALES),
        ("+33184800103", SALES, "+33184800101", "+33184800103"),  # the user's choice
        (None, WITHHELD, "+33184800101", "+33184800101"),  # still for the carrier
    ],
)
def test_what_a_line_presents(chosen, policy, public, shown):
    found = presented(
        chosen=chosen, policy=policy, public_number=public, main_number="+33184800100"
    )
    assert found == shown


def outbound(dialled: str = "0612345678", **kw):
    caller = line("1001", display_name="Alice", public_number="+33184800101", **kw)
    return compile_call(request(dialled), data(caller, tenant=TENANT), NOW)


def test_the_policy_s_number_goes_out():
    route = outbound(caller_id_policy=SALES)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, SALES) in route.actions
    route = outbound(caller_id_policy=MAIN)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800100") in route.actions


def test_a_withheld_policy_presents_no_number_but_tells_the_carrier_and_emergency():
    route = outbound(caller_id_policy=WITHHELD)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, fs.ANONYMOUS_NUMBER) in route.actions
    assert ExportVariable(fs.H_ASSERTED_IDENTITY, f"<sip:+33184800101@{DOMAIN}>") in route.actions
    emergency = outbound("112", caller_id_policy=WITHHELD)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800101") in emergency.actions


def test_the_user_s_own_choice_comes_before_the_policy():
    chosen = CallHandling(caller_id=CallerId(outgoing_number="+33184800103"))
    route = outbound(caller_id_policy=WITHHELD, call_handling=chosen)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800103") in route.actions
    clir = CallHandling(caller_id=CallerId(withhold=True))
    route = outbound(caller_id_policy=SALES, call_handling=clir)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, fs.ANONYMOUS_NUMBER) in route.actions


def forwarded_from_colleague(policy: str | None):
    """1000 calls 1001, who forwards every call to a mobile: what goes out."""
    tenant, lines = tenant_with({"forward_always": {"to": "0612345678"}})
    lines["1000"] = replace(lines["1000"], caller_id_policy=policy)
    req = replace(request("1001", domain_name=DEMO_DOMAIN), caller_user="1000")
    return compile_call(req, CallData(tenant=tenant, lines=lines), MONDAY_10)


def test_a_forward_outside_presents_the_internal_caller_s_policy():
    own = forwarded_from_colleague(None)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, "+33184800100") in own.actions
    ruled = forwarded_from_colleague(SALES)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, SALES) in ruled.actions
    hidden = forwarded_from_colleague(WITHHELD)
    assert SetVariable(fs.V_EFFECTIVE_CID_NUMBER, fs.ANONYMOUS_NUMBER) in hidden.actions


def test_the_configuration_summary_shows_the_dialling_policy():
    from provisioning.summary import as_text, summarise

    raw = with_rules({"present": SALES, "groups": ["Sales"]}, outside_line_prefix=True)
    raw["users"][1]["call_barring"] = ["international"]
    text = as_text(summarise(parse_document(raw), NOW))
    assert "dial 0 for an outside line" in text
    assert f"present {SALES}" in text and "members of Sales" in text
    assert "calls barred: international" in text
