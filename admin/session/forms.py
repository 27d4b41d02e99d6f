"""Log-in, log-out, password and language forms; each carries a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length

from admin.languages import LANGUAGES


class LoginForm(FlaskForm):
    number = StringField(_l("Number"), [DataRequired(), Length(max=300)])
    password = PasswordField(_l("Password"), [DataRequired(), Length(max=200)])


class LogoutForm(FlaskForm):
    pass


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), [DataRequired(), Length(max=200)])
    new = PasswordField(_l("New password"), [DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"),
        [DataRequired(), EqualTo("new", _l("the two new passwords differ"))],
    )


class LanguageForm(FlaskForm):
    language = HiddenField(validators=[AnyOf(list(LANGUAGES))])
    # The page to go back to (one of the panel's).
    next = HiddenField(validators=[Length(max=2000)])
