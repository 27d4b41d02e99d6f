"""The tenant's conference rooms: add or replace one, delete one."""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from provisioning.conferences import DEFAULT_MAX_MEMBERS, MAX_MEMBERS, MIN_MEMBERS


class RoomForm(FlaskForm):
    name = StringField(_l("Name"), [DataRequired(), Length(max=64)])
    extension = StringField(_l("Number"), [DataRequired(), Length(max=8)])
    pin = StringField(_l("PIN (4 to 8 digits, optional)"), [Optional(), Length(max=8)])
    moderator_pin = StringField(
        _l("Moderator PIN (optional; needs a PIN)"), [Optional(), Length(max=8)]
    )
    max_members = IntegerField(
        _l("Participants at most"),
        [DataRequired(), NumberRange(MIN_MEMBERS, MAX_MEMBERS)],
        default=DEFAULT_MAX_MEMBERS,
    )
    wait_for_moderator = BooleanField(_l("Participants wait for the moderator"))

    # The parts of the tenant document these fields edit (admin.problems).
    PROBLEM_FIELDS: ClassVar[dict[str, str]] = {
        "conferences[].name": "name",
        "conferences[].extension": "extension",
        "conferences[].pin": "pin",
        "conferences[].moderator_pin": "moderator_pin",
        "conferences[].max_members": "max_members",
        "conferences[].wait_for_moderator": "wait_for_moderator",
    }

    def room(self) -> dict[str, object]:
        """The room as the document writes it."""
        room: dict[str, object] = {
            "name": (self.name.data or "").strip(),
            "extension": (self.extension.data or "").strip(),
            "max_members": self.max_members.data,
            "wait_for_moderator": bool(self.wait_for_moderator.data),
        }
        for field in ("pin", "moderator_pin"):
            value = (getattr(self, field).data or "").strip()
            if value:
                room[field] = value
        return room


class DeleteRoomForm(FlaskForm):
    name = HiddenField(_l("Name"), [DataRequired(), Length(max=64)])
