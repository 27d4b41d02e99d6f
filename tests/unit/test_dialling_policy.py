"""The dialling policy: what category a dialled number or code is in (one table for
French numbers), the outside-line prefix 0, and call barring as calls, forwards and
the document meet it."""

from dataclasses import replace

import pytest

from provisioning.document import DocumentInvalid, dump_document, parse_document
from provisioning.feature_codes import feature_dialled
from provisioning.numbering import (
    BARRABLE,
    DEFAULT_ALLOWED,
    DEFAULT_BARRED,
    Category,
    NotANumber,
    allowed,
    allowed_from_legacy,
    classify,
    outside_number,
)
from tests.conftest import demo_document
from tests.unit.test_dialplan_compile import DOMAIN, NOW, TENANT, data, line, request
from tests.unit.test_line_compile import call, forwards_to
from xmlcurl import fsnames as fs
from xmlcurl.decisions import (
    EarlyMedia,
    GatewayEndpoint,
    Hangup,
    Prompt,
    Ring,
    Tone,
)
from xmlcurl.dialplan import compile_call

HOME = "+33184800100"  # the tenant's main number: Paris, area 1
EMERGENCY = ["15", "17", "18", "112", "114", "115", "119", "191", "196", "197"]

C = Category


@pytest.mark.parametrize(
    "dialled, category, e164",
    [
        # Geographic numbers of the tenant's area are local, of other areas national.
        ("0184800200", C.LOCAL, "+33184800200"),
        ("0142685300", C.LOCAL, "+33142685300"),
        ("0240000000", C.NATIONAL, "+33240000000"),
        ("0491000000", C.NATIONAL, "+33491000000"),
        ("0556000000", C.NATIONAL, "+33556000000"),
        # Mobile, VoIP and free numbers are national.
        ("0612345678", C.NATIONAL, "+33612345678"),
        ("0756000000", C.NATIONAL, "+33756000000"),
        ("0970711058", C.NATIONAL, "+33970711058"),
        ("0800123456", C.NATIONAL, "+33800123456"),
        # International: 00… or +…, and a French number in international form is French.
        ("0041446681800", C.INTERNATIONAL, "+41446681800"),
        ("+442079460000", C.INTERNATIONAL, "+442079460000"),
        ("0033240000000", C.NATIONAL, "+33240000000"),
        ("+33184800200", C.LOCAL, "+33184800200"),
        # Premium rate and shared cost (08…), and short service numbers.
        ("0899123456", C.PREMIUM, "+33899123456"),
        ("0836650000", C.PREMIUM, "+33836650000"),
        ("0810123456", C.PREMIUM, "+33810123456"),
        ("0820000000", C.PREMIUM, "+33820000000"),
        ("3949", C.PREMIUM, None),
        ("3631", C.PREMIUM, None),
        # The carriers' own numbers, and directory enquiries.
        ("1014", C.OPERATOR, None),
        ("1023", C.OPERATOR, None),
        ("118712", C.DIRECTORY, None),
        ("118218", C.DIRECTORY, None),
        # A trailing send key is not part of the number.
        ("118712#", C.DIRECTORY, None),
        *[(number, C.EMERGENCY, None) for number in EMERGENCY],
    ],
)
def test_each_french_number_falls_in_its_category(dialled, category, e164):
    found = classify(dialled, "FR", HOME)
    assert (found.category, found.e164) == (category, e164)


def test_without_a_main_number_no_number_is_local():
    assert classify("0184800200", "FR").category is C.NATIONAL


@pytest.mark.parametrize("dialled", ["1*5", "*318", "##12", "0044", "99999999999999"])
def test_codes_and_garbage_are_no_numbers(dialled):
    with pytest.raises(NotANumber):
        classify(dialled, "FR", HOME)


# --- the outside-line prefix --------------------------------------------------------
@pytest.mark.parametrize(
    "dialled, number",
    [
        ("00184800200", "0184800200"),
        ("00612345678", "0612345678"),
        ("0041446681800", "041446681800"),  # 0 + 00 41…: the 0 goes, 0 41… stays
        ("0004144668180", "004144668180"),
        ("03949", "3949"),
        ("0118712", "118712"),
        ("+442079460000", "+442079460000"),  # + needs no prefix
        *[(number, number) for number in EMERGENCY],  # bare emergency numbers work
        *[("0" + number, number) for number in EMERGENCY],  # and after the 0 too
    ],
)
def test_with_the_prefix_the_0_goes_before_classification(dialled, number):
    assert outside_number(dialled, "FR", True) == number


@pytest.mark.parametrize("dialled", ["3949", "612345678", "118712"])
def test_with_the_prefix_an_outside_number_without_it_is_no_number(dialled):
    with pytest.raises(NotANumber):
        outside_number(dialled, "FR", True)


def test_without_the_prefix_numbers_are_taken_as_dialled():
    assert outside_number("0612345678", "FR", False) == "0612345678"


