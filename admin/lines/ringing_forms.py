"""The ringing page's form: simultaneous ring, sequential ring and do-not-disturb's
priority callers, in numbered rows (blank rows are ignored) that work without scripts."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from provisioning.call_handling import MAX_EXTRA_NUMBERS, MAX_LIST

# Numbers are checked by the tenant document's rules on saving; here only their size.
MAX_TYPED = 32
# Ring counts the document accepts for a sequential ring (1 ring = 5 s).
RINGS = range(1, 13)
# Blank rows a caller list shows beyond its entries, and adds at a time.
SPARE_ROWS = 2
MORE_ROWS = 3


def _typed(label: Any) -> StringField:
    return StringField(
        label, [Length(max=MAX_TYPED)], render_kw={"maxlength": MAX_TYPED, "inputmode": "tel"}
    )


def _rings(label: Any) -> SelectField:
    # Out of range or not a number: the document's own check says so.
    return SelectField(label, choices=[], coerce=int, validate_choice=False)


class CallersForm(Form):
    """Who a setting is about: numbers, colleagues, personal contacts, anonymous."""

    numbers = FieldList(_typed(_l("Number")), max_entries=MAX_LIST)
    extensions = FieldList(
        StringField(
            _l("Extension"),
            [Length(max=MAX_TYPED)],
            render_kw={"maxlength": MAX_TYPED, "inputmode": "numeric"},
        ),
        max_entries=MAX_LIST,
    )
    contacts = SelectMultipleField(
        _l("My contacts"),
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    anonymous = BooleanField(_l("Callers who withhold their number"))


class StepForm(Form):
    number = _typed(_l("Number"))
    rings = _rings(_l("Rings"))


class RingingForm(FlaskForm):
    simultaneous = BooleanField(_l("Ring other numbers at the same time as my phones"))
    simultaneous_numbers = FieldList(
        _typed(_l("Number")), min_entries=MAX_EXTRA_NUMBERS, max_entries=MAX_EXTRA_NUMBERS
    )
    simultaneous_skip_when_on_call = BooleanField(_l("Not while I am on a call"))
    simultaneous_confirm = BooleanField(_l("The person who answers presses 1 to take the call"))
    simultaneous_schedule = SelectField(_l("Applies"), choices=[], validate_choice=False)
    simultaneous_callers = FormField(CallersForm)

    sequential = BooleanField(_l("Ring my phones first, then other numbers one after the other"))
    sequential_own_rings = _rings(_l("My phones ring first for"))
    sequential_steps = FieldList(
        FormField(StepForm), min_entries=MAX_EXTRA_NUMBERS, max_entries=MAX_EXTRA_NUMBERS
    )
    sequential_confirm = BooleanField(_l("The person who answers presses 1 to take the call"))
    sequential_schedule = SelectField(_l("Applies"), choices=[], validate_choice=False)
    sequential_callers = FormField(CallersForm)

    priority_callers = FormField(CallersForm)
    # The version of the settings the page showed: a save from an older one is refused.
    version = HiddenField()

    def caller_lists(self) -> list[FormField]:
        return [self.simultaneous_callers, self.sequential_callers, self.priority_callers]
