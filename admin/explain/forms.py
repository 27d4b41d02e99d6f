"""The "Test a call" form: sent by GET, in the page's address (no CSRF token: it changes
nothing, nothing is dialled)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional


class ExplainForm(FlaskForm):
    class Meta:
        csrf = False

    caller = StringField(_l("From (an extension or a number)"), [DataRequired(), Length(max=40)])
    to = StringField(_l("To (what is dialled)"), [DataRequired(), Length(max=40)])
    at = StringField(_l("At (2026-12-24 12:45; empty: now)"), [Optional(), Length(max=40)])
    assume = StringField(
        _l("Assume (1001=busy, 1002=unregistered, 1003=free, 1004=answers)"),
        [Optional(), Length(max=400)],
    )
