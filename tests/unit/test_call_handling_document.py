"""Per-user call handling in the tenant document: targets, delays, lists, loops."""

import pytest

from provisioning.document import DocumentInvalid, dump_document, parse_document
from tests.conftest import demo_document


def with_handling(ext: str = "1001", **call_handling) -> dict:
    raw = demo_document()
    user = next(u for u in raw["users"] if u["extension"] == ext)
    user["call_handling"] = call_handling
    return raw


def problems(raw) -> dict[str, str]:
    with pytest.raises(DocumentInvalid) as info:
        parse_document(raw)
    return {p.path: p.message for p in info.value.problems}


def handling(raw, ext="1001"):
    doc = parse_document(raw)
    return next(u for u in doc.users if u.extension == ext).call_handling


def test_forward_targets_are_normalised():
    ch = handling(
        with_handling(
            forward_always={"to": "06 12 34 56 78"},
            forward_busy={"to": "1002"},
            forward_unreachable={"to": "Voicemail"},
        )
    )
    assert (ch.forward_always.to, ch.forward_busy.to, ch.forward_unreachable.to) == (
        "+33612345678",
        "1002",
        "voicemail",
    )


@pytest.mark.parametrize(
    "target, why",
    [
        ("1001", "own extension"),
        ("0899123456", "premium numbers are not among the user's allowed destinations"),
        ("+41446681800", "international numbers are not among"),
        ("112", "not a short or emergency number"),
        ("3949", "not a short or emergency number"),
        ("06-12-AB", "must be voicemail, a company extension or a phone number"),
        ("0612345678,user/1000", "must be voicemail, a company extension or a phone number"),
        ("${system(id)}", "must be voicemail, a company extension or a phone number"),
    ],
)
def test_forward_targets_are_refused_when_unsafe_or_not_allowed(target, why):
    found = problems(with_handling(forward_always={"to": target}))
    assert why in found["users[1].call_handling.forward_always.to"]


def test_allowed_destinations_open_international_forwards():
    raw = with_handling(forward_always={"to": "+41446681800"})
    raw["users"][1]["allowed_destinations"] = ["national", "international"]
    assert handling(raw).forward_always.to == "+41446681800"


@pytest.mark.parametrize(
    "forward, ok, seconds",
    [
        ({"to": "voicemail", "after": 0}, True, 0),
        ({"to": "voicemail", "after": 60}, True, 60),
        ({"to": "voicemail", "after": 61}, False, None),
        ({"to": "0612345678", "after": 9}, False, None),
        ({"to": "0612345678", "after": 90}, True, 90),
        ({"to": "0612345678", "rings": 4}, True, 20),
        ({"to": "0612345678"}, True, 20),
    ],
)
def test_no_answer_delay_limits(forward, ok, seconds):
    raw = with_handling(forward_no_answer=forward)
    if ok:
        assert handling(raw).forward_no_answer.after == seconds
    else:
        assert "users[1].call_handling.forward_no_answer.after" in problems(raw)


def test_rings_and_seconds_together_are_refused():
    assert problems(with_handling(forward_no_answer={"to": "voicemail", "after": 10, "rings": 2}))


def test_unconditional_forwarding_circle_is_refused():
    raw = demo_document()
    raw["users"][0]["call_handling"] = {"forward_always": {"to": "1001"}}
    raw["users"][1]["call_handling"] = {"forward_always": {"to": "1002"}}
    raw["users"][2]["call_handling"] = {"forward_always": {"to": "1000"}}
    found = problems(raw)
    assert (
        found["users[0].call_handling.forward_always.to"]
        == "forwarding loop 1000 → 1001 → 1002 → 1000"
    )


def test_forwarding_chain_without_circle_or_with_schedule_is_fine():
    raw = demo_document()
    raw["users"][0]["call_handling"] = {"forward_always": {"to": "1001"}}
    raw["users"][1]["call_handling"] = {
        "forward_always": {"to": "1000", "schedule": "office hours"}
    }
    parse_document(raw)


def test_schedules_contacts_and_extensions_must_exist():
    raw = with_handling(
        forward_always={"to": "voicemail", "schedule": "Weekends"},
        do_not_disturb={"priority_callers": {"contacts": ["Mum"], "extensions": ["4242"]}},
        simultaneous_ring={"numbers": ["0612345678"], "callers": {"numbers": ["12"]}},
    )
    found = problems(raw)
    assert set(found) == {
        "users[1].call_handling.forward_always.schedule",
        "users[1].call_handling.do_not_disturb.priority_callers.contacts[0]",
        "users[1].call_handling.do_not_disturb.priority_callers.extensions[0]",
        "users[1].call_handling.simultaneous_ring.callers.numbers[0]",
    }


def test_contacts_are_normalised_and_referenced_case_insensitively():
    raw = with_handling(selective={"reject": {"contacts": ["the ex"]}})
    raw["users"][1]["contacts"] = [{"name": "The Ex", "numbers": ["06 11 22 33 44"]}]
    doc = parse_document(raw)
    assert doc.users[1].contacts[0].numbers == ["+33611223344"]


