"""The log-in / log-out switch of a group or queue."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Length


class MembershipForm(FlaskForm):
    kind = HiddenField(validators=[AnyOf(["group", "queue"])])
    name = HiddenField(validators=[DataRequired(), Length(max=64)])
    # "in" to log in, "out" to log out.
    want = HiddenField(validators=[AnyOf(["in", "out"])])
