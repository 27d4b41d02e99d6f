"""The forms of a line's rule lists (seed 003 "Règles"): a list (its name and what
happens when no rule applies), a rule (who calls, what happens), and the buttons that
move or delete one."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from admin.languages import phone_number
from admin.lines.callers import CallersForm

# The document's actions, as the seed words them.
ACTIONS = {
    "ring": _l("ring my phones"),
    "forward": _l("forward to"),
    "voicemail": _l("send to my voicemail"),
    "reject": _l("reject the call"),
    "screen": _l("ask the caller's name before I accept the call"),
    "ring_all": _l("ring my phones and other numbers at the same time"),
    "ring_sequence": _l("ring my phones, then other numbers one after the other"),
}
DEFAULT_RINGS = 3


class ActionForm(FlaskForm):
    """What happens: an action, with its target (forward) or its numbers (ring several
    phones, with the rings of each in sequence)."""

    action = SelectField(
        _l("Action"), [InputRequired()], choices=[SelectChoice(k, v) for k, v in ACTIONS.items()]
    )
    to = StringField(_l("Forward to (an extension, a number or voicemail)"), [Length(max=32)])
    ring_numbers = StringField(_l("Other numbers, comma-separated (up to 5)"), [Length(max=200)])
    rings = IntegerField(
        _l("Rings of each number in sequence"),
        [Optional(), NumberRange(1, 12)],
        default=DEFAULT_RINGS,
    )

    def chosen_action(self) -> dict[str, Any]:
        """The action as the document takes it: only the fields it takes."""
        action = self.action.data
        chosen: dict[str, Any] = {"action": action}
        if action == "forward":
            chosen["to"] = (self.to.data or "").strip()
        if action in ("ring_all", "ring_sequence"):
            typed = self.ring_numbers.data or ""
            chosen["numbers"] = [n.strip() for n in typed.split(",") if n.strip()]
        if action == "ring_sequence":
            chosen["rings"] = self.rings.data or DEFAULT_RINGS
        return chosen

    def show_action(self, stored: dict[str, Any]) -> None:
        self.action.data = stored.get("action", "ring")
        to = stored.get("to") or ""
        self.to.data = to if to == "voicemail" else phone_number(to)
        numbers = stored.get("numbers", [])
        self.ring_numbers.data = ", ".join(phone_number(n) for n in numbers)
        self.rings.data = stored.get("rings", DEFAULT_RINGS)


# The parts of an action a problem may name → the form's fields.
ACTION_FIELDS = {"action": "action", "to": "to", "numbers": "ring_numbers", "rings": "rings"}


class RuleListForm(ActionForm):
    name = StringField(_l("Name of the list"), [DataRequired(), Length(max=64)])
    version = HiddenField()

    def shown_version(self) -> int:
        try:
            return int(self.version.data or 0)
        except ValueError:
            return 0


class RuleForm(CallersForm, ActionForm):
    pass


class RuleChangeForm(FlaskForm):
    """A button of the overview: move a rule up or down, delete a rule or a list."""

    change = HiddenField(validators=[DataRequired(), Length(max=12)])
    rule_list = HiddenField(validators=[DataRequired(), Length(max=4)])
    rule = HiddenField(validators=[Length(max=4)])
    version = HiddenField(validators=[DataRequired(), Length(max=12)])
