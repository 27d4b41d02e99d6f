"""The tenant document: structure, values, paths of errors, canonical form."""

import copy

import pytest

from provisioning.document import (
    DocumentInvalid,
    dump_document,
    dump_text,
    json_schema,
    load_text,
    parse_document,
)
from tests.conftest import demo_document


def problems(raw) -> dict[str, str]:
    with pytest.raises(DocumentInvalid) as info:
        parse_document(raw)
    return {p.path: p.message for p in info.value.problems}


def test_demo_document_is_valid_and_canonical():
    doc = parse_document(demo_document())
    assert [u.extension for u in doc.users] == ["1000", "1001", "1002"]
    assert doc.numbers[0].number == "+33184800100"


def test_national_numbers_when_parsed_then_stored_in_e164():
    raw = demo_document()
    raw["numbers"][0]["number"] = "01 84 80 01 00"
    raw["main_number"] = "0184800100"
    raw["users"][0]["public_number"] = "01.84.80.01.00"
    doc = parse_document(raw)
    assert doc.numbers[0].number == doc.main_number == doc.users[0].public_number == "+33184800100"


def test_every_problem_is_reported_with_the_path_of_its_field():
    raw = demo_document()
    raw["users"][1]["extension"] = "10a"
    raw["users"][2]["sip_password"] = "weak"
    raw["users"][0]["voicemail"]["pin"] = "111111"
    raw["numbers"][1]["number"] = "0800-FLOWERS"
    raw["numbers"][0]["user"] = "4242"
    raw["timezone"] = "Nowhere/Land"
    found = problems(raw)
    assert set(found) >= {
        "users[1].extension",
        "users[2].sip_password",
        "users[0].voicemail.pin",
        "numbers[1].number",
        "numbers[0].user",
        "timezone",
    }


def test_structure_errors_have_paths_too():
    raw = demo_document()
    raw["users"][0]["colour"] = "blue"
    raw["users"][1]["max_concurrent_calls"] = "many"
    del raw["users"][2]["name"]
    found = problems(raw)
    assert set(found) == {"users[0].colour", "users[1].max_concurrent_calls", "users[2].name"}


def test_duplicates_and_dangling_references_are_refused():
    raw = demo_document()
    raw["users"].append(copy.deepcopy(raw["users"][0]))
    raw["numbers"].append(dict(raw["numbers"][0]))
    raw["users"][2]["public_number"] = "+33184800999"
    found = problems(raw)
    assert "users[3].extension" in found and "numbers[2].number" in found
    assert found["users[2].public_number"] == "must be one of the tenant's numbers"


def test_voicemail_needs_a_pin_when_enabled():
    raw = demo_document()
    del raw["users"][0]["voicemail"]["pin"]
    assert "users[0].voicemail.pin" in problems(raw)


def test_injection_attempts_in_every_text_field_are_refused():
    raw = demo_document()
    raw["name"] = "$${sip_profile}"
    raw["users"][0]["name"] = "x}[api_on_answer=system rm]"
    raw["numbers"][0]["label"] = '<X-PRE-PROCESS cmd="exec" data="id"/>'
    raw["gateway"]["password"] = "pw${system(id)}"
    assert set(problems(raw)) == {"name", "users[0].name", "numbers[0].label", "gateway.password"}


def test_yaml_scalars_stay_strings_so_leading_zeros_survive():
    raw = load_text("extension: 0100\nflag: yes\nnothing: null\n")
    assert raw == {"extension": "0100", "flag": "yes", "nothing": None}


def test_round_trip_of_canonical_text_is_exact():
    canonical = dump_text(dump_document(parse_document(demo_document())))
    again = dump_text(dump_document(parse_document(load_text(canonical))))
    assert again == canonical


def test_schema_describes_every_field():
    schema = json_schema()
    assert schema["required"] == ["domain", "name", "timezone", "country"]
    user = schema["$defs"]["UserDoc"]
    assert set(user["properties"]) == {
        "extension",
        "name",
        "sip_password",
        "public_number",
        "voicemail",
        "max_concurrent_calls",
        "call_waiting",
        "call_barring",
        "allowed_destinations",
        "contacts",
        "call_handling",
        "panel_admin",
    }
    assert user["additionalProperties"] is False


def test_users_handed_one_by_one_are_those_of_the_whole_document():
    from provisioning.document import parse_document_users

    taken = []
    doc = parse_document_users(demo_document(), taken.append)
    assert doc.users == []
    doc.users = taken
    assert dump_document(doc) == dump_document(parse_document(demo_document()))


def test_structural_problems_keep_the_order_of_the_documents_fields():
    raw = demo_document()
    raw["name"] = {"not": "text"}
    raw["users"][1]["max_concurrent_calls"] = "many"
    raw["users"].append("not a user")
    raw["groups"] = "not a list"
    raw["unknown"] = 1
    assert list(problems(raw)) == [
        "name",
        "users[1].max_concurrent_calls",
        "users[3]",
        "groups",
        "unknown",
    ]


def test_value_problems_keep_their_order_users_own_values_before_their_call_handling():
    raw = demo_document()
    raw["users"][0]["call_handling"] = {"forward_busy": {"to": "4242"}}
    raw["users"][2]["name"] = "Bad $name"
    raw["gateway"]["proxy"] = "no such host!"
    raw["timezone"] = "Mars/Olympus"
    assert list(problems(raw)) == [
        "timezone",
        "users[2].name",
        "users[0].call_handling.forward_busy.to",
        "gateway.proxy",
    ]


@pytest.mark.parametrize("short", ["\u00b2", "99999999999999999999999", "1000"])
def test_a_group_s_short_number_that_is_no_short_number_is_refused_not_a_crash(short):
    """ "²" passes isdigit() but not int(): the whole validation raised (an API 500)."""
    raw = demo_document()
    raw["groups"] = [
        {"name": "Sales", "extension": "600", "short_number": short, "members": ["1000"]}
    ]
    with pytest.raises(DocumentInvalid) as refused:
        parse_document(raw)
    assert "groups[0].short_number" in [p.path for p in refused.value.problems]
