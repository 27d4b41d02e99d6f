"""The ringing page's rows ↔ a user's call handling (admin.lines.ringing_settings):
what the page shows, what a submitted page asks for, and where a refusal lands."""

from admin.lines.ringing_settings import place_of, requested, rows_of

STORED = {
    "forward_busy": {"to": "1002"},
    "simultaneous_ring": {
        "numbers": ["+33612345678"],
        "skip_when_on_call": True,
        "schedule": "office hours",
        "callers": {"contacts": ["Mum"], "anonymous": True},
    },
    "sequential_ring": {"own_rings": 2, "steps": [{"number": "1000", "rings": 4}]},
    "do_not_disturb": {"enabled": False, "priority_callers": {"extensions": ["1000"]}},
}


def national(number: str) -> str:
    return "06 12 34 56 78" if number == "+33612345678" else number


def test_the_rows_shown_for_stored_settings_ask_for_them_again():
    rows = rows_of(STORED, national)
    assert rows["simultaneous_numbers"] == ["06 12 34 56 78"]
    assert rows["simultaneous_callers"] == {
        "numbers": [],
        "extensions": [],
        "contacts": ["Mum"],
        "anonymous": True,
    }
    assert rows["sequential_steps"] == [{"number": "1000", "rings": 4}]
    assert rows["priority_callers"]["extensions"] == ["1000"]
    asked, _ = requested(STORED, rows)
    assert asked == {
        **STORED,
        "simultaneous_ring": {**STORED["simultaneous_ring"], "numbers": ["06 12 34 56 78"]},
    }


def test_nothing_set_shows_every_ring_off():
    rows = rows_of({}, national)
    assert not rows["simultaneous"] and not rows["sequential"]
    assert rows["sequential_own_rings"] == 3
    assert requested({}, rows)[0] == {}


def test_blank_rows_are_left_out_and_each_number_keeps_its_row():
    rows = rows_of({}, national)
    rows["simultaneous"] = True
    rows["simultaneous_numbers"] = ["", " 0612 ", "", "1002", ""]
    rows["sequential"] = True
    rows["sequential_steps"] = [{"number": "", "rings": 3}, {"number": "1000", "rings": 5}]
    asked, places = requested({}, rows)
    assert asked["simultaneous_ring"] == {"numbers": ["0612", "1002"]}
    assert asked["sequential_ring"] == {"own_rings": 3, "steps": [{"number": "1000", "rings": 5}]}
    path = "call_handling.simultaneous_ring.numbers[1]"
    assert place_of(path, places) == ("simultaneous_numbers", 3)
    path = "call_handling.sequential_ring.steps[0].rings"
    assert place_of(path, places) == ("sequential_steps", 1, "rings")
    # A problem of a part the page does not show has no place on it.
    assert place_of("call_handling.forward_busy.to", places) is None


def test_a_ring_turned_off_without_numbers_is_removed_and_the_rest_kept():
    rows = rows_of(STORED, national)
    rows["simultaneous"] = False
    rows["simultaneous_numbers"] = [""] * 5
    rows["sequential"] = False
    rows["sequential_steps"] = [{"number": "", "rings": 3}]
    asked, _ = requested(STORED, rows)
    assert "simultaneous_ring" not in asked and "sequential_ring" not in asked
    assert asked["forward_busy"] == {"to": "1002"}


def test_priority_callers_keep_do_not_disturb_as_it_is():
    rows = rows_of({}, national)
    rows["priority_callers"]["numbers"] = ["0611111111"]
    asked, _ = requested({}, rows)
    assert asked["do_not_disturb"] == {
        "enabled": False,
        "priority_callers": {"numbers": ["0611111111"]},
    }
    on = {"do_not_disturb": {}}
    assert requested(on, rows)[0]["do_not_disturb"] == {
        "priority_callers": {"numbers": ["0611111111"]}
    }
    emptied = rows_of(STORED, national)
    emptied["priority_callers"]["extensions"] = [""]
    assert requested(STORED, emptied)[0]["do_not_disturb"] == {"enabled": False}
