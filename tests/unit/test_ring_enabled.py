"""Simultaneous and sequential ring switched off (`enabled: false`): the line rings as if
neither were set, the numbers are kept and checked as the document checks them, written
back only when off, and shown on the panel's ringing page with the box unticked."""

import pytest

from admin.lines.ringing_settings import requested, rows_of
from provisioning.call_handling import CallHandling, stored_form
from provisioning.document import dump_document, dump_text, load_text, parse_document
from provisioning.openapi import openapi_document
from provisioning.summary import as_text, summarise
from tests.unit.test_call_handling_document import handling, problems, with_handling
from tests.unit.test_line_compile import (
    MOBILE,
    MONDAY_10,
    OTHER_MOBILE,
    call,
    forwards_to,
    ring_of,
)

SIMULTANEOUS = {"numbers": ["0612345678", "1000"], "skip_when_on_call": True}
SEQUENTIAL = {"own_rings": 2, "steps": [{"number": "0699887766", "rings": 4}]}


# --- what a call does -----------------------------------------------------------------
@pytest.mark.parametrize(
    "settings",
    [
        {"simultaneous_ring": {**SIMULTANEOUS, "enabled": False}},
        {"sequential_ring": {**SEQUENTIAL, "enabled": False}},
        {
            "simultaneous_ring": {**SIMULTANEOUS, "enabled": False},
            "sequential_ring": {**SEQUENTIAL, "enabled": False},
        },
    ],
)
def test_a_ring_that_is_off_leaves_the_plain_line(settings):
    assert call(settings).actions == call({}).actions


def test_a_ring_that_is_off_does_not_hide_the_other_one():
    """The simultaneous ring wins when both apply; switched off, it no longer applies."""
    both = {"simultaneous_ring": SIMULTANEOUS, "sequential_ring": SEQUENTIAL}
    assert not ring_of(call(both)).sequential
    both["simultaneous_ring"] = {**SIMULTANEOUS, "enabled": False}
    ring = ring_of(call(both))
    assert ring.sequential and forwards_to(call(both), OTHER_MOBILE)
    assert not forwards_to(call(both), MOBILE)


def test_enabled_true_is_the_ring_as_before():
    on = call({"simultaneous_ring": {**SIMULTANEOUS, "enabled": True}})
    assert on.actions == call({"simultaneous_ring": SIMULTANEOUS}).actions
    assert forwards_to(on, MOBILE)


def test_a_rule_list_s_plain_ring_follows_the_switch():
    """A rule list's "ring" action rings the line as its settings say: a ring that is
    off adds nothing there either."""
    rule_lists = [{"name": "Always", "default": {"action": "ring"}}]
    planner = {"periods": [{"name": "Week", "rule_list": "Always", "mon": ["00:00-24:00"]}]}
    settings = {
        "rule_lists": rule_lists,
        "planner": planner,
        "simultaneous_ring": {**SIMULTANEOUS, "enabled": False},
    }
    assert not forwards_to(call(settings), MOBILE)
    settings["simultaneous_ring"] = SIMULTANEOUS
    assert forwards_to(call(settings), MOBILE)


# --- the document -----------------------------------------------------------------------
def test_a_ring_that_is_off_keeps_its_numbers_normalised():
    ch = handling(
        with_handling(
            simultaneous_ring={**SIMULTANEOUS, "enabled": False},
            sequential_ring={**SEQUENTIAL, "enabled": False},
        )
    )
    assert not ch.simultaneous_ring.enabled and not ch.sequential_ring.enabled
    assert ch.simultaneous_ring.numbers == [MOBILE, "1000"]
    assert ch.sequential_ring.steps[0].number == OTHER_MOBILE


@pytest.mark.parametrize(
    "ring, path",
    [
        ({"simultaneous_ring": {"numbers": ["+41446681800"]}}, "simultaneous_ring.numbers[0]"),
        (
            {"sequential_ring": {"steps": [{"number": "0612,user/9"}]}},
            "sequential_ring.steps[0].number",
        ),
        ({"simultaneous_ring": {"numbers": ["1001"]}}, "simultaneous_ring.numbers[0]"),
        ({"simultaneous_ring": {"numbers": []}}, "simultaneous_ring.numbers"),
    ],
)
def test_the_numbers_of_a_ring_that_is_off_are_checked_as_when_it_is_on(ring, path):
    """Switched on again, a kept ring rings its numbers with no other check: a barred,
    unsafe or own number is refused while it is off too."""
    ((name, settings),) = ring.items()
    on = problems(with_handling(**{name: settings}))
    off = problems(with_handling(**{name: {**settings, "enabled": False}}))
    assert f"users[1].call_handling.{path}" in off
    assert off == on


