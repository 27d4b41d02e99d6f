"""The panel's forms; each carries a CSRF token (flask-wtf)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange

from admin.forwarding import DEFAULT_NO_ANSWER_SECONDS
from provisioning.media import ANNOUNCEMENT, MUSIC, RINGBACK


class LoginForm(FlaskForm):
    number = StringField("Number", [DataRequired(), Length(max=300)])
    password = PasswordField("Password", [DataRequired(), Length(max=200)])


class LogoutForm(FlaskForm):
    pass


# Targets are checked by the tenant document's rules on saving; here only their size.
_TARGET = [Length(max=32)]


class ForwardingForm(FlaskForm):
    forward_always = BooleanField("Forward every call")
    forward_always_to = StringField("to", _TARGET)
    forward_no_answer = BooleanField("Forward when I do not answer")
    forward_no_answer_to = StringField("to", _TARGET)
    no_answer_after = IntegerField(
        "after (seconds)",
        [InputRequired(), NumberRange(0, 90)],
        default=DEFAULT_NO_ANSWER_SECONDS,
    )
    forward_busy = BooleanField("Forward when I am busy")
    forward_busy_to = StringField("to", _TARGET)
    forward_unreachable = BooleanField("Forward when my phone is not connected")
    forward_unreachable_to = StringField("to", _TARGET)
    do_not_disturb = BooleanField("Do not disturb")
    call_waiting = BooleanField("Call waiting: a second call rings while I am on one")
    withhold = BooleanField("Withhold my number on my calls")
    hide_incoming = BooleanField("Do not show me who calls")
    outgoing_number = StringField("Number shown on my calls (empty: my line's)", _TARGET)


class ContactForm(FlaskForm):
    name = StringField("Name", [DataRequired(), Length(max=64)])
    numbers = StringField("Numbers, comma-separated (up to 5)", [DataRequired(), Length(max=200)])


class DeleteContactForm(FlaskForm):
    name = HiddenField(validators=[DataRequired(), Length(max=64)])


class ImportContactsForm(FlaskForm):
    file = FileField("CSV file (name, number1…number5)", [FileRequired()])


MEDIA_KINDS = {ANNOUNCEMENT: "Announcement", MUSIC: "Hold music", RINGBACK: "Ringback tone"}


class MediaForm(FlaskForm):
    kind = SelectField(
        "Kind", choices=[SelectChoice(kind, label) for kind, label in MEDIA_KINDS.items()]
    )
    name = StringField("Name", [DataRequired(), Length(max=32)])
    file = FileField("WAV or MP3 file, up to 4 MiB", [FileRequired()])


class DeleteMediaForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    name = HiddenField(validators=[DataRequired(), Length(max=32)])


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", [DataRequired(), Length(max=200)])
    new = PasswordField("New password", [DataRequired(), Length(max=200)])
    confirm = PasswordField(
        "New password again", [DataRequired(), EqualTo("new", "the two new passwords differ")]
    )
