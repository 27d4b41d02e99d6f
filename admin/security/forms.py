"""The security page's forms (security e-mail, voicemail PIN) and the forgotten-password
ones; each carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class SecurityEmailForm(FlaskForm):
    email = StringField(_l("Security e-mail address"), [DataRequired(), Length(max=254)])


class VoicemailPinForm(FlaskForm):
    current = PasswordField(_l("Current PIN"), [DataRequired(), Length(max=8)])
    new = PasswordField(_l("New PIN"), [DataRequired(), Length(max=8)])
    confirm = PasswordField(
        _l("New PIN again"), [DataRequired(), EqualTo("new", _l("the two new PINs differ"))]
    )


class ForgotPasswordForm(FlaskForm):
    number = StringField(_l("Number"), [DataRequired(), Length(max=300)])


class ResetPasswordForm(FlaskForm):
    new = PasswordField(_l("New password"), [DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        [DataRequired(), EqualTo("new", _l("the two new passwords differ"))],
    )