def test_the_document_writes_enabled_only_when_off():
    raw = with_handling(
        simultaneous_ring={**SIMULTANEOUS, "enabled": True},
        sequential_ring={**SEQUENTIAL, "enabled": False},
    )
    dumped = dump_document(parse_document(raw))
    written = dumped["users"][1]["call_handling"]
    assert written["simultaneous_ring"] == {
        "numbers": [MOBILE, "1000"],
        "skip_when_on_call": True,
    }
    assert written["sequential_ring"] == {
        "enabled": False,
        "own_rings": 2,
        "steps": [{"number": OTHER_MOBILE, "rings": 4}],
    }
    text = dump_text(dumped)
    assert "enabled: false" in text
    assert dump_document(parse_document(load_text(text))) == dumped


def test_the_stored_form_keeps_the_switch():
    ch = CallHandling.model_validate({"simultaneous_ring": {"numbers": ["1000"], "enabled": False}})
    assert stored_form(ch) == {"simultaneous_ring": {"enabled": False, "numbers": ["1000"]}}
    assert stored_form(CallHandling.model_validate(stored_form(ch))) == stored_form(ch)


def test_the_configuration_summary_lists_a_ring_only_while_it_is_on():
    on = with_handling(simultaneous_ring=SIMULTANEOUS, sequential_ring=SEQUENTIAL)
    text = as_text(summarise(parse_document(on), MONDAY_10))
    assert "also rings +33612345678, 1000" in text and "then rings +33699887766" in text
    off = with_handling(
        simultaneous_ring={**SIMULTANEOUS, "enabled": False},
        sequential_ring={**SEQUENTIAL, "enabled": False},
    )
    text = as_text(summarise(parse_document(off), MONDAY_10))
    assert "also rings" not in text and "then rings" not in text


def test_the_openapi_document_describes_the_switch():
    schemas = openapi_document()["components"]["schemas"]
    for name in ("SimultaneousRing", "SequentialRing"):
        enabled = schemas[name]["properties"]["enabled"]
        assert enabled["type"] == "boolean" and enabled["default"] is True
        assert "kept" in enabled["description"]


# --- the panel's rows -------------------------------------------------------------------
def same(number: str) -> str:
    return number


def test_the_page_shows_a_ring_that_is_off_unticked_with_its_numbers():
    stored = {
        "simultaneous_ring": {"enabled": False, "numbers": [MOBILE], "schedule": "office hours"},
        "sequential_ring": {"enabled": False, "own_rings": 2, "steps": [{"number": "1000"}]},
    }
    rows = rows_of(stored, same)
    assert not rows["simultaneous"] and not rows["sequential"]
    assert rows["simultaneous_numbers"] == [MOBILE]
    assert rows["simultaneous_schedule"] == "office hours"
    assert rows["sequential_steps"] == [{"number": "1000", "rings": 3}]
    asked, _ = requested(stored, rows)
    assert asked["simultaneous_ring"] == stored["simultaneous_ring"]
    assert asked["sequential_ring"] == {
        **stored["sequential_ring"],
        "steps": [{"number": "1000", "rings": 3}],
    }


def test_unticked_keeps_the_numbers_and_ticked_again_restores_the_ring():
    stored = {"simultaneous_ring": SIMULTANEOUS, "sequential_ring": SEQUENTIAL}
    rows = rows_of(stored, same)
    rows["simultaneous"] = rows["sequential"] = False
    off, _ = requested(stored, rows)
    assert off["simultaneous_ring"] == {**SIMULTANEOUS, "enabled": False}
    assert off["sequential_ring"] == {**SEQUENTIAL, "enabled": False}
    rows = rows_of(off, same)
    rows["simultaneous"] = rows["sequential"] = True
    on, _ = requested(off, rows)
    assert on == stored


def test_numbers_typed_while_unticked_are_kept_off():
    rows = rows_of({}, same)
    rows["simultaneous_numbers"] = ["", "1000", "", "", ""]
    asked, places = requested({}, rows)
    assert asked == {"simultaneous_ring": {"enabled": False, "numbers": ["1000"]}}
    assert places["call_handling.simultaneous_ring.numbers[0]"] == ("simultaneous_numbers", 1)
