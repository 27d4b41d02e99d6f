"""A reminder's form (add and edit) and its delete button."""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

KINDS = {
    "once": _l("Once"),
    "working_days": _l("Every working day"),
    "every_day": _l("Every day"),
}


class ReminderForm(FlaskForm):
    label = StringField(_l("Label"), [DataRequired(), Length(max=64)])
    kind = SelectField(
        _l("Repeat"),
        [InputRequired()],
        choices=[SelectChoice(k, v) for k, v in KINDS.items()],
        default="every_day",
    )
    date = DateField(_l("Date (once only)"), [Optional()])
    time = TimeField(_l("Time"), [InputRequired()])
    # A recorded announcement of the tenant's, or "" for the stock wake-up prompt.
    message = SelectField(_l("Message"), choices=[], validate_choice=True)
    enabled = BooleanField(_l("On"), default=True)

    # The parts of a reminder these fields edit (admin.problems).
    PROBLEM_FIELDS: ClassVar[dict[str, str]] = {
        "label": "label",
        "kind": "kind",
        "date": "date",
        "time": "time",
        "message": "message",
        "enabled": "enabled",
    }

    def as_document(self) -> dict[str, object]:
        """The reminder as the REST API takes it (provisioning.reminders)."""
        return {
            "label": (self.label.data or "").strip(),
            "kind": self.kind.data,
            "date": self.date.data.isoformat()
            if self.date.data and self.kind.data == "once"
            else None,
            "time": self.time.data.strftime("%H:%M") if self.time.data else "",
            "message": self.message.data or None,
            "enabled": bool(self.enabled.data),
        }


class DeleteReminderForm(FlaskForm):
    id = HiddenField(validators=[DataRequired(), Length(max=12)])
