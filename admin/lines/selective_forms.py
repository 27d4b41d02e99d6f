"""The forms of a line's selective call handling (seed 003 "Paramètres avancés"): one
entry of a selective list, the anonymous-call switch, a list entry's delete button."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from admin.lines.callers import CallersForm


class SelectiveEntryForm(CallersForm):
    """Callers, and for a forward its target and confirmation, for a distinctive ring
    its ring; the kind's page shows only the fields it takes."""

    to = StringField(_l("Forward them to"), [Length(max=32)])
    confirm = BooleanField(_l("the person I forward to presses 1 to take the call"))
    ring = StringField(_l("Ring (a name your phones know, such as Bellcore-dr2)"), [Length(max=32)])


class AnonymousForm(FlaskForm):
    reject_anonymous = BooleanField(_l("Reject calls from callers who withhold their number"))
    version = HiddenField()


class DeleteEntryForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired(), Length(max=20)])
    index = HiddenField(validators=[Length(max=4)])
    version = HiddenField(validators=[DataRequired(), Length(max=12)])
