"""Who a selective list or a rule is about, in a form: typed numbers, colleagues'
extensions, the user's personal contacts, callers who withhold their number (the
document's `Callers`). The numbers are checked by the document's own rules on saving;
here they are only split and, shown back, written as the tenant writes them."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectChoice, SelectMultipleField, StringField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from admin.languages import phone_number


class CallersForm(FlaskForm):
    numbers = StringField(_l("Numbers, comma-separated"), [Length(max=1000)])
    extensions = StringField(_l("Colleagues' extensions, comma-separated"), [Length(max=500)])
    # Names of the user's contacts; one no longer there is kept, so the save says so.
    contacts = SelectMultipleField(
        _l("My contacts"),
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    anonymous = BooleanField(_l("Callers who withhold their number"))
    # Off: kept as it is, and in force for no caller.
    enabled = BooleanField(_l("On"), default=True)
    # The version of the settings the page showed: a save from an older one is refused.
    version = HiddenField()

    def offer_contacts(self, names: list[str]) -> None:
        """The user's contacts to tick, and any ticked name no longer among them."""
        chosen = list(self.contacts.data or [])
        offered = [*names, *(n for n in chosen if n not in names)]
        self.contacts.choices = [SelectChoice(name, name) for name in offered]

    def callers(self) -> dict[str, Any]:
        """The callers as the document takes them."""
        found: dict[str, Any] = {
            "numbers": _split(self.numbers.data),
            "extensions": _split(self.extensions.data),
            "contacts": [name for name in self.contacts.data or [] if name],
            "anonymous": bool(self.anonymous.data),
        }
        chosen = {key: value for key, value in found.items() if value}
        return chosen if self.enabled.data else {**chosen, "enabled": False}

    def show_callers(self, callers: dict[str, Any]) -> None:
        self.numbers.data = ", ".join(phone_number(n) for n in callers.get("numbers", []))
        self.extensions.data = ", ".join(callers.get("extensions", []))
        self.contacts.data = list(callers.get("contacts", []))
        self.anonymous.data = bool(callers.get("anonymous"))
        self.enabled.data = callers.get("enabled", True) is not False

    def shown_version(self) -> int:
        try:
            return int(self.version.data or 0)
        except ValueError:
            return 0


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


# The fields of a callers list, by the part of `Callers` a problem names.
CALLERS_FIELDS = {
    "": "numbers",  # no caller named at all: said beside the first of the fields
    "numbers": "numbers",
    "extensions": "extensions",
    "contacts": "contacts",
    "anonymous": "anonymous",
    "enabled": "enabled",
}


def callers_on(callers: dict[str, Any]) -> bool:
    """Whether a list of callers is switched on (the document's default)."""
    return callers.get("enabled", True) is not False


def said_callers(callers: dict[str, Any]) -> str:
    """The callers in a sentence's words: `06 11 11 11 11, extension 1000, Mum`."""
    parts = [phone_number(n) for n in callers.get("numbers", [])]
    parts += [_("extension %(extension)s", extension=e) for e in callers.get("extensions", [])]
    parts += list(callers.get("contacts", []))
    if callers.get("anonymous"):
        parts.append(_("callers who withhold their number"))
    return ", ".join(parts) or "—"
