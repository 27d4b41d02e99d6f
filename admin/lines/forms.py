"""The line page's form: forwarding, do-not-disturb, call waiting, caller ID."""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from admin.lines.forwarding import DEFAULT_NO_ANSWER_SECONDS, FORWARDS

# Targets are checked by the tenant document's rules on saving; here only their size.
_TARGET = [Length(max=32)]


class ForwardingForm(FlaskForm):
    forward_always = BooleanField(_l("Forward every call"))
    forward_always_to = StringField(_l("to"), _TARGET)
    forward_no_answer = BooleanField(_l("Forward when I do not answer"))
    forward_no_answer_to = StringField(_l("to"), _TARGET)
    no_answer_after = IntegerField(
        _l("after (seconds)"),
        [InputRequired(), NumberRange(0, 90)],
        default=DEFAULT_NO_ANSWER_SECONDS,
    )
    forward_busy = BooleanField(_l("Forward when I am busy"))
    forward_busy_to = StringField(_l("to"), _TARGET)
    forward_unreachable = BooleanField(_l("Forward when my phone is not connected"))
    forward_unreachable_to = StringField(_l("to"), _TARGET)
    do_not_disturb = BooleanField(_l("Do not disturb"))
    call_waiting = BooleanField(_l("Call waiting: a second call rings while I am on one"))
    withhold = BooleanField(_l("Withhold my number on my calls"))
    hide_incoming = BooleanField(_l("Do not show me who calls"))
    outgoing_number = StringField(_l("Number shown on my calls (empty: my line's)"), _TARGET)
    # The version of the settings the page showed: a save from an older one is refused.
    version = HiddenField()

    # The parts of the user's document these fields edit (admin.problems).
    PROBLEM_FIELDS: ClassVar[dict[str, str]] = {
        **{f"call_handling.{key}": f"{key}_to" for key in FORWARDS},
        **{f"call_handling.{key}.schedule": f"{key}_schedule" for key in FORWARDS},
        "call_handling.forward_no_answer.after": "no_answer_after",
        "call_handling.forward_no_answer.rings": "no_answer_after",
        "call_handling.do_not_disturb": "do_not_disturb",
        "call_handling.caller_id": "withhold",
        "call_handling.caller_id.hide_incoming": "hide_incoming",
        "call_handling.caller_id.outgoing_number": "outgoing_number",
        "call_waiting": "call_waiting",
    }


# Each forward's options, under its target: when (a schedule of the tenant's), for
# direct calls only, confirmed by the forwarded party.
for _key in FORWARDS:
    setattr(
        ForwardingForm,
        f"{_key}_schedule",
        SelectField(_l("when"), choices=[], validate_choice=False),
    )
    setattr(
        ForwardingForm,
        f"{_key}_direct_only",
        BooleanField(_l("only calls made to me, not through a group")),
    )
    setattr(
        ForwardingForm,
        f"{_key}_confirm",
        BooleanField(_l("the person I forward to presses 1 to take the call")),
    )