def test_default_office_hours_schedule_is_always_known():
    parse_document(with_handling(forward_always={"to": "voicemail", "schedule": "Office Hours"}))


def test_sequential_and_simultaneous_limits():
    raw = with_handling(sequential_ring={"steps": [{"number": "0612345678"}] * 6})
    assert "users[1].call_handling.sequential_ring.steps" in problems(raw)
    raw = with_handling(simultaneous_ring={"numbers": ["voicemail"]})
    assert (
        "must be a number here"
        in problems(raw)["users[1].call_handling.simultaneous_ring.numbers[0]"]
    )


def test_rule_lists_and_planner():
    raw = with_handling(
        rule_lists=[
            {
                "name": "Work",
                "rules": [{"callers": {"anonymous": True}, "action": "reject"}],
                "default": {"action": "ring"},
            },
            {"name": "Away", "default": {"action": "forward", "to": "0612345678"}},
        ],
        planner={
            "periods": [
                {"name": "Day", "rule_list": "work", "mon": ["08:00-18:00"]},
                {"name": "Evening", "rule_list": "Away", "mon": ["17:45-20:00"]},
            ],
            "special_days": {"rule_list": "Nowhere", "dates": ["2026-12-26"]},
        },
    )
    found = problems(raw)
    assert "overlaps 'Day'" in found["users[1].call_handling.planner.periods[1].mon"]
    assert "users[1].call_handling.planner.special_days.rule_list" in found
    raw["users"][1]["call_handling"]["planner"]["periods"][1]["mon"] = ["18:00-20:10"]
    assert "15-minute" in problems(raw)["users[1].call_handling.planner.periods[1].mon[0]"]


@pytest.mark.parametrize(
    "action, path",
    [
        ({"action": "forward"}, "to"),
        ({"action": "ring", "to": "0612345678"}, "to"),
        ({"action": "ring_all"}, "numbers"),
        ({"action": "voicemail", "numbers": ["0612345678"]}, "numbers"),
    ],
)
def test_rule_actions_take_what_they_need(action, path):
    raw = with_handling(rule_lists=[{"name": "L", "default": action}])
    assert f"users[1].call_handling.rule_lists[0].default.{path}" in problems(raw)


def test_caller_id_outgoing_number_must_be_the_tenants():
    assert "users[1].call_handling.caller_id.outgoing_number" in problems(
        with_handling(caller_id={"outgoing_number": "0612345678"})
    )
    ch = handling(with_handling(caller_id={"outgoing_number": "01 84 80 01 00", "withhold": True}))
    assert ch.caller_id.outgoing_number == "+33184800100"


def test_distinctive_ring_name_is_whitelisted():
    raw = with_handling(distinctive_ring=[])
    raw = with_handling(
        selective={
            "distinctive_ring": [{"callers": {"extensions": ["1000"]}, "ring": "<http://x>;info=a"}]
        }
    )
    assert "users[1].call_handling.selective.distinctive_ring[0].ring" in problems(raw)


def test_canonical_form_round_trips():
    raw = with_handling(
        forward_no_answer={"to": "voicemail", "rings": 3}, do_not_disturb={"enabled": True}
    )
    once = dump_document(parse_document(raw))
    assert once["users"][1]["call_handling"]["forward_no_answer"] == {
        "to": "voicemail",
        "after": 15,
    }
    assert dump_document(parse_document(once)) == once


def test_forward_to_voicemail_needs_voicemail_on():
    raw = with_handling("1002", forward_busy={"to": "voicemail"})  # 1002 has voicemail off
    assert problems(raw)["users[2].call_handling.forward_busy.to"] == "the user's voicemail is off"


@pytest.mark.parametrize(
    "stored",
    [
        {},
        {"do_not_disturb": {}},
        {"do_not_disturb": {"enabled": False}},
        {"do_not_disturb": {"enabled": True, "priority_callers": {"numbers": ["+33611111111"]}}},
        {"forward_always": {"to": "voicemail"}},
    ],
)
def test_do_not_disturb_reads_the_same_from_the_model_and_from_its_stored_form(stored):
    from provisioning.call_handling import CallHandling, stored_dnd_on

    model = CallHandling.model_validate(stored)
    assert stored_dnd_on(model.model_dump(mode="json", exclude_defaults=True)) is model.dnd_on
    assert stored_dnd_on(stored) is model.dnd_on


def test_the_default_call_handling_needs_no_check_and_changes_nothing():
    # parse_document skips check_call_handling for users who give none: it must find
    # nothing to refuse or normalise in the default, whatever the user and tenant.
    from provisioning.call_handling import CallHandling, Context, check_call_handling

    found = []
    handling = CallHandling()
    context = Context(
        country="FR",
        extension="1000",
        extensions=set(),
        numbers=set(),
        schedules=set(),
        contacts=set(),
        allowed_destinations=frozenset(),
        voicemail_enabled=False,
        fail=lambda path, message: found.append((path, message)),
    )
    check_call_handling(handling, context, "call_handling")
    assert found == []
    assert handling == CallHandling()
