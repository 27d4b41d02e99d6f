"""The tenant's media: upload one, delete one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from provisioning.media import ANNOUNCEMENT, MUSIC, RINGBACK

KINDS = {ANNOUNCEMENT: _l("Announcement"), MUSIC: _l("Hold music"), RINGBACK: _l("Ringback tone")}


class MediaForm(FlaskForm):
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(kind, label) for kind, label in KINDS.items()]
    )
    name = StringField(_l("Name"), [DataRequired(), Length(max=32)])
    file = FileField(_l("WAV or MP3 file, up to 4 MiB"), [FileRequired()])


class DeleteMediaForm(FlaskForm):
    kind = HiddenField(_l("Kind"), [DataRequired()])
    name = HiddenField(_l("Name"), [DataRequired(), Length(max=32)])