@pytest.mark.parametrize("number", EMERGENCY)
def test_emergency_numbers_are_never_barred_with_or_without_the_prefix(number):
    nothing = frozenset()
    for dialled in (number, "0" + number):
        found = classify(outside_number(dialled, "FR", True), "FR", HOME)
        assert found.category is C.EMERGENCY and allowed(found.category, nothing)


# --- barring: what may be called ------------------------------------------------------
def test_barring_access_codes_bars_the_codes_that_change_settings_too():
    assert allowed(C.SETTING_CODES, DEFAULT_ALLOWED)
    assert not allowed(C.SETTING_CODES, DEFAULT_ALLOWED - {C.ACCESS_CODES})
    assert allowed(C.ACCESS_CODES, DEFAULT_ALLOWED - {C.SETTING_CODES})
    assert not allowed(C.SETTING_CODES, DEFAULT_ALLOWED - {C.SETTING_CODES})


def test_star_codes_are_access_codes_and_group_log_in_changes_settings():
    assert feature_dialled("*318").category is C.ACCESS_CODES
    assert feature_dialled("**1000").category is C.ACCESS_CODES
    assert feature_dialled("*55300").category is C.SETTING_CODES
    assert feature_dialled("*56300").category is C.SETTING_CODES
    assert feature_dialled("##12").category is None  # stands for a number: its own


def test_former_allow_lists_read_as_they_were_meant():
    assert allowed_from_legacy({C.NATIONAL}) == DEFAULT_ALLOWED
    assert allowed_from_legacy({C.NATIONAL, C.PREMIUM}) == DEFAULT_ALLOWED | {
        C.PREMIUM,
        C.OPERATOR,
        C.DIRECTORY,
    }
    assert allowed_from_legacy(set()) == {C.ACCESS_CODES, C.SETTING_CODES}


# --- decisions ------------------------------------------------------------------------
BARRED_TAIL = (Hangup(fs.OUTGOING_CALL_BARRED),)


def barred(route) -> bool:
    """Refused with an announcement and the congestion tone, then the clean cause; not
    answered (early media), nothing rung."""
    kinds = [type(a) for a in route.actions]
    return (
        route.actions[-1:] == BARRED_TAIL
        and route.actions[:2] == (EarlyMedia(), Prompt(fs.PROMPT_BARRED))
        and Tone in kinds
        and Ring not in kinds
    )


def rings_gateway(route, number: str) -> bool:
    return Ring((GatewayEndpoint(DOMAIN, number),), 90) in route.actions


def only(*categories: Category, prefix: bool = False):
    caller = line("1001", allowed_destinations=frozenset(categories))
    return lambda dialled: compile_call(
        request(dialled),
        data(caller, tenant=replace(TENANT, outside_line_prefix=prefix)),
        NOW,
    )


@pytest.mark.parametrize(
    "dialled, category",
    [
        ("0184800200", C.LOCAL),
        ("0240000000", C.NATIONAL),
        ("0041446681800", C.INTERNATIONAL),
        ("0899123456", C.PREMIUM),
        ("1014", C.OPERATOR),
        ("118712", C.DIRECTORY),
    ],
)
def test_each_category_is_barred_alone_and_allowed_alone(dialled, category):
    assert barred(only(*(BARRABLE - {category}))(dialled))
    allowed_route = only(category)(dialled)
    assert not barred(allowed_route)
    assert any(isinstance(a, Ring) for a in allowed_route.actions)


def test_local_only_reaches_its_area_and_nothing_further():
    dial = only(C.LOCAL)
    assert rings_gateway(dial("0184800200"), "+33184800200")
    assert barred(dial("0240000000"))
    assert barred(dial("0612345678"))


@pytest.mark.parametrize("number", EMERGENCY)
def test_emergency_numbers_go_out_whatever_is_barred(number):
    nothing = only()
    assert rings_gateway(nothing(number), number)
    assert rings_gateway(only(prefix=True)("0" + number), number)
    assert rings_gateway(only(prefix=True)(number), number)


def test_with_the_prefix_the_carrier_gets_the_number_without_the_0():
    dial = only(C.LOCAL, C.NATIONAL, C.INTERNATIONAL, prefix=True)
    assert rings_gateway(dial("00612345678"), "+33612345678")
    assert rings_gateway(dial("00041446681800"), "+41446681800")
    # The 0 is stripped before classification: 0 + 0899… is premium, and barred.
    assert barred(dial("00899123456"))


def test_with_the_prefix_a_number_dialled_without_it_is_refused_cleanly():
    route = only(C.NATIONAL, prefix=True)("3949")
    assert route.actions == (Hangup(fs.UNALLOCATED_NUMBER),)


def test_with_the_prefix_extensions_and_codes_are_dialled_bare():
    route = compile_call(
        request("1000"),
        data(line("1001"), line("1000"), tenant=replace(TENANT, outside_line_prefix=True)),
        NOW,
    )
    assert any(isinstance(a, Ring) for a in route.actions)
    assert not route.name.startswith("reject")
    assert "voicemail" in only(*DEFAULT_ALLOWED, prefix=True)("*318").name


