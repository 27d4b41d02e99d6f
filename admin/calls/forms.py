"""The call log's filters: a form sent by GET, in the page's address (no CSRF token:
it changes nothing)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from esl.cdr import Kind

KINDS = {
    Kind.PLACED: _l("placed"),
    Kind.RECEIVED: _l("received"),
    Kind.MISSED: _l("missed"),
    Kind.REJECTED: _l("rejected"),
    Kind.FORWARDED: _l("forwarded"),
    Kind.TRANSFERRED: _l("transferred"),
}


class CallFiltersForm(FlaskForm):
    class Meta:
        csrf = False

    month = StringField(_l("Month"))
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice("", _l("all"))] + [SelectChoice(k, v) for k, v in KINDS.items()],
    )
    search = StringField(_l("Search"))

    def filters(self) -> dict[str, str | None]:
        """What the call log is filtered by (None: not by that)."""
        return {
            "month": self.month.data or None,
            "kind": self.kind.data or None,
            "search": (self.search.data or "").strip()[:64] or None,
        }


class CallForm(FlaskForm):
    """Click-to-call from the panel: the user's phone rings, then the number."""

    destination = HiddenField(validators=[DataRequired(), Length(max=32)])
    # The panel page to come back to.
    back = HiddenField(validators=[Length(max=2000)])
