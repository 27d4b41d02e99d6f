"""The tenant's call park: on or off, its slots, its ring-back timeout."""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from provisioning.park import DEFAULT_FIRST_SLOT, DEFAULT_LAST_SLOT, DEFAULT_TIMEOUT


class ParkForm(FlaskForm):
    enabled = BooleanField(_l("Calls can be parked"))
    first_slot = StringField(
        _l("First slot"), [DataRequired(), Length(max=8)], default=DEFAULT_FIRST_SLOT
    )
    last_slot = StringField(
        _l("Last slot"), [DataRequired(), Length(max=8)], default=DEFAULT_LAST_SLOT
    )
    timeout = IntegerField(
        _l("Ring back the user who parked a call after (seconds)"),
        [InputRequired(), NumberRange(min=5, max=3600)],
        default=DEFAULT_TIMEOUT,
    )

    # The parts of the tenant document these fields edit (admin.problems).
    PROBLEM_FIELDS: ClassVar[dict[str, str]] = {
        "park.first_slot": "first_slot",
        "park.last_slot": "last_slot",
        "park.timeout": "timeout",
    }