def test_barred_access_codes_are_refused_before_anything_else():
    no_codes = only(*(DEFAULT_ALLOWED - {C.ACCESS_CODES}))
    assert barred(no_codes("*318"))
    assert barred(no_codes("*55300"))
    no_setting_codes = only(*(DEFAULT_ALLOWED - {C.SETTING_CODES}))
    assert "voicemail" in no_setting_codes("*318").name
    assert barred(no_setting_codes("*55300"))


# --- forwards: refused when saved, and again when a call would follow them -------------
def test_a_forward_to_a_barred_category_is_refused_when_saved():
    raw = demo_document()
    user = raw["users"][1]
    user["call_barring"] = ["national", "international", "premium", "operator", "directory"]
    user["call_handling"] = {"forward_always": {"to": "0240000000"}}
    with pytest.raises(DocumentInvalid) as refused:
        parse_document(raw)
    (problem,) = refused.value.problems
    assert problem.path == "users[1].call_handling.forward_always.to"
    assert "national numbers are not among" in problem.message
    user["call_handling"] = {"forward_always": {"to": "0184800200"}}  # local: allowed
    assert parse_document(raw).users[1].call_handling.forward_always.to == "+33184800200"


def test_a_forward_to_a_category_barred_since_is_not_followed():
    handling = {"forward_always": {"to": "0612345678"}}
    assert forwards_to(call(handling), "+33612345678")
    barred_since = call(handling, state={"allowed_destinations": frozenset({C.LOCAL})})
    assert not forwards_to(barred_since, "+33612345678")


# --- the document -------------------------------------------------------------------------
def test_call_barring_defaults_and_round_trips():
    doc = parse_document(demo_document())
    assert doc.users[0].call_barring == sorted(DEFAULT_BARRED)
    assert "call_barring" not in dump_document(doc)["users"][0]
    raw = demo_document()
    raw["users"][0]["call_barring"] = ["access_codes", "international", "international"]
    doc = parse_document(raw)
    assert doc.users[0].call_barring == [C.ACCESS_CODES, C.INTERNATIONAL]
    again = parse_document(dump_document(doc))
    assert again.users[0].call_barring == doc.users[0].call_barring


def test_the_former_allowed_destinations_key_still_works():
    raw = demo_document()
    raw["users"][0]["allowed_destinations"] = ["national", "premium"]
    doc = parse_document(raw)
    assert doc.users[0].call_barring == [C.INTERNATIONAL]
    assert doc.users[0].allowed_destinations is None
    assert dump_document(doc)["users"][0]["call_barring"] == ["international"]


def test_both_keys_or_emergency_barring_are_refused():
    raw = demo_document()
    raw["users"][0]["allowed_destinations"] = ["national"]
    raw["users"][0]["call_barring"] = ["premium"]
    raw["users"][1]["call_barring"] = ["emergency"]
    with pytest.raises(DocumentInvalid) as refused:
        parse_document(raw)
    assert {p.path for p in refused.value.problems} == {
        "users[0].allowed_destinations",
        "users[1].call_barring",
    }


def test_with_the_prefix_nothing_dialled_bare_may_start_with_0():
    raw = demo_document(outside_line_prefix=True)
    raw["users"][2]["extension"] = "0100"
    raw["speed_dials"] = [{"code": "0550", "number": "0970711058"}]
    with pytest.raises(DocumentInvalid) as refused:
        parse_document(raw)
    found = {p.path: p.message for p in refused.value.problems}
    assert found["users[2].extension"] == "must not start with 0, the outside-line prefix"
    assert "speed_dials[0].code" in found
    assert parse_document(demo_document(outside_line_prefix=True)).outside_line_prefix


@pytest.mark.parametrize("extension", ["15", "112", "115", "197"])
def test_no_extension_may_hide_an_emergency_number(extension):
    raw = demo_document()
    raw["users"][2]["extension"] = extension
    with pytest.raises(DocumentInvalid) as refused:
        parse_document(raw)
    assert {p.path: p.message for p in refused.value.problems}["users[2].extension"] == (
        f"{extension} is an emergency number in FR"
    )


def test_click_to_call_hands_the_dialplan_what_a_phone_would_dial():
    from esl.clicktocall import CallingLine, DestinationRefused, check_destination

    everything = CallingLine("1001", DOMAIN, "FR", BARRABLE, HOME, outside_prefix=True)
    assert check_destination("0612345678", everything, ()) == "+33612345678"
    assert check_destination("3949", everything, ()) == "03949"  # after the prefix
    assert check_destination("112", everything, ()) == "112"
    local_only = replace(everything, allowed=frozenset({C.LOCAL}))
    assert check_destination("0184800200", local_only, ()) == "+33184800200"
    with pytest.raises(DestinationRefused, match="national calls"):
        check_destination("0240000000", local_only, ())
