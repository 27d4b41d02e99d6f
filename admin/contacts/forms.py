"""A line's personal contacts: add one, delete one, import a CSV file."""

from __future__ import annotations

from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length


class _Versioned(FlaskForm):
    # The version of the user the page showed: a change made from an older one is refused.
    version = HiddenField()


class ContactForm(_Versioned):
    name = StringField(_l("Name"), [DataRequired(), Length(max=64)])
    numbers = StringField(
        _l("Numbers, comma-separated (up to 5)"), [DataRequired(), Length(max=200)]
    )

    # The parts of the user's document these fields edit (admin.problems).
    PROBLEM_FIELDS: ClassVar[dict[str, str]] = {
        "contacts[].name": "name",
        "contacts[].numbers": "numbers",
    }


class DeleteContactForm(_Versioned):
    name = HiddenField(_l("Name"), [DataRequired(), Length(max=64)])


class ImportContactsForm(_Versioned):
    file = FileField(_l("CSV file (name, number1…number5)"), [FileRequired()])
