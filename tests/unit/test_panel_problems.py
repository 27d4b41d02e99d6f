"""The panel's one mapper from the tenant document's problems to form fields."""

import pytest
from wtforms import Form, IntegerField, StringField

from admin.contacts.forms import ContactForm
from admin.lines.forms import ForwardingForm
from admin.problems import field_for, item_of, place_problems
from provisioning.document import Problem


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("users[12].call_handling.forward_always.to", "forward_always_to"),
        ("users[0].call_handling.forward_busy", "forward_busy_to"),
        ("users[3].call_handling.forward_unreachable.schedule", "forward_unreachable_schedule"),
        ("users[3].call_handling.forward_no_answer.to", "forward_no_answer_to"),
        ("users[3].call_handling.forward_no_answer.after", "no_answer_after"),
        ("users[3].call_handling.forward_no_answer.rings", "no_answer_after"),
        ("users[1].call_handling.do_not_disturb.schedule", "do_not_disturb"),
        ("users[1].call_handling.caller_id.outgoing_number", "outgoing_number"),
        ("users[1].call_handling.caller_id.hide_incoming", "hide_incoming"),
        ("users[1].call_handling.caller_id", "withhold"),
        ("users[1].call_handling.caller_id.withhold", "withhold"),
        ("users[1].call_waiting", "call_waiting"),
        # Not the page's: the planner, another part of the document.
        ("users[1].call_handling.planner[0].to", None),
        ("users[1].call_handling", None),
        ("numbers[0].user", None),
        ("", None),
    ],
)
def test_the_line_form_s_fields_take_the_problems_of_what_they_edit(path, field):
    assert field_for(path, ForwardingForm.PROBLEM_FIELDS) == field


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("users[1].contacts[4].name", "name"),
        ("users[1].contacts[4].numbers[2]", "numbers"),
        ("users[1].contacts[4].numbers", "numbers"),
        ("users[1].contacts", None),
    ],
)
def test_list_indexes_match_any_entry(path, field):
    assert field_for(path, ContactForm.PROBLEM_FIELDS) == field


def test_the_longest_matching_suffix_wins():
    fields = {"to": "short", "forward.to": "long"}
    assert field_for("users[0].forward.to", fields) == "long"
    assert field_for("users[0].other.to", fields) == "short"
    # Whole parts only: `xto` is not `to`.
    assert field_for("users[0].xto", fields) is None


class _Form(Form):
    target = StringField("to")
    delay = IntegerField("after")


def test_each_message_goes_beside_its_field_and_the_others_are_returned():
    form = _Form()
    form.target.errors = ["typed wrong"]
    problems = [
        Problem("users[2].call.target", "must be a number"),
        Problem("users[2].call.delay", "must be at most 90"),
        Problem("groups[0].members[1]", "no user 1099"),
    ]
    fields = {"call.target": "target", "call.delay": "delay"}
    general = place_problems(form, problems, fields)
    assert form.target.errors == ["typed wrong", "must be a number"]
    assert form.delay.errors == ["must be at most 90"]
    assert general == ["no user 1099"]
    worded = place_problems(_Form(), problems[2:], fields, str)
    assert worded == ["groups[0].members[1]: no user 1099"]


def test_item_of_finds_the_list_entry_a_path_lies_in():
    assert item_of("users[1].contacts[2].numbers[0]", "contacts") == (2, "numbers")
    assert item_of("users[1].contacts[7]", "contacts") == (7, "")
    assert item_of("users[1].contacts", "contacts") is None
    assert item_of("users[1].mycontacts[0].name", "contacts") is None
